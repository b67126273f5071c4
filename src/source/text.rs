//! Text inputs: UTF-8, UTF-16 with a byte-order mark, and legacy 8-bit TCVN3 (ABC) and VNI files.
//!
//! A text file's pages are its form-feed-separated chunks (what `pdftotext` and `vnplan text` write);
//! a file without form feeds is one page.

use super::SourceError;
use crate::vietnamese::legacy;

/// Decoded text and, when it was not plain UTF-8, a note saying how it was decoded.
pub struct Decoded {
    pub text: String,
    pub note: Option<String>,
}

/// Is this plausibly a text file? UTF-8/UTF-16 text, or 8-bit text without control bytes.
pub fn looks_like_text(bytes: &[u8]) -> bool {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    let sample = &bytes[..bytes.len().min(64 * 1024)];
    // Control bytes other than tab, newline, carriage return, form feed and (legacy) 0x1A mean binary.
    let control = sample
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1A))
        .count();
    control * 1000 <= sample.len()
}

/// Decode a text file's bytes to Unicode.
pub fn decode(bytes: &[u8]) -> Result<Decoded, SourceError> {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return utf8(rest);
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, u16::from_le_bytes, "UTF-16LE");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, u16::from_be_bytes, "UTF-16BE");
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: text.to_string(),
            note: None,
        });
    }
    match legacy::detect_bytes(bytes) {
        Some(enc) => Ok(Decoded {
            text: legacy::decode_bytes(bytes, enc),
            note: Some(format!("decoded from the legacy {enc:?} 8-bit encoding")),
        }),
        None => Err(SourceError::file(
            "the text is neither UTF-8, UTF-16 nor a legacy Vietnamese encoding (TCVN3, VNI)",
        )),
    }
}

fn utf8(bytes: &[u8]) -> Result<Decoded, SourceError> {
    std::str::from_utf8(bytes)
        .map(|t| Decoded {
            text: t.to_string(),
            note: None,
        })
        .map_err(|e| {
            SourceError::file(format!(
                "the file claims UTF-8 (byte-order mark) but is not: {e}"
            ))
        })
}

fn utf16(bytes: &[u8], word: fn([u8; 2]) -> u16, name: &str) -> Result<Decoded, SourceError> {
    let units: Vec<u16> = bytes.chunks_exact(2).map(|c| word([c[0], c[1]])).collect();
    String::from_utf16(&units)
        .map(|text| Decoded {
            text,
            note: Some(format!("decoded from {name}")),
        })
        .map_err(|_| {
            SourceError::file(format!(
                "the file claims {name} (byte-order mark) but holds invalid UTF-16"
            ))
        })
}

/// Split text into pages on form feeds; a trailing empty chunk (a final form feed) is no page.
pub fn split_pages(text: &str) -> Vec<String> {
    let mut pages: Vec<String> = text.split('\u{0C}').map(str::to_string).collect();
    if pages.len() > 1 && pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_utf16_with_bom() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Kế hoạch".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(
            decode(&bytes).map(|d| d.text).ok().as_deref(),
            Some("Kế hoạch")
        );
    }

    #[test]
    fn splits_on_form_feed() {
        assert_eq!(split_pages("a\u{0C}b\u{0C}"), vec!["a", "b"]);
        assert_eq!(split_pages("one page"), vec!["one page"]);
    }
}
