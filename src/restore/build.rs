//! `vnplan lm build`: count a syllable n-gram model from xz-compressed corpus text and write it.
//!
//! Input: corpus folders or files (`*.txt.xz` or plain `*.txt`, one paragraph per line, a blank line
//! between documents), the syllable inventory, optionally the OCR confusion table. Every word is
//! lowercased and given canonical tone placement ("hoà" → "hòa") before counting, since sources mix
//! both styles. Every `dev_every`-th document goes to the development split instead of the counts.
//! Output: a model file (see [`super::model`]). Files are read in sorted order and tables built from
//! sorted keys, so the same input gives the same bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::model::{
    build_table, pack, record_layout, table_capacity, write_model, ModelParts, Smoothing,
    MAX_ORDER, RESERVED,
};
use super::token::{ends_sentence, is_word, line_units, skeleton, split_core, syllable_key};
use crate::vietnamese::{is_vietnamese_specific, is_vowel, strip_marks, strip_tones};

/// What to build and from where.
pub struct BuildOptions {
    pub corpus: Vec<PathBuf>,
    pub out: PathBuf,
    pub order: usize,
    /// Minimum count to keep an n-gram, for orders 2, 3, 4 (pruning keeps the file small).
    pub min_count: Vec<u32>,
    pub syllables: PathBuf,
    /// OCR confusion tables, summed.
    pub confusions: Vec<PathBuf>,
    /// Confusion tables of Tesseract's Vietnamese model, summed: stored as lines with a fourth
    /// field `vie` ([`super::channel::MarkChannel`]).
    pub vie_confusions: Vec<PathBuf>,
    /// Lists of place names, one per line ("Phúc Chu"): names of two or more syllables of the
    /// inventory are stored for the decoder ([`place_names`]).
    pub names: Vec<PathBuf>,
    /// Every n-th document (counted per file) is held out; 0 holds out nothing.
    pub dev_every: usize,
    /// Where the held-out documents go (one file per corpus folder), at most `dev_max_bytes` taken
    /// from each corpus file, so every file of a folder is represented.
    pub dev_out: Option<PathBuf>,
    pub dev_max_bytes: usize,
    /// Raise the minimum counts (highest order first) until the n-gram tables fit this many bytes.
    pub max_bytes: Option<usize>,
    /// Count weights per corpus folder name (in-domain text counts more: legal, administrative).
    pub weights: Vec<(String, u32)>,
    pub smoothing: Smoothing,
    /// Add to the inventory the marked words shaped like one syllable, and the marked words that
    /// are two inventory syllables run together, that the corpus (outside the development split)
    /// has at least this often, in at least two folders ([`attested`]); 0: none.
    pub attest_min: u64,
    /// With `attest_min`: also add words of plain Latin letters the inventory lacks (`top`, `chip`,
    /// `hot`) that the corpus has at least `attest_min` times, in at least two folders, and at
    /// least this share of the count of the inventory syllables that spell the same letters
    /// (`tốp`, `chíp`, `hốt`); 0: none. Loanwords news writes unmarked: without them stripped
    /// `top` could only become `tốp`.
    pub attest_plain: f64,
}

/// Numbers a build reports.
#[derive(Debug, Default)]
pub struct BuildStats {
    pub files: usize,
    pub lines: u64,
    pub tokens: u64,
    pub unk_tokens: u64,
    pub dev_docs: u64,
    pub kept: Vec<usize>,
    pub distinct: Vec<usize>,
    pub file_bytes: usize,
    pub min_count: Vec<u32>,
    /// Syllables the corpus added to the inventory ([`BuildOptions::attest_min`]), most frequent first.
    pub attested: Vec<(String, u64)>,
}

fn io_err(path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", path.display())
}

fn corpus_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let rd = std::fs::read_dir(&d).map_err(|e| io_err(&d, e))?;
                for entry in rd {
                    let path = entry.map_err(|e| io_err(&d, e))?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        let name = path.to_string_lossy();
                        if name.ends_with(".txt.xz") || name.ends_with(".txt") {
                            out.push(path);
                        }
                    }
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such corpus file or folder", p.display());
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        anyhow::bail!("no corpus files (*.txt.xz, *.txt) under the given paths");
    }
    Ok(out)
}

fn open_text(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let r: Box<dyn Read> = if path.to_string_lossy().ends_with(".xz") {
        Box::new(xz2::read::XzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, r)))
}

/// Read the syllable inventory: one syllable a line, lowercase.
pub fn read_vocab(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let mut vocab: Vec<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let mut seen: FxHashMap<String, ()> = FxHashMap::default();
    for line in text.lines() {
        let w = line.split('\t').next().unwrap_or("").trim();
        if w.is_empty() || !is_word(w) {
            continue;
        }
        let key = syllable_key(w).into_owned();
        if seen.insert(key.clone(), ()).is_none() {
            vocab.push(key);
        }
    }
    if vocab.len() > usize::from(u16::MAX) {
        anyhow::bail!("{}: more than 65535 syllables", path.display());
    }
    Ok(vocab)
}

