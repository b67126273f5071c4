//! Restoration: Vietnamese diacritics back on unaccented text, OCR letter garble repaired.
//!
//! Input: any text (a page). Output: the same text with each whitespace token replaced by its most
//! likely reading — same lines, spacing, punctuation, numbers and case pattern — plus, per token, the
//! original, the reading and a confidence. Candidates per token come from the syllable inventory
//! (same skeleton: `nong` → nông, nóng, nòng…) and from the OCR noisy channel ([`channel`]); a beam
//! search with the syllable n-gram model ([`model`]) picks the sentence. Numbers, codes, URLs and
//! abbreviations pass through (abbreviations known with đ get it back: HDND → HĐND).
//!
//! Safety on clean text: when most words of the input already carry marks, the input is taken to be
//! marked text and changing a valid syllable costs a large channel penalty, so only what the model is
//! very sure of changes (OCR tone confusions such as dần → dân).

pub mod adapt;
pub mod build;
pub mod channel;
pub mod decode;
pub mod eval;
pub mod model;
pub mod token;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::vietnamese::{
    is_letter, is_vietnamese_specific, split_tone, strip_marks, strip_tones, Tone,
};
use channel::{Channel, MarkChannel};
use decode::{decode, Cand};
use model::{LanguageModel, Smoothing, BOS, COMMA, EOS, NUM, UNK};
use token::{ends_clause, ends_sentence, is_number, is_word, skeleton, split_core, syllable_key};

/// The model file shipped in `models/`.
pub const MODEL_FILE: &str = "vnplan-vi-4gram.lm";

/// Why a model could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RestoreError {
    #[error("{path}: cannot read the language model: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{path}: not a usable language model: {cause}")]
    BadModel { path: PathBuf, cause: String },
}

/// `$VNPLAN_MODEL`, else the model committed in the crate's `models/`.
/// Tokens per block when a long text is restored piece by piece ([`blocks`]): about two pages.
pub const BLOCK_TOKENS: usize = 1500;

/// Consecutive pieces of `text` (together exactly the text) of at most about `max_tokens` tokens,
/// cut after a form feed (a page break) where there is one, else after a blank line, else after a
/// line. The decoder's memory grows with the text it is given, so a long file is restored block
/// by block; a single line longer than the limit stays whole.
pub fn blocks(text: &str, max_tokens: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        // Byte offsets after each line end within the limit, by kind of break.
        let (mut tokens, mut in_word) = (0usize, false);
        let (mut page, mut para, mut line) = (None, None, None);
        let mut prev_newline = false;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            let space = c.is_whitespace();
            if !space && !in_word {
                tokens += 1;
                if tokens > max_tokens {
                    end = i;
                    break;
                }
            }
            in_word = !space;
            let after = i + c.len_utf8();
            match c {
                '\u{c}' => page = Some(after),
                '\n' if prev_newline => para = Some(after),
                '\n' => line = Some(after),
                _ => {}
            }
            if c == '\n' {
                prev_newline = true;
            } else if !space {
                prev_newline = false;
            }
        }
        let cut = if end == rest.len() {
            end
        } else {
            page.or(para).or(line).unwrap_or_else(|| {
                // One line over the limit: up to its end.
                rest[end..].find('\n').map_or(rest.len(), |k| end + k + 1)
            })
        };
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

pub fn default_model_path() -> PathBuf {
    match std::env::var_os("VNPLAN_MODEL") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("models")
            .join(MODEL_FILE),
    }
}

/// Decoder settings; the defaults were tuned on the held-out corpus split and synthetic garble.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// States kept per slot. 6 (8 before the decoder looked ahead at the next slot when pruning:
    /// see [`decode::decode`]).
    pub beam: usize,
    /// Candidates kept per token from the same skeleton, most frequent first. 16 (12 before the
    /// look ahead).
    pub max_candidates: usize,
    pub lm_weight: f32,
    /// Cost of changing a valid syllable in marked (clean) text.
    pub clean_change: f32,
    /// Cost of changing a marked valid syllable in unmarked or garbled text (its marks are weak
    /// evidence there).
    pub weak_change: f32,
    /// Cost of keeping a token the inventory does not know, as it is, in garbled text.
    pub keep_unknown: f32,
    /// Cost of keeping an unknown token in unmarked text that does not read as garbled: there it
    /// is more often a foreign word or name (fan, view, Koi) than a misreading.
    pub keep_unknown_plain: f32,
    /// Cost of keeping an unknown token in clean text.
    pub keep_unknown_clean: f32,
    /// Largest edit cost for channel candidates.
    pub max_edit: f32,
    /// Share of words with Vietnamese marks above which the input counts as marked text.
    pub clean_ratio: f64,
    /// Skeleton candidates rarer than the most frequent one by more than this (nats) are dropped.
    /// Measured on the dev split, stripped (tokens matched; restoration speed on one core):
    /// 12 nats and 8 give the same output on the seeds, legal text, the garbled seeds and
    /// Tesseract `vie` text; 8 loses 10 of 102,495 tokens of baomoi news, 19 of 203 k of
    /// vietnews, 1 of tax news and 2 of administrative text, for 1.12–1.17 times the speed in a
    /// quiet hour (fewer candidates, fewer lookups); 7 loses 58 and 95 news tokens, 6 loses 172
    /// and 231.
    pub rare_margin: f32,
    /// Readings kept per token at most, the likeliest by channel score plus half the unigram
    /// log-frequency (the unchanged token always among them). 24 (32 before): garbled words
    /// gather readings from their skeleton, the confusion table and the nearest skeletons by edit
    /// cost, and 3,739 of 13,304 slots of garbled 000 and 004 held the 32 allowed. Unmarked and
    /// marked text have fewer readings and the same output (`models/README.md`).
    pub max_readings: usize,
    /// Readings whose channel score plus half their unigram log-frequency trails the token's
    /// likeliest by more than this (nats) are dropped, the unchanged token never. 10: with
    /// `max_readings` 24, garbled text 1.28–1.30 times as fast, one token of ≈ 137 k of
    /// synthetic garble lost (`models/README.md`).
    pub prior_margin: f32,
    /// Extra cost of keeping letters glued to digits or symbols (x3, K&) in unmarked text.
    pub glued_extra: f32,
    /// Beam states further than this (nats) behind the best are dropped, each with the look at
    /// the next slot added. 6 (10 before the look ahead).
    pub beam_margin: f32,
    /// Prune beam states by their score plus the best bigram step into the next slot
    /// ([`decode::decode`]); `lookahead=0` turns it off.
    pub lookahead: bool,
    /// How many candidates of the next slot the look ahead tries, the likeliest by channel score
    /// and unigram; 0: all. 6 (of up to `max_candidates`).
    pub lookahead_next: usize,
    /// How many states, the best by score, the look ahead ranks (the others are dropped); 0:
    /// all. 12 (the beam keeps 6). With `lookahead_next` 6, 1.12 times as fast as trying every
    /// pair, for 31 baomoi tokens in 100,490 (`models/README.md`).
    pub lookahead_states: usize,
    /// Weight of the Kneser–Ney half of a mixed model; negative: the model's own (0.5 as built).
    /// Tuned on the dev split with the comma model: 0.7 (`models/README.md`).
    pub kn_weight: f32,
    /// Weight of the case evidence (a capital inside a sentence marks a name); 0 ignores case.
    /// 0.8 (tuned with the comma model; 1 before).
    pub case_weight: f32,
    /// Share of odd words (no syllable, digits among letters) that marks a text as garbled OCR.
    pub garbled_ratio: f64,
    /// Extra cost of reading a valid-looking word of garbled text as another skeleton.
    pub known_edit_extra: f32,
    /// Bonus (nats per side) for a reading that forms a word pair the text has elsewhere
    /// ([`adapt`]); 0 turns the second look off. 1 (tuned with the comma model; 2 before).
    pub adapt_weight: f32,
    /// Weight of the single words in the second look ([`adapt::Pairs::with_words`]): a reading
    /// the text has more often than the corpus share of its skeleton gains, its rivals lose; 0:
    /// word pairs only. 1.5 (tuned with the comma model; 0.7 before).
    pub adapt_words: f32,
    /// How many words the corpus share of a skeleton counts for against the text's own readings.
    pub adapt_prior: f32,
    /// How far (nats) a rival may trail the first reading and still have its slot decoded again
    /// in the second look: both scored with the first reading's neighbours (channel and n-grams,
    /// [`decode::local_score`]), the rival with its bonus; 0: every slot where a rival's bonus is
    /// higher. 10: 1.05–1.10 times as fast (1.09 in 4 of 5 runs), and on the dev split as
    /// accurate or better (`models/README.md`).
    pub adapt_reach: f32,
    /// Bonus (nats per word) for the syllables of a place name that capitalized words without
    /// marks spell ([`Restorer::favour_names`]); 0 turns it off.
    pub name_bonus: f32,
    /// Weight of the mark channel ([`MarkChannel`]) in marked text read by Tesseract's
    /// Vietnamese model; 0: marks changed only at `clean_change`.
    pub ocr_marks: f32,
}

