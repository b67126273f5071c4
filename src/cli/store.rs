//! `vnplan ingest`, `query`, `search`, `sql`, `export`, `bench ingest`: the batch and the analysts' side.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use vnplan::ingest::{self, text::SLEEP_ENV, IngestError, IngestEvent, IngestOptions};
use vnplan::pipeline::Pipeline;
use vnplan::store::export::ExportFormat;
use vnplan::store::query::{Format, QueryError};
use vnplan::store::{QueryFilters, QueryKind, Store};

/// Exit status: a document failed (ingest), or the command could not do its job.
const EXIT_FAILED: i32 = 1;
/// Exit status: the command line was wrong (clap uses it too).
const EXIT_USAGE: i32 = 2;
/// Exit status: the ingest run itself could not complete (store unusable, disk full).
const EXIT_RUN_ABORTED: i32 = 3;

const DEFAULT_DB: &str = "vnplan.db";

/// Ingest files and folders into the store: hash each file, skip what is stored already,
/// process the rest in parallel, one transaction per document.
///
/// Exit status: 0 all documents succeeded; 1 some documents failed (each recorded in the
/// `failures` table with its reason); 2 usage error (bad option, missing input path);
/// 3 the run could not complete (store unusable, disk full).
#[derive(Args)]
pub struct IngestArgs {
    /// Files and folders to ingest (folders are walked; hidden entries are skipped).
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// The store (SQLite), created if missing.
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
    /// Also write each new document's JSON (vnplan.document/1) into this folder.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads (0 = one per core).
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
    /// Redo documents stored by another pipeline or model version.
    #[arg(long)]
    reprocess_stale: bool,
    /// Write a JSON run report here.
    #[arg(long)]
    report: Option<PathBuf>,
    /// No progress, and no summary unless something failed (for cron).
    #[arg(long, short = 'q')]
    quiet: bool,
}

/// Progress display: a bar on a terminal, a plain line every few seconds otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    plain: bool,
    started: Instant,
    last_line: Instant,
    done: u64,
    total: u64,
    pages: u64,
}

