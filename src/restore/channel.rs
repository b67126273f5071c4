//! The noisy channel: which syllables could have produced a token OCR or unaccented typing left.
//!
//! Two sources of evidence, both stored in the model file:
//! - a token table of (garbled, gold, count) pairs from English-model OCR of rendered Vietnamese
//!   (`dugc` → được, `s6` → số), used directly as P(gold | garbled);
//! - character edit costs learned by aligning those pairs at the letter level (`g`↔`o`, `6`↔`o`,
//!   `1`↔`l`, dropped `t`), which generalize to tokens the table never saw: a weighted edit distance
//!   from the token's skeleton to every syllable skeleton of the inventory.
//!
//! Costs are negative log-probabilities (nats), so they add to language-model log-scores.

use rustc_hash::FxHashMap;

use crate::vietnamese::{is_vowel, plain_letter, split_tone, strip_marks, syllable_tone, Tone};

/// Look-alikes English-model OCR produces for Vietnamese letters, before any learning: a floor so
/// that digits and symbols inside words always have a cheap way back to letters.
const LOOKALIKES: &[(char, &str)] = &[
    ('0', "o"),
    ('1', "lit"),
    ('3', "a"),
    ('4', "a"),
    ('5', "s"),
    ('6', "o"),
    ('8', "o"),
    ('9', "og"),
    ('&', "aoe"),
    ('¢', "coe"),
    // ê has no glyph in an English model: it comes out as € (ti€u → tiêu).
    ('€', "e"),
    ('@', "a"),
    ('$', "s"),
    ('|', "li"),
    ('!', "il"),
    // Đ in capitals comes out as P (Pang → Đảng, PU → ĐU).
    ('p', "d"),
    // Marked vowels an English model has no glyph for: ư → y/w (thyc, Chwong), ơ → g/d (dugc,
    // mdi), ă/â → i (nim, vin), á → é (céc), capital I for l (Ién).
    ('y', "u"),
    ('w', "u"),
    ('g', "o"),
    ('d', "o"),
    ('i', "al"),
    ('e', "a"),
];

const DEFAULT_SUB: f32 = 5.0;
const ALPHABET: usize = 26;

/// Index of a skeleton letter for [`Channel::distance_prepared`]: a–z, or 26 for anything else.
pub fn letter_index(c: char) -> u8 {
    if c.is_ascii_lowercase() {
        c as u8 - b'a'
    } else {
        ALPHABET as u8
    }
}

/// Per-token costs made by [`Channel::prepare`].
pub struct Prepared {
    sub: Vec<[f32; ALPHABET + 1]>,
    ins: Vec<f32>,
    del: [f32; ALPHABET + 1],
}
const DEFAULT_INDEL: f32 = 5.0;
const LOOKALIKE_COST: f32 = 2.0;

/// Learned character-level channel plus the token table.
pub struct Channel {
    /// garbled lowercase token → (gold syllable key, log P(gold | garbled)).
    pub tokens: FxHashMap<String, Vec<(String, f32)>>,
    /// (garbled char, gold skeleton char) → cost.
    sub: FxHashMap<(char, char), f32>,
    /// Gold skeleton char missing from the garbled token → cost.
    del: FxHashMap<char, f32>,
    /// Garbled char with no gold counterpart → cost.
    ins: FxHashMap<char, f32>,
}

