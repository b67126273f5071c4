//! PDF pages: text layer, native scanned image, or a rendering.
//!
//! `lopdf` parses the file, gives text layers and the raw bytes of page images: a DCT (JPEG) image
//! comes out byte-identical and a Flate image is unpacked here, both at the scanner's own resolution.
//! Everything lopdf cannot hand over as pixels (CCITT G4, JBIG2, vector pages, mixed pages) is
//! rendered with `hayro` — at the embedded image's native resolution when the page is one scan,
//! at 300 DPI otherwise.

use std::sync::{Arc, OnceLock};

use image::GrayImage;
use lopdf::{Document as LoDocument, Object, ObjectId};

use super::{check_pixels, PageContent, SourceError, RENDER_DPI};
use crate::document::PageMethod;
use crate::vietnamese::legacy;

/// Decompressed size one page's content or image may reach (a guard against Flate bombs).
const MAX_DECOMPRESSED: usize = 512 * 1024 * 1024;

/// A text layer shorter than this (letters and digits) is not "usable": a scan with a stray
/// page number, or an empty invisible layer.
const MIN_TEXT_LAYER_CHARS: usize = 16;

pub struct PdfSource {
    bytes: Arc<Vec<u8>>,
    doc: LoDocument,
    pages: Vec<ObjectId>,
    /// hayro's parse of the same bytes, made on first need (only pages that must be rendered).
    hayro: OnceLock<Result<hayro::hayro_syntax::Pdf, String>>,
}

impl PdfSource {
    pub fn open(bytes: Vec<u8>) -> Result<PdfSource, SourceError> {
        let doc = LoDocument::load_mem(&bytes).map_err(|e| describe_load_error(&e))?;
        if doc.is_encrypted() {
            return Err(SourceError::file(
                "the PDF is encrypted with a password; vnplan cannot read it (ask for an unprotected copy)",
            ));
        }
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.is_empty() {
            return Err(SourceError::file("the PDF has no pages"));
        }
        Ok(PdfSource {
            bytes: Arc::new(bytes),
            doc,
            pages,
            hayro: OnceLock::new(),
        })
    }

    pub fn page_count(&self) -> u32 {
        self.pages.len() as u32
    }

    pub fn page(&self, number: u32) -> Result<PageContent, SourceError> {
        let id = *self
            .pages
            .get(number.saturating_sub(1) as usize)
            .ok_or_else(|| SourceError::page(number, "no such page"))?;
        if let Some(text) = self.text_layer(number, id) {
            return Ok(PageContent::Text {
                text,
                method: PageMethod::TextLayer,
            });
        }
        let images = self.doc.get_page_images(id).unwrap_or_default();
        if images.len() == 1 {
            let img = &images[0];
            check_pixels(img.width.max(0) as u64, img.height.max(0) as u64, number)?;
            let dpi = self.native_dpi(id, img.width as f32);
            if let Some(image) = decode_native(img, number)? {
                return Ok(PageContent::Image { image, dpi });
            }
            // CCITT, JBIG2, JPX, ...: hayro decodes them; render at the image's own resolution.
            return self.render(number, dpi.clamp(72.0, 600.0));
        }
        self.render(number, RENDER_DPI)
    }

    /// Notes on how a page's text layer was read (legacy fonts transcoded).
    pub fn page_notes(&self, number: u32) -> Vec<String> {
        let Some(&id) = self.pages.get(number.saturating_sub(1) as usize) else {
            return Vec::new();
        };
        match self.legacy_font_encoding(id) {
            Some((enc, font)) => vec![format!(
                "text layer drawn with the legacy font {font} ({enc:?}); transcoded to Unicode"
            )],
            None => Vec::new(),
        }
    }

