//! Beam search over the candidate lattice with the n-gram model.
//!
//! Input: one slot per model unit, each with its candidates (unit id + channel log-score). Output: the
//! index of the chosen candidate in every slot, and a confidence for it (the candidate's share of
//! the local posterior given the chosen neighbours). States that share their last order-1 units are
//! recombined, so with a wide enough beam this is Viterbi.

use super::model::{ngram_hash, prefetch_read, Entry, LanguageModel, Smoothing, Walk, MAX_ORDER};

/// Entries of the lookup memo (a power of two): 64 K × 16 bytes, the size of a core's L2 cache.
/// Measured on 300 k stripped tokens: 14 bits 223–232 k tokens/s, 15 bits 236–239 k, 16 bits
/// 243–248 k, 17 bits 243–252 k, 18 bits 233–240 k.
const MEMO_BITS: u32 = 16;

/// Model scores through a memo of n-gram lookups.
///
/// Decoding is bound by memory latency: every lookup is a cache miss in tables of tens of MB. The
/// states of a beam share most of their recent history (and so their context backoffs),
/// neighbouring slots repeat the same n-grams, and the confidence pass rescores what the search
/// scored; a direct-mapped memo of the probe results (present with its entry, or absent) answers
/// those from the L2 cache. Scores are the model's own ([`LanguageModel::score_by`]).
pub struct Scorer<'a> {
    lm: &'a LanguageModel,
    smoothing: Smoothing,
    /// (packed key, order << 25 | present << 24 | second << 16 | backoff << 8 | probability);
    /// order 0: empty.
    memo: Vec<(u64, u32)>,
}

/// A memo of a model's lookups: the model's checksum and length, and the entries.
type Memo = ((u32, usize), Vec<(u64, u32)>);

thread_local! {
    /// The memo of the last scorer of this thread, handed to the next one: a block is decoded in
    /// many calls (the second look decodes short stretches again), and a fresh memo would cost
    /// each of them 1 MB of zeroing and the lookups the last one already made. Probe results
    /// depend on the model only, so the memo is kept for the same model (checksum and length)
    /// and cleared for another.
    static MEMO: std::cell::RefCell<Option<Memo>> = const { std::cell::RefCell::new(None) };
}

impl Drop for Scorer<'_> {
    fn drop(&mut self) {
        let memo = std::mem::take(&mut self.memo);
        let id = (self.lm.checksum, self.lm.file_len());
        // A thread being torn down has no pool left: the memo is then simply freed.
        let _ = MEMO.try_with(|m| *m.borrow_mut() = Some((id, memo)));
    }
}

