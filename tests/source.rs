//! Reading every input kind into page text, and every kind of bad input, from `fixtures/source`.
//!
//! The scanned fixtures are real pages (seed 002 page 2, seed 001 page 2) as office scanners write
//! them; their exact text is beside them, so these tests measure OCR accuracy, not just "some text".

use std::path::{Path, PathBuf};
use std::process::Command;

use vnplan::bench::cer_counts;
use vnplan::document::PageMethod;
use vnplan::pipeline::{Pipeline, PipelineOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn read_gt(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("ground truth fixture")
}

/// The pipeline without restoration: what source → ocr → normalize gives.
fn pipeline() -> Pipeline {
    Pipeline::new(PipelineOptions::default())
}

fn cer(reference: &str, hypothesis: &str) -> f64 {
    let (edits, len) = cer_counts(reference, hypothesis);
    edits as f64 / len.max(1) as f64
}

fn all_text(doc: &vnplan::document::Document) -> String {
    doc.pages
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn born_digital_pdfs_give_their_text_layer_without_ocr() {
    let gt = read_gt("source/borndigital.gt.txt");
    for name in ["source/borndigital_word.pdf", "source/borndigital_fpdf.pdf"] {
        let doc = pipeline().process(&fixture(name)).expect(name);
        assert!(doc.pages.len() >= 3, "{name}: {} pages", doc.pages.len());
        assert!(
            doc.pages.iter().all(|p| p.method == PageMethod::TextLayer),
            "{name}: every page from the text layer"
        );
        assert!(doc.pipeline.ocr.is_none(), "{name}: no OCR");
        let rate = cer(&gt, &all_text(&doc));
        assert!(rate <= 0.001, "{name}: CER {:.3} %", rate * 100.0);
    }
}

/// Scanned pages in each encoding a scanner writes, read at the source resolution.
#[test]
fn scanned_pdfs_in_every_image_encoding_are_read_by_ocr() {
    for (name, gt, limit) in [
        ("source/scan_dct_200dpi.pdf", "source/002_p2.gt.txt", 0.02),
        ("source/scan_ccitt_300dpi.pdf", "source/002_p2.gt.txt", 0.03),
        (
            "source/scan_flate1_300dpi.pdf",
            "source/001_p2.gt.txt",
            0.03,
        ),
    ] {
        let doc = pipeline().process(&fixture(name)).expect(name);
        assert_eq!(doc.pages.len(), 1);
        let page = &doc.pages[0];
        assert_eq!(page.method, PageMethod::Ocr, "{name}");
        let conf = page.ocr_confidence.expect("confidence");
        // Word boxes and confidences are kept: the evidence trail of the OCR text.
        assert!(page.words.len() > 50, "{name}: {} words", page.words.len());
        assert!(page
            .words
            .iter()
            .all(|w| (0.0..=1.0).contains(&w.confidence)
                && w.bbox[0] < w.bbox[2]
                && w.bbox[1] < w.bbox[3]));
        assert!((0.5..=1.0).contains(&conf), "{name}: confidence {conf}");
        let rate = cer(&read_gt(gt), &page.text);
        assert!(rate <= limit, "{name}: CER {:.2} %", rate * 100.0);
        let ocr = doc.pipeline.ocr.as_ref().expect("pipeline.ocr");
        assert_eq!(ocr["languages"], "vie");
    }
}

#[test]
fn images_png_jpeg_and_multipage_tiff() {
    let gt = read_gt("source/002_p2.gt.txt");
    for (name, media) in [
        ("source/page_200dpi.png", "image/png"),
        ("source/page_200dpi.jpg", "image/jpeg"),
    ] {
        let doc = pipeline().process(&fixture(name)).expect(name);
        assert_eq!(doc.source.media_type, media);
        assert_eq!(doc.pages.len(), 1);
        let rate = cer(&gt, &doc.pages[0].text);
        assert!(rate <= 0.02, "{name}: CER {:.2} %", rate * 100.0);
    }
    let doc = pipeline()
        .process(&fixture("source/pages_g4.tiff"))
        .expect("tiff");
    assert_eq!(doc.source.media_type, "image/tiff");
    assert_eq!(doc.pages.len(), 2, "both frames of the TIFF");
    for page in &doc.pages {
        let rate = cer(&gt, &page.text);
        assert!(
            rate <= 0.04,
            "tiff page {}: CER {:.2} %",
            page.number,
            rate * 100.0
        );
    }
}

#[test]
fn text_files_utf16_and_legacy_encodings() {
    let doc = pipeline()
        .process(&fixture("source/page_utf16.txt"))
        .expect("utf-16");
    assert_eq!(doc.pages[0].method, PageMethod::Text);
    assert_eq!(
        cer(&read_gt("source/002_p2.gt.txt"), &doc.pages[0].text),
        0.0
    );

    // TCVN3 has no code for some toned capitals (its files write them in lower case), so the
    // comparison ignores case.
    let want = vnplan::normalize::canonical(
        &std::fs::read_to_string(fixture("legacy/plan.utf8.txt")).expect("fixture"),
    )
    .to_lowercase();
    for name in ["legacy/plan.tcvn3.txt", "legacy/plan.vni.txt"] {
        let doc = pipeline().process(&fixture(name)).expect(name);
        let got = all_text(&doc).to_lowercase();
        assert_eq!(cer(&want, &got), 0.0, "{name}");
        assert!(
            doc.warnings.iter().any(|w| w.message.contains("legacy")),
            "{name}: the decoding is reported"
        );
    }
}

/// Each kind of bad input: a clear reason, the file (and page) named, never a panic.
#[test]
fn bad_inputs_fail_with_a_reason() {
    for (name, page, words) in [
        ("source/bad/truncated.pdf", None, "damaged or truncated"),
        ("source/bad/encrypted.pdf", None, "encrypted"),
        ("source/bad/zero_pages.pdf", None, "no pages"),
        (
            "source/bad/not_a_pdf.pdf",
            None,
            "not a document vnplan can read",
        ),
        ("source/bad/empty.txt", None, "empty"),
        ("source/bad/corrupt.jpg", Some(1), "JPEG image is corrupt"),
        ("source/bad/bomb.png", Some(1), "decompression bomb"),
        ("source/bad/bomb_image.pdf", Some(1), "decompression bomb"),
    ] {
        let failure = pipeline().process(&fixture(name)).expect_err(name);
        assert_eq!(failure.page, page, "{name}: {failure}");
        assert!(failure.reason.contains(words), "{name}: {}", failure.reason);
        assert!(failure
            .to_string()
            .contains(name.rsplit('/').next().unwrap_or(name)));
    }
}

#[test]
fn a_page_past_the_ocr_time_limit_costs_that_page_only() {
    let mut options = PipelineOptions::default();
    options.ocr.page_deadline_ms = 1;
    let failure = Pipeline::new(options)
        .process(&fixture("source/scan_dct_200dpi.pdf"))
        .expect_err("no page can be read in 1 ms");
    assert_eq!(failure.page, Some(1));
    assert!(failure.reason.contains("time limit"), "{}", failure.reason);
}

/// The command line over good and bad files together: the good ones are read, every bad one is
/// named on stderr with its reason, the exit code says something failed, nothing panics.
#[test]
fn a_batch_with_bad_files_reads_the_good_ones() {
    let bad = [
        "source/bad/truncated.pdf",
        "source/bad/encrypted.pdf",
        "source/bad/zero_pages.pdf",
        "source/bad/not_a_pdf.pdf",
        "source/bad/empty.txt",
        "source/bad/corrupt.jpg",
        "source/bad/bomb.png",
        "source/bad/bomb_image.pdf",
    ];
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vnplan"));
    cmd.args(["text", "--no-restore"]);
    cmd.arg(fixture("source/page_utf16.txt"));
    for b in bad {
        cmd.arg(fixture(b));
    }
    cmd.arg(fixture("source/borndigital_word.pdf"));
    let out = cmd.output().expect("run vnplan");
    assert_eq!(out.status.code(), Some(1), "some inputs failed");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        stdout.contains("hồ sơ minh chứng"),
        "the UTF-16 file before the bad ones is read"
    );
    assert!(
        stdout.contains("Yên Thế"),
        "the born-digital file after the bad ones is read"
    );
    for b in bad {
        let file = b.rsplit('/').next().unwrap_or(b);
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(file) && l.contains("error")),
            "{file} named on stderr:\n{stderr}"
        );
    }
}