    /// The page's text layer, when it has a usable one; legacy TCVN3/VNI fonts transcoded.
    fn text_layer(&self, number: u32, id: ObjectId) -> Option<String> {
        let raw = self
            .doc
            .extract_text_with_limit(&[number], MAX_DECOMPRESSED)
            .ok()?;
        let useful = raw.chars().filter(|c| c.is_alphanumeric()).count();
        if useful < MIN_TEXT_LAYER_CHARS {
            return None;
        }
        // Glyphs with no Unicode mapping come out as U+FFFD or private-use code points: such a layer
        // is not text a reader could use, so the page is read from its pixels instead.
        let unmapped = raw
            .chars()
            .filter(|c| *c == '\u{FFFD}' || ('\u{E000}'..='\u{F8FF}').contains(c))
            .count();
        if unmapped * 10 > useful {
            return None;
        }
        let text = match self.legacy_font_encoding(id) {
            Some((enc, _)) => legacy::transcode_mojibake(&raw, enc),
            None => match legacy::detect_mojibake(&raw) {
                Some(enc) => legacy::transcode_mojibake(&raw, enc),
                None => raw,
            },
        };
        Some(text)
    }

    fn legacy_font_encoding(&self, id: ObjectId) -> Option<(legacy::LegacyEncoding, String)> {
        let fonts = self.doc.get_page_fonts(id).ok()?;
        fonts.values().find_map(|font| {
            let name = font.get(b"BaseFont").ok()?.as_name().ok()?;
            let name = String::from_utf8_lossy(name).to_string();
            legacy::encoding_for_font(&name).map(|enc| (enc, name))
        })
    }

    /// Resolution of a page image that fills the page: pixels across / page width in inches.
    fn native_dpi(&self, id: ObjectId, image_width: f32) -> f32 {
        let width_pt = self
            .doc
            .get_dictionary(id)
            .ok()
            .and_then(|page| media_box_width(&self.doc, page))
            .unwrap_or(595.0);
        if width_pt <= 0.0 {
            return RENDER_DPI;
        }
        (image_width / (width_pt / 72.0)).round()
    }

    fn render(&self, number: u32, dpi: f32) -> Result<PageContent, SourceError> {
        let pdf = self
            .hayro
            .get_or_init(|| {
                hayro::hayro_syntax::Pdf::new(self.bytes.clone())
                    .map_err(|e| format!("the PDF renderer cannot parse the file: {e:?}"))
            })
            .as_ref()
            .map_err(|e| SourceError::page(number, e.clone()))?;
        let pages = pdf.pages();
        let page = pages
            .get(number.saturating_sub(1) as usize)
            .ok_or_else(|| SourceError::page(number, "the PDF renderer does not see this page"))?;
        let scale = dpi / 72.0;
        let (w, h) = page.render_dimensions();
        let (pw, ph) = ((w * scale).ceil() as u64, (h * scale).ceil() as u64);
        check_pixels(pw, ph, number)?;
        if pw > u16::MAX as u64 || ph > u16::MAX as u64 {
            return Err(SourceError::page(
                number,
                format!("the page is too large to render ({pw}×{ph} pixels)"),
            ));
        }
        let cache = hayro::RenderCache::new();
        let pixmap = hayro::render(
            page,
            &cache,
            &hayro::hayro_interpret::InterpreterSettings::default(),
            &hayro::RenderSettings::default(),
            &hayro::PixmapSettings {
                x_scale: scale,
                y_scale: scale,
                bg_color: hayro::vello_cpu::color::palette::css::WHITE,
            },
        );
        let (pw, ph) = (pixmap.width() as u32, pixmap.height() as u32);
        let rgba = pixmap.data_as_u8_slice();
        let gray: Vec<u8> = rgba
            .chunks_exact(4)
            .map(|p| {
                // Premultiplied over white background: the background is opaque, so alpha is 255.
                ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8
            })
            .collect();
        let image = GrayImage::from_raw(pw, ph, gray)
            .ok_or_else(|| SourceError::page(number, "the renderer returned a malformed image"))?;
        Ok(PageContent::Image { image, dpi })
    }
}

fn media_box_width(doc: &LoDocument, page: &lopdf::Dictionary) -> Option<f32> {
    // MediaBox is inheritable: walk up the page tree.
    let mut node = page;
    for _ in 0..32 {
        if let Ok(obj) = node.get(b"MediaBox") {
            let obj = match obj {
                Object::Reference(r) => doc.get_object(*r).ok()?,
                o => o,
            };
            let arr = obj.as_array().ok()?;
            let nums: Vec<f32> = arr.iter().filter_map(|o| o.as_float().ok()).collect();
            if nums.len() == 4 {
                return Some((nums[2] - nums[0]).abs());
            }
            return None;
        }
        let parent = node.get(b"Parent").ok()?.as_reference().ok()?;
        node = doc.get_dictionary(parent).ok()?;
    }
    None
}

