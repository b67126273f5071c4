//! The batch: walk files and folders, hash each file (sha256), skip what the store already holds
//! for that content and processor version, process the rest in parallel, and push each finished
//! document (or failure) to the sinks — the JSON writer and the SQLite store — as soon as it is done.
//!
//! In: paths, a [`Processor`] (the pipeline, or [`text::TextProcessor`] for plain text), options.
//! Out: a [`RunSummary`], events for a progress display ([`IngestEvent`]), rows in the store, JSON
//! files. Nothing here prints; `main.rs` turns events into a progress bar.
//!
//! Why it is safe to kill: each document is one store transaction, written after its JSON file (an
//! atomic rename), so a killed run leaves whole documents only, and the next run skips them by hash.
//! Two runs at once serialize their writes through SQLite's lock (WAL, busy timeout) and a document
//! both runs made is stored once (`sha256` is unique).

pub mod bench;
pub mod text;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{self, Read, Write};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::document::Document;
use crate::store::{PutOutcome, RunTotals, Store, StoreError};

/// A document that could not be processed, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Failure {
    pub path: PathBuf,
    pub sha256: Option<String>,
    /// The page that failed, when the failure is one page's.
    pub page: Option<u32>,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(page) = self.page {
            write!(f, " (page {page})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// Turns one input file into a [`Document`]. The pipeline implements it; the batch calls it from
/// several threads at once.
pub trait Processor: Sync {
    /// Pipeline + model + decoder-settings version: a stored document made by another version is
    /// stale.
    fn version(&self) -> String;
    /// Process the file whose content hashes to `sha256`.
    fn process(&self, path: &Path, sha256: &str) -> Result<Document, Failure>;
}

/// Where finished documents and failures go. The batch drives the processing and pushes each
/// result to every sink in turn (JSON files first, then the store: a crash in between only means
/// the document is redone).
pub trait Sink {
    fn document(&mut self, doc: &Document) -> Result<Stored, SinkError>;
    fn failure(&mut self, failure: &Failure) -> Result<(), SinkError>;
}

/// What a sink did with a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// Written (or replaced a stale copy).
    Written,
    /// Already there: another run stored the same content and version meanwhile.
    AlreadyStored,
}

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// The store as a sink: documents tagged with the run and processor version.
pub struct StoreSink {
    pub store: Store,
    pub version: String,
    pub run_id: Option<i64>,
}

impl Sink for StoreSink {
    fn document(&mut self, doc: &Document) -> Result<Stored, SinkError> {
        Ok(
            match self.store.put_document(doc, &self.version, self.run_id)? {
                PutOutcome::AlreadyCurrent => Stored::AlreadyStored,
                PutOutcome::Inserted | PutOutcome::Replaced => Stored::Written,
            },
        )
    }

    fn failure(&mut self, failure: &Failure) -> Result<(), SinkError> {
        Ok(self
            .store
            .record_failure(failure, &self.version, self.run_id)?)
    }
}

/// One `vnplan.document/1` JSON file per document in a directory, named
/// `<file stem>.<first 12 hex digits of sha256>.json` (same-named files in different folders do
/// not collide). Written to a temporary file and renamed, so a file is whole or absent.
pub struct JsonSink {
    pub dir: PathBuf,
}

impl JsonSink {
    pub fn file_name(doc: &Document) -> String {
        let stem = Path::new(&doc.source.path)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "document".to_string());
        let short = doc.source.sha256.get(..12).unwrap_or(&doc.source.sha256);
        format!("{stem}.{short}.json")
    }
}

impl Sink for JsonSink {
    fn document(&mut self, doc: &Document) -> Result<Stored, SinkError> {
        let path = self.dir.join(Self::file_name(doc));
        let io = |source| SinkError::Io {
            path: path.clone(),
            source,
        };
        let mut tmp = tempfile::NamedTempFile::new_in(&self.dir).map_err(io)?;
        serde_json::to_writer_pretty(&mut tmp, doc).map_err(|e| io(e.into()))?;
        tmp.write_all(b"\n").map_err(io)?;
        tmp.persist(&path).map_err(|e| io(e.error))?;
        Ok(Stored::Written)
    }

