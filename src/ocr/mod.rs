//! OCR of page images with Tesseract's Vietnamese model.
//!
//! One engine per worker thread, initialized once and kept in a thread-local. A page is deskewed,
//! page 1 is read block by block when it opens with the two-column Decree 30 header, and every read
//! has a deadline. Word boxes and confidences are kept: they are the evidence trail, and they tell
//! restoration which words to distrust.

pub mod engine;
pub mod prepare;

use std::cell::RefCell;

use image::GrayImage;
use serde::Serialize;

pub use engine::{Engine, EngineError, Word};

/// How to read pages.
#[derive(Debug, Clone, PartialEq)]
pub struct OcrOptions {
    /// Tesseract languages, e.g. "vie".
    pub languages: String,
    /// Time limit for one page, in milliseconds (0: none).
    pub page_deadline_ms: u32,
    /// Level skewed pages before reading.
    pub deskew: bool,
    /// Read a two-column first-page header block by block.
    pub header_columns: bool,
}

impl Default for OcrOptions {
    fn default() -> Self {
        OcrOptions {
            languages: "vie".to_string(),
            page_deadline_ms: 120_000,
            deskew: true,
            header_columns: true,
        }
    }
}

impl OcrOptions {
    /// What goes into a document's `pipeline.ocr`.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "engine": "tesseract",
            "version": Engine::version(),
            "languages": self.languages,
            "psm": 3,
            "deskew": self.deskew,
            "header_columns": self.header_columns,
        })
    }
}

/// The text of one page read by OCR.
#[derive(Debug, Clone, Serialize)]
pub struct OcrPage {
    pub text: String,
    /// Mean word confidence, 0–1.
    pub confidence: Option<f64>,
    pub words: Vec<Word>,
    /// Skew found and corrected, in degrees.
    pub skew_degrees: f64,
    /// Whether the page was read as header-left, header-right, body.
    pub header_columns: bool,
}

impl Serialize for Word {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeTuple;
        let mut t = s.serialize_tuple(6)?;
        t.serialize_element(&self.text)?;
        t.serialize_element(&self.confidence)?;
        t.serialize_element(&self.left)?;
        t.serialize_element(&self.top)?;
        t.serialize_element(&self.right)?;
        t.serialize_element(&self.bottom)?;
        t.end()
    }
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

/// Read one page image. `page_number` decides whether the first-page header layout applies.
pub fn read_page(
    image: &GrayImage,
    dpi: f32,
    page_number: u32,
    options: &OcrOptions,
) -> Result<OcrPage, EngineError> {
    let (leveled, skew) = if options.deskew {
        prepare::deskew(image)
    } else {
        (None, 0.0)
    };
    let image = leveled.as_ref().unwrap_or(image);
    let (w, h) = (image.width(), image.height());
    let regions = if options.header_columns && page_number == 1 {
        prepare::header_columns(image)
    } else {
        None
    };
    let split = regions.is_some();
    let regions = regions.unwrap_or_else(|| vec![(0, 0, w, h)]);
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot
            .as_ref()
            .is_none_or(|e| e.languages != options.languages)
        {
            *slot = Some(Engine::new(&options.languages)?);
        }
        let engine = slot.as_mut().ok_or(EngineError::Failed)?;
        engine.set_image(image.as_raw(), w, h, dpi.round() as u32);
        let started = std::time::Instant::now();
        let mut text = String::new();
        let mut words = Vec::new();
        for region in regions {
            let left_ms = if options.page_deadline_ms == 0 {
                0
            } else {
                let spent = started.elapsed().as_millis() as u32;
                if spent >= options.page_deadline_ms {
                    engine.clear();
                    return Err(EngineError::Deadline {
                        seconds: options.page_deadline_ms as f64 / 1000.0,
                    });
                }
                options.page_deadline_ms - spent
            };
            let result = engine.recognize(region, left_ms);
            let (t, ws) = match result {
                Ok(r) => r,
                Err(EngineError::Deadline { .. }) => {
                    engine.clear();
                    return Err(EngineError::Deadline {
                        seconds: options.page_deadline_ms as f64 / 1000.0,
                    });
                }
                Err(e) => {
                    engine.clear();
                    return Err(e);
                }
            };
            if !text.is_empty() && !text.ends_with("\n\n") {
                text.push('\n');
            }
            text.push_str(&t);
            words.extend(ws);
        }
        engine.clear();
        let weighted: f64 = words
            .iter()
            .map(|w| w.confidence as f64 * w.text.chars().count() as f64)
            .sum();
        let chars: f64 = words.iter().map(|w| w.text.chars().count() as f64).sum();
        let confidence = (chars > 0.0).then(|| (weighted / chars / 100.0).clamp(0.0, 1.0));
        Ok(OcrPage {
            text,
            confidence,
            words,
            skew_degrees: skew,
            header_columns: split,
        })
    })
}

/// Drop the engine of the calling thread and of every rayon worker thread.
pub fn release_engines() {
    rayon::broadcast(|_| ENGINE.with(|e| e.borrow_mut().take()));
    ENGINE.with(|e| e.borrow_mut().take());
}
