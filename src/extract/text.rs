//! The document as one string with a map back to pages, split into lines and paragraphs.
//!
//! Extractors match on the joined text (so a phrase wrapped over two lines still matches) and turn
//! byte spans back into [`Evidence`]: page number and Unicode-scalar offsets into that page's text.

use crate::document::{Evidence, Page};
use once_cell::sync::Lazy;
use regex::Regex;

/// Separator between pages in the joined text: a blank line, so no paragraph spans two pages'
/// boundaries without a break being visible to the paragraph splitter.
const PAGE_SEP: &str = "\n\n";

/// All pages joined, with the byte range of each page.
pub struct DocText {
    pub text: String,
    /// (page number, byte start, byte end) in `text`.
    pages: Vec<(u32, usize, usize)>,
    pub lines: Vec<Line>,
    pub paras: Vec<Para>,
}

/// One line of the joined text (byte range without the newline).
#[derive(Debug, Clone, Copy)]
pub struct Line {
    pub start: usize,
    pub end: usize,
}

/// What a paragraph starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    /// `I.`, `II.` …
    Roman,
    /// `1.`, `2,` `3)` …
    Number,
    /// `1.1.`, `2.3` …
    SubNumber,
    /// `(1)`, `(2)` …
    Paren,
    /// `a)`, `b)` …
    Letter,
    /// `-`, `–`
    Dash,
    /// `+`
    Plus,
    /// `*` (a single star, not markdown bold)
    Star,
    None,
}

/// A paragraph: a run of lines up to a blank line or a line that opens a new list item / heading.
#[derive(Debug, Clone)]
pub struct Para {
    pub start: usize,
    pub end: usize,
    /// Byte offset where the content starts after the marker and markdown decoration.
    pub body_start: usize,
    pub marker: Marker,
}

static RE_MARKER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        r"^(?:(?P<roman>[IVX]{1,4})\s*[.:]\s*|(?P<sub>\d{1,2}(?:\.\d{1,2})+)\.?\s|(?P<num>\d{1,2})\s*[.,)]\s*|\((?P<paren>\d{1,2})\)\s*|(?P<letter>[a-zđ])\)\s|(?P<dash>[-–—])\s*|(?P<plus>\+)\s*)",
    )
    .expect("marker regex")
});

/// Every lower-case letter of the Vietnamese alphabet with its tones, plus the Latin letters it
/// lacks: the letters a restoration error can turn one letter into.
const LETTERS: &str =
    "abcdefghijklmnopqrstuvwxyzđàáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ";

/// A regex fragment made tolerant of the errors restoration leaves in a keyword: every letter
/// matches any case, and any tone (a wrong tone mark); in a word of four letters or more it also
/// matches without its letter marks (`người` matches `nguoi`), since a long word stays
/// unambiguous when unaccented while a short one would not (`căn` / `cần`). Escapes (`\s`) and
/// other regex syntax pass through unchanged.
pub fn tolerant_regex(fragment: &str) -> String {
    use crate::vietnamese::{plain_letter, strip_tones};
    let word_len = |chars: &[char], i: usize| -> usize {
        let mut a = i;
        while a > 0 && chars[a - 1].is_alphabetic() {
            a -= 1;
        }
        let mut b = i;
        while b < chars.len() && chars[b].is_alphabetic() {
            b += 1;
        }
        // A letter right after a backslash is an escape, not part of the word.
        if a > 0 && chars[a - 1] == '\\' {
            a += 1;
        }
        b.saturating_sub(a)
    };
    let chars: Vec<char> = fragment.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\\' {
            out.push(c);
            if let Some(&n) = chars.get(i + 1) {
                out.push(n);
            }
            i += 2;
            continue;
        }
        let lc = c.to_lowercase().next().unwrap_or(c);
        if !LETTERS.contains(lc) {
            out.push(c);
            i += 1;
            continue;
        }
        let loose = word_len(&chars, i) >= 4;
        let key = |x: char| -> String {
            if loose {
                plain_letter(x).to_string()
            } else {
                strip_tones(&x.to_string())
            }
        };
        let k = key(lc);
        out.push('[');
        for x in LETTERS.chars().filter(|&x| key(x) == k) {
            out.push(x);
            out.extend(x.to_uppercase());
        }
        out.push(']');
        i += 1;
    }
    out
}