impl<'a> Scorer<'a> {
    pub fn new(lm: &'a LanguageModel) -> Scorer<'a> {
        Self::with_smoothing(lm, lm.smoothing)
    }

    /// A scorer weighting the model's numbers its own way (see [`LanguageModel::score_as`]).
    pub fn with_smoothing(lm: &'a LanguageModel, smoothing: Smoothing) -> Scorer<'a> {
        let id = (lm.checksum, lm.file_len());
        let memo = MEMO
            .try_with(|m| m.borrow_mut().take())
            .ok()
            .flatten()
            .map(|(had, mut memo)| {
                if had != id {
                    memo.fill((0, 0));
                }
                memo
            })
            .unwrap_or_else(|| vec![(0, 0); 1 << MEMO_BITS]);
        Scorer {
            lm,
            smoothing,
            memo,
        }
    }

    fn memo_index(h: u64) -> usize {
        // Bits above the 24-bit fingerprint, independent of it and of the table slot.
        ((h >> 24) as usize) & ((1 << MEMO_BITS) - 1)
    }

    /// Memoized [`LanguageModel::probe`] of a packed n-gram.
    fn lookup(
        lm: &LanguageModel,
        memo: &mut [(u64, u32)],
        key: u64,
        order: usize,
    ) -> Option<Entry> {
        Self::lookup_hashed(lm, memo, key, ngram_hash(key, order), order)
    }

    /// [`Self::lookup`] of an n-gram whose [`ngram_hash`] is known.
    fn lookup_hashed(
        lm: &LanguageModel,
        memo: &mut [(u64, u32)],
        key: u64,
        h: u64,
        order: usize,
    ) -> Option<Entry> {
        let i = Self::memo_index(h);
        let (k, tag) = memo[i];
        if k == key && (tag >> 25) as usize == order {
            return (tag & 0x100_0000 != 0).then_some(Entry {
                prob: tag as u8,
                backoff: (tag >> 8) as u8,
                second: (tag >> 16) as u8,
            });
        }
        let r = lm.probe(h, order);
        memo[i] = (
            key,
            ((order as u32) << 25)
                | r.map_or(0, |e| {
                    0x100_0000
                        | (u32::from(e.second) << 16)
                        | (u32::from(e.backoff) << 8)
                        | u32::from(e.prob)
                }),
        );
        r
    }

    /// Start loading the table slots [`Self::walk`] will probe and the memo does not hold,
    /// lowest order first, stopping at an n-gram the memo knows is absent.
    fn prefetch(&self, h: &[u16], max_context: usize, word: u16) {
        let l = h.len();
        let mut context = 0u64;
        for n in 2..=l.min(max_context) + 1 {
            context |= u64::from(h[l + 1 - n]) << (16 * (n - 2));
            let key = (context << 16) | u64::from(word);
            let hash = ngram_hash(key, n);
            match self.memo_knows(key, hash, n) {
                Some(false) => return,
                Some(true) => continue,
                None => self.lm.prefetch_hash(hash, n),
            }
        }
    }

    /// What the memo knows of the n-gram `key` (its [`ngram_hash`] `h`): stored or not, or
    /// nothing.
    fn memo_knows(&self, key: u64, h: u64, order: usize) -> Option<bool> {
        let (k, tag) = self.memo[Self::memo_index(h)];
        (k == key && (tag >> 25) as usize == order).then_some(tag & 0x100_0000 != 0)
    }

    /// Start loading the memo entry of the n-gram whose [`ngram_hash`] is `h`.
    fn prefetch_memo_entry(&self, h: u64) {
        prefetch_read(&self.memo[Self::memo_index(h)]);
    }

    /// Start loading the memo entry of the bigram `a b`: the first thing [`Self::prefetch`] and
    /// [`Self::walk`] read.
    fn prefetch_memo(&self, a: u16, b: u16) {
        let key = (u64::from(a) << 16) | u64::from(b);
        self.prefetch_memo_entry(ngram_hash(key, 2));
    }

    /// [`LanguageModel::walk`] through the memo: `h` is the context (at most order-1 units).
    fn walk(&mut self, h: &[u16], max_context: usize, word: u16) -> Walk {
        let lm = self.lm;
        let memo = &mut self.memo;
        lm.walk(self.smoothing, h, word, max_context, |key, order| {
            Self::lookup(lm, memo, key, order)
        })
    }

    /// Score `unit` after the state `st` (whose contexts are `ctx`): the log-probability and the
    /// state it leads to (score and back-pointer left to the caller).
    fn step(&mut self, st: &State, ctx: &Context, unit: u16) -> (f32, State) {
        let walk = self.walk(&st.hist[ctx.start..], ctx.stored, unit);
        let next = State {
            hist: push_hist(st.hist, unit),
            matched: walk.matched as u8,
            backoffs: walk.backoffs,
            ..*st
        };
        (walk.score(ctx.backoff[walk.matched]), next)
    }

    /// A quick bigram log-probability of `b` after `a` (packed `key`, its [`ngram_hash`] `h`), for
    /// looking ahead: with Kneser–Ney in the model, its half alone (no logarithm to take);
    /// otherwise the full score.
    fn bigram(&mut self, a: u16, b: u16, key: u64, h: u64) -> f32 {
        let second = match self.smoothing {
            Smoothing::Mixed { .. } => true,
            Smoothing::KneserNey => false,
            Smoothing::Interpolated(_) => return self.score(&[a], b),
        };
        let found = Self::lookup_hashed(self.lm, &mut self.memo, key, h, 2);
        self.lm.kn_bigram(a, b, found, second)
    }

    /// Log-probability of `word` after `history` (oldest first; only the last order-1 used): the
    /// same as [`LanguageModel::score`], through the memo.
    pub fn score(&mut self, history: &[u16], word: u16) -> f32 {
        let lm = self.lm;
        let memo = &mut self.memo;
        lm.score_as(self.smoothing, history, word, |key, order| {
            Self::lookup(lm, memo, key, order)
        })
    }
}

/// One way to read a slot.
#[derive(Debug, Clone, Copy)]
pub struct Cand {
    pub unit: u16,
    pub score: f32,
}

#[derive(Clone, Copy)]
struct State {
    hist: [u16; MAX_ORDER - 1],
    score: f32,
    back: u32,
    cand: u16,
    /// What the lookups that scored the last unit found: how many of the state's contexts are
    /// stored n-grams, and their backoffs.
    matched: u8,
    backoffs: [u8; MAX_ORDER],
}

impl State {
    /// Before the text: no history (the sentinel `u16::MAX`).
    const START: State = State {
        hist: [u16::MAX; MAX_ORDER - 1],
        score: 0.0,
        back: 0,
        cand: 0,
        matched: 0,
        backoffs: [0; MAX_ORDER],
    };
}

/// A state's contexts as the next column sees them: the real history, how much of it is a stored
/// n-gram, and the summed log-backoffs of the contexts longer than each match length.
struct Context {
    /// Where the real history starts in [`State::hist`].
    start: usize,
    stored: usize,
    backoff: [f32; MAX_ORDER],
}

impl Context {
    fn of(lm: &LanguageModel, st: &State, hlen: usize) -> Context {
        let hist = history(&st.hist, hlen);
        let l = hist.len();
        // The suffixes of length 2 ..= matched + 1 were found when the last unit was scored; a
        // longer one is not stored, since its suffix of that length is not.
        let stored = l.min(usize::from(st.matched) + 1);
        let mut backoff = [0.0f32; MAX_ORDER];
        if lm.smoothing.has_backoffs() {
            for m in (0..stored).rev() {
                let k = m + 1;
                let b = (k > 1).then(|| st.backoffs[k - 1]);
                backoff[m] = backoff[m + 1] + lm.context_backoff(hist[l - 1], b);
            }
        }
        Context {
            start: MAX_ORDER - 1 - l,
            stored,
            backoff,
        }
    }
}

fn push_hist(h: [u16; MAX_ORDER - 1], u: u16) -> [u16; MAX_ORDER - 1] {
    let mut n = [0u16; MAX_ORDER - 1];
    n[..MAX_ORDER - 2].copy_from_slice(&h[1..]);
    n[MAX_ORDER - 2] = u;
    n
}

/// How [`decode`] searches.
#[derive(Debug, Clone, Copy)]
pub struct Search {
    /// States kept per slot.
    pub beam: usize,
    /// Scales language-model scores against channel scores.
    pub lm_weight: f32,
    /// States further than this (nats) behind the best are dropped.
    pub margin: f32,
    pub smoothing: Smoothing,
    /// Prune by each state's score plus the best bigram step into the next slot, not by its
    /// score alone.
    pub lookahead: bool,
    /// How many candidates of the next slot the look ahead tries: the likeliest by channel score
    /// plus unigram; 0: all.
    pub lookahead_next: usize,
    /// How many states, the best by score alone, the look ahead ranks (the others are dropped
    /// first); 0: all of them.
    pub lookahead_states: usize,
}

/// Best candidate per slot, with confidences if asked for.
///
/// A beam search: each slot keeps the best `search.beam` states. A state that only the next word
/// supports would fall out of a full beam before that word is read (`lắp biển báo`, mount signs,
/// where `lập` is far more common after `tỉnh;`), so with `search.lookahead` states are ranked
/// for pruning by their score plus the best bigram step from their last unit into the next slot
/// (a cheap estimate of what comes next, Kneser–Ney half only). Path scores are unchanged; only
/// which states survive. On the held-out news of the dev split this gained 73 and 103 tokens at
/// the same beam.
pub fn decode(
    lm: &LanguageModel,
    slots: &[Vec<Cand>],
    search: &Search,
    confidence: bool,
) -> (Vec<usize>, Option<Vec<f64>>) {
    let (choice, conf, _) = search_with(lm, slots, search, confidence, Ranking::Reachable);
    (choice, conf)
}

/// Which candidates of a slot the look ahead ranks.
#[derive(Clone, Copy)]
enum Ranking {
    /// Those of the states that can come within the beam's margin ([`lookahead`]).
    Reachable,
    /// Those of every state (what the margin then drops is the same): the reference.
    #[cfg_attr(not(test), allow(dead_code))]
    Taken,
}

/// [`decode`], and how many bigrams the look ahead looked up.
fn search_with(
    lm: &LanguageModel,
    slots: &[Vec<Cand>],
    search: &Search,
    confidence: bool,
    ranking: Ranking,
) -> (Vec<usize>, Option<Vec<f64>>, usize) {
    let Search {
        beam,
        lm_weight,
        margin,
        smoothing,
        lookahead: ahead_on,
        lookahead_next,
        lookahead_states,
    } = *search;
    let ahead_next = if lookahead_next == 0 {
        usize::MAX
    } else {
        lookahead_next
    };
    let ahead_states = if lookahead_states == 0 {
        usize::MAX
    } else {
        lookahead_states.max(beam)
    };
    lm.note_decoded(slots.len());
    let hlen = lm.order - 1;
    // The columns of kept states, one after another (kept for the backtrack): column i is
    // `lattice[cols[i]..cols[i + 1]]`.
    let mut lattice: Vec<State> = Vec::with_capacity(slots.len() * beam);
    let mut cols: Vec<usize> = Vec::with_capacity(slots.len() + 1);
    cols.push(0);
    let start = [State::START];
    let mut scorer = Scorer::with_smoothing(lm, smoothing);
    let mut contexts: Vec<Context> = Vec::with_capacity(beam);
    // Recombination without hashing: two new states meet exactly when their parents end in the
    // same two units (the history they pass on) and they take the same unit, so a new state's
    // place is (parent group, unit).
    let mut group: Vec<usize> = Vec::with_capacity(beam);
    let mut same_unit: Vec<usize> = Vec::new();
    let mut next: Vec<State> = Vec::new();
    let mut ahead_bufs = AheadBufs::default();
    for (i, slot) in slots.iter().enumerate() {
        let beam_states: &[State] = if i == 0 {
            &start[..]
        } else {
            &lattice[cols[i - 1]..cols[i]]
        };
        contexts.clear();
        contexts.extend(beam_states.iter().map(|st| Context::of(lm, st, hlen)));
        if slot.len() > 1 || beam_states.len() > 1 {
            // The memo entries first (what the table prefetches read), then the table slots.
            for (st, ctx) in beam_states.iter().zip(&contexts) {
                if ctx.start < MAX_ORDER - 1 {
                    for c in slot {
                        scorer.prefetch_memo(st.hist[MAX_ORDER - 2], c.unit);
                    }
                }
            }
            for (st, ctx) in beam_states.iter().zip(&contexts) {
                for c in slot {
                    scorer.prefetch(&st.hist[ctx.start..], ctx.stored, c.unit);
                }
            }
        }
        group.clear();
        let mut groups = 0;
        for (si, st) in beam_states.iter().enumerate() {
            let g = beam_states[..si]
                .iter()
                .position(|o| o.hist[1..] == st.hist[1..])
                .map_or_else(
                    || {
                        groups += 1;
                        groups - 1
                    },
                    |k| group[k],
                );
            group.push(g);
        }
        same_unit.clear();
        same_unit.extend((0..slot.len()).map(|ci| {
            slot[..ci]
                .iter()
                .position(|o| o.unit == slot[ci].unit)
                .unwrap_or(ci)
        }));
        next.clear();
        next.resize(
            groups * slot.len(),
            State {
                score: f32::NEG_INFINITY,
                ..State::START
            },
        );
        for (si, (st, ctx)) in beam_states.iter().zip(&contexts).enumerate() {
            for (ci, c) in slot.iter().enumerate() {
                let (lm_score, next_state) = scorer.step(st, ctx, c.unit);
                let s = st.score + c.score + lm_weight * lm_score;
                let place = &mut next[group[si] * slot.len() + same_unit[ci]];
                if place.score < s {
                    *place = State {
                        score: s,
                        back: si as u32,
                        cand: ci as u16,
                        ..next_state
                    };
                }
            }
        }
        next.retain(|s| s.score > f32::NEG_INFINITY);
        // States are pruned by their score plus a look at the next slot: the best bigram from
        // their last unit into it. Only a full beam needs it: below that, every state is kept
        // but the far-behind ones. The look ahead costs a lookup per pair of a state's last unit
        // and a next candidate, so it looks only from the best `lookahead_states` states (by
        // score) to the likeliest `lookahead_next` candidates.
        if ahead_on && next.len() > ahead_states {
            next.select_nth_unstable_by(ahead_states - 1, |a, b| b.score.total_cmp(&a.score));
            next.truncate(ahead_states);
        }
        let ahead = if ahead_on && next.len() > beam {
            lookahead(
                &mut scorer,
                (slot, &next),
                slots.get(i + 1),
                (lm_weight, ahead_next),
                match ranking {
                    Ranking::Reachable => margin,
                    Ranking::Taken => f32::INFINITY,
                },
                &mut ahead_bufs,
            )
        } else {
            &[][..]
        };
        let key = |s: &State| s.score + ahead.get(usize::from(s.cand)).copied().unwrap_or(0.0);
        if next.len() > beam {
            next.select_nth_unstable_by(beam - 1, |a, b| key(b).total_cmp(&key(a)));
            next.truncate(beam);
        }
        // States far behind the best one never come back: dropping them saves their lookups.
        let best = next.iter().map(key).fold(f32::NEG_INFINITY, f32::max);
        lattice.extend(next.iter().filter(|s| key(s) >= best - margin));
        cols.push(lattice.len());
    }
    let n = slots.len();
    let last: &[State] = if n == 0 {
        &start[..]
    } else {
        &lattice[cols[n - 1]..cols[n]]
    };
    // Backtrack from the best final state.
    let mut choice = vec![0usize; n];
    if let Some((mut k, _)) = last
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
    {
        for i in (0..n).rev() {
            let st = lattice[cols[i] + k];
            choice[i] = usize::from(st.cand);
            k = st.back as usize;
        }
    }
    let conf = confidence.then(|| confidences(&mut scorer, slots, &choice, lm_weight));
    (choice, conf, ahead_bufs.looked_up)
}

/// The look ahead's buffers, reused from slot to slot.
#[derive(Default)]
struct AheadBufs {
    /// The likeliest candidates of the next slot, with their rank.
    top: Vec<(f32, Cand)>,
    /// Per candidate of the slot: whether it is ranked in the batch being looked up.
    rank: Vec<bool>,
    /// Packed key and hash of each bigram looked up.
    pairs: Vec<(u64, u64)>,
    scores: Vec<f32>,
    /// How many bigrams were looked up in all.
    looked_up: usize,
}

/// Per candidate of `slot`, the best channel and bigram score of a step into one of the `k`
/// likeliest candidates of the next slot (by channel score and unigram), for the candidates whose
/// states can survive pruning; `-inf` for the others. Empty when it would rank nothing: one
/// candidate here, or no slot after.
///
/// A state survives only if its score plus the look ahead is within `margin` of the best, and the
/// best is at least that of the state with the best score. So that state's candidate is ranked
/// first, and then only the candidates of states that can come within the margin of it: a step's
/// bigram is at most 0 when stored, and the unigram plus the backoff when not, which bounds the
/// look ahead from above without a lookup. The states left out would be dropped whatever their
/// look ahead. Measured in one process (`bench restore`, stripped seeds, a temporary switch to
/// rank every state's candidate): 1.049 times as fast (3 runs), the same output; 4.5 candidates
/// ranked per slot instead of 7.9.
fn lookahead<'b>(
    scorer: &mut Scorer,
    (slot, states): (&[Cand], &[State]),
    next: Option<&Vec<Cand>>,
    (lm_weight, k): (f32, usize),
    margin: f32,
    bufs: &'b mut AheadBufs,
) -> &'b [f32] {
    let AheadBufs {
        top,
        rank,
        pairs,
        scores: buf,
        looked_up,
    } = bufs;
    buf.clear();
    let Some(next) = next.filter(|_| slot.len() > 1) else {
        return buf;
    };
    let Some(lead) = states.iter().max_by(|a, b| a.score.total_cmp(&b.score)) else {
        return buf;
    };
    let lm = scorer.lm;
    top.clear();
    top.extend(
        next.iter()
            .map(|&n| (n.score + lm_weight * lm.kn_unigram(n.unit), n)),
    );
    if top.len() > k {
        top.select_nth_unstable_by(k - 1, |a, b| b.0.total_cmp(&a.0));
        top.truncate(k);
    }
    buf.resize(slot.len(), f32::NEG_INFINITY);
    rank.clear();
    rank.resize(slot.len(), false);
    rank[usize::from(lead.cand)] = true;
    rank_batch(scorer, slot, top, (rank, pairs, buf), lm_weight);
    *looked_up += pairs.len();
    let floor = lead.score + buf[usize::from(lead.cand)] - margin;
    let best_next = top
        .iter()
        .map(|(_, n)| n.score)
        .fold(f32::NEG_INFINITY, f32::max);
    let best_unseen = top.iter().map(|t| t.0).fold(f32::NEG_INFINITY, f32::max);
    rank.fill(false);
    let mut more = false;
    for st in states {
        let c = usize::from(st.cand);
        if rank[c] || buf[c] > f32::NEG_INFINITY {
            continue;
        }
        let bound = best_next.max(best_unseen + lm_weight * lm.kn_unigram_backoff(slot[c].unit));
        if st.score + bound >= floor {
            rank[c] = true;
            more = true;
        }
    }
    if more {
        rank_batch(scorer, slot, top, (rank, pairs, buf), lm_weight);
        *looked_up += pairs.len();
    }
    buf
}

