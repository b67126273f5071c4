//! Benchmarks and accuracy measurements that compare vnplan with a reference measured in the same run.
//!
//! `ocr`: read the page images of a folder of scanned PDFs with vnplan (deskew and layout included)
//! and with the `tesseract` command-line program (OMP_THREAD_LIMIT=1, as many processes at a time as
//! vnplan has threads), on the same images, and report seconds per page, their ratio, and the
//! character error rate of both against ground-truth page text.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::ocr::{self, OcrOptions};
use crate::source::{self, PageContent};

/// CER as the shared metric defines it: NFC, whitespace runs folded to one space, trimmed;
/// character edit distance / reference length.
pub fn cer_counts(reference: &str, hypothesis: &str) -> (usize, usize) {
    let fold = |s: &str| -> Vec<char> {
        let nfc: String = s.nfc().collect();
        nfc.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .collect()
    };
    let (r, h) = (fold(reference), fold(hypothesis));
    (strsim::generic_levenshtein(&r, &h), r.len())
}

#[derive(Debug, Clone, Serialize)]
pub struct PageScore {
    pub page: String,
    pub reference_chars: usize,
    pub vnplan_edits: usize,
    pub cli_edits: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OcrBenchReport {
    pub pages: Vec<PageScore>,
    pub threads: usize,
    pub vnplan_seconds_per_page: f64,
    pub cli_seconds_per_page: Option<f64>,
    /// vnplan time / CLI time (lower is faster).
    pub ratio: Option<f64>,
    pub vnplan_cer: f64,
    pub cli_cer: Option<f64>,
    pub page1_vnplan_cer: Option<f64>,
    pub page1_cli_cer: Option<f64>,
}

/// Pages of every PDF (or image) in `dir`, named `<stem>_p<N>` like the ground-truth files.
fn collect_pages(dir: &Path) -> Result<Vec<(String, image::GrayImage, f32)>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let mut pages = Vec::new();
    for f in files {
        let doc = source::open_path(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        let stem = f
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("page")
            .to_string();
        for n in 1..=doc.page_count() {
            match doc.page(n).map_err(|e| format!("{}: {e}", f.display()))? {
                PageContent::Image { image, dpi } => {
                    pages.push((format!("{stem}_p{n}"), image, dpi))
                }
                PageContent::Text { .. } => {
                    return Err(format!(
                        "{}: page {n} has a text layer, not a scan",
                        f.display()
                    ))
                }
            }
        }
    }
    Ok(pages)
}

/// Run the OCR benchmark. `gt_dir` holds `<stem>_p<N>.txt`; `with_cli` also times the tesseract CLI.
pub fn ocr(
    pdf_dir: &Path,
    gt_dir: &Path,
    threads: usize,
    with_cli: bool,
) -> Result<OcrBenchReport, String> {
    let pages = collect_pages(pdf_dir)?;
    if pages.is_empty() {
        return Err(format!("{}: no pages found", pdf_dir.display()));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| e.to_string())?;
    let options = OcrOptions::default();
    // Warm-up: load the model in each worker thread so both sides start with loaded models.
    pool.install(|| {
        (0..threads).into_par_iter().for_each(|_| {
            let tiny = image::GrayImage::from_pixel(64, 64, image::Luma([255]));
            let _ = ocr::read_page(&tiny, 300.0, 2, &options);
        })
    });
    let start = Instant::now();
    let ours: Vec<Result<String, String>> = pool.install(|| {
        pages
            .par_iter()
            .map(|(name, img, dpi)| {
                let n: u32 = name
                    .rsplit("_p")
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(2);
                ocr::read_page(img, *dpi, n, &options)
                    .map(|p| crate::normalize::normalize_page(&p.text).text)
                    .map_err(|e| format!("{name}: {e}"))
            })
            .collect()
    });
    let ours_secs = start.elapsed().as_secs_f64();

    let mut cli_texts: Option<Vec<String>> = None;
    let mut cli_secs = None;
    if with_cli {
        let tmp = std::env::temp_dir().join(format!("vnplan-bench-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).map_err(|e| e.to_string())?;
        let mut inputs = Vec::new();
        for (name, img, dpi) in &pages {
            let p = tmp.join(format!("{name}.png"));
            img.save(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            inputs.push((name.clone(), p, *dpi));
        }
        let cli_pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|e| e.to_string())?;
        let start = Instant::now();
        let texts: Vec<Result<String, String>> = cli_pool.install(|| {
            inputs
                .par_iter()
                .map(|(name, png, dpi)| {
                    let out = Command::new("tesseract")
                        .arg(png)
                        .arg("stdout")
                        .args(["-l", &options.languages, "--psm", "3", "--dpi"])
                        .arg(format!("{}", dpi.round()))
                        .env("OMP_THREAD_LIMIT", "1")
                        .output()
                        .map_err(|e| format!("cannot run tesseract: {e}"))?;
                    if !out.status.success() {
                        return Err(format!("{name}: tesseract failed"));
                    }
                    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
                })
                .collect()
        });
        cli_secs = Some(start.elapsed().as_secs_f64());
        let _ = std::fs::remove_dir_all(&tmp);
        cli_texts = Some(texts.into_iter().collect::<Result<Vec<_>, _>>()?);
    }

    let mut scores = Vec::new();
    for (i, (name, _, _)) in pages.iter().enumerate() {
        let gt_path = gt_dir.join(format!("{name}.txt"));
        let reference =
            std::fs::read_to_string(&gt_path).map_err(|e| format!("{}: {e}", gt_path.display()))?;
        let ours_text = ours[i].clone()?;
        let (edits, len) = cer_counts(&reference, &ours_text);
        let cli_edits = cli_texts.as_ref().map(|t| cer_counts(&reference, &t[i]).0);
        scores.push(PageScore {
            page: name.clone(),
            reference_chars: len,
            vnplan_edits: edits,
            cli_edits,
        });
    }
    let total: usize = scores.iter().map(|s| s.reference_chars).sum();
    let rate = |f: &dyn Fn(&PageScore) -> Option<usize>, only_p1: bool| -> Option<f64> {
        let sel: Vec<&PageScore> = scores
            .iter()
            .filter(|s| !only_p1 || s.page.ends_with("_p1"))
            .collect();
        let refs: usize = sel.iter().map(|s| s.reference_chars).sum();
        let edits: Option<usize> = sel.iter().map(|s| f(s)).sum();
        edits.map(|e| e as f64 / refs.max(1) as f64)
    };
    let n = pages.len() as f64;
    Ok(OcrBenchReport {
        threads,
        vnplan_seconds_per_page: ours_secs / n,
        cli_seconds_per_page: cli_secs.map(|s| s / n),
        ratio: cli_secs.map(|c| ours_secs / c),
        vnplan_cer: scores.iter().map(|s| s.vnplan_edits).sum::<usize>() as f64
            / total.max(1) as f64,
        cli_cer: rate(&|s| s.cli_edits, false),
        page1_vnplan_cer: rate(&|s| Some(s.vnplan_edits), true),
        page1_cli_cer: rate(&|s| s.cli_edits, true),
        pages: scores,
    })
}