impl Progress {
    fn new(quiet: bool) -> Progress {
        let terminal = std::io::stderr().is_terminal();
        let bar = (terminal && !quiet).then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_message("finding files");
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            bar,
            plain: !terminal && !quiet,
            started: Instant::now(),
            last_line: Instant::now(),
            done: 0,
            total: 0,
            pages: 0,
        }
    }

    fn rate(&self) -> f64 {
        self.pages as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    fn event(&mut self, event: IngestEvent) {
        match event {
            IngestEvent::Walked { files } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!("hashing {files} files"));
                }
            }
            IngestEvent::Planned {
                to_process,
                skipped,
                stale,
            } => {
                self.total = to_process as u64;
                self.started = Instant::now();
                if let Some(bar) = &self.bar {
                    bar.set_length(self.total);
                    bar.set_position(0);
                    bar.set_style(
                        ProgressStyle::with_template("{bar:30} {pos}/{len} docs  {msg}  ETA {eta}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    bar.set_message("0 pages");
                }
                if self.plain {
                    eprintln!("ingest: {to_process} to process, {skipped} skipped ({stale} stale)");
                }
            }
            IngestEvent::Done { pages, .. } => {
                self.done += 1;
                self.pages += u64::from(pages);
                self.tick();
            }
            IngestEvent::Failed(failure) => {
                self.done += 1;
                match &self.bar {
                    Some(bar) => bar.println(format!("failed: {failure}")),
                    None => eprintln!("failed: {failure}"),
                }
                self.tick();
            }
        }
    }

    fn tick(&mut self) {
        if let Some(bar) = &self.bar {
            bar.set_position(self.done);
            bar.set_message(format!("{} pages  {:.1} pages/s", self.pages, self.rate()));
        } else if self.plain && self.last_line.elapsed() >= Duration::from_secs(10) {
            self.last_line = Instant::now();
            eprintln!(
                "ingest: {}/{} documents, {} pages, {:.1} pages/s",
                self.done,
                self.total,
                self.pages,
                self.rate()
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn ingest(args: IngestArgs) -> i32 {
    let opts = IngestOptions {
        db: args.db.clone(),
        out_dir: args.out.clone(),
        jobs: args.jobs,
        reprocess_stale: args.reprocess_stale,
        report: args.report.clone(),
    };
    let mut options = match Pipeline::default_options() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("vnplan: error: {e}");
            return EXIT_RUN_ABORTED;
        }
    };
    options.test_delay_ms = std::env::var(SLEEP_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0);
    let processor = Pipeline::new(options);
    let mut progress = Progress::new(args.quiet);
    let result = ingest::ingest(&args.paths, &processor, &opts, &mut |e| progress.event(e));
    progress.finish();
    processor.release();
    match result {
        Ok(summary) => {
            if !args.quiet || summary.failed > 0 {
                println!(
                    "{}: {} new, {} skipped ({} stale), {} failed; {} pages in {:.2} s, {:.1} pages/s",
                    args.db.display(),
                    summary.new,
                    summary.skipped,
                    summary.stale,
                    summary.failed,
                    summary.pages,
                    summary.seconds,
                    summary.pages_per_second
                );
            }
            if args.quiet {
                for failure in &summary.failures {
                    eprintln!("failed: {failure}");
                }
            }
            summary.exit_code()
        }
        Err(IngestError::Usage(message)) => {
            eprintln!("error: {message}");
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_RUN_ABORTED
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Kind {
    Targets,
    Criteria,
    Budget,
    Units,
    Docs,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TableFormat {
    Table,
    Csv,
    Json,
}

impl From<TableFormat> for Format {
    fn from(f: TableFormat) -> Format {
        match f {
            TableFormat::Table => Format::Table,
            TableFormat::Csv => Format::Csv,
            TableFormat::Json => Format::Json,
        }
    }
}

/// List targets (chỉ tiêu), criteria (tiêu chí), budget items, responsible units or documents.
#[derive(Args)]
pub struct QueryArgs {
    kind: Kind,
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
    /// Criterion number (targets, criteria, units, docs).
    #[arg(long)]
    criterion: Option<u32>,
    /// Criterion status: achieved, not_achieved, target, maintained, mentioned (criteria, docs).
    #[arg(long)]
    status: Option<String>,
    /// Responsible unit, loosely matched (units, docs); unit of measure for targets (%, xã, km).
    #[arg(long)]
    unit: Option<String>,
    /// Issuing body, loosely matched (case and diacritics ignored).
    #[arg(long)]
    issuer: Option<String>,
    /// Issuer level: trung_uong, tinh, huyen, xa, thon.
    #[arg(long)]
    level: Option<String>,
    /// Plan year (or the year of the document's date).
    #[arg(long)]
    year: Option<i32>,
    /// A document: id, sha256 prefix, number (số/ký hiệu) or part of its path.
    #[arg(long)]
    doc: Option<String>,
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
    /// Widest cell in the table view (characters).
    #[arg(long, default_value_t = 40)]
    max_width: usize,
}

fn print_table(table: &vnplan::store::Table, format: TableFormat, max_width: usize) -> i32 {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match table.write(&mut out, format.into(), max_width.max(4)) {
        Ok(()) => 0,
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            EXIT_FAILED
        }
    }
}

fn open_read_only(db: &std::path::Path) -> Result<Store, i32> {
    Store::open_read_only(db).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_FAILED
    })
}

pub fn query(args: QueryArgs) -> i32 {
    let store = match open_read_only(&args.db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let kind = match args.kind {
        Kind::Targets => QueryKind::Targets,
        Kind::Criteria => QueryKind::Criteria,
        Kind::Budget => QueryKind::Budget,
        Kind::Units => QueryKind::Units,
        Kind::Docs => QueryKind::Docs,
    };
    let filters = QueryFilters {
        criterion: args.criterion,
        status: args.status,
        unit: args.unit,
        issuer: args.issuer,
        level: args.level,
        year: args.year,
        doc: args.doc,
    };
    match store.query(kind, &filters) {
        Ok(table) => print_table(&table, args.format, args.max_width),
        Err(QueryError::Usage(message)) => {
            eprintln!("error: {message}");
            EXIT_USAGE
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum SearchFormat {
    Table,
    Json,
}

/// Full-text search over page text; case and diacritics are ignored ("nuoc sach" finds
/// "nước sạch"). Every word must occur on the page.
#[derive(Args)]
pub struct SearchArgs {
    #[arg(required = true)]
    text: Vec<String>,
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
    /// At most this many pages.
    #[arg(long, default_value_t = 20)]
    limit: usize,
    #[arg(long, value_enum, default_value = "table")]
    format: SearchFormat,
}

pub fn search(args: SearchArgs) -> i32 {
    let store = match open_read_only(&args.db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let terminal = std::io::stdout().is_terminal();
    let (open, close) = match args.format {
        SearchFormat::Table if terminal => ("\x1b[1;33m", "\x1b[0m"),
        _ => ("«", "»"),
    };
    let hits = match store.search(&args.text.join(" "), args.limit, open, close) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_FAILED;
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = match args.format {
        SearchFormat::Json => serde_json::to_writer_pretty(&mut out, &hits)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        SearchFormat::Table => (|| {
            for hit in &hits {
                writeln!(
                    out,
                    "doc {} page {}  {}  {}",
                    hit.document_id,
                    hit.page,
                    hit.number.as_deref().unwrap_or("-"),
                    hit.path
                )?;
                writeln!(out, "    {}", hit.snippet)?;
            }
            writeln!(out, "({} pages)", hits.len())
        })(),
    };
    match written {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            EXIT_FAILED
        }
    }
}

/// Run one SQL statement on a read-only connection (writes are refused). `vn_fold(text)`
/// folds case and diacritics for loose matching.
#[derive(Args)]
pub struct SqlArgs {
    statement: String,
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
    #[arg(long, value_enum, default_value = "table")]
    format: TableFormat,
    #[arg(long, default_value_t = 60)]
    max_width: usize,
}

pub fn sql(args: SqlArgs) -> i32 {
    let store = match open_read_only(&args.db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    match store.sql(&args.statement) {
        Ok(table) => print_table(&table, args.format, args.max_width),
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ExportKind {
    Csv,
    Jsonl,
    Xlsx,
}

/// Export every table: csv or jsonl into a folder (one file per table), xlsx into one workbook
/// (one sheet per table).
#[derive(Args)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    format: ExportKind,
    /// Folder (csv, jsonl) or file (xlsx).
    #[arg(long)]
    out: PathBuf,
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
}

pub fn export(args: ExportArgs) -> i32 {
    let store = match open_read_only(&args.db) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let format = match args.format {
        ExportKind::Csv => ExportFormat::Csv,
        ExportKind::Jsonl => ExportFormat::Jsonl,
        ExportKind::Xlsx => ExportFormat::Xlsx,
    };
    match store.export(format, &args.out) {
        Ok(summary) => {
            let tables: Vec<String> = summary
                .tables
                .iter()
                .map(|(name, rows)| format!("{name} {rows}"))
                .collect();
            println!("{}: {}", args.out.display(), tables.join(", "));
            if summary.truncated_cells > 0 {
                eprintln!(
                    "warning: {} cells longer than 32767 characters were cut (an Excel limit); csv and jsonl keep them whole",
                    summary.truncated_cells
                );
            }
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}

/// Benchmark the batch: a no-op re-run over many stored files, and ingest throughput against
/// the processor's own pages/s.
#[derive(Args)]
pub struct BenchArgs {
    /// Files for the no-op re-run.
    #[arg(long, default_value_t = 10_000)]
    files: usize,
    /// Files for the throughput comparison.
    #[arg(long, default_value_t = 300)]
    throughput_files: usize,
    #[arg(long, default_value_t = 3)]
    pages: usize,
    /// CPU milliseconds the stand-in pipeline spends per page.
    #[arg(long, default_value_t = 20)]
    page_ms: u64,
    #[arg(long, short = 'j', default_value_t = 0)]
    jobs: usize,
    /// Where to create the temporary files (default: the system temp folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Alternating rounds of the throughput comparison (best of each side kept).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

pub fn bench(args: BenchArgs) -> i32 {
    let opts = ingest::bench::BenchOptions {
        files: args.files,
        throughput_files: args.throughput_files,
        pages_per_file: args.pages.max(1),
        page_cost: Duration::from_millis(args.page_ms),
        jobs: args.jobs,
        dir: args.dir,
        rounds: args.rounds,
    };
    match ingest::bench::run(&opts, &mut |line| eprintln!("bench: {line}")) {
        Ok(r) => {
            println!(
                "no-op re-run over {} stored files: {:.2} s (first ingest {:.2} s, ratio {:.3})",
                r.files, r.noop_seconds, r.first_run_seconds, r.noop_ratio
            );
            println!(
                "throughput over {} files, {} pages: pipeline alone {:.1} pages/s, ingest {:.1} pages/s, ratio {:.3}",
                r.throughput_files,
                r.pages,
                r.pipeline_pages_per_second,
                r.ingest_pages_per_second,
                r.throughput_ratio
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_FAILED
        }
    }
}
