//! Set-up shared by the extraction tests: a document extracted from a fixture text file.

use std::path::{Path, PathBuf};
use vnplan::document::{Document, PipelineInfo, Source};
use vnplan::extract::{extract, pages_from_text};

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/extract")
}

/// The document extraction makes of a text file (pages split as `vnplan` splits text files).
pub fn extracted_document(path: &Path) -> Document {
    let text = std::fs::read_to_string(path).expect("fixture text");
    let pages = pages_from_text(&text);
    let mut doc = Document::new(
        Source {
            path: path.display().to_string(),
            sha256: "0".repeat(64),
            bytes: text.len() as u64,
            media_type: "text/plain".to_string(),
            page_count: pages.len() as u32,
        },
        PipelineInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            ocr: None,
            restoration_model: None,
        },
    );
    let extraction = extract(&pages);
    doc.pages = pages;
    extraction.fill(&mut doc);
    doc
}
