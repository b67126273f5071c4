//! Adaptation to the text itself: a second look at ambiguous slots with the word pairs the first
//! reading of the same text settled.
//!
//! A plan repeats its own words: `vườn hộ`, `cứng hóa`, `nhà vệ sinh 1 ngăn`. Where the context is
//! clear the first reading gets them right; where it is not (`- Cứng hóa giao thông` at the start
//! of a line, `vườn hộ có chủ`), the n-gram model can fall back to the more common word (`Cùng`,
//! `họ`). Every candidate that forms, with a neighbour of the first reading, a pair (two syllables)
//! that the first reading has *elsewhere* in the text gets a bonus, and the slots where that changes
//! the order are decoded again. Counting leaves the slot itself out, so a reading never supports
//! itself; everything outside the revisited windows keeps its first reading and serves as fixed
//! context, so the second pass costs a small fraction of the first.

use rustc_hash::FxHashMap;

use super::decode::Cand;
use super::model::RESERVED;

/// Bonus (nats) a rival needs over the first reading, when single words count, for its slot to
/// be decoded again.
const WORD_MIN_GAIN: f32 = 1.0;

/// Slots on each side of a revisited slot that may change with it.
const WINDOW: usize = 2;

fn is_syllable(u: u16) -> bool {
    usize::from(u) >= RESERVED.len()
}

/// Counts of the syllable pairs of a first reading (of one text or of several that belong together).
pub struct Pairs<'a> {
    counts: FxHashMap<(u16, u16), u32>,
    /// Units that occur in some pair (a bit per unit): most candidates occur nowhere in the text,
    /// and need no lookup.
    present: Vec<u64>,
    /// Units the reading has anywhere (a bit per unit): a rival read nowhere gains nothing.
    read: Vec<u64>,
    /// The single words of the reading, when they count too ([`Pairs::with_words`]).
    words: Option<Words<'a>>,
}

/// Per syllable: which skeleton it spells and its share of that skeleton in the corpus
/// (P(syllable | skeleton)): what a text's own choices are weighed against.
pub struct Lexicon {
    /// Skeleton index per unit (`u32::MAX` for units that spell none).
    pub skeleton: Vec<u32>,
    pub share: Vec<f32>,
    /// How many skeletons there are.
    pub skeletons: usize,
}

impl Lexicon {
    /// The skeleton `unit` spells, if it is a syllable.
    fn skeleton_of(&self, unit: u16) -> Option<u32> {
        self.skeleton
            .get(usize::from(unit))
            .copied()
            .filter(|&k| k != u32::MAX)
    }
}

/// The words of a first reading: how often each syllable and each skeleton was read.
struct Words<'a> {
    lexicon: &'a Lexicon,
    units: Vec<u32>,
    skeletons: Vec<u32>,
    /// The bonus of a reading the text has nowhere else, by how often the text reads its
    /// skeleton elsewhere: `weight × ln(prior / (times + prior))`, the same for every such reading
    /// (most candidates), so computed once.
    absent: Vec<f32>,
    weight: f32,
    prior: f32,
}

impl<'a> Pairs<'a> {
    /// The pairs of each text's reading: its slots and the candidate chosen in each.
    pub fn of<'b>(readings: impl Iterator<Item = (&'b [Vec<Cand>], &'b [usize])>) -> Pairs<'a> {
        let mut pairs = Pairs {
            counts: FxHashMap::default(),
            present: vec![0; (usize::from(u16::MAX) + 1) / 64],
            read: vec![0; (usize::from(u16::MAX) + 1) / 64],
            words: None,
        };
        for (slots, choice) in readings {
            pairs.add(&units(slots, choice));
        }
        pairs
    }