/// The look ahead of the candidates of `slot` marked in `rank`, into `buf`: each pair's key and
/// hash once; the memo entries, then the table slots the memo does not answer, then the scores.
fn rank_batch(
    scorer: &mut Scorer,
    slot: &[Cand],
    top: &[(f32, Cand)],
    (rank, pairs, buf): (&[bool], &mut Vec<(u64, u64)>, &mut [f32]),
    lm_weight: f32,
) {
    pairs.clear();
    for (c, _) in slot.iter().zip(rank).filter(|(_, &r)| r) {
        for (_, n) in top {
            let key = (u64::from(c.unit) << 16) | u64::from(n.unit);
            let h = ngram_hash(key, 2);
            scorer.prefetch_memo_entry(h);
            pairs.push((key, h));
        }
    }
    for &(key, h) in pairs.iter() {
        if scorer.memo_knows(key, h, 2).is_none() {
            scorer.lm.prefetch_hash(h, 2);
        }
    }
    let mut at = 0;
    for ((c, &r), out) in slot.iter().zip(rank).zip(buf.iter_mut()) {
        if !r {
            continue;
        }
        let mut best = f32::NEG_INFINITY;
        for (_, n) in top {
            let (key, h) = pairs[at];
            at += 1;
            best = best.max(n.score + lm_weight * scorer.bigram(c.unit, n.unit, key, h));
        }
        *out = best;
    }
}