/// Abbreviation segments seen in the corpus (all capitals, not a syllable): HĐND, BCĐ, QĐ.
fn note_abbreviations(line: &str, ids: &FxHashMap<String, u16>, abbr: &mut FxHashMap<String, u32>) {
    for tok in line.split_whitespace() {
        let (s, e) = split_core(tok);
        let core = &tok[s..e];
        let in_code = core.contains(['-', '/']);
        for seg in core.split(['-', '/']) {
            let n = seg.chars().count();
            if !(2..=8).contains(&n) || !seg.chars().all(|c| c.is_alphabetic() && c.is_uppercase())
            {
                continue;
            }
            if !in_code && ids.contains_key(syllable_key(seg).as_ref()) {
                continue;
            }
            *abbr.entry(seg.to_string()).or_insert(0) += 1;
        }
    }
}

/// The place names of the given lists that the decoder can use: two to four words, each a
/// syllable of the inventory, lowercased and in canonical tone placement, one per line, sorted and
/// deduplicated (`phúc chu`).
fn place_names(paths: &[PathBuf], ids: &FxHashMap<String, u16>) -> anyhow::Result<String> {
    let mut names = std::collections::BTreeSet::new();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| io_err(p, e))?;
        for line in text.lines() {
            let words: Vec<String> = line
                .split_whitespace()
                .map(|w| syllable_key(w).into_owned())
                .collect();
            if (2..=4).contains(&words.len()) && words.iter().all(|w| ids.contains_key(w)) {
                names.insert(words.join(" "));
            }
        }
    }
    Ok(names.into_iter().collect::<Vec<_>>().join("\n"))
}

/// Onsets and codas of a Vietnamese syllable (toneless, `đ` as `d`), with the `k`/`kr` of Central
/// Highlands names (Đắk Lắk, Krông Pắc).
const ONSETS: &[&str] = &[
    "", "b", "c", "ch", "d", "g", "gh", "gi", "h", "k", "kh", "kr", "l", "m", "n", "ng", "ngh",
    "nh", "p", "ph", "q", "r", "s", "t", "th", "tr", "v", "x",
];
const CODAS: &[&str] = &["", "c", "ch", "k", "m", "n", "ng", "nh", "p", "t"];

/// A lowercase word shaped like one Vietnamese syllable (onset, one run of at most three vowels,
/// coda) and written with Vietnamese marks: `đắk`, `kạn`, not `càphê` (two syllables) or `café`.
pub fn is_marked_syllable(w: &str) -> bool {
    let chars: Vec<char> = w.chars().collect();
    if chars.is_empty()
        || chars.len() > 7
        || !chars.iter().all(|c| c.is_alphabetic() && c.is_lowercase())
        || !chars.iter().copied().any(is_vietnamese_specific)
    {
        return false;
    }
    let Some(first) = chars.iter().position(|&c| is_vowel(c)) else {
        return false;
    };
    let last = chars.iter().rposition(|&c| is_vowel(c)).unwrap_or(first);
    if last - first >= 3 || !chars[first..=last].iter().all(|&c| is_vowel(c)) {
        return false;
    }
    let plain = |cs: &[char]| strip_marks(&cs.iter().collect::<String>());
    ONSETS.contains(&plain(&chars[..first]).as_str())
        && CODAS.contains(&plain(&chars[last + 1..]).as_str())
}

/// A lowercase word written as two inventory syllables run together, with Vietnamese marks:
/// `ôtô`, `càphê`, `môtô` (news writes these glued). Unmarked text spells them `oto`, `caphe`,
/// which no syllable's skeleton matches, so without them they could only be kept as they are.
pub fn is_glued_pair(w: &str, ids: &FxHashMap<String, u16>) -> bool {
    let chars: Vec<char> = w.chars().collect();
    if chars.len() < 3
        || chars.len() > 12
        || !chars.iter().all(|c| c.is_alphabetic() && c.is_lowercase())
        || !chars.iter().copied().any(is_vietnamese_specific)
    {
        return false;
    }
    (1..chars.len()).any(|i| {
        let (a, b) = chars.split_at(i);
        ids.contains_key(&a.iter().collect::<String>())
            && ids.contains_key(&b.iter().collect::<String>())
    })
}

/// A lowercase word of at least two plain Latin letters (`top`, `oxy`): a loanword or name when the
/// inventory lacks it.
pub fn is_plain_word(w: &str) -> bool {
    w.len() >= 2 && w.bytes().all(|b| b.is_ascii_lowercase())
}