impl DocText {
    pub fn new(pages: &[Page]) -> DocText {
        let mut text = String::new();
        let mut ranges = Vec::new();
        for (i, p) in pages.iter().enumerate() {
            if i > 0 {
                text.push_str(PAGE_SEP);
            }
            let start = text.len();
            text.push_str(&p.text);
            ranges.push((p.number, start, text.len()));
        }
        let mut lines = Vec::new();
        let mut pos = 0;
        for l in text.split('\n') {
            lines.push(Line {
                start: pos,
                end: pos + l.len(),
            });
            pos += l.len() + 1;
        }
        let mut doc = DocText {
            text,
            pages: ranges,
            lines,
            paras: Vec::new(),
        };
        doc.paras = doc.split_paragraphs();
        doc
    }

    pub fn slice(&self, start: usize, end: usize) -> &str {
        &self.text[start..end]
    }

    pub fn line_text(&self, l: &Line) -> &str {
        &self.text[l.start..l.end]
    }

    pub fn para_text(&self, p: &Para) -> &str {
        &self.text[p.start..p.end]
    }

    pub fn para_body(&self, p: &Para) -> &str {
        &self.text[p.body_start..p.end]
    }

    /// Evidence for a byte span of the joined text.
    pub fn evidence(&self, start: usize, end: usize) -> Evidence {
        let (number, pstart, pend) = self
            .pages
            .iter()
            .copied()
            .find(|&(_, s, e)| start >= s && start <= e)
            .or_else(|| self.pages.last().copied())
            .unwrap_or((1, 0, self.text.len()));
        let s = start.clamp(pstart, pend);
        let e = end.clamp(s, pend);
        let char_start = self.text[pstart..s].chars().count();
        let char_end = char_start + self.text[s..e].chars().count();
        Evidence {
            page: number,
            char_start,
            char_end,
            confidence: None,
        }
    }

    /// Markdown decoration and indentation at the start of a line: `#`, `*`, `\`, `_`, spaces.
    fn skip_decoration(&self, l: &Line) -> (usize, bool) {
        let s = self.line_text(l);
        let mut off = 0;
        let mut single_star = false;
        let bytes = s.as_bytes();
        while off < bytes.len() {
            match bytes[off] {
                b'#' | b'\\' | b'_' | b'>' | b'~' | b' ' | b'\t' => off += 1,
                b'*' => {
                    // "* text" is a bullet; "**" and "*\*" are markdown emphasis.
                    let next = bytes.get(off + 1).copied();
                    if next == Some(b' ') && !s[..off].contains('*') {
                        single_star = true;
                    }
                    off += 1;
                }
                _ => break,
            }
        }
        // Non-breaking and other unicode spaces.
        let rest = &s[off..];
        let trimmed = rest.trim_start();
        off += rest.len() - trimmed.len();
        (l.start + off, single_star)
    }

    fn line_marker(&self, l: &Line) -> (Marker, usize) {
        let (content, star) = self.skip_decoration(l);
        let s = &self.text[content..l.end];
        if let Some(c) = RE_MARKER.captures(s) {
            let m0 = c.get(0).map_or("", |m| m.as_str());
            let end = content + m0.len();
            // "1.Mục đích" (OCR lost the space) is a heading; "2.4 xây dựng" is a number.
            let glued = !m0.ends_with(char::is_whitespace)
                && (c.name("roman").is_some() || c.name("num").is_some());
            let next_upper = self.text[end..l.end].starts_with(char::is_uppercase);
            if glued && !next_upper {
                return (Marker::None, content);
            }
            // OCR sometimes puts a speck read as "-" before a numbered heading: "- 1. Các …".
            if c.name("dash").is_some() {
                let rest = &self.text[end..l.end];
                if let Some(c2) = RE_MARKER.captures(rest) {
                    if c2.name("num").is_some() || c2.name("roman").is_some() {
                        let e2 = end + c2.get(0).map_or(0, |m| m.len());
                        if self.text[e2..l.end].starts_with(char::is_uppercase) {
                            let m = if c2.name("num").is_some() {
                                Marker::Number
                            } else {
                                Marker::Roman
                            };
                            return (m, e2);
                        }
                    }
                }
            }
            let marker = if c.name("roman").is_some() {
                Marker::Roman
            } else if c.name("sub").is_some() {
                Marker::SubNumber
            } else if c.name("num").is_some() {
                Marker::Number
            } else if c.name("paren").is_some() {
                Marker::Paren
            } else if c.name("letter").is_some() {
                Marker::Letter
            } else if c.name("dash").is_some() {
                Marker::Dash
            } else {
                Marker::Plus
            };
            return (marker, end);
        }
        if star {
            return (Marker::Star, content);
        }
        (Marker::None, content)
    }

