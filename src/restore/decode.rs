//! Beam search over the candidate lattice with the n-gram model.
//!
//! Input: one slot per model unit, each with its candidates (unit id + channel log-score). Output: the
//! index of the chosen candidate in every slot, and a confidence for it (the candidate's share of
//! the local posterior given the chosen neighbours). States that share their last order-1 units are
//! recombined, so with a wide enough beam this is Viterbi.

use rustc_hash::FxHashMap;

use super::model::{LanguageModel, MAX_ORDER};

/// How the decoder turns model lookups into scores.
#[derive(Debug, Clone, Copy)]
pub enum Smoothing {
    /// Stupid backoff with this log-weight per order backed off.
    Backoff(f32),
    /// Jelinek–Mercer interpolation, each order weighted this many times the one below.
    Interpolated(f32),
}

fn lm_score(lm: &LanguageModel, hist: &[u16], word: u16, smoothing: Smoothing) -> f32 {
    match smoothing {
        Smoothing::Backoff(b) => lm.score_with(hist, word, b),
        Smoothing::Interpolated(r) => lm.score_interpolated(hist, word, r),
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
}

fn push_hist(h: [u16; MAX_ORDER - 1], u: u16) -> [u16; MAX_ORDER - 1] {
    let mut n = [0u16; MAX_ORDER - 1];
    n[..MAX_ORDER - 2].copy_from_slice(&h[1..]);
    n[MAX_ORDER - 2] = u;
    n
}

/// Best candidate per slot, with confidences. `lm_weight` scales language-model scores against
/// channel scores.
pub fn decode(
    lm: &LanguageModel,
    slots: &[Vec<Cand>],
    beam: usize,
    lm_weight: f32,
    smoothing: Smoothing,
    margin: f32,
) -> (Vec<usize>, Vec<f64>) {
    let hlen = lm.order - 1;
    let mut lattice: Vec<Vec<State>> = Vec::with_capacity(slots.len());
    let mut beam_states = vec![State {
        hist: [u16::MAX; MAX_ORDER - 1],
        score: 0.0,
        back: 0,
        cand: 0,
    }];
    let mut index: FxHashMap<[u16; MAX_ORDER - 1], usize> = FxHashMap::default();
    for slot in slots {
        let mut next: Vec<State> = Vec::with_capacity(beam * slot.len());
        index.clear();
        if slot.len() > 1 || beam_states.len() > 1 {
            for st in &beam_states {
                let hist = history(&st.hist, hlen);
                for c in slot {
                    lm.prefetch(hist, c.unit);
                }
            }
        }
        for (si, st) in beam_states.iter().enumerate() {
            let hist = history(&st.hist, hlen);
            for (ci, c) in slot.iter().enumerate() {
                let s = st.score + c.score + lm_weight * lm_score(lm, hist, c.unit, smoothing);
                let h = push_hist(st.hist, c.unit);
                match index.get(&h) {
                    Some(&k) => {
                        if next[k].score < s {
                            next[k] = State {
                                hist: h,
                                score: s,
                                back: si as u32,
                                cand: ci as u16,
                            };
                        }
                    }
                    None => {
                        index.insert(h, next.len());
                        next.push(State {
                            hist: h,
                            score: s,
                            back: si as u32,
                            cand: ci as u16,
                        });
                    }
                }
            }
        }
        if next.len() > beam {
            next.select_nth_unstable_by(beam - 1, |a, b| b.score.total_cmp(&a.score));
            next.truncate(beam);
        }
        // States far behind the best one never come back: dropping them saves their lookups.
        let best = next
            .iter()
            .map(|s| s.score)
            .fold(f32::NEG_INFINITY, f32::max);
        next.retain(|s| s.score >= best - margin);
        lattice.push(next.clone());
        beam_states = next;
    }
    // Backtrack from the best final state.
    let mut choice = vec![0usize; slots.len()];
    if let Some((mut k, _)) = beam_states
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score))
    {
        for i in (0..slots.len()).rev() {
            let st = lattice[i][k];
            choice[i] = usize::from(st.cand);
            k = st.back as usize;
        }
    }
    let conf = confidences(lm, slots, &choice, lm_weight, smoothing);
    (choice, conf)
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
    lm: &LanguageModel,
    slots: &[Vec<Cand>],
    choice: &[usize],
    lm_weight: f32,
    smoothing: Smoothing,
) -> Vec<f64> {
    let n = lm.order;
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
                s += f64::from(lm_weight * lm_score(lm, &buf[h0..j], buf[j], smoothing));
            }
            scores.push(s);
        }
        let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let z: f64 = scores.iter().map(|s| (s - max).exp()).sum();
        out.push((scores[choice[i]] - max).exp() / z);
    }
    out
}