    fn failure(&mut self, _failure: &Failure) -> Result<(), SinkError> {
        // Failures are recorded by the store and the run report; no JSON document exists.
        Ok(())
    }
}

/// Options of one run.
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// The store (created if missing).
    pub db: PathBuf,
    /// Also write each document's JSON here.
    pub out_dir: Option<PathBuf>,
    /// Worker threads; 0 = one per core.
    pub jobs: usize,
    /// Redo documents stored by another processor version (by default they are skipped and
    /// counted as stale).
    pub reprocess_stale: bool,
    /// Write the run report (JSON) here.
    pub report: Option<PathBuf>,
}

impl IngestOptions {
    pub fn new(db: impl Into<PathBuf>) -> Self {
        IngestOptions {
            db: db.into(),
            out_dir: None,
            jobs: 0,
            reprocess_stale: false,
            report: None,
        }
    }
}

/// Progress of a run, for a display.
#[derive(Debug)]
pub enum IngestEvent<'a> {
    /// The paths were walked: `files` regular files found.
    Walked { files: usize },
    /// The files were hashed and compared with the store.
    Planned {
        to_process: usize,
        skipped: usize,
        stale: usize,
    },
    /// A document was processed and written.
    Done { path: &'a Path, pages: u32 },
    /// A document failed (already recorded).
    Failed(&'a Failure),
}

/// What a run did; also the `--report` JSON.
#[derive(Debug, Clone, Serialize)]
pub struct RunSummary {
    pub run_id: i64,
    pub db: PathBuf,
    pub version: String,
    pub paths: Vec<PathBuf>,
    /// Regular files found.
    pub files: u64,
    /// Documents processed and stored in this run.
    pub new: u64,
    /// Files skipped: already stored for this version, stale (without `--reprocess-stale`), the
    /// same content as another file of this run, or stored meanwhile by a concurrent run.
    pub skipped: u64,
    /// Of the skipped, those stored by another processor version.
    pub stale: u64,
    pub failed: u64,
    /// Pages of the new documents.
    pub pages: u64,
    pub seconds: f64,
    pub pages_per_second: f64,
    pub failures: Vec<Failure>,
}

impl RunSummary {
    /// Exit status for the command line: 0 all succeeded, 1 some documents failed.
    pub fn exit_code(&self) -> i32 {
        if self.failed == 0 {
            0
        } else {
            1
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The caller asked for something impossible (a path that does not exist): exit 2.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Sink(#[from] SinkError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

fn io_error(path: &Path) -> impl Fn(io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// sha256 of a file, read in large chunks (the hash is the store's identity of a document, so no
/// size/mtime shortcut).
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), total))
}

/// Regular files under `paths`, sorted per folder; hidden entries (".name") below a given path
/// and the files in `exclude` or under `exclude_dirs` are left out. Folders that cannot be read
/// come back as failures.
fn walk(
    paths: &[PathBuf],
    exclude: &HashSet<PathBuf>,
    exclude_dirs: &[PathBuf],
) -> (Vec<PathBuf>, Vec<Failure>) {
    let mut files = Vec::new();
    let mut failures = Vec::new();
    for root in paths {
        let walker = walkdir::WalkDir::new(root)
            .follow_links(true)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let hidden = e.depth() > 0 && e.file_name().to_string_lossy().starts_with('.');
                !hidden && !exclude_dirs.iter().any(|d| e.path() == d)
            });
        for entry in walker {
            match entry {
                Ok(e) if e.file_type().is_file() => {
                    if !exclude.contains(e.path()) {
                        files.push(e.into_path());
                    }
                }
                Ok(_) => {}
                Err(err) => failures.push(Failure {
                    path: err.path().unwrap_or(root).to_path_buf(),
                    sha256: None,
                    page: None,
                    reason: format!("cannot read: {err}"),
                }),
            }
        }
    }
    (files, failures)
}

/// A file to process.
struct Work {
    path: PathBuf,
    sha256: String,
}

