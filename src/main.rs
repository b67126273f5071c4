//! The `vnplan` command line: parses arguments, calls the library, prints.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use vnplan::pipeline::{Pipeline, PipelineOptions};
use vnplan::vietnamese::legacy::LegacyEncoding;

mod cli;
use cli::report;

/// mimalloc: restoration allocates small vectors and strings per token, and glibc's allocator
/// took a tenth of its time (`vnplan bench restore`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "vnplan",
    version,
    about = "Vietnamese New Rural Development plan documents into searchable text and structured data",
    after_help = "Exit codes: 0 all inputs succeeded, 1 some inputs failed (each named on stderr), 2 usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print each page's text (pages separated by a form feed), or with --json one object per file
    /// with `source` and `pages` as in vnplan.document/1.
    Text {
        /// PDF, image (PNG, JPEG, TIFF) or text files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// One JSON object per file (JSON Lines).
        #[arg(long)]
        json: bool,
        /// Tesseract languages.
        #[arg(long, default_value = "vie")]
        lang: String,
        /// Time limit for OCR of one page, in seconds.
        #[arg(long, default_value_t = 120.0)]
        page_timeout: f64,
        /// Do not level skewed page images.
        #[arg(long)]
        no_deskew: bool,
        /// Print the text as read and normalized, without diacritic restoration.
        #[arg(long)]
        no_restore: bool,
    },
    /// Run the whole pipeline and write one vnplan.document/1 JSON per file: DIR/<file stem>.json,
    /// or standard output for one file without --out.
    Extract {
        /// PDF, image (PNG, JPEG, TIFF) or text files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Folder for the JSON documents.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Restore Vietnamese diacritics and repair OCR garble, token by token (FILE or stdin).
    Restore(cli::restore::RestoreArgs),
    /// Language-model tools: build the restoration model from a corpus.
    Lm {
        #[command(subcommand)]
        command: cli::restore::LmCommand,
    },
    /// Decode a text file in a legacy 8-bit Vietnamese encoding (TCVN3/ABC, VNI) to UTF-8 (NFC).
    LegacyDecode {
        /// The 8-bit text file.
        input: PathBuf,
        /// tcvn3, tcvn3h or vni; detected from the text when left out.
        #[arg(long)]
        encoding: Option<LegacyEncoding>,
        /// Where to write the UTF-8 text (standard output when left out).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Encode a UTF-8 text file in a legacy 8-bit Vietnamese encoding (for test inputs).
    LegacyEncode {
        /// The UTF-8 text file.
        input: PathBuf,
        /// tcvn3, tcvn3h or vni.
        #[arg(long)]
        encoding: LegacyEncoding,
        /// Where to write the 8-bit bytes.
        #[arg(long, short)]
        output: PathBuf,
    },
    Ingest(cli::store::IngestArgs),
    Query(cli::store::QueryArgs),
    Search(cli::store::SearchArgs),
    Sql(cli::store::SqlArgs),
    Export(cli::store::ExportArgs),
    /// Score outputs against gold files.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
    /// Benchmarks that print ratios against a reference measured in the same run.
    Bench {
        #[command(subcommand)]
        what: BenchCommand,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Token accuracy of restoration against gold text.
    Restore(cli::restore::EvalRestoreArgs),
    /// Score extracted JSON documents against gold (`NNN.gold.json`), as schema/ANNOTATION.md defines.
    Extract {
        /// Directory of extracted documents (`*.json`).
        #[arg(long)]
        out: PathBuf,
        /// Directory of gold files (`NNN.gold.json`).
        #[arg(long)]
        gold: PathBuf,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The batch: a no-op re-run over many stored files, and ingest throughput against the
    /// pipeline's own pages/s.
    Ingest(cli::store::BenchArgs),
    /// Restoration throughput, model load time and peak memory.
    Restore(cli::restore::BenchRestoreArgs),
    /// OCR of scanned PDFs: seconds per page vs. the tesseract CLI on the same images, and CER.
    Ocr {
        /// Folder of scanned PDFs (e.g. ../shared/scans/pdf/scan300).
        #[arg(long)]
        pdf_dir: PathBuf,
        /// Folder of ground-truth page texts named <pdf stem>_p<N>.txt.
        #[arg(long)]
        gt_dir: PathBuf,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Skip the tesseract CLI reference.
        #[arg(long)]
        no_cli: bool,
    },
}

/// Tesseract is built with OpenMP, which reads OMP_THREAD_LIMIT once, when the library loads: set
/// from inside the process it is too late, and unlimited it makes a page 4× slower on two cores.
/// So the process re-executes itself with the variable set, before any Tesseract code runs.
fn ensure_omp_thread_limit() {
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("OMP_THREAD_LIMIT", "1")
                .exec();
            // exec returns only on failure: go on, slower but correct.
            eprintln!("vnplan: warning: could not re-execute with OMP_THREAD_LIMIT=1 ({err}); OCR will be slower");
        }
    }
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(code.clamp(0, 255) as u8)
}

fn main() -> ExitCode {
    ensure_omp_thread_limit();
    let cli = Cli::parse();
    match cli.command {
        Command::Text {
            files,
            json,
            lang,
            page_timeout,
            no_deskew,
            no_restore,
        } => {
            let mut options = if no_restore {
                PipelineOptions::default()
            } else {
                match Pipeline::default_options() {
                    Ok(o) => o,
                    Err(e) => return report(Err(e.into())),
                }
            };
            options.ocr.languages = lang;
            options.ocr.page_deadline_ms = (page_timeout * 1000.0).round().max(0.0) as u32;
            options.ocr.deskew = !no_deskew;
            cli::text::run(&files, json, Pipeline::new(options))
        }
        Command::Extract { files, out } => match Pipeline::default_options() {
            Ok(options) => cli::text::extract(&files, out.as_deref(), Pipeline::new(options)),
            Err(e) => report(Err(e.into())),
        },
        Command::LegacyDecode {
            input,
            encoding,
            output,
        } => report(cli::legacy::decode(&input, encoding, output.as_deref())),
        Command::LegacyEncode {
            input,
            encoding,
            output,
        } => report(cli::legacy::encode(&input, encoding, &output)),
        Command::Ingest(args) => exit(cli::store::ingest(args)),
        Command::Query(args) => exit(cli::store::query(args)),
        Command::Search(args) => exit(cli::store::search(args)),
        Command::Sql(args) => exit(cli::store::sql(args)),
        Command::Export(args) => exit(cli::store::export(args)),
        Command::Restore(args) => report(cli::restore::restore(args)),
        Command::Lm { command } => report(cli::restore::lm(command)),
        Command::Eval { what } => match what {
            EvalCommand::Restore(args) => report(cli::restore::eval(args)),
            EvalCommand::Extract { out, gold } => report(cli::eval::extract(&out, &gold)),
        },
        Command::Bench { what } => match what {
            BenchCommand::Restore(args) => report(cli::restore::bench(args)),
            BenchCommand::Ingest(args) => exit(cli::store::bench(args)),
            BenchCommand::Ocr {
                pdf_dir,
                gt_dir,
                threads,
                no_cli,
            } => match vnplan::bench::ocr(&pdf_dir, &gt_dir, threads, !no_cli) {
                Ok(r) => {
                    for p in &r.pages {
                        let cli = p
                            .cli_edits
                            .map(|e| {
                                format!(
                                    "{:6.2} %",
                                    100.0 * e as f64 / p.reference_chars.max(1) as f64
                                )
                            })
                            .unwrap_or_else(|| "-".into());
                        println!(
                            "{:<10} chars {:5}  vnplan CER {:6.2} %  tesseract CLI CER {cli}",
                            p.page,
                            p.reference_chars,
                            100.0 * p.vnplan_edits as f64 / p.reference_chars.max(1) as f64
                        );
                    }
                    let pct = |v: Option<f64>| {
                        v.map(|v| format!("{:.2} %", 100.0 * v))
                            .unwrap_or_else(|| "-".into())
                    };
                    println!("pages: {}  threads: {}", r.pages.len(), r.threads);
                    println!(
                        "CER all pages: vnplan {}  tesseract CLI {}",
                        pct(Some(r.vnplan_cer)),
                        pct(r.cli_cer)
                    );
                    println!(
                        "CER page 1s:   vnplan {}  tesseract CLI {}",
                        pct(r.page1_vnplan_cer),
                        pct(r.page1_cli_cer)
                    );
                    println!(
                        "seconds/page:  vnplan {:.3}  tesseract CLI {}",
                        r.vnplan_seconds_per_page,
                        r.cli_seconds_per_page
                            .map(|s| format!("{s:.3}"))
                            .unwrap_or_else(|| "-".into())
                    );
                    if let Some(ratio) = r.ratio {
                        println!("ratio vnplan/CLI: {ratio:.3}");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("vnplan: error: {e}");
                    ExitCode::from(1)
                }
            },
        },
    }
}