/// Each non-blank line of a corpus file, whether it belongs to the development split (every
/// `dev_every`-th document; documents are separated by blank lines) and its document's number.
/// Returns the document count.
fn for_each_line(
    path: &Path,
    dev_every: usize,
    mut f: impl FnMut(&str, bool, usize) -> anyhow::Result<()>,
) -> anyhow::Result<usize> {
    let reader = open_text(path)?;
    let mut doc = 0usize;
    let mut prev_blank = true;
    for line in reader.lines() {
        let line = line.map_err(|e| io_err(path, e))?;
        if line.trim().is_empty() {
            if !prev_blank {
                doc += 1;
            }
            prev_blank = true;
            continue;
        }
        prev_blank = false;
        f(
            &line,
            dev_every > 0 && doc % dev_every == dev_every / 2,
            doc,
        )?;
    }
    Ok(doc)
}

/// What [`attested`] makes of one spelling of the corpus.
enum Judged {
    /// An inventory syllable (counted, for the share of plain words).
    Syllable(u16),
    /// A word that may be added.
    Candidate(String),
    /// Neither.
    Other,
}

/// Words outside the inventory that the corpus (development split left out) has at least `min`
/// times in at least two folders:
/// - marked one-syllable words: place names of the Central Highlands and the North (Đắk, Lắk, Kạn)
///   that the syllable list lacks. A tone variant of a listed syllable is a typo (`đươc`, `câp`)
///   and is left out;
/// - marked words that are two inventory syllables run together ([`is_glued_pair`]: ôtô, môtô);
/// - with `plain_share` > 0, words of plain letters at least that share of the count of the
///   inventory syllables with the same letters ([`is_plain_word`]: top beside tốp).
///
/// Most frequent first, ties alphabetical.
pub fn attested(
    files: &[PathBuf],
    dev_every: usize,
    ids: &FxHashMap<String, u16>,
    min: u64,
    plain_share: f64,
) -> anyhow::Result<Vec<(String, u64)>> {
    // word → (count, folders seen, as a bit set of the folder's index)
    let mut seen: FxHashMap<String, (u64, u64)> = FxHashMap::default();
    let mut folders: Vec<std::ffi::OsString> = Vec::new();
    let mut known: FxHashMap<String, Judged> = FxHashMap::default();
    let toneless: FxHashMap<String, ()> = ids.keys().map(|w| (strip_tones(w), ())).collect();
    // Corpus count of each inventory syllable, for the share of a plain word against the
    // syllables of its letters.
    let mut syllable_counts = vec![0u64; ids.len()];
    for path in files {
        let folder = path
            .parent()
            .map(|p| p.as_os_str().to_owned())
            .unwrap_or_default();
        let fi = folders
            .iter()
            .position(|f| *f == folder)
            .unwrap_or_else(|| {
                folders.push(folder);
                folders.len() - 1
            });
        for_each_line(path, dev_every, |line, dev, _| {
            if dev {
                return Ok(());
            }
            for tok in line.split_whitespace() {
                let (s, e) = split_core(tok);
                let core = &tok[s..e];
                // Each distinct spelling is judged once: the syllable it is, if it is one to add.
                let key = known.entry(core.to_string()).or_insert_with(|| {
                    let key = syllable_key(core).into_owned();
                    if let Some(&id) = ids.get(&key) {
                        return Judged::Syllable(id);
                    }
                    let add = (is_marked_syllable(&key)
                        && !toneless.contains_key(&strip_tones(&key)))
                        || is_glued_pair(&key, ids)
                        || (plain_share > 0.0 && is_plain_word(&key));
                    if add {
                        Judged::Candidate(key)
                    } else {
                        Judged::Other
                    }
                });
                match key {
                    Judged::Syllable(id) => syllable_counts[usize::from(*id)] += 1,
                    Judged::Other => {}
                    Judged::Candidate(key) => {
                        let e = seen.entry(key.clone()).or_insert((0, 0));
                        e.0 += 1;
                        e.1 |= 1 << (fi % 64);
                    }
                }
            }
            Ok(())
        })?;
    }
    // A plain word against the syllables that spell its letters: `top` is kept beside `tốp`, not
    // `nguyen` (addresses, foreign text) beside `nguyễn`. Plain words no syllable spells (`trump`)
    // are kept as they are anyway.
    let mut by_skeleton: FxHashMap<String, u64> = FxHashMap::default();
    if plain_share > 0.0 {
        for (w, &id) in ids {
            *by_skeleton.entry(skeleton(w)).or_default() += syllable_counts[usize::from(id)];
        }
    }
    let mut out: Vec<(String, u64)> = seen
        .into_iter()
        .filter(|(w, (n, f))| {
            *n >= min
                && f.count_ones() >= 2
                && (!is_plain_word(w)
                    || by_skeleton
                        .get(w)
                        .is_some_and(|&m| m > 0 && *n as f64 >= plain_share * m as f64))
        })
        .map(|(w, (n, _))| (w, n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(out)
}

/// Build the model; returns what was counted and kept.
pub fn build(opts: &BuildOptions) -> anyhow::Result<BuildStats> {
    if !(3..=MAX_ORDER).contains(&opts.order) {
        anyhow::bail!("order must be 3 or {MAX_ORDER}, got {}", opts.order);
    }
    // Lookups stop at the first missing order (see `LanguageModel::score`), which is only right
    // when a kept n-gram's suffix is kept too: thresholds must not decrease with the order.
    if opts.min_count.windows(2).any(|w| w[1] < w[0]) {
        anyhow::bail!(
            "minimum counts must not decrease with the order: {:?}",
            opts.min_count
        );
    }
    // Loanwords are found by the same corpus pass as the attested syllables, with their minimum.
    if opts.attest_plain > 0.0 && opts.attest_min == 0 {
        anyhow::bail!("adding loanwords (attest-plain) needs a minimum count: give --attest N too");
    }
    let mut vocab = read_vocab(&opts.syllables)?;
    let mut ids: FxHashMap<String, u16> = vocab
        .iter()
        .enumerate()
        .map(|(i, w)| (w.clone(), i as u16))
        .collect();
    let files = corpus_files(&opts.corpus)?;
    let added = if opts.attest_min > 0 {
        attested(
            &files,
            opts.dev_every,
            &ids,
            opts.attest_min,
            opts.attest_plain,
        )?
    } else {
        Vec::new()
    };
    for (w, _) in &added {
        if vocab.len() >= usize::from(u16::MAX) {
            anyhow::bail!("more than 65535 syllables");
        }
        ids.insert(w.clone(), vocab.len() as u16);
        vocab.push(w.clone());
    }
    let mut stats = BuildStats {
        files: files.len(),
        ..Default::default()
    };
    let order = opts.order;
    let mut unigram = vec![0u64; vocab.len()];
    let mut counts: Vec<FxHashMap<u64, u32>> =
        (0..order - 1).map(|_| FxHashMap::default()).collect();
    let mut abbr: FxHashMap<String, u32> = FxHashMap::default();
    // Per id: (capitalized, lowercase) occurrences inside sentences.
    let mut case_counts = vec![[0u64; 2]; vocab.len()];
    // Raw core → unit, so each distinct spelling is lowercased and canonicalized once.
    let mut cache: FxHashMap<String, Option<u16>> = FxHashMap::default();
    let mut units = Vec::new();
    let mut dev_writers: FxHashMap<PathBuf, (std::fs::File, usize)> = FxHashMap::default();
    if let Some(d) = &opts.dev_out {
        std::fs::create_dir_all(d).map_err(|e| io_err(d, e))?;
    }
    for path in &files {
        let mut dev_written = 0usize;
        let weight = opts
            .weights
            .iter()
            .find(|(name, _)| path.components().any(|c| c.as_os_str() == name.as_str()))
            .map(|w| w.1)
            .unwrap_or(1);
        let folder = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "corpus".into());
        // The document of the last line written to the development split, which keeps the
        // corpus layout: a blank line between documents (`eval restore --documents`).
        let mut dev_doc: Option<usize> = None;
        let doc = for_each_line(path, opts.dev_every, |line, dev, doc| {
            if dev {
                if let Some(d) = &opts.dev_out {
                    let dev_path = d.join(format!("{folder}.txt"));
                    if !dev_writers.contains_key(&dev_path) {
                        let f =
                            std::fs::File::create(&dev_path).map_err(|e| io_err(&dev_path, e))?;
                        dev_writers.insert(dev_path.clone(), (f, 0));
                    }
                    if let Some((f, lines)) = dev_writers.get_mut(&dev_path) {
                        if dev_written < opts.dev_max_bytes {
                            if *lines > 0 && dev_doc != Some(doc) {
                                writeln!(f).map_err(|e| io_err(&dev_path, e))?;
                            }
                            dev_doc = Some(doc);
                            *lines += 1;
                            writeln!(f, "{line}").map_err(|e| io_err(&dev_path, e))?;
                            dev_written += line.len() + 1;
                        }
                    }
                }
                return Ok(());
            }
            stats.lines += 1;
            note_abbreviations(line, &ids, &mut abbr);
            let mut lookup = |core: &str| -> Option<u16> {
                if let Some(u) = cache.get(core) {
                    return *u;
                }
                let u = ids.get(syllable_key(core).as_ref()).copied();
                cache.insert(core.to_string(), u);
                u
            };
            line_units(line, &mut lookup, &mut units);
            note_case(line, &mut lookup, weight, &mut case_counts);
            for (i, &u) in units.iter().enumerate() {
                unigram[usize::from(u)] += u64::from(weight);
                for n in 2..=order {
                    if i + 1 >= n {
                        let key = pack(&units[i + 1 - n..=i]);
                        let e = counts[n - 2].entry(key).or_insert(0);
                        *e = add_count(*e, weight);
                    }
                }
            }
            stats.tokens += units.len() as u64;
            stats.unk_tokens += units.iter().filter(|&&u| u == 0).count() as u64;
            Ok(())
        })?;
        stats.dev_docs += (doc / opts.dev_every.max(1)) as u64;
    }
    // Unigram log relative frequency (ranking candidates); unseen syllables get half a count.
    let total: u64 = unigram.iter().sum::<u64>().max(1);
    let uni_lp: Vec<f32> = unigram
        .iter()
        .map(|&c| ((c as f64).max(0.5) / total as f64).ln() as f32)
        .collect();
    let quant_step = 0.1f32;
    let backoff_step = 0.05f32;
    let mut min_count: Vec<u32> = (2..=order)
        .map(|n| opts.min_count.get(n - 2).copied().unwrap_or(1).max(1))
        .collect();
    if let Some(budget) = opts.max_bytes {
        // Bytes of the tables at given thresholds: one record per slot, the slots the entries
        // over the load factor.
        let size = |mins: &[u32]| -> usize {
            counts
                .iter()
                .zip(mins)
                .enumerate()
                .map(|(i, (m, &t))| {
                    let per_slot = record_layout(opts.smoothing, order, i + 2).width();
                    per_slot * table_capacity(m.values().filter(|&&c| count_of(c) >= t).count())
                })
                .sum()
        };
        let top = min_count.len() - 1;
        while size(&min_count) > budget {
            // Raise the highest order first; a lower order follows only when the one above it
            // has reached twice its threshold, so the pruning stays as light as the budget allows.
            let mut i = top;
            while i > 0 && min_count[i] >= 2 * min_count[i - 1] {
                i -= 1;
            }
            min_count[i] += 1;
            if min_count[0] > 1000 {
                anyhow::bail!("cannot fit the model into {budget} bytes");
            }
        }
        for i in 1..min_count.len() {
            min_count[i] = min_count[i].max(min_count[i - 1]);
        }
    }
    stats.min_count = min_count.clone();
    stats.attested = added;
    for m in &counts {
        stats.distinct.push(m.len());
    }
    // The slots' probabilities, and for a mixed model the Kneser–Ney ones of their second bytes.
    let (kn, second) = match opts.smoothing {
        Smoothing::KneserNey => (kneser_ney(&unigram, &counts, &min_count, order), None),
        Smoothing::Interpolated(_) => (
            relative_frequencies(&unigram, &counts, &min_count, order),
            None,
        ),
        Smoothing::Mixed { .. } => {
            let kn = kneser_ney(&unigram, &counts, &min_count, order);
            let mut jm = relative_frequencies(&unigram, &counts, &min_count, order);
            // The unigrams and backoffs come with the Kneser–Ney half.
            jm.unigram = kn.unigram;
            jm.unigram_backoff = kn.unigram_backoff;
            jm.backoffs = kn.backoffs;
            (jm, Some(kn.probs))
        }
    };
    let quantize = |x: f64, step: f32| (x / f64::from(step)).round().clamp(0.0, 255.0) as u8;
    let mut tables = Vec::new();
    for n in 2..=order {
        let probs = &kn.probs[n - 2];
        let mut entries: Vec<(u64, u8, u8, u8)> = probs
            .iter()
            .map(|(&key, &lp)| {
                // The backoff of this n-gram as a context of the order above (none at the top).
                let bo = kn
                    .backoffs
                    .get(n - 1)
                    .and_then(|m| m.get(&key))
                    .copied()
                    .unwrap_or(0.0);
                let lp2 = second
                    .as_ref()
                    .and_then(|s| s[n - 2].get(&key))
                    .copied()
                    .unwrap_or(-25.5);
                (
                    key,
                    quantize(-f64::from(lp), quant_step),
                    quantize(-f64::from(bo), backoff_step),
                    quantize(-f64::from(lp2), quant_step),
                )
            })
            .collect();
        entries.sort_unstable();
        stats.kept.push(entries.len());
        tables.push(build_table(
            &entries,
            n,
            record_layout(opts.smoothing, order, n),
        ));
    }
    let case: Vec<u8> = case_counts
        .iter()
        .flat_map(|&[cap, low]| {
            let all = (cap + low) as f64 + 1.0;
            [
                quantize(-((cap as f64 + 0.5) / all).ln(), quant_step),
                quantize(-((low as f64 + 0.5) / all).ln(), quant_step),
            ]
        })
        .collect();
    // Abbreviations: the most frequent spelling of each stripped form, when it carries a mark.
    let mut by_key: FxHashMap<String, Vec<(String, u32)>> = FxHashMap::default();
    for (form, c) in abbr {
        by_key
            .entry(strip_marks(&form))
            .or_default()
            .push((form, c));
    }
    let mut abbr_lines: Vec<String> = Vec::new();
    for (key, mut forms) in by_key {
        forms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (best, c) = &forms[0];
        let plain = forms.iter().find(|f| f.0 == key).map(|f| f.1).unwrap_or(0);
        // Frequent unmarked abbreviations are kept too (CP, UBND), so that OCR repairs of
        // abbreviations (P read for Đ) never rewrite a real one.
        // Forms with đ are rare in running text (ĐU, BCĐ live in document headers): a lower bar.
        if (*best == key && *c >= 20) || (*best != key && *c >= 5 && *c > plain.saturating_mul(3)) {
            abbr_lines.push(format!("{key}\t{best}"));
        }
    }
    abbr_lines.sort();
    // Confusion tables (gold, garbled, count; a header line), summed over the files; those of
    // the Vietnamese model kept apart (a fourth field `vie`, which readers of the English-model
    // table skip).
    let mut confusions = Vec::new();
    // The mark channel reads only syllables with the same letters, so only those pairs are kept
    // of the Vietnamese model's, as syllable keys (the cores the decoder sees).
    let word_key = |t: &str| {
        let (s, e) = super::token::split_core(t);
        super::token::syllable_key(&t[s..e]).into_owned()
    };
    for (files, vie) in [(&opts.confusions, false), (&opts.vie_confusions, true)] {
        let mut pairs: std::collections::BTreeMap<(String, String), u64> = Default::default();
        for p in files {
            let text = std::fs::read_to_string(p).map_err(|e| io_err(p, e))?;
            for l in text.lines().skip(1) {
                let f: Vec<&str> = l.split('\t').collect();
                if let (3, Ok(n)) = (f.len(), f.get(2).map_or(Ok(0), |c| c.parse::<u64>())) {
                    let (read, gold) = if vie {
                        let (r, g) = (word_key(f[1]), word_key(f[0]));
                        let syllables = ids.contains_key(&r) && ids.contains_key(&g);
                        if !syllables || strip_marks(&r) != strip_marks(&g) {
                            continue;
                        }
                        (r, g)
                    } else {
                        (f[1].to_string(), f[0].to_string())
                    };
                    *pairs.entry((read, gold)).or_insert(0) += n;
                }
            }
        }
        let tag = if vie { "\tvie" } else { "" };
        confusions.extend(
            pairs
                .iter()
                .map(|((garbled, gold), n)| format!("{garbled}\t{gold}\t{n}{tag}")),
        );
    }
    let confusions = confusions.join("\n");
    let names = place_names(&opts.names, &ids)?;
    let parts = ModelParts {
        order,
        smoothing: opts.smoothing,
        quant_step,
        backoff_step,
        vocab,
        unigram: uni_lp,
        unigram_kn: kn.unigram,
        unigram_backoff: kn.unigram_backoff,
        case,
        abbreviations: abbr_lines.join("\n"),
        confusions,
        names,
        tables,
    };
    if let Some(dir) = opts.out.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
    }
    write_model(&opts.out, &parts).map_err(|e| io_err(&opts.out, e))?;
    stats.file_bytes = std::fs::metadata(&opts.out)
        .map_err(|e| io_err(&opts.out, e))?
        .len() as usize;
    Ok(stats)
}

