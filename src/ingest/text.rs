//! A [`Processor`] for plain UTF-8 text files: pages split on form feed (U+000C), method "text",
//! `raw_text` = `text` (NFC). It lets the store and the batch run without the OCR pipeline, and
//! it fails for real on input that is not UTF-8, naming the page and byte offset.
//!
//! Test hook: `VNPLAN_TEST_SLEEP_MS=N` makes it sleep N ms per document, so tests can kill a run
//! in the middle. It is read once, when the processor is made.

use std::fs;
use std::path::Path;
use std::time::Duration;

use unicode_normalization::UnicodeNormalization;

use super::{Failure, Processor};
use crate::document::{Document, Page, PageMethod, PipelineInfo, Source};

/// Environment variable of the test hook (see the module docs).
pub const SLEEP_ENV: &str = "VNPLAN_TEST_SLEEP_MS";

#[derive(Debug, Clone, Default)]
pub struct TextProcessor {
    sleep: Option<Duration>,
}

impl TextProcessor {
    /// A text processor, honouring the `VNPLAN_TEST_SLEEP_MS` test hook.
    pub fn new() -> Self {
        let sleep = std::env::var(SLEEP_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms > 0)
            .map(Duration::from_millis);
        TextProcessor { sleep }
    }
}

/// Split text into pages at form feeds; a form feed at the very end does not open an empty page.
pub fn split_pages(text: &str) -> Vec<&str> {
    let text = text.strip_suffix('\u{c}').unwrap_or(text);
    text.split('\u{c}').collect()
}

impl Processor for TextProcessor {
    fn version(&self) -> String {
        format!("vnplan-text/{}", env!("CARGO_PKG_VERSION"))
    }

    fn process(&self, path: &Path, sha256: &str) -> Result<Document, Failure> {
        if let Some(sleep) = self.sleep {
            std::thread::sleep(sleep);
        }
        let fail = |page: Option<u32>, reason: String| Failure {
            path: path.to_path_buf(),
            sha256: Some(sha256.to_string()),
            page,
            reason,
        };
        let bytes = fs::read(path).map_err(|e| fail(None, format!("cannot read: {e}")))?;
        let size = bytes.len() as u64;
        let text = String::from_utf8(bytes).map_err(|e| {
            let offset = e.utf8_error().valid_up_to();
            let page = e.as_bytes()[..offset]
                .iter()
                .filter(|&&b| b == 0x0c)
                .count() as u32
                + 1;
            fail(
                Some(page),
                format!("not UTF-8 text: invalid byte at offset {offset}"),
            )
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        if text.trim().is_empty() {
            return Err(fail(None, "empty file: no text".to_string()));
        }
        let text: String = text.replace("\r\n", "\n").nfc().collect();
        let pages: Vec<Page> = split_pages(&text)
            .into_iter()
            .enumerate()
            .map(|(i, page)| Page {
                number: i as u32 + 1,
                method: PageMethod::Text,
                ocr_confidence: None,
                raw_text: page.to_string(),
                text: page.to_string(),
                restored_tokens: None,
                furniture: Vec::new(),
                words: Vec::new(),
            })
            .collect();
        let source = Source {
            path: path.display().to_string(),
            sha256: sha256.to_string(),
            bytes: size,
            media_type: "text/plain".to_string(),
            page_count: pages.len() as u32,
        };
        let pipeline = PipelineInfo {
            version: self.version(),
            ocr: None,
            restoration_model: None,
        };
        let mut doc = Document::new(source, pipeline);
        doc.pages = pages;
        Ok(doc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_split_on_form_feed() {
        assert_eq!(split_pages("a\u{c}b\u{c}"), vec!["a", "b"]);
        assert_eq!(split_pages("a"), vec!["a"]);
    }

    #[test]
    fn invalid_utf8_fails_with_page_and_offset() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bad.txt");
        fs::write(&path, b"trang 1\x0ctrang \xff 2").expect("write");
        let err = TextProcessor::default()
            .process(&path, "00")
            .expect_err("must fail");
        assert_eq!(err.page, Some(2));
        assert!(err.reason.contains("offset 14"), "{}", err.reason);
    }
}
