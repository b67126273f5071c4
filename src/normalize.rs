//! Normalization of page text: one spelling of the same text, whatever produced it.
//!
//! NFC (two of the seed files are decomposed), one tone-mark placement ("hòa, thủy, khỏe"), spaces
//! and blank lines folded, codes broken at a line end joined (`34/INQ-` + `HDND`). Page numbers are
//! found and *marked* (their spans recorded), never deleted: an archive keeps what the page says.
//! A page whose Latin text has almost no Vietnamese-specific letters is what an English-model OCR
//! makes; it is flagged, since restoration then has to rebuild every mark.

use unicode_normalization::UnicodeNormalization;

pub use crate::document::Furniture;
use crate::vietnamese;

/// The result of normalizing one page.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    pub text: String,
    pub furniture: Vec<Furniture>,
    /// Share of letters that only Vietnamese writes (ơ ư đ ạ ộ …, beyond Latin-1); `None` for pages
    /// with too few letters to judge.
    pub vietnamese_letter_share: Option<f64>,
}

impl Normalized {
    /// True when the page looks like Vietnamese read by a model that does not know its letters.
    pub fn lacks_vietnamese_letters(&self) -> bool {
        self.vietnamese_letter_share.is_some_and(|s| s < 0.02)
    }
}

/// NFC and canonical tone placement: the form every comparison in vnplan uses.
pub fn canonical(text: &str) -> String {
    let nfc: String = text.nfc().collect();
    vietnamese::canonical_tones(&nfc)
}

/// Normalize one page's text.
pub fn normalize_page(raw: &str) -> Normalized {
    let text = canonical(raw);
    let text = fold_whitespace(&text);
    let text = join_broken_codes(&text);
    let furniture = find_page_numbers(&text);
    let share = vietnamese_letter_share(&text);
    Normalized {
        text,
        furniture,
        vietnamese_letter_share: share,
    }
}

/// Tabs and runs of spaces become one space, lines lose trailing spaces, runs of blank lines become
/// one blank line, carriage returns and stray control characters go.
fn fold_whitespace(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.split('\n') {
        let mut folded = String::with_capacity(line.len());
        let mut last_space = true; // drops leading spaces
        for c in line.chars() {
            let c = match c {
                '\t' | '\u{A0}' | '\u{2007}' | '\u{202F}' => ' ',
                '\r' | '\u{200B}' | '\u{FEFF}' | '\u{AD}' => continue,
                c if c.is_control() => continue,
                c => c,
            };
            if c == ' ' {
                if !last_space {
                    folded.push(' ');
                }
                last_space = true;
            } else {
                folded.push(c);
                last_space = false;
            }
        }
        let folded = folded.trim_end();
        if folded.is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
        } else {
            blank_run = 0;
        }
        out.push_str(folded);
        out.push('\n');
    }
    let trimmed = out.trim_matches('\n');
    let mut result = trimmed.to_string();
    if !result.is_empty() {
        result.push('\n');
    }
    result
}

/// A document code broken at its hyphen across a line end (`34/INQ-` ⏎ `HDND ngày`) is one token:
/// join it, keeping the hyphen. Vietnamese does not hyphenate syllables, so prose is left alone.
fn join_broken_codes(text: &str) -> String {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < lines.len() {
        let mut line = lines[i].to_string();
        while i + 1 < lines.len() {
            let last_token = line.rsplit(' ').next().unwrap_or("");
            let next = lines[i + 1];
            let is_code = last_token.len() > 2
                && last_token.ends_with('-')
                && last_token.contains('/')
                && last_token.chars().any(|c| c.is_ascii_digit());
            let next_starts_code = next
                .chars()
                .next()
                .is_some_and(|c| c.is_uppercase() || c.is_ascii_digit());
            if is_code && next_starts_code {
                line.push_str(next);
                i += 1;
            } else {
                break;
            }
        }
        out.push_str(&line);
        if i + 1 < lines.len() {
            out.push('\n');
        }
        i += 1;
    }
    out
}

/// A first or last line that is only a page number ("2", "- 2 -", "Trang 2", "2/5").
pub fn find_page_numbers(text: &str) -> Vec<Furniture> {
    let mut found = Vec::new();
    let mut offset = 0usize;
    let lines: Vec<(usize, &str)> = text
        .split('\n')
        .map(|l| {
            let start = offset;
            offset += l.chars().count() + 1;
            (start, l)
        })
        .collect();
    let non_empty: Vec<&(usize, &str)> =
        lines.iter().filter(|(_, l)| !l.trim().is_empty()).collect();
    let candidates = [non_empty.first(), non_empty.last()];
    for (start, line) in candidates.into_iter().flatten().copied() {
        if is_page_number(line) && !found.iter().any(|f: &Furniture| f.char_start == *start) {
            found.push(Furniture {
                kind: "page_number".to_string(),
                char_start: *start,
                char_end: start + line.chars().count(),
            });
        }
    }
    found
}