/// Count, per syllable, how often it is written with a capital and in lowercase inside a sentence
/// (the first word of a sentence or line says nothing: it is capitalized whatever it is). Words in
/// capitals throughout are headings or abbreviations and are not counted.
fn note_case(
    line: &str,
    lookup: &mut impl FnMut(&str) -> Option<u16>,
    weight: u32,
    counts: &mut [[u64; 2]],
) {
    let mut sentence_start = true;
    for tok in line.split_whitespace() {
        let (s, e) = split_core(tok);
        let core = &tok[s..e];
        if core.is_empty() {
            continue;
        }
        if !sentence_start && is_word(core) && s == 0 {
            let mut chars = core.chars();
            let first_upper = chars.next().is_some_and(char::is_uppercase);
            let rest_lower = chars.all(char::is_lowercase);
            if rest_lower {
                if let Some(id) = lookup(core) {
                    counts[usize::from(id)][usize::from(!first_upper)] += u64::from(weight);
                }
            }
        }
        sentence_start = ends_sentence(&tok[e..]);
    }
}

/// A counted n-gram: its (weighted) count in the low 29 bits, the largest source weight it was
/// seen with in the top 3. Continuation counts add the weight of each distinct left neighbour, so
/// the weighting of in-domain text carries over to the lower orders of Kneser–Ney.
const COUNT_BITS: u32 = 29;
const COUNT_MASK: u32 = (1 << COUNT_BITS) - 1;

