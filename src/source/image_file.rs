//! Image inputs: PNG, JPEG, and TIFF with any number of pages.
//!
//! Each frame becomes one page image in 8-bit gray with its resolution (from the file when it says,
//! else 300 DPI, the usual scanner setting). Sizes are checked before pixels are decoded.

use std::io::Cursor;

use image::{GrayImage, ImageDecoder, ImageFormat};
use tiff::decoder::{Decoder as TiffDecoder, DecodingResult};
use tiff::tags::{ResolutionUnit, Tag};
use tiff::ColorType;

use super::{check_pixels, Kind, PageContent, SourceError, MAX_PAGE_PIXELS, RENDER_DPI};

pub struct ImageSource {
    bytes: Vec<u8>,
    kind: Kind,
    frames: u32,
}

impl ImageSource {
    pub fn open(bytes: Vec<u8>, kind: Kind) -> Result<ImageSource, SourceError> {
        let frames = match kind {
            Kind::Tiff => count_tiff_frames(&bytes)?,
            _ => 1,
        };
        Ok(ImageSource {
            bytes,
            kind,
            frames,
        })
    }

    pub fn page_count(&self) -> u32 {
        self.frames
    }

    pub fn page(&self, number: u32) -> Result<PageContent, SourceError> {
        if number == 0 || number > self.frames {
            return Err(SourceError::page(number, "no such page"));
        }
        match self.kind {
            Kind::Tiff => tiff_frame(&self.bytes, number),
            Kind::Png => decode_single(&self.bytes, ImageFormat::Png, number),
            _ => decode_single(&self.bytes, ImageFormat::Jpeg, number),
        }
    }
}

fn decode_single(bytes: &[u8], format: ImageFormat, page: u32) -> Result<PageContent, SourceError> {
    let name = if format == ImageFormat::Png {
        "PNG"
    } else {
        "JPEG"
    };
    let corrupt =
        |e: image::ImageError| SourceError::page(page, format!("the {name} image is corrupt: {e}"));
    let mut reader = image::ImageReader::with_format(Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_PAGE_PIXELS * 4);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(corrupt)?;
    let (w, h) = decoder.dimensions();
    check_pixels(w as u64, h as u64, page)?;
    let dpi = match format {
        ImageFormat::Png => png_dpi(bytes),
        _ => jpeg_dpi(bytes),
    }
    .unwrap_or(RENDER_DPI);
    let _ = decoder.set_limits(image::Limits::default());
    let img = image::DynamicImage::from_decoder(decoder).map_err(corrupt)?;
    Ok(PageContent::Image {
        image: img.to_luma8(),
        dpi,
    })
}

/// JFIF APP0 density, when given in dots per inch or per cm.
fn jpeg_dpi(bytes: &[u8]) -> Option<f32> {
    let app0 = bytes.get(2..20)?;
    if app0[0] != 0xFF || app0[1] != 0xE0 || &app0[4..9] != b"JFIF\0" {
        return None;
    }
    let unit = app0[11];
    let x = u16::from_be_bytes([app0[12], app0[13]]) as f32;
    match unit {
        1 if x >= 50.0 => Some(x),
        2 if x >= 20.0 => Some(x * 2.54),
        _ => None,
    }
}

/// PNG pHYs chunk (pixels per metre).
fn png_dpi(bytes: &[u8]) -> Option<f32> {
    let pos = bytes.windows(4).take(4096).position(|w| w == b"pHYs")?;
    let d = bytes.get(pos + 4..pos + 13)?;
    let ppm = u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as f32;
    if d[8] == 1 && ppm > 0.0 {
        let dpi = (ppm * 0.0254).round();
        (dpi >= 50.0).then_some(dpi)
    } else {
        None
    }
}

fn tiff_error(page: Option<u32>, e: tiff::TiffError) -> SourceError {
    let message = format!("the TIFF image is corrupt or uses an unsupported encoding: {e}");
    match page {
        Some(p) => SourceError::page(p, message),
        None => SourceError::file(message),
    }
}