impl Params {
    /// Set one field by name (`lm_weight=1.2`): for tuning from the command line.
    pub fn set(&mut self, assignment: &str) -> Result<(), String> {
        let (k, v) = assignment
            .split_once('=')
            .ok_or_else(|| format!("{assignment}: expected name=value"))?;
        let f: f64 = v
            .parse()
            .map_err(|_| format!("{assignment}: not a number"))?;
        match k {
            "beam" => self.beam = f as usize,
            "max_candidates" => self.max_candidates = f as usize,
            "lm_weight" => self.lm_weight = f as f32,
            "clean_change" => self.clean_change = f as f32,
            "weak_change" => self.weak_change = f as f32,
            "keep_unknown" => self.keep_unknown = f as f32,
            "keep_unknown_clean" => self.keep_unknown_clean = f as f32,
            "keep_unknown_plain" => self.keep_unknown_plain = f as f32,
            "max_edit" => self.max_edit = f as f32,
            "clean_ratio" => self.clean_ratio = f,
            "rare_margin" => self.rare_margin = f as f32,
            "max_readings" => self.max_readings = f as usize,
            "prior_margin" => self.prior_margin = f as f32,
            "glued_extra" => self.glued_extra = f as f32,
            "beam_margin" => self.beam_margin = f as f32,
            "lookahead" => self.lookahead = f != 0.0,
            "lookahead_next" => self.lookahead_next = f as usize,
            "lookahead_states" => self.lookahead_states = f as usize,
            "garbled_ratio" => self.garbled_ratio = f,
            "case_weight" => self.case_weight = f as f32,
            "kn_weight" => self.kn_weight = f as f32,
            "known_edit_extra" => self.known_edit_extra = f as f32,
            "adapt_weight" => self.adapt_weight = f as f32,
            "adapt_words" => self.adapt_words = f as f32,
            "adapt_prior" => self.adapt_prior = f as f32,
            "adapt_reach" => self.adapt_reach = f as f32,
            "ocr_marks" => self.ocr_marks = f as f32,
            "name_bonus" => self.name_bonus = f as f32,
            _ => return Err(format!("{k}: no such decoder parameter")),
        }
        Ok(())
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            beam: 6,
            max_candidates: 16,
            lm_weight: 1.0,
            clean_change: 9.0,
            weak_change: 1.0,
            keep_unknown: 9.0,
            keep_unknown_clean: 1.0,
            keep_unknown_plain: 4.0,
            max_edit: 7.0,
            clean_ratio: 0.5,
            rare_margin: 8.0,
            max_readings: 24,
            prior_margin: 10.0,
            glued_extra: 4.0,
            beam_margin: 6.0,
            lookahead: true,
            lookahead_next: 6,
            lookahead_states: 12,
            garbled_ratio: 0.1,
            case_weight: 0.8,
            kn_weight: 0.7,
            known_edit_extra: 3.0,
            adapt_weight: 1.0,
            adapt_words: 1.5,
            adapt_prior: 10.0,
            adapt_reach: 10.0,
            name_bonus: 0.75,
            ocr_marks: 1.0,
        }
    }
}

/// Restored text and its per-token record.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Restored {
    pub text: String,
    /// Tokens whose text changed.
    pub changed: usize,
    pub tokens: Vec<RestoredToken>,
}

impl Restored {
    /// The restorations of consecutive texts as that of their concatenation.
    pub fn concat(parts: impl IntoIterator<Item = Restored>) -> Restored {
        let mut out = Restored::default();
        let mut chars = 0;
        for part in parts {
            out.append(part, &mut chars);
        }
        out
    }

    /// Add the restoration of the text that follows, its offsets shifted by `chars`, the length
    /// of this one in chars.
    fn append(&mut self, part: Restored, chars: &mut usize) {
        let shift = *chars;
        *chars += part.text.chars().count();
        self.changed += part.changed;
        self.tokens.extend(part.tokens.into_iter().map(|mut t| {
            t.start += shift;
            t.end += shift;
            t
        }));
        self.text.push_str(&part.text);
    }
}

/// One whitespace token: what was read, what it became, how sure, and where it sits in the output
/// (char offsets into [`Restored::text`]).
#[derive(Debug, Clone, Serialize)]
pub struct RestoredToken {
    pub original: String,
    pub restored: String,
    /// Share of the local posterior (given the chosen neighbours) the reading has; 1 for tokens
    /// passed through. `None` when not asked for ([`Restorer::restore_with`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    pub start: usize,
    pub end: usize,
}

/// The restoration engine: a loaded model and its channel. Shared read-only across threads.
pub struct Restorer {
    lm: LanguageModel,
    channel: Channel,
    /// skeleton → syllable ids, most frequent first.
    skeletons: FxHashMap<String, Vec<u16>>,
    /// Distinct skeletons as letter indexes, for the channel's fuzzy search.
    skeleton_chars: Vec<(String, Vec<u8>)>,
    /// Stripped capital form → spelling with đ (HDND → HĐND).
    abbreviations: FxHashMap<String, String>,
    /// Skeleton of a place name (`phuc chu`) → its readings as syllable ids.
    names: FxHashMap<String, Vec<Vec<u16>>>,
    name: String,
    /// How Tesseract's Vietnamese model misreads marks, when the model has its pairs.
    marks: Option<MarkChannel>,
    /// Skeleton and corpus share of each syllable, for the second look.
    lexicon: adapt::Lexicon,
    pub params: Params,
    /// Candidates of cores already seen, across calls: pages of one archive share most of their
    /// words, and the channel's edit-distance search is the costly part of a garbled page.
    /// Bounded; cleared when full. (Set `params` before the first `restore`.)
    seen: RwLock<FxHashMap<(String, bool, bool, bool), Candidates>>,
}

type Candidates = (Vec<Cand>, Vec<Option<u16>>);

/// A block's planned words: the candidates of a core and what each writes out, shared by every
/// token of that core.
type PlanCache = FxHashMap<String, (Vec<Cand>, Arc<[Option<u16>]>)>;
const SEEN_CAPACITY: usize = 200_000;

/// One text made ready for decoding.
struct Planned {
    toks: Vec<(usize, usize)>,
    /// Marked text (most words carry their marks).
    clean: bool,
    plans: Vec<Plan>,
    slots: Vec<Vec<Cand>>,
    /// The reading: a candidate index per slot.
    choice: Vec<usize>,
}

/// How the decoder sees one token.
enum Plan {
    /// Output the original token.
    Keep,
    /// Output a fixed replacement core (abbreviation, code segments).
    Replace(String),
    /// Pick among candidates at slot `slot`; `cands[i]` is the output core for candidate i
    /// (`None`: keep the original core).
    Choose {
        slot: usize,
        outputs: Arc<[Option<u16>]>,
    },
    /// Words joined by punctuation (`chí/xã`, `này.Điều`), one plan each.
    Compound(Vec<Plan>),
}

/// Tesseract's Vietnamese model reads the Đ of an abbreviation as Ð (U+00D0, the Icelandic eth),
/// alone or next to the Đ it read as well (`QĐÐ-UBND` for `QĐ-UBND`, `NQ/ĐÐU` for `NQ/ĐU`). The eth
/// has no place in Vietnamese: it is a Đ, and a Đ next to it is the same letter read twice.
fn eth_as_d(seg: &str) -> std::borrow::Cow<'_, str> {
    if !seg.contains(['Ð', 'ð']) {
        return seg.into();
    }
    let mut out = String::with_capacity(seg.len());
    // The last letter written, and whether it was read as an eth.
    let mut prev: Option<(char, bool)> = None;
    for c in seg.chars() {
        let eth = matches!(c, 'Ð' | 'ð');
        let d = match c {
            'Ð' => 'Đ',
            'ð' => 'đ',
            c => c,
        };
        if !matches!(prev, Some((p, was_eth)) if p == d && (was_eth || eth)) {
            out.push(d);
        }
        prev = Some((d, eth));
    }
    out.into()
}