fn add_count(c: u32, weight: u32) -> u32 {
    let count = (c & COUNT_MASK).saturating_add(weight).min(COUNT_MASK);
    let w = (c >> COUNT_BITS).max(weight.min(7));
    count | (w << COUNT_BITS)
}

fn count_of(c: u32) -> u32 {
    c & COUNT_MASK
}

fn weight_of(c: u32) -> u32 {
    (c >> COUNT_BITS).max(1)
}

/// An interpolated modified Kneser–Ney model in backoff form, for the kept n-grams.
struct KneserNey {
    /// Log-probability per id.
    unigram: Vec<f32>,
    /// Log-backoff of each id as a one-word context.
    unigram_backoff: Vec<f32>,
    /// Per order 2..=N: kept n-gram → log-probability.
    probs: Vec<FxHashMap<u64, f32>>,
    /// Per order 2..N (index n-1 for order n… see below): kept n-gram → its log-backoff as a
    /// context. Index 0 is unused (unigram backoffs are `unigram_backoff`); index k holds the
    /// backoffs of order-(k+1) n-grams, read when scoring order k+2.
    backoffs: Vec<FxHashMap<u64, f32>>,
}

/// Modified Kneser–Ney discounts D1, D2, D3+ from the count-of-counts (Chen & Goodman 1998).
fn discounts(values: impl Iterator<Item = u64>) -> [f64; 3] {
    let mut t = [0f64; 5];
    for v in values {
        if (1..=4).contains(&v) {
            t[v as usize] += 1.0;
        }
    }
    if t[1] == 0.0 || t[2] == 0.0 || t[3] == 0.0 || t[4] == 0.0 {
        return [0.5, 1.0, 1.5];
    }
    let y = t[1] / (t[1] + 2.0 * t[2]);
    let d = [
        1.0 - 2.0 * y * t[2] / t[1],
        2.0 - 3.0 * y * t[3] / t[2],
        3.0 - 4.0 * y * t[4] / t[3],
    ];
    // Weighted counts (in-domain text counted twice or more) can skew the counts of counts:
    // keep each discount inside (0, its count].
    [
        d[0].clamp(0.05, 1.0),
        d[1].clamp(0.05, 2.0),
        d[2].clamp(0.05, 3.0),
    ]
}

