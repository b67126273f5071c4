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

/// Corpus-style text cut into its documents: each piece is a document's lines and the blank
/// lines after it (the last piece ends where the text does), so together they are exactly the
/// text.
pub fn documents(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut pos) = (0, 0);
    // Whether the current piece has a non-blank line, and a blank line after it.
    let (mut content, mut closed) = (false, false);
    for line in text.split_inclusive('\n') {
        let blank = line.trim().is_empty();
        if !blank && closed {
            out.push(&text[start..pos]);
            start = pos;
            closed = false;
        }
        if !blank {
            content = true;
        } else if content {
            closed = true;
        }
        pos += line.len();
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
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

/// Synthetic English-model OCR garble of a clean text, for tuning without touching real test pages:
/// every token loses its marks, and a token found on the gold side of the confusion table
/// (`garbled\tgold\tcount` lines) is replaced by one of its garbled forms, chosen by a hash of its
/// position in proportion to the counts (deterministic).
pub fn garble_text(text: &str, confusions: &str) -> String {
    let mut table: rustc_hash::FxHashMap<String, Vec<(String, u32)>> = Default::default();
    for l in confusions.lines() {
        let f: Vec<&str> = l.split('\t').collect();
        if f.len() == 3 {
            if let Ok(c) = f[2].parse::<u32>() {
                table
                    .entry(comparable(f[1]))
                    .or_default()
                    .push((f[0].to_string(), c));
            }
        }
    }
    let text = comparable(text);
    let mut out = String::with_capacity(text.len());
    for (n, piece) in (1u64..).zip(text.split_inclusive(char::is_whitespace)) {
        let tok = piece.trim_end_matches(char::is_whitespace);
        let ws = &piece[tok.len()..];
        let lower = tok.to_lowercase();
        let replaced = table.get(&lower).and_then(|forms| {
            let total: u32 = forms.iter().map(|f| f.1).sum();
            let mut h = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            h ^= h >> 29;
            let mut pick = (h % u64::from(total.max(1))) as u32;
            forms.iter().find(|f| {
                if pick < f.1 {
                    true
                } else {
                    pick -= f.1;
                    false
                }
            })
        });
        match replaced {
            Some((g, _)) => {
                let first_upper = tok.chars().next().is_some_and(char::is_uppercase);
                if first_upper {
                    let mut cs = g.chars();
                    if let Some(f) = cs.next() {
                        out.extend(f.to_uppercase());
                        out.push_str(cs.as_str());
                    }
                } else {
                    out.push_str(g);
                }
            }
            None => out.push_str(&strip_marks(tok)),
        }
        out.push_str(ws);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_tokens_line_by_line() {
        let a = token_accuracy("Hòa bình\nxã hội", "Hoà bình\nxa hội");
        assert_eq!(
            a,
            Accuracy {
                matched: 3,
                total: 4
            }
        );
        let b = token_accuracy("một hai ba", "một ba");
        assert_eq!(b.matched, 2);
    }
}
