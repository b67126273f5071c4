//! Page image preparation: deskew, and the layout of a Decree 30/2020 first page.
//!
//! Deskew is a projection profile on a reduced, binarized copy: the angle at which text rows are
//! sharpest (greatest variance of the row ink histogram). It costs milliseconds where an external
//! tool costs seconds. The rotation itself is a 30-line bilinear resampler written here rather than
//! pulling `imageproc` (and its dependency tree) into the build for one function.
//!
//! Page 1 of an administrative document opens with two side-by-side blocks (issuing body, số/ký hiệu
//! on the left; national motto, place and date on the right). Tesseract reads such rows across both
//! blocks; [`header_columns`] finds the gutter so the blocks can be read one after the other.

use image::GrayImage;

/// A reduced binarized copy for analysis: `ink[y * w + x]` is true for dark pixels.
struct Binary {
    w: usize,
    h: usize,
    ink: Vec<bool>,
    /// full-resolution pixels per analysis pixel
    factor: usize,
}

fn otsu(hist: &[u64; 256]) -> u8 {
    let total: u64 = hist.iter().sum();
    let sum_all: f64 = hist
        .iter()
        .enumerate()
        .map(|(i, &c)| i as f64 * c as f64)
        .sum();
    let (mut w_b, mut sum_b, mut best, mut threshold) = (0u64, 0f64, 0f64, 128u8);
    for (t, &count) in hist.iter().enumerate() {
        w_b += count;
        if w_b == 0 {
            continue;
        }
        let w_f = total - w_b;
        if w_f == 0 {
            break;
        }
        sum_b += t as f64 * count as f64;
        let m_b = sum_b / w_b as f64;
        let m_f = (sum_all - sum_b) / w_f as f64;
        let between = w_b as f64 * w_f as f64 * (m_b - m_f) * (m_b - m_f);
        if between > best {
            best = between;
            threshold = t as u8;
        }
    }
    threshold
}

/// Reduce by `factor` (block mean) and binarize against the local background: scans have lid
/// shadows and uneven light, so one global threshold would call a shadowed margin ink.
fn binarize(image: &GrayImage, factor: usize) -> Binary {
    let (fw, fh) = (image.width() as usize, image.height() as usize);
    let (w, h) = ((fw / factor).max(1), (fh / factor).max(1));
    let raw = image.as_raw();
    let mut reduced = vec![0u8; w * h];
    let mut hist = [0u64; 256];
    for y in 0..h {
        for x in 0..w {
            let mut sum = 0u32;
            let mut n = 0u32;
            for dy in 0..factor {
                let row = (y * factor + dy).min(fh - 1) * fw;
                for dx in 0..factor {
                    sum += raw[row + (x * factor + dx).min(fw - 1)] as u32;
                    n += 1;
                }
            }
            let v = (sum / n) as u8;
            reduced[y * w + x] = v;
            hist[v as usize] += 1;
        }
    }
    // Background: the brightest value of each block of about a centimetre at 100 DPI, then the
    // brightest of each block's neighbourhood (text inside a block never hides the paper around it).
    const BLOCK: usize = 32;
    let (bw, bh) = (w.div_ceil(BLOCK), h.div_ceil(BLOCK));
    let mut block_max = vec![0u8; bw * bh];
    for y in 0..h {
        for x in 0..w {
            let b = &mut block_max[(y / BLOCK) * bw + x / BLOCK];
            *b = (*b).max(reduced[y * w + x]);
        }
    }
    let mut background = vec![0u8; bw * bh];
    for by in 0..bh {
        for bx in 0..bw {
            let mut m = 0u8;
            for ny in by.saturating_sub(1)..(by + 2).min(bh) {
                for nx in bx.saturating_sub(1)..(bx + 2).min(bw) {
                    m = m.max(block_max[ny * bw + nx]);
                }
            }
            background[by * bw + bx] = m;
        }
    }
    // Ink must also be dark in absolute terms: Otsu's threshold over the whole page bounds it.
    let global = otsu(&hist) as u32;
    let ink = (0..h * w)
        .map(|i| {
            let (x, y) = (i % w, i / w);
            let bg = background[(y / BLOCK) * bw + x / BLOCK] as u32;
            let v = reduced[i] as u32;
            v * 100 < bg * 62 && v <= global.max(bg * 62 / 100)
        })
        .collect();
    Binary { w, h, ink, factor }
}