    /// [`Pairs::of`], and the single words too: a candidate read more often in this text than its
    /// share of its skeleton in the corpus would have it gets a bonus, `weight` times the log of
    /// that ratio, and its rivals a penalty. A text's names and terms (`Nguyễn`, `ngỗng`) recur
    /// where the n-gram context does not settle them. `prior` (in words) is how much the corpus
    /// share counts against the text's own: with few readings of a skeleton the ratio stays near 1.
    pub fn with_words<'b>(
        readings: impl Iterator<Item = (&'b [Vec<Cand>], &'b [usize])>,
        lexicon: &'a Lexicon,
        weight: f32,
        prior: f32,
    ) -> Pairs<'a> {
        let mut pairs = Pairs::of(std::iter::empty());
        let mut words = Words {
            lexicon,
            units: vec![0; lexicon.skeleton.len()],
            skeletons: vec![0; lexicon.skeletons],
            absent: Vec::new(),
            weight,
            prior,
        };
        for (slots, choice) in readings {
            let units = units(slots, choice);
            pairs.add(&units);
            for &u in &units {
                if let Some(k) = lexicon.skeleton_of(u) {
                    words.units[usize::from(u)] += 1;
                    words.skeletons[k as usize] += 1;
                }
            }
        }
        let most = words.skeletons.iter().copied().max().unwrap_or(0);
        words.absent = (0..=most)
            .map(|times| weight * (prior / (times as f32 + prior)).ln())
            .collect();
        pairs.words = Some(words);
        pairs
    }

    fn add(&mut self, units: &[u16]) {
        for &u in units {
            self.read[usize::from(u) / 64] |= 1 << (u % 64);
        }
        for w in units.windows(2) {
            if is_syllable(w[0]) && is_syllable(w[1]) {
                *self.counts.entry((w[0], w[1])).or_default() += 1;
                for u in [w[0], w[1]] {
                    self.present[usize::from(u) / 64] |= 1 << (u % 64);
                }
            }
        }
    }

    /// The word bonus of reading `unit` at a slot whose first reading was `first` (which is left
    /// out of the counts).
    fn word(&self, unit: u16, first: u16) -> f32 {
        let Some(w) = &self.words else {
            return 0.0;
        };
        let Some(skeleton) = w.lexicon.skeleton_of(unit) else {
            return 0.0;
        };
        let own_skeleton = w.lexicon.skeleton_of(first) == Some(skeleton);
        let of_skeleton = w.skeletons[skeleton as usize] - u32::from(own_skeleton);
        if of_skeleton == 0 {
            return 0.0;
        }
        let of_unit = w.units[usize::from(unit)] - u32::from(unit == first);
        if of_unit == 0 {
            return w.absent[of_skeleton as usize];
        }
        let share = w.lexicon.share[usize::from(unit)].max(f32::MIN_POSITIVE);
        let expected = w.prior * share;
        w.weight * ((of_unit as f32 + expected) / ((of_skeleton as f32 + w.prior) * share)).ln()
    }

    /// With single words every ambiguous slot has some bonus; one whose rivals gain less than
    /// [`WORD_MIN_GAIN`] is not worth its second decoding.
    fn min_gain(&self) -> f32 {
        if self.words.is_some() {
            WORD_MIN_GAIN
        } else {
            0.0
        }
    }

    fn present(&self, u: u16) -> bool {
        self.present[usize::from(u) / 64] & (1 << (u % 64)) != 0
    }

    /// Whether the reading has `u` anywhere. A unit it has nowhere is in no pair, and as a single
    /// word it gets at most 0 (a penalty where its skeleton is read as something else).
    fn read(&self, u: u16) -> bool {
        self.read[usize::from(u) / 64] & (1 << (u % 64)) != 0
    }

    /// How often `a b` occurs, less `own`.
    fn seen(&self, a: u16, b: u16, own: bool) -> f32 {
        if !(is_syllable(a) && is_syllable(b) && self.present(a) && self.present(b)) {
            return 0.0;
        }
        match self.counts.get(&(a, b)).copied().unwrap_or(0) - u32::from(own) {
            0 => 0.0,
            k => (1.0 + k as f32).log2(),
        }
    }
}

fn units(slots: &[Vec<Cand>], choice: &[usize]) -> Vec<u16> {
    slots.iter().zip(choice).map(|(s, &c)| s[c].unit).collect()
}

