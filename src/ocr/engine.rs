//! A thin safe wrapper over Tesseract's C API.
//!
//! Written over `tesseract-sys` rather than the `tesseract` crate because the crate's `recognize`
//! passes no monitor, and the monitor is how a page gets a deadline: a page on which the engine runs
//! past its limit must cost that page only, not the batch.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;
use std::ptr;

use tesseract_sys as sys;

/// One recognized word: its text, confidence (0–100) and box in page pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub confidence: f32,
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

/// Why recognition failed.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineError {
    Init(String),
    Deadline { seconds: f64 },
    Failed,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::Init(m) => write!(f, "{m}"),
            EngineError::Deadline { seconds } => {
                write!(
                    f,
                    "Tesseract ran past the {seconds} s time limit for a page"
                )
            }
            EngineError::Failed => write!(f, "Tesseract failed to recognize the page"),
        }
    }
}

/// One Tesseract instance. Not shareable between threads: each worker thread owns one.
pub struct Engine {
    api: *mut sys::TessBaseAPI,
    pub languages: String,
}

// The handle is used by one thread at a time (it is moved, never shared).
unsafe impl Send for Engine {}

impl Engine {
    /// Load the models for `languages` (e.g. "vie" or "vie+Vietnamese") from Tesseract's default
    /// data folder, or `TESSDATA_PREFIX`.
    pub fn new(languages: &str) -> Result<Engine, EngineError> {
        let lang = CString::new(languages)
            .map_err(|_| EngineError::Init("language name has a NUL byte".to_string()))?;
        // SAFETY: the handle is created here and deleted in Drop; pointers passed are valid C strings.
        unsafe {
            let api = sys::TessBaseAPICreate();
            if api.is_null() {
                return Err(EngineError::Init(
                    "Tesseract could not be created".to_string(),
                ));
            }
            let rc = sys::TessBaseAPIInit3(api, ptr::null(), lang.as_ptr());
            if rc != 0 {
                sys::TessBaseAPIDelete(api);
                return Err(EngineError::Init(format!(
                    "Tesseract cannot load the '{languages}' model: install tesseract-ocr-vie (and tesseract-ocr-script-viet for 'Vietnamese') or set TESSDATA_PREFIX"
                )));
            }
            sys::TessBaseAPISetPageSegMode(api, sys::TessPageSegMode_PSM_AUTO);
            // Tesseract's progress chatter ("Detected 152 diacritics") goes nowhere: vnplan
            // reports what matters as warnings.
            let (name, value) = (c"debug_file", c"/dev/null");
            sys::TessBaseAPISetVariable(api, name.as_ptr(), value.as_ptr());
            Ok(Engine {
                api,
                languages: languages.to_string(),
            })
        }
    }

    /// Tesseract's version string.
    pub fn version() -> String {
        // SAFETY: returns a static C string.
        unsafe {
            let v = sys::TessVersion();
            if v.is_null() {
                return "unknown".to_string();
            }
            CStr::from_ptr(v).to_string_lossy().into_owned()
        }
    }

    /// Hand the engine an 8-bit gray image (row-major, `width` bytes a row) at `dpi`.
    pub fn set_image(&mut self, pixels: &[u8], width: u32, height: u32, dpi: u32) {
        debug_assert_eq!(pixels.len(), (width * height) as usize);
        // SAFETY: Tesseract copies the pixels into its own Pix during SetImage.
        unsafe {
            sys::TessBaseAPISetImage(
                self.api,
                pixels.as_ptr(),
                width as c_int,
                height as c_int,
                1,
                width as c_int,
            );
            sys::TessBaseAPISetSourceResolution(self.api, dpi as c_int);
        }
    }

    /// Recognize the rectangle (in image pixels) and return its text, words and mean confidence.
    /// `deadline_ms` bounds the time spent.
    pub fn recognize(
        &mut self,
        rect: (u32, u32, u32, u32),
        deadline_ms: u32,
    ) -> Result<(String, Vec<Word>), EngineError> {
        let (left, top, width, height) = rect;
        // SAFETY: the monitor lives until after Recognize; text and iterator are freed below.
        unsafe {
            sys::TessBaseAPISetRectangle(
                self.api,
                left as c_int,
                top as c_int,
                width as c_int,
                height as c_int,
            );
            let monitor = sys::TessMonitorCreate();
            if deadline_ms > 0 {
                sys::TessMonitorSetDeadlineMSecs(
                    monitor,
                    deadline_ms.min(i32::MAX as u32) as c_int,
                );
            }
            let start = std::time::Instant::now();
            let rc = sys::TessBaseAPIRecognize(self.api, monitor);
            sys::TessMonitorDelete(monitor);
            let elapsed = start.elapsed().as_millis() as u64;
            if rc != 0 {
                if deadline_ms > 0 && elapsed + 5 >= deadline_ms as u64 {
                    return Err(EngineError::Deadline {
                        seconds: deadline_ms as f64 / 1000.0,
                    });
                }
                return Err(EngineError::Failed);
            }
            let text_ptr = sys::TessBaseAPIGetUTF8Text(self.api);
            let text = if text_ptr.is_null() {
                String::new()
            } else {
                let t = CStr::from_ptr(text_ptr).to_string_lossy().into_owned();
                sys::TessDeleteText(text_ptr);
                t
            };
            let words = self.words();
            Ok((text, words))
        }
    }

    unsafe fn words(&mut self) -> Vec<Word> {
        let mut words = Vec::new();
        let it = sys::TessBaseAPIGetIterator(self.api);
        if it.is_null() {
            return words;
        }
        let level = sys::TessPageIteratorLevel_RIL_WORD;
        let page_it = sys::TessResultIteratorGetPageIterator(it);
        loop {
            let t = sys::TessResultIteratorGetUTF8Text(it, level);
            if !t.is_null() {
                let text = CStr::from_ptr(t).to_string_lossy().into_owned();
                sys::TessDeleteText(t);
                let confidence = sys::TessResultIteratorConfidence(it, level);
                let (mut l, mut tp, mut r, mut b) = (0, 0, 0, 0);
                sys::TessPageIteratorBoundingBox(page_it, level, &mut l, &mut tp, &mut r, &mut b);
                words.push(Word {
                    text,
                    confidence,
                    left: l,
                    top: tp,
                    right: r,
                    bottom: b,
                });
            }
            if sys::TessResultIteratorNext(it, level) == 0 {
                break;
            }
        }
        sys::TessResultIteratorDelete(it);
        words
    }

    /// Forget the current image (frees its memory between pages).
    pub fn clear(&mut self) {
        // SAFETY: valid handle.
        unsafe { sys::TessBaseAPIClear(self.api) }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SAFETY: the handle was created by TessBaseAPICreate and is deleted once.
        unsafe {
            sys::TessBaseAPIEnd(self.api);
            sys::TessBaseAPIDelete(self.api);
        }
    }
}