fn discount(d: &[f64; 3], c: u64) -> f64 {
    match c {
        0 => 0.0,
        1 => d[0],
        2 => d[1],
        _ => d[2],
    }
}

/// Per context: total count and the numbers of continuations seen once, twice, three times or more.
#[derive(Default, Clone, Copy)]
struct ContextStats {
    total: u64,
    n: [u32; 3],
}

impl ContextStats {
    fn add(&mut self, c: u64) {
        self.total += c;
        self.n[(c.min(3) - 1) as usize] += 1;
    }

    /// Interpolation weight of the lower order: the discounted mass.
    fn gamma(&self, d: &[f64; 3]) -> f64 {
        if self.total == 0 {
            return 1.0;
        }
        (d[0] * f64::from(self.n[0]) + d[1] * f64::from(self.n[1]) + d[2] * f64::from(self.n[2]))
            / self.total as f64
    }
}

/// Estimate the model from raw counts (`unigram` per id, `counts[n-2]` per order n ≥ 2).
/// Lower orders use continuation counts (distinct left neighbours), except n-grams that start with
/// `<s>`, which nothing precedes. Probabilities come from all counts; only n-grams whose raw count
/// reaches `min_count` are kept. A kept n-gram's suffix is kept too (thresholds do not decrease),
/// so the lower-order probability it interpolates with is always at hand.
fn kneser_ney(
    unigram: &[u64],
    counts: &[FxHashMap<u64, u32>],
    min_count: &[u32],
    order: usize,
) -> KneserNey {
    let bos = u64::from(super::model::BOS);
    let mask = |n: usize| -> u64 {
        if n >= 4 {
            u64::MAX
        } else {
            (1u64 << (16 * n)) - 1
        }
    };
    let first = |key: u64, n: usize| key >> (16 * (n - 1));
    // Adjusted counts per order 1..=N: continuation counts below the top.
    let mut adj_uni: Vec<u64> = vec![0; unigram.len()];
    for (&key, &c) in &counts[0] {
        adj_uni[(key & 0xFFFF) as usize] += u64::from(weight_of(c));
    }
    adj_uni[bos as usize] = unigram[bos as usize];
    let mut adj: Vec<FxHashMap<u64, u32>> = Vec::with_capacity(order - 1);
    for n in 2..=order {
        if n == order {
            adj.push(
                counts[n - 2]
                    .iter()
                    .map(|(&k, &c)| (k, count_of(c)))
                    .collect(),
            );
            continue;
        }
        let mut m: FxHashMap<u64, u32> = FxHashMap::default();
        m.reserve(counts[n - 2].len());
        for (&key, &c) in &counts[n - 1] {
            *m.entry(key & mask(n)).or_insert(0) += weight_of(c);
        }
        for (&key, &c) in &counts[n - 2] {
            if first(key, n) == bos {
                m.insert(key, count_of(c));
            }
        }
        adj.push(m);
    }
    // Unigrams: discounted continuation counts, interpolated with the uniform distribution.
    let d1 = discounts(adj_uni.iter().copied());
    let mut uni_stats = ContextStats::default();
    for &c in &adj_uni {
        if c > 0 {
            uni_stats.add(c);
        }
    }
    let g1 = uni_stats.gamma(&d1);
    let v = unigram.len() as f64;
    let p1: Vec<f64> = adj_uni
        .iter()
        .map(|&c| {
            let base = (c as f64 - discount(&d1, c)).max(0.0) / uni_stats.total.max(1) as f64;
            (base + g1 / v).max(1e-12)
        })
        .collect();
    let mut probs: Vec<FxHashMap<u64, f32>> = Vec::with_capacity(order - 1);
    let mut backoffs: Vec<FxHashMap<u64, f32>> = vec![FxHashMap::default()];
    let mut unigram_backoff = vec![0f32; unigram.len()];
    for n in 2..=order {
        let a = &adj[n - 2];
        let d = discounts(a.values().map(|&c| u64::from(c)));
        let mut ctx: FxHashMap<u64, ContextStats> = FxHashMap::default();
        for (&key, &c) in a {
            ctx.entry(key >> 16).or_default().add(u64::from(c));
        }
        let min = u64::from(min_count[n - 2]);
        let raw = &counts[n - 2];
        let mut kept: FxHashMap<u64, f32> = FxHashMap::default();
        // Per context: the probability mass of its kept continuations, under this order and under
        // the order below; what is left of each becomes the backoff (pruning renormalized).
        let mut mass: FxHashMap<u64, (f64, f64)> = FxHashMap::default();
        for (&key, &c) in a {
            if raw.get(&key).map_or(0, |&r| u64::from(count_of(r))) < min {
                continue;
            }
            let Some(st) = ctx.get(&(key >> 16)) else {
                continue;
            };
            let c = u64::from(c);
            let suffix = key & mask(n - 1);
            let lower = if n == 2 {
                p1[suffix as usize]
            } else {
                match probs[n - 3].get(&suffix) {
                    Some(&lp) => f64::from(lp).exp(),
                    None => continue,
                }
            };
            let p = (c as f64 - discount(&d, c)).max(0.0) / st.total as f64 + st.gamma(&d) * lower;
            kept.insert(key, p.ln() as f32);
            let m = mass.entry(key >> 16).or_insert((0.0, 0.0));
            m.0 += p;
            m.1 += lower;
        }
        let backoff_of = |k: &u64| -> f32 {
            match mass.get(k) {
                Some(&(p, lower)) => ((1.0 - p).max(1e-9) / (1.0 - lower).max(1e-9)).ln() as f32,
                // No continuation kept: the distribution is the order below's.
                None => 0.0,
            }
        };
        if n == 2 {
            for (k, b) in unigram_backoff.iter_mut().enumerate() {
                *b = backoff_of(&(k as u64));
            }
        } else {
            let m: FxHashMap<u64, f32> = probs[n - 3].keys().map(|k| (*k, backoff_of(k))).collect();
            backoffs.push(m);
        }
        probs.push(kept);
    }
    KneserNey {
        unigram: p1.iter().map(|p| p.ln() as f32).collect(),
        unigram_backoff,
        probs,
        backoffs,
    }
}