/// Estimate the skew angle in degrees: text lines follow `y = y0 - x·tan(angle)` in image
/// coordinates (y down), so a positive angle is text rising to the right.
pub fn estimate_skew(image: &GrayImage) -> f64 {
    // Work at about 100 DPI for a 300-DPI page: enough to see text rows.
    let factor = ((image.width() as usize) / 850).max(1);
    let b = binarize(image, factor);
    let points: Vec<(f64, f64)> = (0..b.h)
        .flat_map(|y| (0..b.w).map(move |x| (x, y)))
        .filter(|&(x, y)| b.ink[y * b.w + x])
        .map(|(x, y)| (x as f64, y as f64))
        .collect();
    if points.len() < 500 {
        return 0.0;
    }
    let score = |deg: f64| -> f64 {
        let t = deg.to_radians().tan();
        let mut hist = vec![0u32; b.h + b.w + 2];
        let offset = b.w as f64;
        for &(x, y) in &points {
            let yy = y + x * t + offset * t.abs().min(1.0);
            let i = yy.max(0.0) as usize;
            if i < hist.len() {
                hist[i] += 1;
            }
        }
        hist.iter().map(|&c| (c as f64) * (c as f64)).sum()
    };
    let search = |from: f64, to: f64, step: f64| -> f64 {
        let mut best = (f64::MIN, 0.0);
        let mut a = from;
        while a <= to + 1e-9 {
            let s = score(a);
            if s > best.0 {
                best = (s, a);
            }
            a += step;
        }
        best.1
    };
    let coarse = search(-5.0, 5.0, 0.25);
    search(coarse - 0.25, coarse + 0.25, 0.025)
}