/// The words of a core like `chí/xã`, `đua-Khen` or `này.Điều` (a sentence glued to the next one
/// by a missing space): two or more letter-only parts joined by punctuation, not all in capitals
/// when joined by `-` or `/` (those are codes: `NQ/ĐU`, `KH-UBND`). Returns each part with
/// whether a sentence ends before it.
fn compound_segments(core: &str, garbled: bool) -> Option<Vec<(&str, bool)>> {
    if core.chars().all(token::is_core_char) {
        return None;
    }
    // In English-model OCR garble, symbols inside a word are misread letters (ti€u), not breaks.
    let joiner = |c: char| {
        matches!(c, '-' | '/') || (!garbled && matches!(c, '.' | ',' | ';' | ':' | '…' | '(' | ')'))
    };
    if !core.chars().all(|c| token::is_core_char(c) || joiner(c)) {
        return None;
    }
    let mut parts: Vec<(&str, bool)> = Vec::new();
    let mut start = 0usize;
    let mut sep_start = None;
    for (i, c) in core.char_indices() {
        if token::is_core_char(c) {
            if let Some(ss) = sep_start.take() {
                let sep = &core[ss..i];
                parts.push((&core[start..ss], false));
                start = i;
                // A break inside a core ends a sentence only on sentence punctuation.
                if let Some(last) = parts.last_mut() {
                    last.1 = ends_sentence(sep);
                }
            }
        } else if sep_start.is_none() {
            sep_start = Some(i);
        }
    }
    parts.push((&core[start..], false));
    // Shift the flags: a part starts a sentence when the separator before it ends one.
    let mut out: Vec<(&str, bool)> = Vec::with_capacity(parts.len());
    let mut breaks_next = false;
    for (p, ends) in parts {
        out.push((p, breaks_next));
        breaks_next = ends;
    }
    let words = out.iter().all(|(p, _)| is_word(p));
    // Initials (H.Y) are not words glued together.
    let initials = !core.contains(['-', '/']) && out.iter().any(|(p, _)| p.chars().count() < 2);
    let codelike = core.contains(['-', '/'])
        && out
            .iter()
            .all(|(p, _)| p.chars().count() >= 2 && p.chars().all(char::is_uppercase));
    (words && !codelike && !initials).then_some(out)
}

/// Case pattern of a core, applied to its restored form.
#[derive(Clone, Copy, PartialEq)]
enum Case {
    Lower,
    Title,
    Upper,
}

/// Whether the core `core` spells the syllable `word` (a vocabulary key) up to case and tone
/// placement, with at most one tone mark (`túyến`, two, is an OCR misread): then it is written
/// back as it was. An unmarked core (most of a stripped text) is compared without allocating.
fn same_syllable(word: &str, core: &str) -> bool {
    if core.is_ascii() {
        // `word` is in lowercase, as every key is.
        return word.eq_ignore_ascii_case(core);
    }
    let tones = core.chars().filter(|&c| split_tone(c).1 != Tone::Level);
    word == syllable_key(&nfc(core)) && tones.count() <= 1
}

fn case_of(core: &str) -> Case {
    let mut letters = core.chars().filter(|&c| is_letter(c));
    let Some(first) = letters.next() else {
        return Case::Lower;
    };
    let (mut n, mut upper) = (1, usize::from(first.is_uppercase()));
    for c in letters {
        n += 1;
        upper += usize::from(c.is_uppercase());
    }
    if n >= 2 && upper == n {
        Case::Upper
    } else if first.is_uppercase() {
        Case::Title
    } else {
        Case::Lower
    }
}

fn apply_case(word: &str, case: Case) -> String {
    match case {
        Case::Lower => word.to_string(),
        Case::Upper => word.to_uppercase(),
        Case::Title => {
            let mut cs = word.chars();
            match cs.next() {
                Some(f) => f.to_uppercase().chain(cs).collect(),
                None => String::new(),
            }
        }
    }
}

/// NFC form of a core, borrowed when it already is (the common case).
fn nfc(core: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{is_nfc_quick, IsNormalized, UnicodeNormalization};
    if core.is_ascii() || is_nfc_quick(core.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(core)
    } else {
        std::borrow::Cow::Owned(core.nfc().collect())
    }
}

fn has_marks(core: &str) -> bool {
    core.chars().any(is_vietnamese_specific)
}

/// Whitespace tokens with their byte ranges.
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        if c.is_whitespace() {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, text.len()));
    }
    out
}

/// How the text around a core reads.
/// Where a text comes from, which says how far its marks can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Typed, or a PDF's text layer: marks are what the author wrote.
    #[default]
    Typed,
    /// Read from an image by Tesseract's Vietnamese model, which misreads marks (dân → dần, chi →
    /// chỉ): marked words are weighed with the model's mark channel ([`MarkChannel`]).
    Ocr,
}

#[derive(Clone, Copy)]
struct Reading {
    /// Most words carry marks (see [`Restorer::reading`]).
    clean: bool,
    /// Read by Tesseract's Vietnamese model ([`Origin::Ocr`]).
    ocr: bool,
    /// English-model OCR garble.
    garbled: bool,
    /// The core opens a sentence or a line: its capital says nothing.
    sentence_start: bool,
    /// The core's line is written mostly in capitals (a heading), so a word in capitals is a word,
    /// not an abbreviation.
    caps_line: bool,
}

/// Per token: is it among words in capitals — a line mostly in capitals (a heading), or next to
/// another word in capitals on its line (a name: TIẾN LÊ)? Words are letter cores of two or more
/// letters.
fn caps_lines(text: &str, toks: &[(usize, usize)]) -> Vec<bool> {
    let mut is_caps = Vec::with_capacity(toks.len());
    let mut is_word = Vec::with_capacity(toks.len());
    let mut line = Vec::with_capacity(toks.len());
    let mut prev_end = 0usize;
    let mut n = 0usize;
    for (i, &(s, e)) in toks.iter().enumerate() {
        if i > 0 && text[prev_end..s].contains('\n') {
            n += 1;
        }
        prev_end = e;
        line.push(n);
        let tok = &text[s..e];
        let (cs, ce) = split_core(tok);
        let mut letters = tok[cs..ce].chars().filter(|&c| is_letter(c));
        let (first, second) = (letters.next(), letters.next());
        let word = second.is_some();
        is_word.push(word);
        is_caps.push(
            word && first
                .into_iter()
                .chain(second)
                .chain(letters)
                .all(char::is_uppercase),
        );
    }
    let mut out = vec![false; toks.len()];
    let mut start = 0usize;
    while start < toks.len() {
        let end = (start..toks.len())
            .find(|&j| line[j] != line[start])
            .unwrap_or(toks.len());
        let words = is_word[start..end].iter().filter(|&&w| w).count();
        let caps = is_caps[start..end].iter().filter(|&&c| c).count();
        for i in start..end {
            let neighbour = (i > start && is_caps[i - 1]) || (i + 1 < end && is_caps[i + 1]);
            out[i] = caps * 2 > words || neighbour;
        }
        start = end;
    }
    out
}

/// A number with its unit (6m, 20kg, 1,5ha) or a unit with its power (m2, km2): a measure, not
/// OCR garble.
fn is_measure(core: &str) -> bool {
    let digits = core.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.' || c == ',');
    let lead = core.len() - digits.len();
    const UNITS: [&str; 16] = [
        "m", "cm", "mm", "dm", "km", "ha", "kg", "g", "mg", "l", "ml", "kw", "kwh", "mw", "kv", "h",
    ];
    let unit_after_number = lead > 0
        && core.starts_with(|c: char| c.is_ascii_digit())
        && UNITS.contains(&digits.to_ascii_lowercase().as_str());
    let powered_unit = matches!(
        core,
        "m2" | "m3" | "km2" | "cm2" | "cm3" | "dm2" | "dm3" | "mm2"
    );
    unit_after_number || powered_unit
}

