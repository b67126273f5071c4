//! Full-text search over page text, ignoring case and diacritics (đ = d): "nuoc sach" finds
//! "nước sạch". The index holds folded text ([`super::fold`]); because folding maps one character to
//! one character, the matches FTS5 marks in the folded text are mapped back onto the page's real
//! text, and the snippet shows the words as written.

use rusqlite::params;

use super::{fold, Store, StoreError};

/// One matching page.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SearchHit {
    pub document_id: i64,
    pub path: String,
    pub number: Option<String>,
    pub title: Option<String>,
    pub page: u32,
    /// A stretch of the page's text around the first match, whitespace flattened, each match
    /// wrapped in the caller's open/close markers.
    pub snippet: String,
    /// FTS5 rank (bm25): lower is better.
    pub rank: f64,
}

// Markers FTS5 puts around matches; control characters never found in page text.
const OPEN: char = '\u{1}';
const CLOSE: char = '\u{2}';
/// Characters of context kept before the first match and in a whole snippet.
const BEFORE: usize = 60;
const SNIPPET: usize = 200;

/// The FTS5 query for what a user typed: folded words, each quoted (so punctuation or FTS
/// operators in the input cannot make a syntax error), all required. `None` when it has no words.
pub fn fts_query(text: &str) -> Option<String> {
    let folded = fold(text);
    let words: Vec<String> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    if words.is_empty() {
        None
    } else {
        Some(words.join(" "))
    }
}

impl Store {
    /// Pages matching every word of `text`, best first, at most `limit`.
    pub fn search(
        &self,
        text: &str,
        limit: usize,
        open: &str,
        close: &str,
    ) -> Result<Vec<SearchHit>, StoreError> {
        let Some(query) = fts_query(text) else {
            return Ok(Vec::new());
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT d.id, d.path, d.number, d.title, p.number,
                        highlight(pages_fts, 0, char(1), char(2)), p.text, pages_fts.rank
                 FROM pages_fts
                 JOIN pages p ON p.id = pages_fts.rowid
                 JOIN documents d ON d.id = p.document_id
                 WHERE pages_fts MATCH ?1
                 ORDER BY pages_fts.rank, d.id, p.number
                 LIMIT ?2",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![query, limit as i64], |r| {
                let marked: String = r.get(5)?;
                let original: String = r.get(6)?;
                Ok(SearchHit {
                    document_id: r.get(0)?,
                    path: r.get(1)?,
                    number: r.get(2)?,
                    title: r.get(3)?,
                    page: r.get(4)?,
                    snippet: snippet(&marked, &original, open, close),
                    rank: r.get(7)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.err(e))
    }
}

/// Transfer the match markers of `marked` (folded text with OPEN/CLOSE) onto `original`, then cut
/// a window around the first match.
fn snippet(marked: &str, original: &str, open: &str, close: &str) -> String {
    // (character, inside a match) for the original text.
    let mut chars: Vec<(char, bool)> = Vec::with_capacity(original.len());
    let mut source = original.chars();
    let mut inside = false;
    for c in marked.chars() {
        match c {
            OPEN => inside = true,
            CLOSE => inside = false,
            _ => match source.next() {
                Some(o) => chars.push((o, inside)),
                None => break,
            },
        }
    }
    let first = chars.iter().position(|&(_, m)| m).unwrap_or(0);
    let mut start = first.saturating_sub(BEFORE);
    // Start on a word boundary unless that loses the match.
    while start > 0 && start < first && !chars[start - 1].0.is_whitespace() {
        start += 1;
    }
    let mut end = (start + SNIPPET).min(chars.len());
    while end < chars.len() && end > first && !chars[end].0.is_whitespace() {
        end -= 1;
    }
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut in_match = false;
    let mut last_space = false;
    for &(c, m) in &chars[start..end] {
        if m != in_match {
            out.push_str(if m { open } else { close });
            in_match = m;
        }
        if c.is_whitespace() {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    if in_match {
        out.push_str(close);
    }
    if end < chars.len() {
        out.push('…');
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_folded_and_quoted() {
        assert_eq!(
            fts_query("Nước SẠCH, đường").as_deref(),
            Some("\"nuoc\" \"sach\" \"duong\"")
        );
        assert_eq!(fts_query(" -- "), None);
    }

    #[test]
    fn markers_move_onto_the_original_text() {
        let original = "Tỷ lệ hộ dùng nước sạch đạt 95%";
        let marked = format!("ty le ho dung {OPEN}nuoc{CLOSE} {OPEN}sach{CLOSE} dat 95%");
        assert_eq!(
            snippet(&marked, original, "[", "]"),
            "Tỷ lệ hộ dùng [nước] [sạch] đạt 95%"
        );
    }
}
