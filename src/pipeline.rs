//! The pipeline: source → ocr → normalize → restore → extract, for one document.
//!
//! [`Pipeline::process`] gives the whole `vnplan.document/1`; `vnplan text` prints its pages.
//!
//! Pages are read in parallel (rayon). A page that cannot be read costs that page only: the document
//! keeps an empty page with a warning that says why. A file that cannot be opened at all is a
//! [`Failure`] naming the file and the cause.

use std::path::Path;

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

use crate::document::{Document, Page, PageMethod, PipelineInfo, Source, Warning};
use crate::normalize;
use crate::ocr::{self, OcrOptions};
use crate::source::{self, PageContent, SourceDocument};

/// The version written into every document and compared by incremental ingest.
pub const PIPELINE_VERSION: &str = env!("CARGO_PKG_VERSION");

pub use crate::ingest::Failure;

/// What the pipeline does and with which settings.
#[derive(Clone, Default)]
pub struct PipelineOptions {
    pub ocr: OcrOptions,
    /// The restoration model; `None` leaves page text as normalization made it.
    pub restorer: Option<std::sync::Arc<crate::restore::Restorer>>,
    /// Test hook for the batch: sleep this long per document so a test can kill a run in the
    /// middle (`VNPLAN_TEST_SLEEP_MS`, read by the CLI).
    pub test_delay_ms: Option<u64>,
}

/// One page as read, before restoration.
struct ReadPage {
    page: Page,
    warnings: Vec<Warning>,
    furniture: Vec<normalize::Furniture>,
}

pub struct Pipeline {
    pub options: PipelineOptions,
}

impl Pipeline {
    pub fn new(options: PipelineOptions) -> Pipeline {
        Pipeline { options }
    }

    /// Drop the OCR engines held by the worker threads (before the process exits: Tesseract's
    /// global caches must outlive its engines).
    pub fn release(&self) {
        ocr::release_engines();
    }

    /// The version string of everything that shapes the output: the pipeline, the model and the
    /// decoder settings. Incremental ingest reprocesses (or counts as stale) a document made under
    /// another one.
    pub fn version(&self) -> String {
        match &self.options.restorer {
            Some(r) => format!("{PIPELINE_VERSION}+{}+{}", r.model_id(), r.settings_id()),
            None => PIPELINE_VERSION.to_string(),
        }
    }

    /// Options with the default restoration model loaded (`$VNPLAN_MODEL` or `models/`).
    pub fn default_options() -> Result<PipelineOptions, crate::restore::RestoreError> {
        let model = crate::restore::Restorer::load(&crate::restore::default_model_path())?;
        Ok(PipelineOptions {
            restorer: Some(std::sync::Arc::new(model)),
            ..PipelineOptions::default()
        })
    }

    /// Read a file into a document with normalized page text.
    pub fn process(&self, path: &Path) -> Result<Document, Failure> {
        let fail = |sha: Option<String>, e: source::SourceError| Failure {
            path: path.to_path_buf(),
            sha256: sha,
            page: e.page,
            reason: e.message,
        };
        let bytes = std::fs::read(path).map_err(|e| Failure {
            path: path.to_path_buf(),
            sha256: None,
            page: None,
            reason: format!("cannot read the file: {e}"),
        })?;
        let sha = hex::encode(Sha256::digest(&bytes));
        let size = bytes.len() as u64;
        let src = SourceDocument::open(path, bytes).map_err(|e| fail(Some(sha.clone()), e))?;
        let page_count = src.page_count();
        let mut read: Vec<ReadPage> = (1..=page_count)
            .into_par_iter()
            .map(|n| self.read_page(&src, n))
            .collect();
        self.restore(&mut read);
        let used_ocr = read.iter().any(|p| p.page.method == PageMethod::Ocr);
        let mut doc = Document::new(
            Source {
                path: path.display().to_string(),
                sha256: sha.clone(),
                bytes: size,
                media_type: src.kind.media_type().to_string(),
                page_count,
            },
            PipelineInfo {
                version: self.version(),
                ocr: used_ocr.then(|| self.options.ocr.describe()),
                restoration_model: self.options.restorer.as_ref().map(|r| r.model_id()),
            },
        );
        for note in &src.notes {
            doc.warnings
                .push(Warning::new("source_note", note.clone(), None));
        }
        if read.iter().all(|p| p.page.text.trim().is_empty()) {
            if let Some(w) = read
                .iter()
                .flat_map(|p| p.warnings.iter())
                .find(|w| w.code == "page_unreadable")
            {
                return Err(Failure {
                    path: path.to_path_buf(),
                    sha256: Some(sha),
                    page: w.page,
                    reason: format!("no page could be read; first error: {}", w.message),
                });
            }
        }
        let texts: Vec<String> = read.iter().map(|p| p.page.text.clone()).collect();
        let running = normalize::find_running_headers(&texts);
        for (mut r, extra) in read.into_iter().zip(running) {
            r.furniture.extend(extra);
            r.page.furniture = r.furniture;
            doc.warnings.extend(r.warnings);
            doc.pages.push(r.page);
        }
        crate::extract::extract(&doc.pages).fill(&mut doc);
        Ok(doc)
    }

