//! The batch against a real store: incremental skip, failures recorded while the others land,
//! stale documents, JSON output, and (through the built binary) resume after kill -9, two runs at
//! once, exit codes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use vnplan::document::Document;
use vnplan::ingest::text::{split_pages, TextProcessor, SLEEP_ENV};
use vnplan::ingest::{ingest, Failure, IngestEvent, IngestOptions, Processor, RunSummary};
use vnplan::store::Store;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/store");

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create dir");
    for entry in fs::read_dir(from).expect("read fixtures") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The fixture plans (and, if asked, the bad file) in a fresh temp dir.
fn workspace(with_bad: bool) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("in");
    copy_dir(&Path::new(FIXTURES).join("plans"), &input);
    if with_bad {
        copy_dir(&Path::new(FIXTURES).join("bad"), &input.join("bad"));
    }
    (tmp, input)
}

fn run(input: &Path, db: &Path, processor: &dyn Processor, stale: bool) -> RunSummary {
    let mut opts = IngestOptions::new(db);
    opts.jobs = 2;
    opts.reprocess_stale = stale;
    ingest(&[input.to_path_buf()], processor, &opts, &mut |_| {}).expect("ingest runs")
}

fn count(db: &Path, sql: &str) -> i64 {
    let store = Store::open_read_only(db).expect("open store");
    store
        .connection()
        .query_row(sql, [], |r| r.get(0))
        .expect("count query")
}

#[test]
fn second_run_skips_what_is_stored() {
    let (tmp, input) = workspace(false);
    let db = tmp.path().join("plans.db");
    let text = TextProcessor::default();

    let first = run(&input, &db, &text, false);
    assert_eq!(
        (first.files, first.new, first.skipped, first.failed),
        (3, 3, 0, 0)
    );
    assert_eq!(first.pages, 6);

    let second = run(&input, &db, &text, false);
    assert_eq!((second.new, second.skipped, second.failed), (0, 3, 0));
    assert_eq!(count(&db, "SELECT count(*) FROM documents"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM pages"), 6);

    // A new file, and a copy of a stored one under another name: only the new content is processed.
    fs::write(input.join("new.txt"), "Kế hoạch mới\u{c}trang hai").expect("write");
    fs::copy(input.join("kh-an-binh-2024.txt"), input.join("copy.txt")).expect("copy");
    let third = run(&input, &db, &text, false);
    assert_eq!((third.files, third.new, third.skipped), (5, 1, 4));
    assert_eq!(count(&db, "SELECT count(*) FROM documents"), 4);
    assert_eq!(
        count(&db, "SELECT count(*) FROM runs WHERE status = 'finished'"),
        3
    );
}

#[test]
fn failing_document_is_recorded_and_the_others_land() {
    let (tmp, input) = workspace(true);
    let db = tmp.path().join("plans.db");
    let mut events = Vec::new();
    let mut opts = IngestOptions::new(&db);
    opts.report = Some(tmp.path().join("report.json"));
    let summary = ingest(
        std::slice::from_ref(&input),
        &TextProcessor::default(),
        &opts,
        &mut |e| {
            events.push(match e {
                IngestEvent::Failed(f) => format!("failed {}", f.path.display()),
                IngestEvent::Done { .. } => "done".to_string(),
                _ => String::new(),
            })
        },
    )
    .expect("ingest runs");
    assert_eq!((summary.new, summary.failed), (3, 1));
    assert_eq!(summary.exit_code(), 1);
    assert_eq!(events.iter().filter(|e| *e == "done").count(), 3);
    assert!(events.iter().any(|e| e.ends_with("legacy-encoding.txt")));

    assert_eq!(count(&db, "SELECT count(*) FROM documents"), 3);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM documents WHERE path LIKE '%legacy-encoding%'"
        ),
        0
    );
    let store = Store::open_read_only(&db).expect("open");
    let (reason, page): (String, Option<u32>) = store
        .connection()
        .query_row("SELECT reason, page FROM failures", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("one failure");
    assert!(reason.contains("not UTF-8"), "{reason}");
    assert_eq!(page, Some(1));

    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(tmp.path().join("report.json")).expect("report"))
            .expect("report is JSON");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["new"], 3);
    assert!(report["failures"][0]["reason"]
        .as_str()
        .is_some_and(|r| r.contains("UTF-8")));

    // Fixed file: the next run stores it and clears its failure.
    fs::write(input.join("bad/legacy-encoding.txt"), "UBND XÃ KHÁC").expect("fix");
    let again = run(&input, &db, &TextProcessor::default(), false);
    assert_eq!((again.new, again.failed), (1, 0));
    assert_eq!(count(&db, "SELECT count(*) FROM failures"), 0);
}