/// Decode a page image lopdf can hand over as pixels: DCT (JPEG) and Flate (1-bit and 8-bit gray,
/// 8-bit RGB). `Ok(None)` for encodings left to the renderer.
fn decode_native(
    img: &lopdf::xobject::PdfImage<'_>,
    page: u32,
) -> Result<Option<GrayImage>, SourceError> {
    let filters = img.filters.clone().unwrap_or_default();
    let (w, h) = (img.width as u32, img.height as u32);
    match filters.as_slice() {
        [f] if f == "DCTDecode" => {
            let decoded =
                image::load_from_memory_with_format(img.content, image::ImageFormat::Jpeg)
                    .map_err(|e| {
                        SourceError::page(page, format!("the page's JPEG image is corrupt: {e}"))
                    })?;
            Ok(Some(decoded.to_luma8()))
        }
        [f] if f == "FlateDecode" => {
            let stream = lopdf::Stream::new(img.origin_dict.clone(), img.content.to_vec());
            let data = stream
                .decompressed_content_with_limit(MAX_DECOMPRESSED)
                .map_err(|e| {
                    SourceError::page(
                        page,
                        format!("the page's Flate image cannot be decompressed: {e}"),
                    )
                })?;
            let bpc = img.bits_per_component.unwrap_or(8);
            let cs = img.color_space.as_deref().unwrap_or("DeviceGray");
            let inverted = decode_inverted(img.origin_dict);
            let pixels = match (bpc, cs) {
                (1, _) => unpack_bits(&data, w, h, inverted),
                (8, "DeviceGray") | (8, "CalGray") => {
                    take_exact(&data, (w * h) as usize).map(|d| {
                        if inverted {
                            d.iter().map(|v| 255 - v).collect()
                        } else {
                            d.to_vec()
                        }
                    })
                }
                (8, "DeviceRGB") | (8, "CalRGB") => {
                    take_exact(&data, (w * h * 3) as usize).map(|d| {
                        d.chunks_exact(3)
                            .map(|p| {
                                ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000)
                                    as u8
                            })
                            .collect()
                    })
                }
                _ => return Ok(None),
            };
            let pixels = pixels.ok_or_else(|| {
                SourceError::page(
                    page,
                    "the page's Flate image holds fewer bytes than its size says (truncated)",
                )
            })?;
            Ok(GrayImage::from_raw(w, h, pixels))
        }
        _ => Ok(None),
    }
}

fn take_exact(data: &[u8], n: usize) -> Option<&[u8]> {
    data.get(..n)
}

/// `/Decode [1 0]` flips the meaning of sample values.
fn decode_inverted(dict: &lopdf::Dictionary) -> bool {
    dict.get(b"Decode")
        .and_then(|d| d.as_array())
        .map(|a| a.first().and_then(|v| v.as_float().ok()) == Some(1.0))
        .unwrap_or(false)
}

/// 1-bit rows (each padded to a byte) → 8-bit gray; in DeviceGray 0 is black.
fn unpack_bits(data: &[u8], w: u32, h: u32, inverted: bool) -> Option<Vec<u8>> {
    let row_bytes = w.div_ceil(8) as usize;
    if data.len() < row_bytes * h as usize {
        return None;
    }
    let mut out = Vec::with_capacity((w * h) as usize);
    for y in 0..h as usize {
        let row = &data[y * row_bytes..(y + 1) * row_bytes];
        for x in 0..w as usize {
            let bit = (row[x / 8] >> (7 - (x % 8))) & 1;
            let white = (bit == 1) != inverted;
            out.push(if white { 255 } else { 0 });
        }
    }
    Some(out)
}

fn describe_load_error(e: &lopdf::Error) -> SourceError {
    let text = e.to_string();
    let lower = text.to_lowercase();
    if lower.contains("decrypt") || lower.contains("encrypt") || lower.contains("password") {
        return SourceError::file(format!(
            "the PDF is encrypted with a password; vnplan cannot read it ({text})"
        ));
    }
    SourceError::file(format!(
        "the PDF is damaged or truncated and cannot be parsed ({text})"
    ))
}