/// Levenshtein alignment of two char strings: the edit script as (garbled, gold) pairs, `None` for a gap.
fn align(g: &[char], t: &[char]) -> Vec<(Option<char>, Option<char>)> {
    let (n, m) = (g.len(), t.len());
    let mut d = vec![vec![0u32; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i as u32;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j as u32;
    }
    for i in 1..=n {
        for j in 1..=m {
            let sub = d[i - 1][j - 1] + u32::from(g[i - 1] != t[j - 1]);
            d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
        }
    }
    let (mut i, mut j) = (n, m);
    let mut out = Vec::new();
    while i > 0 || j > 0 {
        if i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + u32::from(g[i - 1] != t[j - 1]) {
            out.push((Some(g[i - 1]), Some(t[j - 1])));
            i -= 1;
            j -= 1;
        } else if i > 0 && d[i][j] == d[i - 1][j] + 1 {
            out.push((Some(g[i - 1]), None));
            i -= 1;
        } else {
            out.push((None, Some(t[j - 1])));
            j -= 1;
        }
    }
    out.reverse();
    out
}

fn cost_of(count: f64, total: f64) -> f32 {
    (-(count / total).ln()).clamp(0.2, 8.0) as f32
}

impl Channel {
    /// Learn from the model's confusion lines (`garbled\tgold\tcount`); `syllable_key` maps a gold
    /// spelling to its vocabulary key, or `None` when it is not a syllable.
    pub fn learn(lines: &str, syllable_key: impl Fn(&str) -> Option<String>) -> Channel {
        let mut tokens: FxHashMap<String, Vec<(String, f32)>> = FxHashMap::default();
        let mut pair: FxHashMap<(char, char), f64> = FxHashMap::default();
        let mut del: FxHashMap<char, f64> = FxHashMap::default();
        let mut ins: FxHashMap<char, f64> = FxHashMap::default();
        let mut gold_chars: FxHashMap<char, f64> = FxHashMap::default();
        let mut garbled_total = 0f64;
        for l in lines.lines() {
            let f: Vec<&str> = l.split('\t').collect();
            if f.len() != 3 {
                continue;
            }
            let Ok(count) = f[2].parse::<f64>() else {
                continue;
            };
            let garbled = f[0].to_lowercase();
            let Some(gold) = syllable_key(f[1]) else {
                continue;
            };
            tokens
                .entry(garbled.clone())
                .or_default()
                .push((gold.clone(), count as f32));
            let g: Vec<char> = strip_marks(&garbled).chars().collect();
            let t: Vec<char> = strip_marks(&gold).chars().collect();
            for (a, b) in align(&g, &t) {
                match (a, b) {
                    (Some(a), Some(b)) => {
                        *pair.entry((a, b)).or_insert(0.0) += count;
                        *gold_chars.entry(b).or_insert(0.0) += count;
                    }
                    (None, Some(b)) => {
                        *del.entry(b).or_insert(0.0) += count;
                        *gold_chars.entry(b).or_insert(0.0) += count;
                    }
                    (Some(a), None) => {
                        *ins.entry(a).or_insert(0.0) += count;
                    }
                    (None, None) => {}
                }
                garbled_total += count;
            }
        }
        for cands in tokens.values_mut() {
            let total: f32 = cands.iter().map(|c| c.1).sum();
            // Merge duplicates of the same gold key.
            let mut merged: FxHashMap<String, f32> = FxHashMap::default();
            for (g, c) in cands.drain(..) {
                *merged.entry(g).or_insert(0.0) += c;
            }
            let mut v: Vec<(String, f32)> = merged
                .into_iter()
                .map(|(g, c)| (g, (c / total).ln()))
                .collect();
            v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            *cands = v;
        }
        let mut sub: FxHashMap<(char, char), f32> = FxHashMap::default();
        for (&(a, b), &c) in &pair {
            if a != b {
                let total = gold_chars.get(&b).copied().unwrap_or(c).max(c);
                sub.insert((a, b), cost_of(c + 0.5, total + 1.0));
            }
        }
        for &(g, golds) in LOOKALIKES {
            for b in golds.chars() {
                let e = sub.entry((g, b)).or_insert(LOOKALIKE_COST);
                *e = e.min(LOOKALIKE_COST);
            }
        }
        let del = del
            .into_iter()
            .map(|(b, c)| {
                let total = gold_chars.get(&b).copied().unwrap_or(c).max(c);
                (b, cost_of(c + 0.5, total + 1.0).max(1.5))
            })
            .collect();
        let ins = ins
            .into_iter()
            .map(|(a, c)| (a, cost_of(c + 0.5, garbled_total.max(1.0) / 20.0).max(1.5)))
            .collect();
        Channel {
            tokens,
            sub,
            del,
            ins,
        }
    }

    fn sub_cost(&self, g: char, t: char) -> f32 {
        if g == t {
            0.0
        } else {
            self.sub.get(&(g, t)).copied().unwrap_or(DEFAULT_SUB)
        }
    }

    /// Costs for one garbled token against the 26 skeleton letters (index 26: anything else), so
    /// the search over the whole skeleton inventory is array lookups, not hash lookups.
    pub fn prepare(&self, g: &[char]) -> Prepared {
        let sub = g
            .iter()
            .map(|&gc| {
                let mut row = [DEFAULT_SUB; ALPHABET + 1];
                for (i, cell) in row.iter_mut().enumerate().take(ALPHABET) {
                    *cell = self.sub_cost(gc, char::from(b'a' + i as u8));
                }
                row
            })
            .collect();
        let ins = g
            .iter()
            .map(|gc| self.ins.get(gc).copied().unwrap_or(DEFAULT_INDEL))
            .collect();
        let mut del = [DEFAULT_INDEL; ALPHABET + 1];
        for (i, cell) in del.iter_mut().enumerate().take(ALPHABET) {
            *cell = self
                .del
                .get(&char::from(b'a' + i as u8))
                .copied()
                .unwrap_or(DEFAULT_INDEL);
        }
        Prepared { sub, ins, del }
    }

    /// Weighted edit distance from a prepared garbled token to a skeleton given as
    /// [`letter_index`]es, or `None` above `max`.
    pub fn distance_prepared(&self, p: &Prepared, t: &[u8], max: f32) -> Option<f32> {
        let m = t.len();
        let mut prev = [0f32; 16];
        let mut cur = [0f32; 16];
        if m >= prev.len() {
            return None;
        }
        for j in 0..m {
            prev[j + 1] = prev[j] + p.del[usize::from(t[j])];
        }
        for (row, &ins) in p.sub.iter().zip(&p.ins) {
            cur[0] = prev[0] + ins;
            let mut row_min = cur[0];
            for j in 1..=m {
                let tj = usize::from(t[j - 1]);
                let v = (prev[j - 1] + row[tj])
                    .min(prev[j] + ins)
                    .min(cur[j - 1] + p.del[tj]);
                cur[j] = v;
                row_min = row_min.min(v);
            }
            if row_min > max {
                return None;
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        let d = prev[m];
        (d <= max).then_some(d)
    }

    /// Weighted edit distance from garbled skeleton `g` to syllable skeleton `t`, or `None` above `max`.
    pub fn distance(&self, g: &[char], t: &[char], max: f32) -> Option<f32> {
        let m = t.len();
        let mut prev: Vec<f32> = Vec::with_capacity(m + 1);
        prev.push(0.0);
        for j in 0..m {
            let c = prev[j] + self.del.get(&t[j]).copied().unwrap_or(DEFAULT_INDEL);
            prev.push(c);
        }
        let mut cur = vec![0f32; m + 1];
        for &gc in g {
            cur[0] = prev[0] + self.ins.get(&gc).copied().unwrap_or(DEFAULT_INDEL);
            let mut row_min = cur[0];
            for j in 1..=m {
                let s = prev[j - 1] + self.sub_cost(gc, t[j - 1]);
                let i = prev[j] + self.ins.get(&gc).copied().unwrap_or(DEFAULT_INDEL);
                let d = cur[j - 1] + self.del.get(&t[j - 1]).copied().unwrap_or(DEFAULT_INDEL);
                cur[j] = s.min(i).min(d);
                row_min = row_min.min(cur[j]);
            }
            if row_min > max {
                return None;
            }
            std::mem::swap(&mut prev, &mut cur);
        }
        let d = prev[m];
        (d <= max).then_some(d)
    }
}

/// Letter class of the vowel that carries a tone, for [`MarkChannel`]: plain (a e i o u y),
/// circumflex (â ê ô) or breve and horn (ă ơ ư). OCR confuses tones most on circumflex letters,
/// whose hat crowds the tone mark.
fn tone_class(c: char) -> usize {
    match split_tone(c).0.to_lowercase().next().unwrap_or(c) {
        'â' | 'ê' | 'ô' => 1,
        'ă' | 'ơ' | 'ư' => 2,
        _ => 0,
    }
}

/// The class of the vowel carrying the syllable's tone (its first vowel when it has none).
fn syllable_tone_class(s: &str) -> usize {
    let mut first = None;
    for c in s.chars() {
        let (_, t) = split_tone(c);
        if t != Tone::Level {
            return tone_class(c);
        }
        if first.is_none() && is_vowel(c) {
            first = Some(c);
        }
    }
    first.map_or(0, tone_class)
}

/// How an OCR that knows Vietnamese (Tesseract's `vie` model, what the pipeline reads scans
/// with) misreads the marks of a syllable whose letters it reads right: a wrong tone (dân → dần,
/// chi → chỉ) or a lost or added letter mark (nâng → năng, đ → d). Learned from (gold, OCR) token
/// pairs of rendered text; the costs are relative to reading the marks right, so they add to
/// language-model scores the way [`Channel`] costs do.
#[derive(Debug, Clone)]
pub struct MarkChannel {
    /// −log P(read tone | gold tone) by the class of the toned vowel ([`tone_class`]).
    tone: [[[f32; 6]; 6]; 3],
    /// −log P(read letter | gold letter) for the toneless lowercase letters that carry letter
    /// marks or could (a ă â e ê o ô ơ u ư d đ); pairs never seen cost [`MARK_UNSEEN`].
    letter: FxHashMap<(char, char), f32>,
    /// Words the pairs have often enough to be measured alone (chi read chỉ one time in five, far
    /// more than the hook on other plain vowels): gold → (read, cost), relative to reading right.
    word: FxHashMap<String, Vec<(String, f32)>>,
}

/// Cost of a letter-mark confusion the pairs never showed.
const MARK_UNSEEN: f32 = 9.0;

/// A word is measured alone when the pairs have it this often, misread so at least
/// [`WORD_MIN_MISREAD`] times.
const WORD_MIN_SEEN: f64 = 20.0;
const WORD_MIN_MISREAD: f64 = 3.0;

impl MarkChannel {
    /// Learn from (gold, read, count) pairs; only pairs whose two tokens are syllables
    /// (`is_syllable`, lowercase canonical forms) with the same letters count. `None` when there
    /// are none (a model built without `vie` pairs).
    pub fn learn<'a>(
        pairs: impl Iterator<Item = (&'a str, &'a str, f64)>,
        is_syllable: impl Fn(&str) -> bool,
    ) -> Option<MarkChannel> {
        let mut tone = [[[0f64; 6]; 6]; 3];
        let mut letter: FxHashMap<(char, char), f64> = FxHashMap::default();
        let mut words: FxHashMap<(String, String), f64> = FxHashMap::default();
        let mut any = false;
        for (gold, read, n) in pairs {
            if !is_syllable(gold) || !is_syllable(read) || strip_marks(gold) != strip_marks(read) {
                continue;
            }
            if gold.chars().count() != read.chars().count() {
                continue;
            }
            any = true;
            *words
                .entry((gold.to_string(), read.to_string()))
                .or_insert(0.0) += n;
            let class = syllable_tone_class(gold);
            tone[class][syllable_tone(gold) as usize][syllable_tone(read) as usize] += n;
            for (g, r) in gold.chars().zip(read.chars()) {
                let (g, r) = (split_tone(g).0, split_tone(r).0);
                if is_vowel(g) || matches!(g, 'd' | 'đ') {
                    *letter.entry((g, r)).or_insert(0.0) += n;
                }
            }
        }
        if !any {
            return None;
        }
        // Add-one smoothing over the six tones; costs relative to the right tone.
        let mut tone_cost = [[[0f32; 6]; 6]; 3];
        for (class, rows) in tone.iter().enumerate() {
            for (g, row) in rows.iter().enumerate() {
                let total: f64 = row.iter().sum::<f64>() + 6.0;
                let right = -((row[g] + 1.0) / total).ln();
                for (r, &c) in row.iter().enumerate() {
                    tone_cost[class][g][r] = (-((c + 1.0) / total).ln() - right) as f32;
                }
            }
        }
        let mut totals: FxHashMap<char, f64> = FxHashMap::default();
        for (&(g, _), &c) in &letter {
            *totals.entry(g).or_insert(0.0) += c;
        }
        let letter_cost = letter
            .iter()
            .map(|(&(g, r), &c)| {
                let total = totals[&g] + 2.0;
                let right = -((letter.get(&(g, g)).copied().unwrap_or(0.0) + 1.0) / total).ln();
                (
                    (g, r),
                    (-((c + 0.5) / total).ln() - right).clamp(0.0, f64::from(MARK_UNSEEN)) as f32,
                )
            })
            .collect();
        let mut seen: FxHashMap<&str, (f64, f64)> = FxHashMap::default();
        for ((g, r), &c) in &words {
            let e = seen.entry(g.as_str()).or_insert((0.0, 0.0));
            e.0 += c;
            if g == r {
                e.1 += c;
            }
        }
        let mut word: FxHashMap<String, Vec<(String, f32)>> = FxHashMap::default();
        for ((g, r), &c) in &words {
            let (total, right) = seen[g.as_str()];
            if g != r && c >= WORD_MIN_MISREAD && total >= WORD_MIN_SEEN {
                let cost = ((right + 0.5) / (c + 0.5)).ln().max(0.0) as f32;
                word.entry(g.clone()).or_default().push((r.clone(), cost));
            }
        }
        Some(MarkChannel {
            tone: tone_cost,
            letter: letter_cost,
            word,
        })
    }

    /// Cost (nats, above reading it right) of the OCR reading `read` where the text has `gold`:
    /// two lowercase syllables with the same letters. `None` when their letters differ.
    pub fn cost(&self, gold: &str, read: &str) -> Option<f32> {
        if gold.chars().count() != read.chars().count() {
            return None;
        }
        if let Some(&(_, c)) = self
            .word
            .get(gold)
            .and_then(|v| v.iter().find(|w| w.0 == read))
        {
            return Some(c);
        }
        let class = syllable_tone_class(gold);
        let mut cost = self.tone[class][syllable_tone(gold) as usize][syllable_tone(read) as usize];
        for (g, r) in gold.chars().zip(read.chars()) {
            let (g, r) = (split_tone(g).0, split_tone(r).0);
            if g != r {
                if plain_letter(g) != plain_letter(r) {
                    return None;
                }
                cost += self.letter.get(&(g, r)).copied().unwrap_or(MARK_UNSEEN);
            }
        }
        Some(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_channel_learns_which_marks_ocr_misreads() {
        let pairs = [
            ("tổ", "tổ", 90.0),
            ("tổ", "tố", 10.0),
            ("tố", "tố", 20.0),
            ("to", "to", 100.0),
            ("to", "tơ", 1.0),
            ("chi", "chỉ", 10.0),
            ("chi", "chi", 50.0),
            // Different letters: not a mark misreading, not counted.
            ("ta", "to", 50.0),
        ];
        let m = MarkChannel::learn(pairs.iter().copied(), |_| true).expect("pairs");
        assert_eq!(m.cost("tổ", "tổ"), Some(0.0));
        let common = m.cost("tổ", "tố").unwrap_or(99.0);
        let unseen = m.cost("tổ", "tồ").unwrap_or(0.0);
        assert!(common > 0.0 && common < unseen, "{common} vs {unseen}");
        // chi is seen 60 times, read chỉ 10 of them: measured as a word, ln(50.5 / 10.5).
        let chi = m.cost("chi", "chỉ").unwrap_or(99.0);
        assert!((chi - (50.5f32 / 10.5).ln()).abs() < 1e-4, "{chi}");
        assert!(chi < m.cost("chi", "chì").unwrap_or(0.0));
        assert!(m.cost("to", "tơ").unwrap_or(0.0) > 0.0);
        assert_eq!(m.cost("to", "ta"), None);
        assert!(MarkChannel::learn(std::iter::empty(), |_| true).is_none());
    }

    #[test]
    fn learns_letter_confusions() {
        let lines = "dugc\tđược\t10\nhgp\thợp\t5\ns6\tsố\t7\n";
        let ch = Channel::learn(lines, |g| Some(g.to_lowercase()));
        let g: Vec<char> = "dugc".chars().collect();
        let t: Vec<char> = "duoc".chars().collect();
        let d = ch.distance(&g, &t, 10.0).unwrap_or(99.0);
        assert!(d < 2.0, "g→o should be cheap, got {d}");
        let idx: Vec<u8> = t.iter().map(|&c| letter_index(c)).collect();
        let fast = ch
            .distance_prepared(&ch.prepare(&g), &idx, 10.0)
            .unwrap_or(99.0);
        assert!((fast - d).abs() < 1e-4, "{fast} vs {d}");
        let far: Vec<char> = "dung".chars().collect();
        assert!(ch.distance(&g, &far, 10.0).unwrap_or(99.0) > d);
        assert_eq!(ch.tokens["s6"][0].0, "số");
    }
}