/// The text processor under another version, as a pipeline upgrade would be.
struct Upgraded(TextProcessor);

impl Processor for Upgraded {
    fn version(&self) -> String {
        "vnplan-text/99".to_string()
    }
    fn process(&self, path: &Path, sha256: &str) -> Result<Document, Failure> {
        let mut doc = self.0.process(path, sha256)?;
        doc.pipeline.version = self.version();
        Ok(doc)
    }
}

#[test]
fn stale_documents_are_skipped_unless_reprocessing_is_asked() {
    let (tmp, input) = workspace(false);
    let db = tmp.path().join("plans.db");
    run(&input, &db, &TextProcessor::default(), false);

    let upgraded = Upgraded(TextProcessor::default());
    let lazy = run(&input, &db, &upgraded, false);
    assert_eq!((lazy.new, lazy.skipped, lazy.stale), (0, 3, 3));

    let redo = run(&input, &db, &upgraded, true);
    assert_eq!((redo.new, redo.stale), (3, 0));
    assert_eq!(count(&db, "SELECT count(*) FROM documents"), 3);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM documents WHERE processor_version = 'vnplan-text/99'"
        ),
        3
    );
    // The old pages went with the old documents, index included.
    assert_eq!(count(&db, "SELECT count(*) FROM pages"), 6);
    assert_eq!(count(&db, "SELECT count(*) FROM pages_fts"), 6);
}

#[test]
fn json_output_is_written_and_never_ingested() {
    let (tmp, input) = workspace(false);
    let db = input.join("plans.db");
    let out = input.join("json");
    let mut opts = IngestOptions::new(&db);
    opts.out_dir = Some(out.clone());
    let first = ingest(
        std::slice::from_ref(&input),
        &TextProcessor::default(),
        &opts,
        &mut |_| {},
    )
    .expect("ingest");
    assert_eq!(first.new, 3);
    let mut docs = Vec::new();
    for entry in fs::read_dir(&out).expect("out dir") {
        let text = fs::read_to_string(entry.expect("entry").path()).expect("read json");
        let doc: Document = serde_json::from_str(&text).expect("a vnplan document");
        docs.push(doc);
    }
    assert_eq!(docs.len(), 3);
    for doc in &docs {
        assert_eq!(doc.schema, "vnplan.document/1");
        let original = fs::read_to_string(&doc.source.path).expect("source");
        assert_eq!(doc.pages.len(), split_pages(&original).len());
    }
    // The store and the JSON folder live inside the input folder; a re-run must not pick them up.
    let again = ingest(
        std::slice::from_ref(&input),
        &TextProcessor::default(),
        &opts,
        &mut |_| {},
    )
    .expect("ingest");
    assert_eq!((again.files, again.new, again.failed), (3, 0, 0));
    drop(tmp);
}

fn vnplan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_vnplan"))
}

/// `n` small documents of `pages` pages each.
fn many_files(dir: &Path, n: usize, pages: usize) {
    fs::create_dir_all(dir).expect("dir");
    for i in 0..n {
        let text: Vec<String> = (1..=pages)
            .map(|p| format!("Kế hoạch số {i}, trang {p}: phấn đấu {p}0% hộ dùng nước sạch"))
            .collect();
        fs::write(dir.join(format!("kh-{i:03}.txt")), text.join("\u{c}")).expect("write");
    }
}

/// Every stored document is whole (all its pages) and stored once.
fn assert_whole_and_unique(db: &Path, pages: i64) {
    assert_eq!(
        count(
            db,
            "SELECT count(*) FROM documents d
             WHERE (SELECT count(*) FROM pages p WHERE p.document_id = d.id) != d.page_count"
        ),
        0,
        "a document without all its pages"
    );
    assert_eq!(
        count(
            db,
            &format!("SELECT count(*) FROM documents WHERE page_count != {pages}")
        ),
        0
    );
    assert_eq!(
        count(db, "SELECT count(*) FROM documents"),
        count(db, "SELECT count(DISTINCT sha256) FROM documents")
    );
}

