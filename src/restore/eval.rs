//! Token accuracy of a restoration against gold text.
//!
//! Tokens are whitespace-separated; both sides are compared line by line after NFC and canonical
//! tone placement, case-sensitive. A line with the same token count is compared position by
//! position; otherwise the matches of a longest common subsequence count. The score is the share
//! of gold tokens reproduced exactly.

use unicode_normalization::UnicodeNormalization;

use crate::vietnamese::{canonical_tones, strip_marks};

/// Matched and total gold tokens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accuracy {
    pub matched: usize,
    pub total: usize,
}

impl Accuracy {
    pub fn ratio(&self) -> f64 {
        if self.total == 0 {
            1.0
        } else {
            self.matched as f64 / self.total as f64
        }
    }
}

/// The form both sides are compared in.
pub fn comparable(text: &str) -> String {
    canonical_tones(&text.nfc().collect::<String>())
}

fn lcs(a: &[&str], b: &[&str]) -> usize {
    let mut prev = vec![0usize; b.len() + 1];
    let mut cur = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            cur[j + 1] = if x == y {
                prev[j] + 1
            } else {
                prev[j + 1].max(cur[j])
            };
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Token accuracy of `output` against `gold`.
pub fn token_accuracy(output: &str, gold: &str) -> Accuracy {
    let out = comparable(output);
    let gold = comparable(gold);
    let out_lines: Vec<&str> = out.lines().collect();
    let mut acc = Accuracy::default();
    for (i, gl) in gold.lines().enumerate() {
        let g: Vec<&str> = gl.split_whitespace().collect();
        acc.total += g.len();
        let Some(ol) = out_lines.get(i) else {
            continue;
        };
        let o: Vec<&str> = ol.split_whitespace().collect();
        acc.matched += if o.len() == g.len() {
            o.iter().zip(&g).filter(|(a, b)| a == b).count()
        } else {
            lcs(&g, &o)
        };
    }
    acc
}

/// Remove every mark from a text (the "stripped" test condition).
pub fn strip_text(text: &str) -> String {
    strip_marks(&text.nfc().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_line_by_line() {
        let a = token_accuracy("Hòa bình\nxã hội", "Hoà bình\nxa hội");
        assert_eq!(a, Accuracy { matched: 3, total: 4 });
        let b = token_accuracy("một hai ba", "một ba");
        assert_eq!(b.matched, 2);
    }
}