/// Relative frequencies of the kept n-grams, c(h w) / c(h), for Jelinek–Mercer interpolation at
/// query time (no backoffs: every one is 0).
fn relative_frequencies(
    unigram: &[u64],
    counts: &[FxHashMap<u64, u32>],
    min_count: &[u32],
    order: usize,
) -> KneserNey {
    let total: u64 = unigram.iter().sum::<u64>().max(1);
    let uni: Vec<f32> = unigram
        .iter()
        .map(|&c| ((c as f64).max(0.5) / total as f64).ln() as f32)
        .collect();
    let mut probs = Vec::with_capacity(order - 1);
    for n in 2..=order {
        let min = min_count[n - 2];
        let map = &counts[n - 2];
        let kept: FxHashMap<u64, f32> = map
            .iter()
            .filter(|(_, &c)| count_of(c) >= min)
            .map(|(&key, &c)| {
                let c = count_of(c);
                let ctx = key >> 16;
                let ctx_count = if n == 2 {
                    unigram[ctx as usize]
                } else {
                    u64::from(counts[n - 3].get(&ctx).map_or(c, |&x| count_of(x)))
                };
                let lp = (f64::from(c) / ctx_count.max(u64::from(c)) as f64).ln();
                (key, lp as f32)
            })
            .collect();
        probs.push(kept);
    }
    KneserNey {
        unigram: uni,
        unigram_backoff: vec![0.0; unigram.len()],
        probs,
        backoffs: vec![FxHashMap::default()],
    }
}