/// Words in capitals that spell, up to marks, a run of capitalized words elsewhere in the text take
/// that run's reading (`XA QUANG TRUNG` in a heading, `Quang Trung, ngày …` below it): headings
/// repeat the names the body writes in lowercase with capitals, where the case is evidence and the
/// reading surer. Runs of two or more words on one line; `cores` are the restored cores per token.
fn names_in_capitals(text: &str, toks: &[(usize, usize)], cores: &mut [(String, Option<f64>)]) {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Title,
        Caps,
        Other,
    }
    let kind_of = |i: usize| -> Kind {
        let (s, e) = toks[i];
        let tok = &text[s..e];
        let (cs, ce) = split_core(tok);
        let core = &tok[cs..ce];
        if core.chars().count() < 2 || !is_word(core) {
            return Kind::Other;
        }
        let mut chars = core.chars();
        let first_upper = chars.next().is_some_and(char::is_uppercase);
        let rest: Vec<char> = chars.collect();
        if first_upper && rest.iter().all(|c| c.is_lowercase()) {
            Kind::Title
        } else if first_upper && rest.iter().all(|c| c.is_uppercase()) {
            Kind::Caps
        } else {
            Kind::Other
        }
    };
    let kinds: Vec<Kind> = (0..toks.len()).map(kind_of).collect();
    // Runs of one kind on one line, the words inside a run not broken by punctuation.
    let mut runs: Vec<(Kind, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let k = kinds[i];
        let mut j = i + 1;
        while j < toks.len()
            && kinds[j] == k
            && k != Kind::Other
            && !text[toks[j - 1].1..toks[j].0].contains('\n')
            && {
                let (s, e) = toks[j - 1];
                let (_, ce) = split_core(&text[s..e]);
                s + ce == e
            }
        {
            j += 1;
        }
        if k != Kind::Other && j - i >= 2 {
            runs.push((k, i, j));
        }
        i = j;
    }
    let skeleton_of = |i: usize| {
        let (s, e) = toks[i];
        let tok = &text[s..e];
        let (cs, ce) = split_core(tok);
        skeleton(&tok[cs..ce])
    };
    // Skeletons of capitalized runs → their readings (None when two runs disagree).
    let mut names: FxHashMap<Vec<String>, Option<Vec<String>>> = FxHashMap::default();
    for &(k, a, b) in &runs {
        if k != Kind::Title {
            continue;
        }
        for x in a..b {
            for y in x + 2..=b {
                let key: Vec<String> = (x..y).map(skeleton_of).collect();
                let reading: Vec<String> = (x..y).map(|t| cores[t].0.to_lowercase()).collect();
                names
                    .entry(key)
                    .and_modify(|r| {
                        if r.as_ref() != Some(&reading) {
                            *r = None;
                        }
                    })
                    .or_insert(Some(reading));
            }
        }
    }
    if names.is_empty() {
        return;
    }
    for &(k, a, b) in &runs {
        if k != Kind::Caps {
            continue;
        }
        // Longest matching sub-runs first.
        let mut x = a;
        while x < b {
            let mut matched = 0;
            for y in (x + 2..=b).rev() {
                let key: Vec<String> = (x..y).map(skeleton_of).collect();
                if let Some(Some(reading)) = names.get(&key) {
                    for (t, w) in (x..y).zip(reading) {
                        cores[t].0 = w.to_uppercase();
                    }
                    matched = y - x;
                    break;
                }
            }
            x += matched.max(1);
        }
    }
}

/// The letter of a list item (`a`, `b`, `đ`): a single lowercase letter.
fn list_marker(core: &str) -> Option<char> {
    let mut cs = core.chars();
    let c = cs.next()?;
    (cs.next().is_none() && (c.is_ascii_lowercase() || c == 'đ')).then_some(c)
}

fn looks_like_url(tok: &str) -> bool {
    tok.contains("://")
        || tok.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("www."))
        || tok.contains('@') && tok.contains('.')
}