fn is_page_number(line: &str) -> bool {
    let t = line.trim();
    let t = t
        .strip_prefix("Trang ")
        .or_else(|| t.strip_prefix("trang "))
        .unwrap_or(t);
    let t = t.trim_matches(|c: char| c == '-' || c == '–' || c == ' ');
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    match t.split_once('/') {
        Some((a, b)) => digits(a) && digits(b),
        None => digits(t),
    }
}

fn vietnamese_letter_share(text: &str) -> Option<f64> {
    let (mut letters, mut specific) = (0usize, 0usize);
    for c in text.chars().filter(|c| c.is_alphabetic()) {
        letters += 1;
        // Latin-1 letters (é, á, ô …) are what an English model makes of Vietnamese too; only the
        // letters beyond it (ơ ư ă đ ạ ộ ế …) show a reader that knows Vietnamese.
        if c > '\u{FF}' && vietnamese::is_vietnamese_specific(c) {
            specific += 1;
        }
    }
    (letters >= 100).then(|| specific as f64 / letters as f64)
}

/// Lines that open (or close) most pages with the same text are running headers (footers): mark them.
/// `pages` are normalized texts; returns furniture per page.
pub fn find_running_headers(pages: &[String]) -> Vec<Vec<Furniture>> {
    let mut result = vec![Vec::new(); pages.len()];
    if pages.len() < 3 {
        return result;
    }
    let edge_lines = |p: &str, first: bool| -> Option<(usize, String)> {
        let mut offset = 0;
        let lines: Vec<(usize, &str)> = p
            .split('\n')
            .map(|l| {
                let s = offset;
                offset += l.chars().count() + 1;
                (s, l)
            })
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        let (s, l) = if first { lines.first()? } else { lines.last()? };
        Some((*s, l.to_string()))
    };
    for first in [true, false] {
        let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for p in pages.iter().skip(1) {
            if let Some((_, l)) = edge_lines(p, first) {
                if !is_page_number(&l) && l.chars().count() >= 6 {
                    *counts.entry(l).or_default() += 1;
                }
            }
        }
        for (i, p) in pages.iter().enumerate() {
            if let Some((s, l)) = edge_lines(p, first) {
                if counts
                    .get(&l)
                    .is_some_and(|&n| n * 2 >= pages.len() - 1 && n >= 2)
                {
                    result[i].push(Furniture {
                        kind: if first {
                            "running_header"
                        } else {
                            "running_footer"
                        }
                        .to_string(),
                        char_start: s,
                        char_end: s + l.chars().count(),
                    });
                }
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nfc_and_tone_placement() {
        let decomposed = "Cộng hoà".nfd().collect::<String>();
        assert_eq!(normalize_page(&decomposed).text, "Cộng hòa\n");
    }

    #[test]
    fn folds_whitespace_and_blank_lines() {
        let n = normalize_page("\tUỶ BAN  NHÂN DÂN  \r\n\n\n\nHUYỆN\n");
        assert_eq!(n.text, "ỦY BAN NHÂN DÂN\n\nHUYỆN\n");
    }

    #[test]
    fn joins_codes_broken_at_line_end() {
        let n = normalize_page("Nghị quyết số 34/NQ-\nHĐND ngày 27/12/2023\nkinh tế -\nxã hội");
        assert_eq!(
            n.text,
            "Nghị quyết số 34/NQ-HĐND ngày 27/12/2023\nkinh tế -\nxã hội\n"
        );
    }

    #[test]
    fn marks_page_numbers_without_deleting() {
        let n = normalize_page("2\nNội dung trang.\n- 3 -");
        assert_eq!(n.text, "2\nNội dung trang.\n- 3 -\n");
        assert_eq!(n.furniture.len(), 2);
        let chars: Vec<char> = n.text.chars().collect();
        let last = &n.furniture[1];
        assert_eq!(
            chars[last.char_start..last.char_end]
                .iter()
                .collect::<String>(),
            "- 3 -"
        );
    }

    #[test]
    fn flags_text_without_vietnamese_letters() {
        let garble = "Thuc hién Chwong trinh MTQG xay dung nong thon méi nam 2024 ".repeat(5);
        assert!(normalize_page(&garble).lacks_vietnamese_letters());
        let clean = "Thực hiện Chương trình MTQG xây dựng nông thôn mới năm 2024 ".repeat(5);
        assert!(!normalize_page(&clean).lacks_vietnamese_letters());
    }

    #[test]
    fn running_headers_marked() {
        let pages: Vec<String> = (1..=4)
            .map(|i| format!("Kế hoạch NTM xã Quang Trung\nnội dung {i}\n"))
            .collect();
        let marks = find_running_headers(&pages);
        assert!(marks
            .iter()
            .all(|m| m.len() == 1 && m[0].kind == "running_header"));
    }
}