/// Rotate by `degrees` about the centre (bilinear), filling uncovered corners with white: a line of
/// slope `tan(degrees)` (y down) in the source comes out level. Rotating by the negated
/// [`estimate_skew`] levels the text.
pub fn rotate(image: &GrayImage, degrees: f64) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let (sin, cos) = degrees.to_radians().sin_cos();
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let src = image.as_raw();
    let mut out = vec![255u8; w * h];
    for y in 0..h {
        let dy = y as f64 - cy;
        // Inverse mapping: for each output pixel, where it came from.
        let base_x = cx - dy * sin;
        let base_y = cy + dy * cos;
        for x in 0..w {
            let dx = x as f64 - cx;
            let sx = base_x + dx * cos;
            let sy = base_y + dx * sin;
            if sx < 0.0 || sy < 0.0 || sx >= (w - 1) as f64 || sy >= (h - 1) as f64 {
                continue;
            }
            let (x0, y0) = (sx as usize, sy as usize);
            let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
            let i = y0 * w + x0;
            let top = src[i] as f64 * (1.0 - fx) + src[i + 1] as f64 * fx;
            let bottom = src[i + w] as f64 * (1.0 - fx) + src[i + w + 1] as f64 * fx;
            out[y * w + x] = (top * (1.0 - fy) + bottom * fy + 0.5) as u8;
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_else(|| image.clone())
}

/// Level the page when it is skewed by more than a few hundredths of a degree; returns the angle found.
pub fn deskew(image: &GrayImage) -> (Option<GrayImage>, f64) {
    let angle = estimate_skew(image);
    if angle.abs() < 0.05 {
        return (None, angle);
    }
    (Some(rotate(image, -angle)), angle)
}

/// Regions of a page to read in order: (left, top, width, height) in image pixels.
pub type Region = (u32, u32, u32, u32);

/// Find a two-column header at the top of the page and return the regions to read in order: the left
/// block, the right block, then the rest of the page. `None` when the page opens with no such header.
pub fn header_columns(image: &GrayImage) -> Option<Vec<Region>> {
    let factor = ((image.width() as usize) / 850).max(1);
    let b = binarize(image, factor);
    let (w, h) = (b.w, b.h);
    // Text lines: runs of rows with some ink (specks alone do not make a line).
    let min_row_ink = (w / 300).max(2);
    let row_ink: Vec<usize> = (0..h)
        .map(|y| b.ink[y * w..(y + 1) * w].iter().filter(|&&v| v).count())
        .collect();
    let mut lines: Vec<(usize, usize)> = Vec::new();
    let mut y = 0;
    while y < h {
        if row_ink[y] >= min_row_ink {
            let start = y;
            while y < h && row_ink[y] >= min_row_ink {
                y += 1;
            }
            if y - start >= 3 {
                lines.push((start, y));
            }
        } else {
            y += 1;
        }
    }
    // Columns with ink inside a line. Dust specks are a few pixels: a column counts as ink when
    // the five columns around it hold more than a speck's worth.
    let columns = |(top, bottom): (usize, usize)| -> Vec<bool> {
        let counts: Vec<usize> = (0..w)
            .map(|x| (top..bottom).filter(|&yy| b.ink[yy * w + x]).count())
            .collect();
        (0..w)
            .map(|x| {
                counts[x.saturating_sub(2)..(x + 3).min(w)]
                    .iter()
                    .sum::<usize>()
                    > 6
            })
            .collect()
    };
    let gap_min = (w as f64 * 0.015) as usize;
    let (band_lo, band_hi) = ((w as f64 * 0.25) as usize, (w as f64 * 0.65) as usize);
    // Widest ink-free run of columns inside the middle band, with ink on both sides.
    let find_gap = |cols: &[bool]| -> Option<(usize, usize)> {
        let first = cols.iter().position(|&c| c)?;
        let last = cols.iter().rposition(|&c| c)?;
        let mut best: Option<(usize, usize)> = None;
        let mut x = band_lo.max(first + 1);
        while x < band_hi.min(last) {
            if !cols[x] {
                let s = x;
                while x < last && !cols[x] {
                    x += 1;
                }
                if x - s >= gap_min && best.is_none_or(|(bs, be)| x - s > be - bs) {
                    best = Some((s, x));
                }
            } else {
                x += 1;
            }
        }
        best
    };
    let top_limit = (h as f64 * 0.45) as usize;
    let mut gutter: Option<(usize, usize)> = None;
    let mut header_bottom = 0usize;
    let mut two_column_lines = 0;
    for &(top, bottom) in lines.iter().take_while(|l| l.0 < top_limit) {
        let cols = columns((top, bottom));
        // Rows of dust specks are no text line: thinner than a letter, or almost no inked columns.
        if bottom - top < w / 150 || cols.iter().filter(|&&c| c).count() < w / 50 {
            continue;
        }
        match gutter {
            None => {
                let g = find_gap(&cols)?;
                gutter = Some(g);
                two_column_lines = 1;
                header_bottom = bottom;
            }
            Some((gs, ge)) => {
                let crosses = cols[gs..ge].iter().any(|&c| c);
                if !crosses {
                    header_bottom = bottom;
                    if cols[..gs].iter().any(|&c| c) && cols[ge..].iter().any(|&c| c) {
                        two_column_lines += 1;
                    }
                    continue;
                }
                // The gutter may be narrower on this line: keep the part that stays empty.
                match find_gap(&cols) {
                    Some((s, e)) if s.max(gs) + gap_min / 2 <= e.min(ge) => {
                        gutter = Some((s.max(gs), e.min(ge)));
                        header_bottom = bottom;
                        two_column_lines += 1;
                    }
                    _ => break,
                }
            }
        }
    }
    let (gs, ge) = gutter?;
    if two_column_lines < 2 {
        return None;
    }
    let f = b.factor as u32;
    let (fw, fh) = (image.width(), image.height());
    let split = (((gs + ge) / 2) as u32 * f).min(fw - 1);
    let bottom = ((header_bottom as u32 + 2) * f).min(fh);
    if bottom >= fh {
        return None;
    }
    Some(vec![
        (0, 0, split, bottom),
        (split, 0, fw - split, bottom),
        (0, bottom, fw, fh - bottom),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic page of horizontal bars ("text lines"), sheared by `deg`.
    fn lined_page(deg: f64) -> GrayImage {
        let (w, h) = (1200u32, 1600u32);
        let t = deg.to_radians().tan();
        GrayImage::from_fn(w, h, |x, y| {
            let yy = y as f64 - x as f64 * t;
            let in_text = (200..1400).contains(&x) && yy > 100.0 && (yy as u32 % 40) < 12;
            image::Luma([if in_text { 20 } else { 235 }])
        })
    }

    #[test]
    fn finds_skew_angle() {
        for deg in [-1.4, 0.0, 0.6, 2.0] {
            let est = estimate_skew(&lined_page(deg));
            // lined_page(deg) descends to the right by tan(deg): a skew of -deg.
            assert!((est + deg).abs() < 0.1, "{deg} → {est}");
        }
    }

    #[test]
    fn rotation_levels_a_skewed_page() {
        let page = lined_page(1.5);
        let (leveled, angle) = deskew(&page);
        let leveled = leveled.expect("a 1.5° page is rotated");
        assert!(angle.abs() > 1.0);
        assert!(estimate_skew(&leveled).abs() < 0.2);
    }

    #[test]
    fn finds_two_column_header() {
        // Left block at 8–35 % of the width, right block at 45–92 %, three lines; then a full-width body.
        let page = GrayImage::from_fn(1000, 1400, |x, y| {
            let row = y / 40;
            let ink_row = y % 40 < 14;
            let x = x as f64 / 1000.0;
            let dark = ink_row
                && if row < 3 {
                    (0.08..0.35).contains(&x) || (0.45..0.92).contains(&x)
                } else if (5..30).contains(&row) {
                    (0.08..0.92).contains(&x)
                } else {
                    false
                };
            image::Luma([if dark { 10 } else { 240 }])
        });
        let regions = header_columns(&page).expect("header found");
        assert_eq!(regions.len(), 3);
        let (_, _, left_w, header_h) = regions[0];
        assert!((350..450).contains(&left_w), "split at {left_w}");
        assert!((90..130).contains(&header_h), "header bottom at {header_h}");
        // A page with no header: body text from the top.
        let body = GrayImage::from_fn(1000, 1400, |x, y| {
            let dark = y % 40 < 14 && (80..920).contains(&x) && y < 1200;
            image::Luma([if dark { 10 } else { 240 }])
        });
        assert!(header_columns(&body).is_none());
    }
}