    fn split_paragraphs(&self) -> Vec<Para> {
        let mut paras: Vec<Para> = Vec::new();
        let mut cur: Option<Para> = None;
        for l in &self.lines {
            let t = self.line_text(l);
            if t.trim().is_empty() || is_page_number(t) {
                if let Some(p) = cur.take() {
                    paras.push(p);
                }
                continue;
            }
            let (marker, body) = self.line_marker(l);
            let opens = marker != Marker::None;
            match cur.as_mut() {
                Some(p) if !opens => p.end = l.end,
                _ => {
                    if let Some(p) = cur.take() {
                        paras.push(p);
                    }
                    cur = Some(Para {
                        start: l.start,
                        end: l.end,
                        body_start: body,
                        marker,
                    });
                }
            }
        }
        if let Some(p) = cur.take() {
            paras.push(p);
        }
        paras
    }
}

/// A line holding only a page number (page furniture).
fn is_page_number(t: &str) -> bool {
    let t = t.trim();
    !t.is_empty() && t.len() <= 3 && t.chars().all(|c| c.is_ascii_digit())
}

/// Collapse whitespace and drop markdown emphasis, for labels and names.
pub fn clean(s: &str) -> String {
    let s: String = s
        .chars()
        .filter(|&c| c != '*' && c != '#' && c != '\\')
        .collect();
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Share of letters that are upper case (headings and header lines are written in capitals).
pub fn upper_ratio(s: &str) -> f64 {
    let letters: Vec<char> = s.chars().filter(|c| c.is_alphabetic()).collect();
    if letters.is_empty() {
        return 0.0;
    }
    letters.iter().filter(|c| c.is_uppercase()).count() as f64 / letters.len() as f64
}

/// Sentence-ish clauses of a byte range: split on `.`/`;`/`!`/`?` followed by space or line end
/// (a `.` between digits is a thousands separator and does not split).
pub fn clauses(text: &str, start: usize, end: usize) -> Vec<(usize, usize)> {
    let s = &text[start..end];
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut from = 0;
    for (i, c) in s.char_indices() {
        let split = match c {
            // A mark between two lower-case letters is an OCR speck inside a word ("nguc;n"),
            // not the end of a clause.
            ';' | '!' | '?' => {
                let prev = s[..i].chars().next_back();
                let next = s[i + c.len_utf8()..].chars().next();
                !(prev.is_some_and(char::is_lowercase) && next.is_some_and(char::is_lowercase))
            }
            '.' => {
                let prev_digit = i > 0 && bytes[i - 1].is_ascii_digit();
                let next = bytes.get(i + 1).copied();
                let next_digit = next.is_some_and(|b| b.is_ascii_digit());
                !(prev_digit && next_digit)
                    && (next.is_none() || next == Some(b' ') || next == Some(b'\n'))
            }
            _ => false,
        };
        if split {
            if i > from {
                out.push((start + from, start + i));
            }
            from = i + c.len_utf8();
        }
    }
    if from < s.len() {
        out.push((start + from, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_speck_inside_a_word_does_not_end_the_clause() {
        let t = "tập trung mọi nguc;n lực để phấn đấu; giao cho UBND xã.";
        let got: Vec<&str> = clauses(t, 0, t.len())
            .into_iter()
            .map(|(a, b)| &t[a..b])
            .collect();
        assert_eq!(
            got,
            vec!["tập trung mọi nguc;n lực để phấn đấu", " giao cho UBND xã"]
        );
    }

    #[test]
    fn tolerant_keywords() {
        let re = Regex::new(&format!("^(?:{})$", tolerant_regex(r"người\s+dân"))).expect("re");
        assert!(re.is_match("nguoi dân"));
        assert!(re.is_match("Người  dẫn"));
        let short = Regex::new(&format!("^(?:{})$", tolerant_regex("căn"))).expect("re");
        assert!(short.is_match("cắn") && !short.is_match("cần"));
    }
}