#[test]
fn killed_run_resumes_without_partial_or_duplicate_documents() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("in");
    many_files(&input, 12, 3);
    let db = tmp.path().join("plans.db");

    let mut child = vnplan()
        .args(["ingest", "--jobs", "1", "--quiet", "--db"])
        .arg(&db)
        .arg(&input)
        .env(SLEEP_ENV, "250")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vnplan");
    // Wait for a few documents to land, then kill -9 in the middle of the run.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if db.exists() {
            if let Ok(store) = Store::open_read_only(&db) {
                let n: i64 = store
                    .connection()
                    .query_row("SELECT count(*) FROM documents", [], |r| r.get(0))
                    .unwrap_or(0);
                if n >= 3 {
                    break;
                }
            }
        }
        assert!(Instant::now() < deadline, "ingest made no progress");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reap");

    let stored = count(&db, "SELECT count(*) FROM documents");
    assert!(
        stored < 12,
        "the run was killed before the end ({stored} stored)"
    );
    assert_whole_and_unique(&db, 3);
    assert_eq!(
        count(&db, "SELECT count(*) FROM runs WHERE status = 'running'"),
        1
    );

    let status = vnplan()
        .args(["ingest", "--quiet", "--db"])
        .arg(&db)
        .arg(&input)
        .status()
        .expect("run vnplan");
    assert_eq!(status.code(), Some(0));
    assert_eq!(count(&db, "SELECT count(*) FROM documents"), 12);
    assert_eq!(
        count(&db, "SELECT count(DISTINCT sha256) FROM documents"),
        12
    );
    // The killed run is told apart from a live one.
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM runs WHERE status = 'interrupted'"
        ),
        1
    );
    assert_eq!(count(&db, "SELECT count(*) FROM pages"), 36);
    assert_eq!(
        count(&db, "SELECT new FROM runs ORDER BY id DESC LIMIT 1"),
        12 - stored
    );
    assert_whole_and_unique(&db, 3);
}

#[test]
fn two_runs_at_once_both_finish_without_corruption() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let input = tmp.path().join("in");
    many_files(&input, 16, 2);
    let db = tmp.path().join("plans.db");
    let spawn = || {
        vnplan()
            .args(["ingest", "--jobs", "2", "--quiet", "--db"])
            .arg(&db)
            .arg(&input)
            .env(SLEEP_ENV, "20")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start vnplan")
    };
    let a = spawn();
    let b = spawn();
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(count(&db, "SELECT count(*) FROM documents"), 16);
    assert_eq!(count(&db, "SELECT count(*) FROM pages"), 32);
    assert_eq!(count(&db, "SELECT count(*) FROM pages_fts"), 32);
    assert_eq!(
        count(&db, "SELECT count(*) FROM runs WHERE status = 'finished'"),
        2
    );
    // Each document counts as new in exactly one of the two runs.
    assert_eq!(count(&db, "SELECT sum(new) FROM runs"), 16);
    let store = Store::open_read_only(&db).expect("open");
    let check: String = store
        .connection()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity check");
    assert_eq!(check, "ok");
}

#[test]
fn exit_codes_tell_success_failure_and_usage() {
    let (tmp, input) = workspace(true);
    let db = tmp.path().join("plans.db");
    let status = |args: &[&str]| {
        vnplan()
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run vnplan")
            .code()
    };
    let db_arg = db.to_str().expect("utf-8 path");
    let plans = input.to_str().expect("utf-8 path");
    // The plans alone succeed; with the bad file, 1.
    assert_eq!(
        status(&["ingest", "--db", db_arg, &format!("{plans}/xa")]),
        Some(0)
    );
    assert_eq!(status(&["ingest", "--db", db_arg, plans]), Some(1));
    assert_eq!(
        status(&["ingest", "--db", db_arg, "/no/such/folder"]),
        Some(2)
    );
    assert_eq!(
        status(&["ingest", "--db", db_arg, "--no-such-flag", plans]),
        Some(2)
    );
    assert_eq!(status(&["ingest", "--db", db_arg]), Some(2));
}