impl Restorer {
    /// Load and check a model file; the error names the file and what is wrong with it.
    pub fn load(path: &Path) -> Result<Restorer, RestoreError> {
        let lm = LanguageModel::load(path)?;
        let channel = Channel::learn(&lm.confusions, |g| {
            let key = syllable_key(g);
            lm.id(&key).map(|_| key.into_owned())
        });
        // The pairs of Tesseract's Vietnamese model: (read, gold, count, `vie`), stored as
        // syllable keys by the builder.
        let marks = MarkChannel::learn(
            lm.confusions.lines().filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                match (f.len(), f.get(3), f[2].parse::<f64>()) {
                    (4, Some(&"vie"), Ok(n)) => Some((f[1], f[0], n)),
                    _ => None,
                }
            }),
            |k| lm.id(k).is_some(),
        );
        let mut skeletons: FxHashMap<String, Vec<u16>> = FxHashMap::default();
        for (i, w) in lm.vocab.iter().enumerate().skip(model::RESERVED.len()) {
            skeletons.entry(strip_marks(w)).or_default().push(i as u16);
        }
        for ids in skeletons.values_mut() {
            ids.sort_by(|&a, &b| {
                lm.unigram[usize::from(b)]
                    .total_cmp(&lm.unigram[usize::from(a)])
                    .then(a.cmp(&b))
            });
        }
        let mut lexicon = adapt::Lexicon {
            skeleton: vec![u32::MAX; lm.vocab.len()],
            share: vec![0.0; lm.vocab.len()],
            skeletons: skeletons.len(),
        };
        let frequency = |u: u16| f64::from(lm.unigram[usize::from(u)]).exp();
        for (k, ids) in skeletons.values().enumerate() {
            let total: f64 = ids.iter().map(|&u| frequency(u)).sum();
            for &u in ids {
                lexicon.skeleton[usize::from(u)] = k as u32;
                lexicon.share[usize::from(u)] = (frequency(u) / total) as f32;
            }
        }
        let mut skeleton_chars: Vec<(String, Vec<u8>)> = skeletons
            .keys()
            .map(|k| (k.clone(), k.chars().map(channel::letter_index).collect()))
            .collect();
        skeleton_chars.sort();
        let abbreviations = lm
            .abbreviations
            .lines()
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut names: FxHashMap<String, Vec<Vec<u16>>> = FxHashMap::default();
        for line in lm.names.lines() {
            let ids: Option<Vec<u16>> = line.split(' ').map(|w| lm.id(w)).collect();
            if let Some(ids) = ids {
                names.entry(strip_marks(line)).or_default().push(ids);
            }
        }
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        let name = format!("{stem}@{:08x}", lm.checksum);
        Ok(Restorer {
            lm,
            channel,
            skeletons,
            skeleton_chars,
            abbreviations,
            names,
            name,
            marks,
            lexicon,
            params: Params::default(),
            seen: RwLock::new(FxHashMap::default()),
        })
    }

    /// Model name and content hash, e.g. `vnplan-vi-4gram@1a2b3c4d`.
    pub fn model_id(&self) -> String {
        self.name.clone()
    }

    /// A hash of the decoder settings ([`Params`]), e.g. `p1a2b3c4d`: the same model decodes
    /// differently under other settings, so they are part of what made a document.
    pub fn settings_id(&self) -> String {
        format!(
            "p{:08x}",
            crc32fast::hash(format!("{:?}", self.params).as_bytes())
        )
    }

    pub fn language_model(&self) -> &LanguageModel {
        &self.lm
    }

    /// Restore a text of any length block by block ([`blocks`]): see [`Self::restore_pages`].
    pub fn restore_long(&self, text: &str, origin: Origin, confidence: bool) -> Restored {
        self.restore_pages_from(&[(text, origin)], confidence)
            .pop()
            .expect("one page in, one out")
    }

    /// Restore the pages of one document. Each page goes in blocks of at most [`BLOCK_TOKENS`]
    /// tokens ([`blocks`]); the language model starts afresh at each block's edge (as it does
    /// after a blank line), so offsets and tokens are those one call on the whole page would give
    /// except there. Consecutive blocks, across pages, are grouped into scopes of up to
    /// [`BLOCK_TOKENS`] tokens that share their word pairs for the second look ([`adapt`]): short
    /// pages of one plan help each other. Scopes are restored in parallel. (The whole document
    /// as one scope was measured: 5 more tokens right on the stripped seeds, 8 fewer on the
    /// garbled ones, about even on the dev split.)
    pub fn restore_pages(&self, pages: &[&str], confidence: bool) -> Vec<Restored> {
        let pages: Vec<(&str, Origin)> = pages.iter().map(|&p| (p, Origin::Typed)).collect();
        self.restore_pages_from(&pages, confidence)
    }

    /// [`Self::restore_pages`] of pages that say where they come from.
    pub fn restore_pages_from(&self, pages: &[(&str, Origin)], confidence: bool) -> Vec<Restored> {
        let parts: Vec<(usize, (&str, Origin))> = pages
            .iter()
            .enumerate()
            .flat_map(|(i, &(p, o))| {
                blocks(p, BLOCK_TOKENS)
                    .into_iter()
                    .map(move |b| (i, (b, o)))
            })
            .collect();
        let mut scopes: Vec<std::ops::Range<usize>> = Vec::new();
        let mut in_scope = 0;
        for (k, (_, (b, _))) in parts.iter().enumerate() {
            let n = b.split_whitespace().count();
            match scopes.last_mut() {
                Some(r) if in_scope + n <= BLOCK_TOKENS => {
                    r.end = k + 1;
                    in_scope += n;
                }
                _ => {
                    scopes.push(k..k + 1);
                    in_scope = n;
                }
            }
        }
        let texts: Vec<(&str, Origin)> = parts.iter().map(|&(_, b)| b).collect();
        let restored: Vec<Restored> = scopes
            .into_par_iter()
            .flat_map_iter(|r| self.restore_blocks_from(&texts[r], confidence))
            .collect();
        let mut out: Vec<Restored> = pages
            .iter()
            .map(|(p, _)| Restored {
                text: String::with_capacity(p.len() + p.len() / 4),
                changed: 0,
                tokens: Vec::new(),
            })
            .collect();
        let mut chars = vec![0usize; pages.len()];
        for (&(page, _), part) in parts.iter().zip(restored) {
            out[page].append(part, &mut chars[page]);
        }
        out
    }

    /// Restore a text (typically one page), with a confidence for every token.
    pub fn restore(&self, text: &str) -> Restored {
        self.restore_with(text, true)
    }

    /// Restore a text; `confidence`: also score each token's reading against its alternatives
    /// ([`RestoredToken::confidence`]), a second pass over the lattice that costs about as much
    /// as the search. The pipeline keeps only the text and skips it.
    pub fn restore_with(&self, text: &str, confidence: bool) -> Restored {
        self.restore_blocks(&[text], confidence)
            .pop()
            .expect("one block in, one out")
    }

    /// Restore texts that belong together (the blocks or pages of one document): each is decoded
    /// on its own, and the second look at ambiguous words ([`adapt`]) uses the word pairs of all
    /// of them.
    pub fn restore_blocks(&self, texts: &[&str], confidence: bool) -> Vec<Restored> {
        let texts: Vec<(&str, Origin)> = texts.iter().map(|&t| (t, Origin::Typed)).collect();
        self.restore_blocks_from(&texts, confidence)
    }

    /// [`Self::restore_blocks`] of texts that say where they come from.
    pub fn restore_blocks_from(&self, texts: &[(&str, Origin)], confidence: bool) -> Vec<Restored> {
        let p = self.params;
        let smoothing = match self.lm.smoothing {
            Smoothing::Mixed { ratio, .. } if p.kn_weight >= 0.0 => Smoothing::Mixed {
                ratio,
                kn_weight: p.kn_weight,
            },
            own => own,
        };
        let search = decode::Search {
            beam: p.beam,
            lm_weight: p.lm_weight,
            margin: p.beam_margin,
            smoothing,
            lookahead: p.lookahead,
            lookahead_next: p.lookahead_next,
            lookahead_states: p.lookahead_states,
        };
        let mut planned: Vec<Planned> = texts.iter().map(|&(t, o)| self.plan(t, o)).collect();
        // Unmarked and garbled text get a second look with their own word pairs (see [`adapt`]);
        // marked text is already right nearly everywhere.
        let adapting = |pl: &Planned| !pl.clean && p.adapt_weight > 0.0;
        let mut confs: Vec<Option<Vec<f64>>> = Vec::with_capacity(planned.len());
        for pl in &mut planned {
            let (choice, conf) = decode(&self.lm, &pl.slots, &search, confidence && !adapting(pl));
            pl.choice = choice;
            confs.push(conf);
        }
        let readings = planned
            .iter()
            .filter(|pl| adapting(pl))
            .map(|pl| (&pl.slots[..], &pl.choice[..]));
        let pairs = if p.adapt_words > 0.0 {
            adapt::Pairs::with_words(readings, &self.lexicon, p.adapt_words, p.adapt_prior)
        } else {
            adapt::Pairs::of(readings)
        };
        for pl in planned.iter_mut().filter(|pl| adapting(pl)) {
            adapt::revisit(
                &pairs,
                &pl.slots,
                &mut pl.choice,
                p.adapt_weight,
                self.lm.order - 1,
                (
                    p.adapt_reach,
                    |units: &[u16], i: usize, unit: u16, channel: f32| {
                        decode::local_score(
                            &self.lm,
                            smoothing,
                            units,
                            i,
                            (unit, channel),
                            p.lm_weight,
                        )
                    },
                ),
                |part| {
                    let (choice, _) = decode(&self.lm, part, &search, false);
                    choice
                },
            );
        }
        planned
            .iter()
            .zip(confs)
            .zip(texts)
            .map(|((pl, mut conf), &(text, _))| {
                // The confidences of the final reading, which the second look may have changed.
                if adapting(pl) && confidence {
                    conf = Some(decode::confidences_of(
                        &self.lm,
                        smoothing,
                        &pl.slots,
                        &pl.choice,
                        p.lm_weight,
                    ));
                }
                self.render(text, &pl.toks, &pl.plans, &pl.choice, conf.as_deref())
            })
            .collect()
    }

    /// Tokens, how the text reads, and the lattice to decode.
    fn plan(&self, text: &str, origin: Origin) -> Planned {
        let toks = tokens(text);
        let (clean, garbled) = self.reading(text, &toks);
        let ocr = origin == Origin::Ocr && self.marks.is_some() && self.params.ocr_marks > 0.0;
        let mut slots: Vec<Vec<Cand>> = vec![vec![Cand {
            unit: BOS,
            score: 0.0,
        }]];
        let mut plans: Vec<Plan> = Vec::with_capacity(toks.len());
        let mut cache: PlanCache = FxHashMap::default();
        let fixed = |u: u16| {
            vec![Cand {
                unit: u,
                score: 0.0,
            }]
        };
        let caps_lines = caps_lines(text, &toks);
        let mut prev_end = 0usize;
        // The letter of the last list item (`a)`, `b)`…) that opened a line.
        let mut last_marker: Option<char> = None;
        for (ti, &(s, e)) in toks.iter().enumerate() {
            let gap = &text[prev_end..s];
            let line_start = ti == 0 || gap.contains('\n');
            // A blank line between tokens ends a paragraph.
            if gap.matches('\n').count() >= 2 && slots.len() > 1 {
                slots.push(fixed(EOS));
                slots.push(fixed(BOS));
            }
            prev_end = e;
            let tok = &text[s..e];
            let (cs, ce) = split_core(tok);
            let core_nfc = nfc(&tok[cs..ce]);
            let core: &str = &core_nfc;
            let marker = (line_start && cs == 0 && tok[ce..].starts_with([')', '.']))
                .then(|| list_marker(core))
                .flatten();
            let rd = Reading {
                clean,
                ocr,
                garbled,
                sentence_start: line_start || slots.last().is_some_and(|c| c[0].unit == BOS),
                caps_line: caps_lines[ti],
            };
            let plan = if core.is_empty() {
                Plan::Keep
            } else if let Some(m) = marker {
                // Item letters follow the Vietnamese alphabet: a, b, c, d, đ, e. A second `d)`
                // after `d)` is `đ)` with its stroke lost.
                let letter = if m == 'd' && last_marker == Some('d') && !clean {
                    'đ'
                } else {
                    m
                };
                last_marker = Some(letter);
                let unit = self.lm.id(&letter.to_string()).unwrap_or(UNK);
                slots.push(fixed(unit));
                if letter == m {
                    Plan::Keep
                } else {
                    Plan::Replace(letter.to_string())
                }
            } else if core.chars().count() == 1
                && core.chars().all(char::is_uppercase)
                && tok[ce..].starts_with(['.', ')'])
            {
                // A capital letter with a point: a roman numeral (I., V.), an item (A.) or an
                // initial (H.) — nothing to restore.
                slots.push(fixed(self.lm.id(&core.to_lowercase()).unwrap_or(UNK)));
                Plan::Keep
            } else if looks_like_url(tok) {
                slots.push(fixed(UNK));
                Plan::Keep
            } else if let Some(segments) = compound_segments(core, garbled) {
                // Words joined by - or / (chí/xã, đua-Khen): each word is its own unit.
                let parts = segments
                    .iter()
                    .map(|&(seg, starts_sentence)| {
                        if starts_sentence {
                            slots.push(fixed(EOS));
                            slots.push(fixed(BOS));
                        }
                        self.plan_core(seg, rd, &mut slots, &mut cache)
                    })
                    .collect();
                Plan::Compound(parts)
            } else {
                self.plan_core(core, rd, &mut slots, &mut cache)
            };
            plans.push(plan);
            if ends_sentence(&tok[ce..]) {
                slots.push(fixed(EOS));
                slots.push(fixed(BOS));
            } else if ends_clause(&tok[ce..])
                && !matches!(slots.last().map(|c| c[0].unit), Some(BOS) | Some(COMMA))
            {
                slots.push(fixed(COMMA));
            }
        }
        slots.push(fixed(EOS));
        self.favour_names(text, &toks, &plans, &mut slots);
        Planned {
            toks,
            clean,
            plans,
            slots,
            choice: Vec::new(),
        }
    }

    /// Slots for one core (a token's, or one word of a compound) and how to write it back.
    fn plan_core(
        &self,
        core: &str,
        rd: Reading,
        slots: &mut Vec<Vec<Cand>>,
        cache: &mut PlanCache,
    ) -> Plan {
        let fixed = |u: u16| {
            vec![Cand {
                unit: u,
                score: 0.0,
            }]
        };
        if is_number(core) {
            slots.push(fixed(NUM));
            return Plan::Keep;
        }
        let Reading {
            clean,
            ocr,
            garbled,
            caps_line,
            ..
        } = rd;
        if let Some(fixed_core) = self.abbreviation(core, clean, garbled, caps_line) {
            slots.push(fixed(UNK));
            return if fixed_core == core {
                Plan::Keep
            } else {
                Plan::Replace(fixed_core)
            };
        }
        // Looked up by the core itself: a repeated word (most of a text) allocates no key.
        let (mut cands, outputs) = match cache.get(core) {
            Some(planned) => planned.clone(),
            None => {
                let (cands, outputs) = self.shared_candidates(core, clean, garbled, ocr);
                let planned = (cands, Arc::from(outputs));
                cache.insert(core.to_string(), planned.clone());
                planned
            }
        };
        // In English-model OCR garble a capital is evidence only on a word read as letters alone
        // (symbols and digits inside mark a misread word, whose capitals may be misread too).
        if !rd.sentence_start
            && (!garbled || is_word(core))
            && cands.len() > 1
            && self.params.case_weight > 0.0
        {
            self.weigh_case(core, &mut cands);
        }
        if cands.len() == 1 && outputs[0].is_none() {
            slots.push(cands);
            Plan::Keep
        } else {
            let slot = slots.len();
            slots.push(cands);
            Plan::Choose { slot, outputs }
        }
    }

    /// Capitalized words without marks that spell a place name of the model (`Phuc Chu` → Phúc
    /// Chu, `Dong Huu` → Đồng Hưu) give each of the name's syllables a bonus: a commune is named in
    /// almost every line of its own plans, yet far too rarely in a general corpus for the n-gram
    /// counts to know it. Two to four words, the longest name first, not across punctuation or a
    /// line break; where names share a spelling, each reading gets the bonus.
    fn favour_names(
        &self,
        text: &str,
        toks: &[(usize, usize)],
        plans: &[Plan],
        slots: &mut [Vec<Cand>],
    ) {
        let bonus = self.params.name_bonus;
        if bonus <= 0.0 || self.names.is_empty() {
            return;
        }
        // Per token that may be part of a name: its slot, its skeleton, and whether it may go on
        // to the next token (no punctuation or line break between them).
        let words: Vec<Option<(usize, String, bool)>> = toks
            .iter()
            .enumerate()
            .map(|(i, &(s, e))| {
                let Plan::Choose { slot, .. } = &plans[i] else {
                    return None;
                };
                let tok = &text[s..e];
                let (cs, ce) = split_core(tok);
                let core = &tok[cs..ce];
                if cs != 0 || !core.chars().next().is_some_and(char::is_uppercase) {
                    return None;
                }
                let lower = core.to_lowercase();
                let key = strip_marks(&lower);
                if key != lower {
                    return None;
                }
                let joins = ce == tok.len()
                    && toks
                        .get(i + 1)
                        .is_some_and(|&(next, _)| !text[e..next].contains('\n'));
                Some((*slot, key, joins))
            })
            .collect();
        let mut i = 0;
        while i < words.len() {
            let mut matched = 1;
            for len in (2..=4).rev() {
                let Some(run) = words.get(i..i + len) else {
                    continue;
                };
                if run.iter().any(Option::is_none)
                    || run[..len - 1]
                        .iter()
                        .any(|w| w.as_ref().is_some_and(|w| !w.2))
                {
                    continue;
                }
                let key = run
                    .iter()
                    .flatten()
                    .map(|w| w.1.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let Some(readings) = self.names.get(&key) else {
                    continue;
                };
                for (p, w) in run.iter().flatten().enumerate() {
                    for c in slots[w.0].iter_mut() {
                        if readings.iter().any(|r| r[p] == c.unit) {
                            c.score += bonus;
                        }
                    }
                }
                matched = len;
                break;
            }
            i += matched;
        }
    }

    /// Inside a sentence, a capital is evidence of which word it is: it marks a name (Thanh, Đức,
    /// Đắk) or a term written capitalized. Each candidate gets the log-probability of a capital
    /// given the syllable, as counted in the corpus; keeping the token as it is gets the best of
    /// them (names outside the vocabulary are neither favoured nor penalized).
    fn weigh_case(&self, core: &str, cands: &mut [Cand]) {
        let mut chars = core.chars();
        // Lowercase is the default way of writing nearly every syllable and says little; a capital
        // says much more.
        if !chars.next().is_some_and(char::is_uppercase) || !chars.all(char::is_lowercase) {
            return;
        }
        let which = 0;
        let w = self.params.case_weight;
        let cost = |c: &Cand| self.lm.case_cost(c.unit)[which];
        let best = cands
            .iter()
            .filter(|c| c.unit != UNK)
            .map(cost)
            .fold(f32::INFINITY, f32::min);
        if !best.is_finite() {
            return;
        }
        for c in cands.iter_mut() {
            c.score -= w * if c.unit == UNK { best } else { cost(c) };
        }
    }

    /// The written form of one core under its plan, and its confidence.
    fn render_core(
        &self,
        core: &str,
        plan: &Plan,
        choice: &[usize],
        conf: Option<&[f64]>,
    ) -> (String, Option<f64>) {
        let sure = conf.map(|_| 1.0);
        match plan {
            Plan::Keep => (core.to_string(), sure),
            Plan::Replace(r) => (r.clone(), sure),
            Plan::Choose { slot, outputs } => {
                let k = choice[*slot];
                let c = conf.map(|c| c[*slot]);
                match outputs[k] {
                    None => (core.to_string(), c),
                    Some(id) => {
                        let word = &self.lm.vocab[usize::from(id)];
                        // Same syllable as the input up to tone placement: keep the input's
                        // spelling, unless it has two tone marks (túyến, an OCR misread).
                        if same_syllable(word, core) {
                            (core.to_string(), c)
                        } else {
                            (apply_case(word, case_of(core)), c)
                        }
                    }
                }
            }
            Plan::Compound(parts) => {
                let mut out = String::with_capacity(core.len() + 8);
                let mut confidence = sure;
                let mut rest = core;
                for (i, part) in parts.iter().enumerate() {
                    let end = rest
                        .find(|c: char| !token::is_core_char(c))
                        .unwrap_or(rest.len());
                    let (w, c) = self.render_core(&rest[..end], part, choice, conf);
                    out.push_str(&w);
                    confidence = confidence.zip(c).map(|(a, b)| a.min(b));
                    if i + 1 < parts.len() && end < rest.len() {
                        let sep_end = rest[end..]
                            .find(token::is_core_char)
                            .map_or(rest.len(), |k| end + k);
                        out.push_str(&rest[end..sep_end]);
                        rest = &rest[sep_end..];
                    }
                }
                (out, confidence)
            }
        }
    }

    fn render(
        &self,
        text: &str,
        toks: &[(usize, usize)],
        plans: &[Plan],
        choice: &[usize],
        conf: Option<&[f64]>,
    ) -> Restored {
        let mut out = String::with_capacity(text.len() + text.len() / 4);
        let mut tokens_out = Vec::with_capacity(toks.len());
        let mut changed = 0;
        let mut prev = 0usize;
        let mut char_pos = 0usize;
        let mut cores: Vec<(String, Option<f64>)> = toks
            .iter()
            .zip(plans)
            .map(|(&(s, e), plan)| {
                let tok = &text[s..e];
                let (cs, ce) = split_core(tok);
                self.render_core(&tok[cs..ce], plan, choice, conf)
            })
            .collect();
        names_in_capitals(text, toks, &mut cores);
        for (&(s, e), (new_core, confidence)) in toks.iter().zip(cores) {
            let gap = &text[prev..s];
            out.push_str(gap);
            char_pos += gap.chars().count();
            prev = e;
            let tok = &text[s..e];
            let (cs, ce) = split_core(tok);
            let restored = if cs == 0 && ce == tok.len() {
                new_core
            } else {
                [&tok[..cs], &new_core, &tok[ce..]].concat()
            };
            if restored != tok {
                changed += 1;
            }
            let len = restored.chars().count();
            out.push_str(&restored);
            tokens_out.push(RestoredToken {
                original: tok.to_string(),
                restored,
                confidence,
                start: char_pos,
                end: char_pos + len,
            });
            char_pos += len;
        }
        out.push_str(&text[prev..]);
        Restored {
            text: out,
            changed,
            tokens: tokens_out,
        }
    }

    /// How the text reads: `(marked, garbled)`. Marked: most words carry Vietnamese marks (good
    /// OCR, text layers). Garbled: many words are no syllable at all or have digits or symbols
    /// among their letters (English-model OCR), so even valid-looking words may be misread.
    fn reading(&self, text: &str, toks: &[(usize, usize)]) -> (bool, bool) {
        let mut words = 0usize;
        let mut marked = 0usize;
        let mut odd = 0usize;
        for &(s, e) in toks {
            let tok = &text[s..e];
            let (cs, ce) = split_core(tok);
            let core = nfc(&tok[cs..ce]);
            let core: &str = &core;
            if is_word(core) {
                words += 1;
                if self.lm.id(&syllable_key(core)).is_some() {
                    // Count marked words only when they are valid syllables: English-model OCR
                    // leaves marks on letters too (hién, tiéu), but rarely valid ones.
                    if has_marks(core) {
                        marked += 1;
                    }
                } else if !self.skeletons.contains_key(&skeleton(core))
                    && !core.chars().all(char::is_uppercase)
                {
                    // Abbreviations in capitals (UBND, BQL) are no sign of garble.
                    odd += 1;
                }
            } else if core.chars().any(is_letter)
                && core
                    .chars()
                    .any(|c| c.is_ascii_digit() || c == '&' || c == '¢' || c == '€')
                && !core.contains(['-', '/'])
                && !is_measure(core)
            {
                words += 1;
                odd += 1;
            }
        }
        let clean = words > 0 && marked as f64 >= self.params.clean_ratio * words as f64;
        let garbled = !clean && odd as f64 >= self.params.garbled_ratio * words.max(1) as f64;
        (clean, garbled)
    }

    /// The fixed spelling of an abbreviation or code (`HDND` → `HĐND`, `16/QD-UBND` → `16/QĐ-UBND`),
    /// or `None` when the core is a word for the decoder.
    fn abbreviation(
        &self,
        core: &str,
        clean: bool,
        garbled: bool,
        caps_line: bool,
    ) -> Option<String> {
        let is_code = core.contains(['-', '/']);
        let caps = core.chars().count() >= 2
            && core.chars().all(|c| c.is_alphabetic() && c.is_uppercase());
        let has_digit = core.chars().any(|c| c.is_ascii_digit());
        if !is_code && !caps {
            // Letters mixed with digits (s6, x3, 14nh) are OCR garble in garbled text; codes and
            // measures (m2, 6m, 20kg) elsewhere.
            return (has_digit && (clean || !garbled || is_measure(core)))
                .then(|| core.to_string());
        }
        if caps && !is_code && caps_line && self.skeletons.contains_key(&skeleton(core)) {
            // A syllable in capitals in a line of capitals (KE HOACH): restored like any word.
            // In a line of ordinary words it is an abbreviation (EU, DT).
            return None;
        }
        let fix_letters = |seg: &str| -> String {
            if let Some(f) = self.abbreviations.get(seg) {
                return f.clone();
            }
            // English-model OCR reads Đ as P (BCP → BCĐ): only in text that is not already marked.
            if !clean && seg.contains('P') {
                let alt = seg.replace('P', "D");
                if let Some(f) = self.abbreviations.get(&alt) {
                    let only_p_to_d = f
                        .chars()
                        .zip(seg.chars())
                        .all(|(a, b)| a == b || (a == 'Đ' && b == 'P') || (a == 'Đ' && b == 'D'));
                    if only_p_to_d {
                        return f.clone();
                    }
                }
            }
            seg.to_string()
        };
        let fix = |seg: &str| -> String {
            let seg = &eth_as_d(seg);
            // A number glued to the abbreviation (2022QD): fix the letters only.
            let digits = seg.len() - seg.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let (num, seg) = seg.split_at(digits);
            if seg.chars().count() < 2 || !seg.chars().all(|c| c.is_ascii_uppercase()) {
                return format!("{num}{seg}");
            }
            format!("{num}{}", fix_letters(seg))
        };
        let mut out = String::with_capacity(core.len() + 4);
        let mut seg = String::new();
        for c in core.chars() {
            if c == '-' || c == '/' {
                out.push_str(&fix(&seg));
                seg.clear();
                out.push(c);
            } else {
                seg.push(c);
            }
        }
        out.push_str(&fix(&seg));
        Some(out)
    }

    /// The most frequent syllables of a skeleton: at most `max_candidates`, and none far rarer than
    /// the most frequent one (rare variants cost beam time and almost never win).
    fn frequent<'a>(&self, ids: &'a [u16]) -> &'a [u16] {
        let top = ids
            .first()
            .map(|&i| self.lm.unigram[usize::from(i)])
            .unwrap_or(0.0);
        let n = ids
            .iter()
            .take(self.params.max_candidates)
            .take_while(|&&i| self.lm.unigram[usize::from(i)] >= top - self.params.rare_margin)
            .count();
        &ids[..n]
    }

    /// [`Self::candidates`] through the cross-call cache.
    fn shared_candidates(&self, core: &str, clean: bool, garbled: bool, ocr: bool) -> Candidates {
        let key = (core.to_string(), clean, garbled, ocr);
        if let Ok(seen) = self.seen.read() {
            if let Some(c) = seen.get(&key) {
                return c.clone();
            }
        }
        let c = self.candidates(core, clean, garbled, ocr);
        if let Ok(mut seen) = self.seen.write() {
            if seen.len() >= SEEN_CAPACITY {
                seen.clear();
            }
            seen.insert(key, c.clone());
        }
        c
    }

    /// Candidates for a word core and what each writes out.
    fn candidates(
        &self,
        core: &str,
        clean: bool,
        garbled: bool,
        ocr: bool,
    ) -> (Vec<Cand>, Vec<Option<u16>>) {
        let p = self.params;
        let mut cands: Vec<Cand> = Vec::new();
        let mut outs: Vec<Option<u16>> = Vec::new();
        let lower = core.to_lowercase();
        let key = syllable_key(core);
        let own = if is_word(core) {
            self.lm.id(&key)
        } else {
            None
        };
        let sk = skeleton(core);
        let marked = has_marks(core);
        let push = |unit: u16,
                    score: f32,
                    out: Option<u16>,
                    cands: &mut Vec<Cand>,
                    outs: &mut Vec<Option<u16>>| {
            if let Some(i) = cands.iter().position(|c| c.unit == unit && unit != UNK) {
                if cands[i].score < score {
                    cands[i].score = score;
                }
                return;
            }
            cands.push(Cand { unit, score });
            outs.push(out);
        };
        if let Some(id) = own {
            // A valid syllable: itself, or another with the same skeleton at a cost.
            let change = if clean {
                p.clean_change
            } else if marked {
                p.weak_change
            } else {
                0.0
            };
            push(id, 0.0, Some(id), &mut cands, &mut outs);
            if let Some(ids) = self.skeletons.get(&sk) {
                // In marked text OCR confuses tones, not letters (dân → dần, đổi → đối): only
                // other tones of the same letters compete there, unless the mark channel of
                // Tesseract's Vietnamese model knows the confusion.
                let toneless = strip_tones(&key);
                for &alt in self.frequent(ids) {
                    let alt_key = &self.lm.vocab[usize::from(alt)];
                    let same_letters = strip_tones(alt_key) == toneless;
                    let cost = match self.marks.as_ref().filter(|_| clean && ocr) {
                        Some(m) => match m.cost(alt_key, &key) {
                            Some(c) if same_letters => (p.ocr_marks * c).min(change),
                            Some(c) if p.ocr_marks * c < change => p.ocr_marks * c,
                            _ => continue,
                        },
                        None if clean && !same_letters => continue,
                        None => change,
                    };
                    push(alt, -cost, Some(alt), &mut cands, &mut outs);
                }
            }
            if !garbled {
                return (cands, outs);
            }
        }
        if own.is_none() && is_word(core) && !clean {
            if let Some(ids) = self.skeletons.get(&sk) {
                // Letters right, marks wrong or missing (hién → hiện, hiến, hiền…).
                for &alt in self.frequent(ids) {
                    push(alt, 0.0, Some(alt), &mut cands, &mut outs);
                }
            }
        }
        if let Some(m) = self
            .marks
            .as_ref()
            .filter(|_| own.is_none() && clean && ocr)
        {
            // Marked OCR text: a word that is no syllable but has a syllable's letters (hơàn) is
            // most likely that syllable with marks misread. Costs are relative to the likeliest
            // misreading: the word is misread for sure.
            if let Some(ids) = self.skeletons.get(&sk).filter(|_| is_word(core)) {
                let costs: Vec<(u16, f32)> = self
                    .frequent(ids)
                    .iter()
                    .filter_map(|&alt| Some((alt, m.cost(&self.lm.vocab[usize::from(alt)], &key)?)))
                    .collect();
                let least = costs.iter().map(|c| c.1).fold(f32::INFINITY, f32::min);
                for (alt, c) in costs {
                    push(
                        alt,
                        -p.ocr_marks * (c - least),
                        Some(alt),
                        &mut cands,
                        &mut outs,
                    );
                }
            }
        }
        // The OCR channel: whole-token table, then edit distance over the skeleton inventory. In
        // text that is not garbled, letters are what they seem: the table only serves tokens that
        // are no syllable skeleton (and never a lone letter: a list item or an initial).
        let table_applies = garbled
            || (lower.chars().count() > 1 && !(is_word(core) && self.skeletons.contains_key(&sk)));
        if let Some(golds) = self.channel.tokens.get(&lower).filter(|_| table_applies) {
            for (g, lp) in golds.iter().take(4) {
                if let Some(id) = self.lm.id(g) {
                    push(id, *lp, Some(id), &mut cands, &mut outs);
                }
            }
        }
        let g: Vec<char> = strip_marks(&lower).chars().collect();
        // Edit-distance search only when the letters themselves are not a known skeleton: a
        // skeleton's own syllables already compete above, and the search is the costly part.
        let known = is_word(core) && self.skeletons.contains_key(&sk);
        // A lone letter is a list marker (a, b, c) or initial, not garble. A lone & or ¢ is a
        // misread ở or ơ in garbled OCR; elsewhere it is what it seems (TB & XH, CNTT & truyền
        // thông).
        let lone_letter = g.len() == 1 && g[0].is_alphabetic();
        let lone_symbol = g.len() == 1 && !g[0].is_alphabetic();
        if (!known || garbled)
            && !lone_letter
            && (garbled || !lone_symbol)
            && g.len() <= 10
            && g.iter()
                .any(|c| c.is_alphabetic() || *c == '&' || *c == '¢' || *c == '€')
        {
            let max = if clean {
                p.max_edit.min(3.0)
            } else {
                p.max_edit
            };
            let prepared = self.channel.prepare(&g);
            let mut near: Vec<(f32, usize)> = Vec::new();
            for (i, (_, t)) in self.skeleton_chars.iter().enumerate() {
                if t.len() + 2 < g.len() || g.len() + 2 < t.len() {
                    continue;
                }
                if let Some(d) = self.channel.distance_prepared(&prepared, t, max) {
                    if d > 0.0 {
                        // A valid-looking word of garbled text is misread less often than an
                        // invalid one.
                        near.push((if known { d + p.known_edit_extra } else { d }, i));
                    }
                }
            }
            near.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for &(d, i) in near.iter().take(4) {
                if let Some(ids) = self.skeletons.get(&self.skeleton_chars[i].0) {
                    for &alt in ids.iter().take(p.max_candidates / 2 + 1) {
                        push(alt, -d, Some(alt), &mut cands, &mut outs);
                    }
                }
            }
        }
        // Keeping the token as it is stays possible for names, foreign words and symbols — not for
        // unaccented letters of a known skeleton, which are what restoration is for.
        if clean || !known || cands.is_empty() {
            // Digits or symbols inside letters (x3, K&) are almost never meant in unmarked text.
            let glued = !clean && !is_word(core) && core.chars().any(is_letter);
            let keep = if clean {
                p.keep_unknown_clean
            } else if glued {
                p.keep_unknown + p.glued_extra
            } else if garbled {
                p.keep_unknown
            } else {
                p.keep_unknown_plain
            };
            push(UNK, -keep, None, &mut cands, &mut outs);
        }
        // Bound the lattice: readings far behind the likeliest by channel score and unigram go,
        // then the likeliest `max_readings` stay.
        let prior = |i: usize| cands[i].score + self.lm.unigram[usize::from(cands[i].unit)] * 0.5;
        let best = (0..cands.len())
            .filter(|&i| cands[i].unit != UNK)
            .map(prior)
            .fold(f32::NEG_INFINITY, f32::max);
        let near = |i: usize| cands[i].unit == UNK || prior(i) >= best - p.prior_margin;
        if cands.len() > p.max_readings || !(0..cands.len()).all(near) {
            let mut idx: Vec<usize> = (0..cands.len()).filter(|&i| near(i)).collect();
            idx.sort_by(|&a, &b| prior(b).total_cmp(&prior(a)).then(a.cmp(&b)));
            idx.truncate(p.max_readings);
            if !idx.iter().any(|&i| cands[i].unit == UNK) {
                if let Some(k) = cands.iter().position(|c| c.unit == UNK) {
                    idx.pop();
                    idx.push(k);
                }
            }
            idx.sort_unstable();
            let c2 = idx.iter().map(|&i| cands[i]).collect();
            let o2 = idx.iter().map(|&i| outs[i]).collect();
            return (c2, o2);
        }
        (cands, outs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Restorer {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        Restorer::load(&root.join("models").join(MODEL_FILE)).expect("the shipped model loads")
    }

    #[test]
    fn readings_of_garbled_words_are_bounded_by_their_prior_and_their_number() {
        // Plan 003 in synthetic English-model OCR garble, its words given readings with the
        // shipped bounds and with none (the 32 readings allowed before, no margin).
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let gold = std::fs::read_to_string(root.join("fixtures/extract/003.txt")).unwrap();
        let bounded = shipped();
        let garbled = eval::garble_text(&gold, &bounded.lm.confusions);
        let mut open = shipped();
        open.params.prior_margin = f32::INFINITY;
        open.params.max_readings = 32;
        assert!(!bounded.plan(&garbled, Origin::Typed).clean);
        // The readings of every word core of the garbled text, as garbled text gets them.
        let cores: Vec<&str> = garbled
            .split_whitespace()
            .map(|t| {
                let (a, z) = split_core(t);
                &t[a..z]
            })
            .filter(|c| !c.is_empty())
            .collect();
        let (b, o): (Vec<_>, Vec<_>) = cores
            .iter()
            .map(|c| {
                (
                    bounded.candidates(c, false, true, false).0,
                    open.candidates(c, false, true, false).0,
                )
            })
            .unzip();
        let p = bounded.params;
        let prior = |c: &Cand| c.score + bounded.lm.unigram[usize::from(c.unit)] * 0.5;
        let (mut kept, mut all, mut by_margin) = (0, 0, 0);
        for (bs, os) in b.iter().zip(&o) {
            assert!(bs.len() <= p.max_readings, "{} readings", bs.len());
            // The bounded readings are the open ones' likeliest, in the same order.
            let mut at = os.iter();
            for c in bs {
                assert!(at.any(|x| x.unit == c.unit && x.score == c.score));
            }
            // The token as it is stays a reading wherever it was one.
            assert_eq!(
                bs.iter().any(|c| c.unit == UNK),
                os.iter().any(|c| c.unit == UNK)
            );
            let best = os
                .iter()
                .filter(|c| c.unit != UNK)
                .map(prior)
                .fold(f32::NEG_INFINITY, f32::max);
            for c in bs.iter().filter(|c| c.unit != UNK) {
                assert!(prior(c) >= best - p.prior_margin);
            }
            by_margin += os
                .iter()
                .filter(|c| c.unit != UNK && prior(c) < best - p.prior_margin)
                .count();
            kept += bs.len();
            all += os.len();
        }
        // Garbled words gather many readings, and the bounds drop a good share of them.
        assert!(all > 10 * b.len(), "{all} readings of {} words", b.len());
        assert!(kept * 4 < all * 3, "{kept} of {all} kept");
        assert!(
            by_margin * 10 > all,
            "{by_margin} of {all} beyond the margin"
        );
        // And the text reads as well as without them (synthetic garble of plan 003: 2,865 of
        // 3,006 tokens both ways when measured).
        let acc = |r: &Restorer| {
            eval::token_accuracy(&r.restore_long(&garbled, Origin::Typed, false).text, &gold)
        };
        let (with, without) = (acc(&bounded), acc(&open));
        assert!(
            with.matched + 2 >= without.matched,
            "{} against {} tokens",
            with.matched,
            without.matched
        );
        assert!(with.matched * 100 > with.total * 90, "{with:?}");
    }
}