/// What a run has to do, once files are hashed and compared with the store.
struct Plan {
    todo: Vec<Work>,
    skipped: u64,
    stale: u64,
    /// Files that could not be read to hash.
    failures: Vec<Failure>,
}

/// Decide per file: process it, or skip it because the store holds its content (for this version,
/// or stale without `reprocess_stale`) or another file of this run has the same content.
fn plan(
    hashed: Vec<(PathBuf, io::Result<(String, u64)>)>,
    known: &HashMap<String, String>,
    version: &str,
    reprocess_stale: bool,
) -> Plan {
    let mut plan = Plan {
        todo: Vec::new(),
        skipped: 0,
        stale: 0,
        failures: Vec::new(),
    };
    let mut seen: HashSet<String> = HashSet::new();
    for (path, hash) in hashed {
        let sha256 = match hash {
            Ok((sha, _)) => sha,
            Err(e) => {
                plan.failures.push(Failure {
                    path,
                    sha256: None,
                    page: None,
                    reason: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if !seen.insert(sha256.clone()) {
            plan.skipped += 1;
            continue;
        }
        match known.get(&sha256) {
            Some(v) if v == version => plan.skipped += 1,
            Some(_) if !reprocess_stale => {
                plan.skipped += 1;
                plan.stale += 1;
            }
            _ => plan.todo.push(Work { path, sha256 }),
        }
    }
    plan
}

/// Ingest `paths` into the store `opts.db` with `processor`; see the module docs.
pub fn ingest(
    paths: &[PathBuf],
    processor: &dyn Processor,
    opts: &IngestOptions,
    events: &mut dyn FnMut(IngestEvent),
) -> Result<RunSummary, IngestError> {
    let started = Instant::now();
    let version = processor.version();

    let mut roots = Vec::with_capacity(paths.len());
    for p in paths {
        let canonical = fs::canonicalize(p)
            .map_err(|e| IngestError::Usage(format!("{}: cannot read input: {e}", p.display())))?;
        roots.push(canonical);
    }

    let store = Store::open(&opts.db)?;
    // Never ingest the store itself or the JSON written by this command.
    let mut exclude = HashSet::new();
    let db = fs::canonicalize(&opts.db).map_err(io_error(&opts.db))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = db.clone().into_os_string();
        name.push(suffix);
        exclude.insert(PathBuf::from(name));
    }
    let mut exclude_dirs = Vec::new();
    if let Some(out) = &opts.out_dir {
        fs::create_dir_all(out).map_err(io_error(out))?;
        exclude_dirs.push(fs::canonicalize(out).map_err(io_error(out))?);
    }

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(opts.jobs)
        .build()
        .map_err(|e| IngestError::Threads(e.to_string()))?;

    let (files, walk_failures) = walk(&roots, &exclude, &exclude_dirs);
    events(IngestEvent::Walked { files: files.len() });

    let known = store.known_documents()?;
    let hashed: Vec<(PathBuf, io::Result<(String, u64)>)> = pool.install(|| {
        files
            .into_par_iter()
            .map(|path| {
                let hash = sha256_file(&path);
                (path, hash)
            })
            .collect()
    });

    let file_count = hashed.len() as u64;
    let Plan {
        todo,
        mut skipped,
        stale,
        failures: unreadable,
    } = plan(hashed, &known, &version, opts.reprocess_stale);
    drop(known);
    let mut failures = walk_failures;
    failures.extend(unreadable);
    events(IngestEvent::Planned {
        to_process: todo.len(),
        skipped: skipped as usize,
        stale: stale as usize,
    });

    let mut store_sink = StoreSink {
        store,
        version: version.clone(),
        run_id: None,
    };
    let run_id = store_sink.store.begin_run(&version, &roots)?;
    store_sink.run_id = Some(run_id);
    let mut json_sink = opts
        .out_dir
        .as_ref()
        .map(|dir| JsonSink { dir: dir.clone() });

    let mut new = 0u64;
    let mut pages = 0u64;
    let mut recorded_failures = Vec::new();
    let mut push_failure = |failure: Failure,
                            store_sink: &mut StoreSink,
                            events: &mut dyn FnMut(IngestEvent)|
     -> Result<(), IngestError> {
        store_sink.failure(&failure)?;
        events(IngestEvent::Failed(&failure));
        recorded_failures.push(failure);
        Ok(())
    };
    for failure in failures {
        push_failure(failure, &mut store_sink, events)?;
    }

    // Workers process documents and hand them over a bounded channel (memory stays bounded when
    // the writer falls behind); this thread writes them, so the sinks need not be thread-safe.
    let cancel = AtomicBool::new(false);
    let (tx, rx) =
        mpsc::sync_channel::<(Work, Result<Document, Failure>)>(pool.current_num_threads() * 2);
    let outcome = std::thread::scope(|scope| -> Result<(), IngestError> {
        let cancel = &cancel;
        let pool = &pool;
        let todo = todo;
        scope.spawn(move || {
            pool.install(|| {
                todo.into_par_iter().for_each_with(tx, |tx, work| {
                    if cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        processor.process(&work.path, &work.sha256)
                    }))
                    .unwrap_or_else(|panic| {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "unknown cause".to_string());
                        Err(Failure {
                            path: work.path.clone(),
                            sha256: Some(work.sha256.clone()),
                            page: None,
                            reason: format!("processing crashed: {message}"),
                        })
                    });
                    // The receiver is gone only when the writer stopped on a fatal error.
                    let _ = tx.send((work, result));
                });
            });
        });
        let result = (|| {
            for (work, result) in rx.iter() {
                let failure = match result {
                    Ok(mut doc) => {
                        // The batch's hash is the store's identity of the document.
                        doc.source.sha256 = work.sha256.clone();
                        let written = json_sink
                            .as_mut()
                            .map_or(Ok(Stored::Written), |sink| sink.document(&doc))
                            .and_then(|_| store_sink.document(&doc));
                        match written {
                            Ok(Stored::AlreadyStored) => {
                                skipped += 1;
                                events(IngestEvent::Done {
                                    path: &work.path,
                                    pages: 0,
                                });
                                None
                            }
                            Ok(Stored::Written) => {
                                new += 1;
                                pages += doc.pages.len() as u64;
                                events(IngestEvent::Done {
                                    path: &work.path,
                                    pages: doc.pages.len() as u32,
                                });
                                None
                            }
                            Err(e) => Some(Failure {
                                path: work.path.clone(),
                                sha256: Some(work.sha256.clone()),
                                page: None,
                                reason: format!("could not be written: {e}"),
                            }),
                        }
                    }
                    Err(failure) => Some(failure),
                };
                if let Some(failure) = failure {
                    push_failure(failure, &mut store_sink, events)?;
                }
            }
            Ok(())
        })();
        if result.is_err() {
            cancel.store(true, Ordering::Relaxed);
        }
        drop(rx);
        result
    });
    outcome?;

    let seconds = started.elapsed().as_secs_f64();
    let totals = RunTotals {
        files: file_count,
        new,
        skipped,
        stale,
        failed: recorded_failures.len() as u64,
        pages,
        seconds,
    };
    store_sink.store.finish_run(run_id, &totals)?;
    let summary = RunSummary {
        run_id,
        db: opts.db.clone(),
        version,
        paths: roots,
        files: totals.files,
        new,
        skipped,
        stale,
        failed: totals.failed,
        pages,
        seconds,
        pages_per_second: if seconds > 0.0 {
            pages as f64 / seconds
        } else {
            0.0
        },
        failures: recorded_failures,
    };
    if let Some(report) = &opts.report {
        write_report(report, &summary)?;
    }
    Ok(summary)
}

fn write_report(path: &Path, summary: &RunSummary) -> Result<(), IngestError> {
    let text = serde_json::to_string_pretty(summary).map_err(|e| IngestError::Io {
        path: path.to_path_buf(),
        source: e.into(),
    })?;
    fs::write(path, text + "\n").map_err(io_error(path))
}
