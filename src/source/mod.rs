//! Reading inputs: from a file's bytes to pages that are either text or an image to OCR.
//!
//! The real type is sniffed from the bytes, never the extension. A PDF page gives its text layer
//! when it has a usable one, its one scanned image at native resolution when that is all it holds,
//! and otherwise a 300-DPI rendering. Images (PNG, JPEG, TIFF, multi-page TIFF) give one page per
//! frame; text files (UTF-8, UTF-16, legacy TCVN3/VNI) one page per form-feed-separated chunk.
//!
//! Pages are produced lazily ([`SourceDocument::page`]) so a 300-page scan never sits decoded in
//! memory at once, and an error on one page costs that page only.

pub mod image_file;
pub mod pdf;
pub mod text;

use std::fmt;
use std::path::Path;

use image::GrayImage;

use crate::document::PageMethod;

/// The largest page image we agree to decode, in pixels: an A3 page at 600 DPI is 70 M pixels;
/// anything much larger is a decompression bomb, not a scan.
pub const MAX_PAGE_PIXELS: u64 = 150_000_000;

/// Default resolution for rendering pages that are not one scanned image.
pub const RENDER_DPI: f32 = 300.0;

/// What a file is, judged from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Png,
    Jpeg,
    Tiff,
    Text,
}

impl Kind {
    pub fn media_type(self) -> &'static str {
        match self {
            Kind::Pdf => "application/pdf",
            Kind::Png => "image/png",
            Kind::Jpeg => "image/jpeg",
            Kind::Tiff => "image/tiff",
            Kind::Text => "text/plain",
        }
    }
}

/// Sniff the type of a file from its bytes. `None` for an empty file or unknown binary data.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    if bytes.is_empty() {
        return None;
    }
    // PDF: the header may be preceded by junk within the first 1024 bytes (ISO 32000 tolerates it).
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return Some(Kind::Pdf);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Some(Kind::Png);
    }
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Some(Kind::Jpeg);
    }
    if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        return Some(Kind::Tiff);
    }
    if text::looks_like_text(bytes) {
        return Some(Kind::Text);
    }
    None
}

/// The content of one page, as the source gives it.
pub enum PageContent {
    /// Text that needs no OCR (a PDF text layer, or a text file's page).
    Text { text: String, method: PageMethod },
    /// A page image to OCR, with its resolution.
    Image { image: GrayImage, dpi: f32 },
}

/// Why a file (or one of its pages) could not be read: words a user can act on.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceError {
    /// 1-based page number when the error concerns one page only.
    pub page: Option<u32>,
    pub message: String,
}

impl SourceError {
    pub fn file(message: impl Into<String>) -> Self {
        SourceError {
            page: None,
            message: message.into(),
        }
    }
    pub fn page(page: u32, message: impl Into<String>) -> Self {
        SourceError {
            page: Some(page),
            message: message.into(),
        }
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.page {
            Some(p) => write!(f, "page {p}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

impl std::error::Error for SourceError {}

/// An opened input whose pages can be read one at a time, from any thread.
pub struct SourceDocument {
    pub kind: Kind,
    inner: Inner,
    /// Document-level notes (a legacy encoding decoded, a page count capped, ...).
    pub notes: Vec<String>,
}

enum Inner {
    Pdf(Box<pdf::PdfSource>),
    Images(image_file::ImageSource),
    Text(Vec<String>),
}

impl SourceDocument {
    /// Open `bytes` (read from `path`, used in messages only).
    pub fn open(path: &Path, bytes: Vec<u8>) -> Result<SourceDocument, SourceError> {
        if bytes.is_empty() {
            return Err(SourceError::file("the file is empty (0 bytes)"));
        }
        let kind = sniff(&bytes).ok_or_else(|| {
            let what = match path.extension().and_then(|e| e.to_str()) {
                Some(ext) => format!(
                    "not a document vnplan can read: the bytes are not PDF, PNG, JPEG, TIFF or text (despite the .{ext} name)"
                ),
                None => "not a document vnplan can read: the bytes are not PDF, PNG, JPEG, TIFF or text".to_string(),
            };
            SourceError::file(what)
        })?;
        let mut notes = Vec::new();
        let inner = match kind {
            Kind::Pdf => Inner::Pdf(Box::new(pdf::PdfSource::open(bytes)?)),
            Kind::Png | Kind::Jpeg | Kind::Tiff => {
                Inner::Images(image_file::ImageSource::open(bytes, kind)?)
            }
            Kind::Text => {
                let decoded = text::decode(&bytes)?;
                if let Some(note) = decoded.note {
                    notes.push(note);
                }
                Inner::Text(text::split_pages(&decoded.text))
            }
        };
        Ok(SourceDocument { kind, inner, notes })
    }

    pub fn page_count(&self) -> u32 {
        match &self.inner {
            Inner::Pdf(p) => p.page_count(),
            Inner::Images(i) => i.page_count(),
            Inner::Text(pages) => pages.len() as u32,
        }
    }

    /// Read page `number` (1-based).
    pub fn page(&self, number: u32) -> Result<PageContent, SourceError> {
        match &self.inner {
            Inner::Pdf(p) => p.page(number),
            Inner::Images(i) => i.page(number),
            Inner::Text(pages) => pages
                .get(number.saturating_sub(1) as usize)
                .map(|t| PageContent::Text {
                    text: t.clone(),
                    method: PageMethod::Text,
                })
                .ok_or_else(|| SourceError::page(number, "no such page")),
        }
    }

    /// Notes about how a page was read (e.g. a legacy-font text layer transcoded).
    pub fn page_notes(&self, number: u32) -> Vec<String> {
        match &self.inner {
            Inner::Pdf(p) => p.page_notes(number),
            _ => Vec::new(),
        }
    }
}

/// Check an image's size before decoding it.
pub(crate) fn check_pixels(width: u64, height: u64, page: u32) -> Result<(), SourceError> {
    if width == 0 || height == 0 {
        return Err(SourceError::page(
            page,
            "the page image has zero width or height",
        ));
    }
    if width.saturating_mul(height) > MAX_PAGE_PIXELS {
        return Err(SourceError::page(
            page,
            format!(
                "the page image is {width}×{height} pixels, over the {} M pixel limit (a decompression bomb or a corrupt size)",
                MAX_PAGE_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

/// Read a file and open it; the error names nothing but the cause (callers add the path).
pub fn open_path(path: &Path) -> Result<SourceDocument, SourceError> {
    let bytes =
        std::fs::read(path).map_err(|e| SourceError::file(format!("cannot read the file: {e}")))?;
    SourceDocument::open(path, bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_from_bytes() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(Kind::Pdf));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(Kind::Png));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Kind::Jpeg));
        assert_eq!(sniff(b"II*\0...."), Some(Kind::Tiff));
        assert_eq!(sniff("Kế hoạch".as_bytes()), Some(Kind::Text));
        assert_eq!(sniff(b""), None);
        assert_eq!(sniff(&[0u8, 1, 2, 3, 0, 0, 0, 7, 0xfe, 0x80]), None);
    }
}