/// The language-model score of each unit of one fixed path, computed the way the search computes
/// it: each state's stored contexts and backoffs carried over from the lookups that scored its
/// last unit, not looked up again. Equal to [`LanguageModel::score`] of each unit after the ones
/// before it (checked by the tests).
pub fn path_scores(lm: &LanguageModel, smoothing: Smoothing, units: &[u16]) -> Vec<f32> {
    let hlen = lm.order - 1;
    let mut scorer = Scorer::with_smoothing(lm, smoothing);
    let mut st = State::START;
    units
        .iter()
        .map(|&u| {
            let ctx = Context::of(lm, &st, hlen);
            let (score, next) = scorer.step(&st, &ctx, u);
            st = next;
            score
        })
        .collect()
}

/// Confidences ([`decode`]'s) of a choice made elsewhere, e.g. after a second pass.
pub fn confidences_of(
    lm: &LanguageModel,
    smoothing: Smoothing,
    slots: &[Vec<Cand>],
    choice: &[usize],
    lm_weight: f32,
) -> Vec<f64> {
    let mut scorer = Scorer::with_smoothing(lm, smoothing);
    confidences(&mut scorer, slots, choice, lm_weight)
}

/// The score of reading `unit` (channel score `channel`) at slot `i` of the path `units`, the other
/// units as they are: the channel score plus `lm_weight` times the log-probabilities of the unit
/// and of the order-1 units after it.
pub fn local_score(
    lm: &LanguageModel,
    smoothing: Smoothing,
    units: &[u16],
    i: usize,
    (unit, channel): (u16, f32),
    lm_weight: f32,
) -> f32 {
    let n = lm.order;
    let lo = i.saturating_sub(n - 1);
    let hi = (i + n).min(units.len());
    let mut buf = [0u16; 2 * MAX_ORDER];
    let buf = &mut buf[..hi - lo];
    buf.copy_from_slice(&units[lo..hi]);
    buf[i - lo] = unit;
    // Through the thread's lookup memo, which holds most of these n-grams from the first reading.
    let mut scorer = Scorer::with_smoothing(lm, smoothing);
    let mut s = channel;
    for j in (i - lo)..buf.len() {
        let h0 = j.saturating_sub(n - 1);
        s += lm_weight * scorer.score(&buf[h0..j], buf[j]);
    }
    s
}

