//! The ingest benchmark (`vnplan bench ingest`): how long a no-op re-run over many already-stored
//! files takes (walk + sha256 + skip), and whether the store slows the pipeline down (pages/s of
//! the processor alone vs. pages/s of a full ingest with the same processor and threads).
//!
//! The throughput half uses [`CpuBoundProcessor`]: the text processor plus a fixed amount of CPU
//! work per page, standing in for OCR/restoration so the store's writer competes for the same cores
//! as a real pipeline would.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::text::TextProcessor;
use super::{ingest, Failure, IngestError, IngestOptions, Processor};
use crate::document::Document;

#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Files for the no-op re-run.
    pub files: usize,
    /// Files for the throughput comparison.
    pub throughput_files: usize,
    pub pages_per_file: usize,
    /// CPU time the stand-in pipeline spends per page.
    pub page_cost: Duration,
    /// Worker threads; 0 = one per core.
    pub jobs: usize,
    /// Where to create the files and stores (a temporary directory inside it).
    pub dir: Option<PathBuf>,
    /// Alternating rounds of the throughput comparison; the best of each side is kept.
    pub rounds: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BenchReport {
    pub files: usize,
    pub first_run_seconds: f64,
    pub noop_seconds: f64,
    /// noop / first run.
    pub noop_ratio: f64,
    pub throughput_files: usize,
    pub pages: u64,
    pub pipeline_pages_per_second: f64,
    pub ingest_pages_per_second: f64,
    /// ingest / pipeline alone (1.0 = the store costs nothing).
    pub throughput_ratio: f64,
}

/// The text processor plus `page_cost` of CPU work per page.
pub struct CpuBoundProcessor {
    pub inner: TextProcessor,
    pub page_cost: Duration,
}

impl Processor for CpuBoundProcessor {
    fn version(&self) -> String {
        format!("{}+bench", self.inner.version())
    }

    fn process(&self, path: &Path, sha256: &str) -> Result<Document, Failure> {
        let mut doc = self.inner.process(path, sha256)?;
        doc.pipeline.version = self.version();
        for page in &doc.pages {
            let start = Instant::now();
            let mut hasher = Sha256::new();
            while start.elapsed() < self.page_cost {
                hasher.update(page.text.as_bytes());
            }
            std::hint::black_box(hasher.finalize());
        }
        Ok(doc)
    }
}

/// A small Vietnamese plan page, varied by `n` so every file has its own hash.
fn page_text(file: usize, page: usize) -> String {
    format!(
        "KẾ HOẠCH số {file}/KH-UBND\nThực hiện Chương trình MTQG xây dựng nông thôn mới năm 2025\n\
         Trang {page}. Phấn đấu đến cuối năm có {pct}% số hộ sử dụng nước sạch; \
         duy trì tiêu chí số {crit} về giao thông; làm mới {km} km đường trục xã.\n",
        pct = 80 + (file + page) % 20,
        crit = 1 + (file * 7 + page) % 19,
        km = 1 + file % 9,
    )
}

fn make_files(dir: &Path, count: usize, pages: usize) -> Result<(), IngestError> {
    fs::create_dir_all(dir).map_err(super::io_error(dir))?;
    (0..count).into_par_iter().try_for_each(|i| {
        // 100 files per folder, as uploads usually are.
        let sub = dir.join(format!("{:04}", i / 100));
        fs::create_dir_all(&sub).map_err(super::io_error(&sub))?;
        let text: Vec<String> = (1..=pages).map(|p| page_text(i, p)).collect();
        let path = sub.join(format!("kh-{i:06}.txt"));
        fs::write(&path, text.join("\u{c}")).map_err(super::io_error(&path))
    })
}

/// Run the benchmark; `progress` gets a line per step.
pub fn run(
    opts: &BenchOptions,
    progress: &mut dyn FnMut(&str),
) -> Result<BenchReport, IngestError> {
    let tmp = match &opts.dir {
        Some(d) => tempfile::tempdir_in(d),
        None => tempfile::tempdir(),
    }
    .map_err(|e| IngestError::Io {
        path: opts.dir.clone().unwrap_or_else(std::env::temp_dir),
        source: e,
    })?;
    let mut noop = |_: super::IngestEvent| {};

    // 1. The no-op re-run.
    let files_dir = tmp.path().join("noop");
    progress(&format!("creating {} files", opts.files));
    make_files(&files_dir, opts.files, opts.pages_per_file)?;
    let text = TextProcessor::default();
    let mut options = IngestOptions::new(tmp.path().join("noop.db"));
    options.jobs = opts.jobs;
    progress("first ingest");
    let first = ingest(std::slice::from_ref(&files_dir), &text, &options, &mut noop)?;
    progress(&format!(
        "first ingest: {} new in {:.2} s",
        first.new, first.seconds
    ));
    let start = Instant::now();
    let again = ingest(std::slice::from_ref(&files_dir), &text, &options, &mut noop)?;
    let noop_seconds = start.elapsed().as_secs_f64();
    progress(&format!(
        "no-op re-run: {} skipped, {} new in {noop_seconds:.2} s",
        again.skipped, again.new
    ));

    // 2. Pipeline alone vs. full ingest.
    let tp_dir = tmp.path().join("throughput");
    make_files(&tp_dir, opts.throughput_files, opts.pages_per_file)?;
    let processor = CpuBoundProcessor {
        inner: TextProcessor::default(),
        page_cost: opts.page_cost,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| IngestError::Threads(e.to_string()))?;
    let (inputs, _) = super::walk(std::slice::from_ref(&tp_dir), &Default::default(), &[]);
    // The machine may be shared: alternate the two measurements and keep each one's best round.
    let (mut pipeline_pps, mut ingest_pps, mut pages) = (0f64, 0f64, 0u64);
    for round in 1..=opts.rounds.max(1) {
        progress(&format!("round {round}: pipeline alone"));
        let start = Instant::now();
        pages = pool.install(|| {
            inputs
                .par_iter()
                .map(|path| {
                    let sha = super::sha256_file(path).map(|(s, _)| s).unwrap_or_default();
                    processor
                        .process(path, &sha)
                        .map(|d| d.pages.len() as u64)
                        .unwrap_or(0)
                })
                .sum()
        });
        pipeline_pps = pipeline_pps.max(pages as f64 / start.elapsed().as_secs_f64());
        progress(&format!("round {round}: full ingest"));
        let db = tmp.path().join(format!("throughput-{round}.db"));
        let mut options = IngestOptions::new(db);
        options.jobs = opts.jobs;
        let run = ingest(
            std::slice::from_ref(&tp_dir),
            &processor,
            &options,
            &mut noop,
        )?;
        ingest_pps = ingest_pps.max(run.pages as f64 / run.seconds);
    }

    Ok(BenchReport {
        files: opts.files,
        first_run_seconds: first.seconds,
        noop_seconds,
        noop_ratio: noop_seconds / first.seconds,
        throughput_files: opts.throughput_files,
        pages,
        pipeline_pages_per_second: pipeline_pps,
        ingest_pages_per_second: ingest_pps,
        throughput_ratio: ingest_pps / pipeline_pps,
    })
}