    /// Restore the pages' text together ([`crate::restore::Restorer::restore_pages`]: in blocks,
    /// short pages sharing their word pairs); `raw_text` keeps what was read.
    fn restore(&self, read: &mut [ReadPage]) {
        let Some(r) = &self.options.restorer else {
            return;
        };
        // A page that could not be read has nothing to restore and stays without a count.
        let readable = |p: &ReadPage| !p.warnings.iter().any(|w| w.code == "page_unreadable");
        // OCR'd pages were read by Tesseract's Vietnamese model, whose mark misreadings the model
        // knows; a text layer's marks are the author's.
        let texts: Vec<(&str, crate::restore::Origin)> = read
            .iter()
            .filter(|p| readable(p))
            .map(|p| {
                let origin = match p.page.method {
                    PageMethod::Ocr => crate::restore::Origin::Ocr,
                    _ => crate::restore::Origin::Typed,
                };
                (p.page.text.as_str(), origin)
            })
            .collect();
        let restored = r.restore_pages_from(&texts, false);
        for (p, out) in read.iter_mut().filter(|p| readable(p)).zip(restored) {
            p.page.restored_tokens = Some(out.changed as u32);
            p.page.text = out.text;
            // A restored token may be longer or shorter than what was read: find the spans anew.
            p.furniture = normalize::find_page_numbers(&p.page.text);
        }
    }

    fn read_page(&self, src: &SourceDocument, number: u32) -> ReadPage {
        let mut warnings = Vec::new();
        let unreadable = |message: String| ReadPage {
            page: Page {
                number,
                method: PageMethod::Ocr,
                ocr_confidence: None,
                raw_text: String::new(),
                text: String::new(),
                restored_tokens: None,
                furniture: Vec::new(),
                words: Vec::new(),
            },
            warnings: vec![Warning::new("page_unreadable", message, Some(number))],
            furniture: Vec::new(),
        };
        let mut words = Vec::new();
        let (raw, method, confidence) = match src.page(number) {
            Ok(PageContent::Text { text, method }) => (text, method, None),
            Ok(PageContent::Image { image, dpi }) => {
                match ocr::read_page(&image, dpi, number, &self.options.ocr) {
                    Ok(p) => {
                        words = p
                            .words
                            .into_iter()
                            .map(|w| crate::document::OcrWord {
                                text: w.text,
                                confidence: (w.confidence as f64 / 100.0).clamp(0.0, 1.0),
                                bbox: [w.left, w.top, w.right, w.bottom],
                            })
                            .collect();
                        (p.text, PageMethod::Ocr, p.confidence)
                    }
                    Err(e) => return unreadable(e.to_string()),
                }
            }
            Err(e) => return unreadable(e.message),
        };
        for note in src.page_notes(number) {
            warnings.push(Warning::new("legacy_font", note, Some(number)));
        }
        let raw_text: String = raw.nfc().collect();
        // Restored later, with the document's other pages ([`Self::restore`]).
        let normalized = normalize::normalize_page(&raw_text);
        if normalized.lacks_vietnamese_letters() {
            warnings.push(Warning::new(
                "no_vietnamese_letters",
                "the page's Latin text has almost no Vietnamese-specific letters (English-model OCR or unaccented typing): diacritics must be restored",
                Some(number),
            ));
        }
        ReadPage {
            page: Page {
                number,
                method,
                ocr_confidence: confidence,
                raw_text,
                text: normalized.text,
                restored_tokens: None,
                furniture: Vec::new(),
                words,
            },
            warnings,
            furniture: normalized.furniture,
        }
    }
}

impl crate::ingest::Processor for Pipeline {
    fn version(&self) -> String {
        Pipeline::version(self)
    }

    fn process(&self, path: &Path, sha256: &str) -> Result<Document, Failure> {
        if let Some(ms) = self.options.test_delay_ms {
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
        let mut doc = Pipeline::process(self, path)?;
        doc.source.sha256 = sha256.to_string();
        Ok(doc)
    }
}