/// Units of real history (the sentinel `u16::MAX` marks "before the text").
fn history(h: &[u16; MAX_ORDER - 1], hlen: usize) -> &[u16] {
    let tail = &h[MAX_ORDER - 1 - hlen..];
    let start = tail
        .iter()
        .position(|&u| u != u16::MAX)
        .unwrap_or(tail.len());
    &tail[start..]
}

/// Local posterior of each chosen candidate given the chosen neighbours on both sides.
fn confidences(
    scorer: &mut Scorer,
    slots: &[Vec<Cand>],
    choice: &[usize],
    lm_weight: f32,
) -> Vec<f64> {
    let n = scorer.lm.order;
    let units: Vec<u16> = slots.iter().zip(choice).map(|(s, &c)| s[c].unit).collect();
    let mut out = Vec::with_capacity(slots.len());
    let mut buf: Vec<u16> = Vec::with_capacity(2 * n);
    let mut scores: Vec<f64> = Vec::new();
    for (i, slot) in slots.iter().enumerate() {
        if slot.len() == 1 {
            out.push(1.0);
            continue;
        }
        // Left context of order-1 units and one unit to the right: most of the evidence for a
        // word, at a fraction of the cost of the full right context.
        let lo = i.saturating_sub(n - 1);
        let hi = (i + 2).min(slots.len());
        scores.clear();
        for c in slot {
            buf.clear();
            buf.extend_from_slice(&units[lo..hi]);
            buf[i - lo] = c.unit;
            let mut s = f64::from(c.score);
            for j in (i - lo)..buf.len() {
                let h0 = j.saturating_sub(n - 1);
                s += f64::from(lm_weight * scorer.score(&buf[h0..j], buf[j]));
            }
            scores.push(s);
        }
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scores.iter().map(|s| (s - max).exp()).sum();
        out.push((scores[choice[i]] - max).exp() / z);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::restore::token::skeleton;
    use std::path::Path;

    /// Plan 003's words stripped of their marks: in each slot, up to 16 syllables of the shipped
    /// model that spell the word's skeleton, all with the same channel score.
    fn stripped_plan(lm: &LanguageModel) -> Vec<Vec<Cand>> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(root.join("fixtures/extract/003.txt")).unwrap();
        let mut spellings: std::collections::HashMap<String, Vec<u16>> = Default::default();
        for (id, w) in lm.vocab.iter().enumerate() {
            spellings.entry(skeleton(w)).or_default().push(id as u16);
        }
        text.split_whitespace()
            .map(|t| skeleton(t.trim_matches(|c: char| !c.is_alphanumeric())))
            .filter_map(|w| spellings.get(&w))
            .map(|ids| {
                ids.iter()
                    .take(16)
                    .map(|&unit| Cand { unit, score: 0.0 })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn look_ahead_ranks_only_states_within_reach_and_reads_the_same() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let lm = LanguageModel::load(&root.join("models/vnplan-vi-4gram.lm")).unwrap();
        let slots = stripped_plan(&lm);
        assert!(slots.len() > 2000, "{}", slots.len());
        assert!(slots.iter().filter(|s| s.len() > 4).count() > 500);
        let search = Search {
            beam: 6,
            lm_weight: 1.0,
            margin: 6.0,
            smoothing: lm.smoothing,
            lookahead: true,
            lookahead_next: 6,
            lookahead_states: 12,
        };
        let (lazy, lazy_conf, lazy_pairs) =
            search_with(&lm, &slots, &search, true, Ranking::Reachable);
        let (all, all_conf, all_pairs) = search_with(&lm, &slots, &search, true, Ranking::Taken);
        assert_eq!(lazy, all);
        assert_eq!(lazy_conf, all_conf);
        assert_eq!(decode(&lm, &slots, &search, false).0, all);
        // The bound leaves out a good share of the lookups.
        assert!(
            lazy_pairs * 4 < all_pairs * 3,
            "{lazy_pairs} of {all_pairs} bigrams"
        );
        // A margin of 0 keeps only the best state's reading: a wrong bound would lose it.
        let narrow = Search {
            margin: 0.0,
            ..search
        };
        let (lazy, _, lazy_pairs) = search_with(&lm, &slots, &narrow, false, Ranking::Reachable);
        let (all, _, all_pairs) = search_with(&lm, &slots, &narrow, false, Ranking::Taken);
        assert_eq!(lazy, all);
        assert!(lazy_pairs < all_pairs);
    }
}