fn count_tiff_frames(bytes: &[u8]) -> Result<u32, SourceError> {
    let mut dec = TiffDecoder::new(Cursor::new(bytes)).map_err(|e| tiff_error(None, e))?;
    let mut n = 1;
    while dec.more_images() {
        if dec.next_image().is_err() {
            break;
        }
        n += 1;
        if n > 10_000 {
            return Err(SourceError::file(
                "the TIFF has more than 10 000 frames (a loop in its directory chain)",
            ));
        }
    }
    Ok(n)
}

fn tiff_frame(bytes: &[u8], number: u32) -> Result<PageContent, SourceError> {
    let err = |e| tiff_error(Some(number), e);
    let mut dec = TiffDecoder::new(Cursor::new(bytes)).map_err(err)?;
    for _ in 1..number {
        dec.next_image().map_err(err)?;
    }
    let (w, h) = dec.dimensions().map_err(err)?;
    check_pixels(w as u64, h as u64, number)?;
    let dpi = tiff_dpi(&mut dec).unwrap_or(RENDER_DPI);
    let color = dec.colortype().map_err(err)?;
    let data = match dec.read_image().map_err(err)? {
        DecodingResult::U8(d) => d,
        DecodingResult::U16(d) => d.into_iter().map(|v| (v >> 8) as u8).collect(),
        _ => return Err(SourceError::page(
            number,
            "the TIFF frame has a sample format vnplan does not read (floating point or 32/64-bit)",
        )),
    };
    let white_is_zero = matches!(dec.get_tag_u32(Tag::PhotometricInterpretation), Ok(0));
    let n = (w as usize) * (h as usize);
    let short = || {
        SourceError::page(
            number,
            "the TIFF frame holds fewer samples than its size says (truncated)",
        )
    };
    let gray: Vec<u8> = match color {
        ColorType::Gray(1) => {
            let row = (w as usize).div_ceil(8);
            if data.len() < row * h as usize {
                return Err(short());
            }
            let mut out = Vec::with_capacity(n);
            for y in 0..h as usize {
                for x in 0..w as usize {
                    let bit = (data[y * row + x / 8] >> (7 - x % 8)) & 1;
                    out.push(if bit == 1 { 255 } else { 0 });
                }
            }
            out
        }
        ColorType::Gray(_) => data.get(..n).ok_or_else(short)?.to_vec(),
        ColorType::GrayA(_) => data.chunks_exact(2).take(n).map(|p| p[0]).collect(),
        ColorType::RGB(_) => rgb_to_gray(&data, 3, n),
        ColorType::RGBA(_) => rgb_to_gray(&data, 4, n),
        other => {
            return Err(SourceError::page(
                number,
                format!("the TIFF frame's colour type {other:?} is not supported"),
            ))
        }
    };
    if gray.len() < n {
        return Err(short());
    }
    let gray = if white_is_zero {
        gray.into_iter().map(|v| 255 - v).collect()
    } else {
        gray
    };
    let image = GrayImage::from_raw(w, h, gray).ok_or_else(short)?;
    Ok(PageContent::Image { image, dpi })
}

fn rgb_to_gray(data: &[u8], channels: usize, n: usize) -> Vec<u8> {
    data.chunks_exact(channels)
        .take(n)
        .map(|p| ((p[0] as u32 * 299 + p[1] as u32 * 587 + p[2] as u32 * 114) / 1000) as u8)
        .collect()
}

fn tiff_dpi<R: std::io::Read + std::io::Seek>(dec: &mut TiffDecoder<R>) -> Option<f32> {
    let x = dec.get_tag(Tag::XResolution).ok()?;
    let value = match x {
        tiff::decoder::ifd::Value::Rational(n, d) if d != 0 => n as f32 / d as f32,
        other => other.into_f64().ok()? as f32,
    };
    let unit = dec.get_tag_u32(Tag::ResolutionUnit).ok();
    let dpi = match unit {
        Some(u) if u == ResolutionUnit::Centimeter as u32 => value * 2.54,
        _ => value,
    };
    (dpi >= 50.0).then_some(dpi.round())
}