/// The second look at one text, in place: `choice` is its first reading (candidate index per
/// slot), counted in `pairs`; `weight` is the bonus (in channel-score units) for each side on which
/// a candidate forms a pair seen elsewhere, `log2(1 + times)`. Where a bonus would put another
/// candidate ahead, the slot and its neighbours (a window) are decoded again by `decode`, with
/// `context` fixed slots of the first reading on each side. With a `reach` above 0, only where
/// that candidate, with its bonus, also trails the first reading by less than `reach` in
/// `local(units, slot, unit, channel score)`, the score of a unit read at the slot with the first
/// reading's neighbours: a rival far behind is not worth a second decoding. Returns how many
/// slots were revisited.
pub fn revisit(
    pairs: &Pairs,
    slots: &[Vec<Cand>],
    choice: &mut [usize],
    weight: f32,
    context: usize,
    (reach, mut local): (f32, impl FnMut(&[u16], usize, u16, f32) -> f32),
    mut decode: impl FnMut(&[Vec<Cand>]) -> Vec<usize>,
) -> usize {
    if weight <= 0.0 || slots.len() < 3 {
        return 0;
    }
    let units = units(slots, choice);
    // Pairs seen elsewhere than at this slot: the slot's own pair counts once when the candidate
    // is its first reading.
    let bonus = |i: usize, unit: u16| -> f32 {
        let own = unit == units[i];
        let left = if i > 0 {
            pairs.seen(units[i - 1], unit, own)
        } else {
            0.0
        };
        let right = if i + 1 < units.len() {
            pairs.seen(unit, units[i + 1], own)
        } else {
            0.0
        };
        weight * (left + right) + pairs.word(unit, units[i])
    };
    let n = slots.len();
    let mut window = vec![false; n];
    for (i, slot) in slots.iter().enumerate() {
        if slot.len() < 2 {
            continue;
        }
        let first = bonus(i, units[i]);
        // A rival the reading has nowhere gains at most 0: not enough where the first reading
        // gains at least -min_gain (nearly everywhere), and then it needs no bonus worked out.
        let unread_lose = first + pairs.min_gain() >= 0.0;
        // The first reading's local score, once, and only if some rival's bonus is higher.
        let mut first_local = None;
        let rival_in_reach = slot.iter().any(|c| {
            if c.unit == units[i] || (unread_lose && !pairs.read(c.unit)) {
                return false;
            }
            let b = bonus(i, c.unit);
            if b <= first + pairs.min_gain() {
                return false;
            }
            if reach <= 0.0 {
                return true;
            }
            let own = *first_local
                .get_or_insert_with(|| local(&units, i, units[i], slot[choice[i]].score));
            local(&units, i, c.unit, c.score) + b >= own + first - reach
        });
        if rival_in_reach {
            window[i.saturating_sub(WINDOW)..=(i + WINDOW).min(n - 1)].fill(true);
        }
    }
    // Segments: runs of window slots with their fixed context, merged where they overlap.
    let mut segments: Vec<(usize, usize)> = Vec::new();
    let mut i = 0;
    while i < n {
        if !window[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < n && window[i] {
            i += 1;
        }
        let (lo, hi) = (start.saturating_sub(context), (i + context).min(n));
        match segments.last_mut() {
            Some(last) if last.1 >= lo => last.1 = hi,
            _ => segments.push((lo, hi)),
        }
    }
    let mut revisited = 0;
    let mut part: Vec<Vec<Cand>> = Vec::new();
    for (lo, hi) in segments {
        part.clear();
        part.extend((lo..hi).map(|i| {
            if window[i] {
                slots[i]
                    .iter()
                    .map(|c| Cand {
                        unit: c.unit,
                        score: c.score + bonus(i, c.unit),
                    })
                    .collect()
            } else {
                vec![slots[i][choice[i]]]
            }
        }));
        let again = decode(&part);
        for (i, &c) in (lo..hi).zip(&again) {
            if window[i] {
                choice[i] = c;
                revisited += 1;
            }
        }
    }
    revisited
}
