//! The embedded store: one SQLite file (WAL) holding every ingested document, its pages with a
//! diacritic-insensitive full-text index, the extracted criteria, targets, budget, responsibilities
//! and warnings, the failures, and a record of each ingest run.
//!
//! In: finished [`Document`]s and [`Failure`]s from the batch (through [`crate::ingest::Sink`]).
//! Out: answers to analysts' questions ([`query`]), full-text search ([`search`]), raw read-only SQL
//! and exports ([`export`]). Every document is written in its own `BEGIN IMMEDIATE` transaction, so a
//! killed run leaves only whole documents behind and two runs at once take turns instead of failing.

pub mod export;
pub mod query;
pub mod search;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::functions::FunctionFlags;
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use serde::Serialize;

use crate::document::Document;
use crate::ingest::Failure;
use crate::vietnamese::plain_letter;

pub use query::{QueryFilters, QueryKind, Table};
pub use search::SearchHit;

/// The schema, applied (idempotently) every time a store is opened for writing.
const SCHEMA: &str = include_str!("schema.sql");
const SCHEMA_VERSION: i64 = 1;

/// How long a writer waits for another writer's transaction before giving up. Transactions are one
/// document each, so the wait is normally milliseconds; the bound only guards against a stuck peer.
const BUSY_TIMEOUT: Duration = Duration::from_secs(300);

/// An error from the store, naming the database file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {}: {source}", path.display())]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

/// What [`Store::put_document`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The document was new.
    Inserted,
    /// A document made by another processor version was replaced.
    Replaced,
    /// The store already held this content for this version (written meanwhile by another run).
    AlreadyCurrent,
}

/// Totals of a finished run, written into `runs`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunTotals {
    pub files: u64,
    pub new: u64,
    pub skipped: u64,
    pub stale: u64,
    pub failed: u64,
    pub pages: u64,
    pub seconds: f64,
}

/// An open store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// Text folded for search and loose matching: lowercase, no tone marks, no letter diacritics, đ → d.
/// One character in, one character out, so offsets carry over (search snippets rely on it).
pub fn fold(text: &str) -> String {
    text.chars()
        .map(|c| {
            // Most characters of Vietnamese text are ASCII: no table lookup for them.
            if c.is_ascii() {
                return c.to_ascii_lowercase();
            }
            let plain = plain_letter(c);
            let mut lower = plain.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) => l,
                _ => plain,
            }
        })
        .collect()
}

/// Serde's name for an enum value (`not_achieved`, `text-layer`, `KT`), the form stored in text columns.
fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

fn json_text<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

impl Store {
    /// Open (creating if needed) the store at `path` for writing: WAL journal, schema applied.
    ///
    /// Switching a fresh file to WAL needs an exclusive lock that SQLite does not wait for, so when
    /// two processes create the same store at once one of them is told "busy"; it retries.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match Store::open_once(path) {
                Err(StoreError::Sqlite { ref source, .. })
                    if is_busy(source) && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Store, StoreError> {
        let conn = Connection::open(path).map_err(|e| sqlite(path, e))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        // WAL lets readers (queries, a second ingest's skip check) run while a writer commits.
        // NORMAL sync is safe in WAL against a killed process; only power loss can drop the last
        // commits, never corrupt the file. The mode is stored in the file: set it only once.
        let current: String = store
            .conn
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .map_err(|e| store.err(e))?;
        if !current.eq_ignore_ascii_case("wal") {
            let mode: String = store
                .conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
                .map_err(|e| store.err(e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(store.invalid(format!("could not switch to WAL journal (got {mode})")));
            }
        }
        store
            .conn
            .pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| store.err(e))?;
        store.apply_schema()?;
        Ok(store)
    }

    /// Open an existing store read-only: every write is refused by SQLite itself.
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Invalid {
                path: path.to_path_buf(),
                message: "no such store; create it with `vnplan ingest --db FILE PATH...`".into(),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| sqlite(path, e))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure()?;
        store
            .conn
            .pragma_update(None, "query_only", "ON")
            .map_err(|e| store.err(e))?;
        let version: Option<String> = store
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(|_| store.invalid("not a vnplan store (no meta table)".into()))?;
        if version.is_none() {
            return Err(store.invalid("not a vnplan store (no schema version)".into()));
        }
        Ok(store)
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The underlying connection, for queries outside this module's helpers (tests, tools).
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| self.err(e))?;
        self.conn
            .pragma_update(None, "foreign_keys", "ON")
            .map_err(|e| self.err(e))?;
        // vn_fold(text) is available to every query, including `vnplan sql`.
        self.conn
            .create_scalar_function(
                "vn_fold",
                1,
                FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
                |ctx| {
                    let text: Option<String> = ctx.get(0)?;
                    Ok(text.map(|t| fold(&t)))
                },
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    fn apply_schema(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        let found: Option<String> = tx
            .query_row(
                "SELECT value FROM meta WHERE key = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .or_else(|e| match e {
                // A fresh file has no meta table yet.
                rusqlite::Error::SqliteFailure(_, Some(ref m)) if m.contains("no such table") => {
                    Ok(None)
                }
                other => Err(other),
            })
            .map_err(|e| sqlite(&path, e))?;
        if let Some(v) = found {
            let v: i64 = v.parse().unwrap_or(i64::MAX);
            if v > SCHEMA_VERSION {
                return Err(StoreError::Invalid {
                    path,
                    message: format!(
                        "schema version {v} is newer than this vnplan understands ({SCHEMA_VERSION}); upgrade vnplan"
                    ),
                });
            }
        }
        tx.execute_batch(SCHEMA).map_err(|e| sqlite(&path, e))?;
        tx.commit().map_err(|e| sqlite(&path, e))
    }

    fn err(&self, e: rusqlite::Error) -> StoreError {
        sqlite(&self.path, e)
    }

    fn invalid(&self, message: String) -> StoreError {
        StoreError::Invalid {
            path: self.path.clone(),
            message,
        }
    }

    /// Every stored document's content hash and the processor version that made it: the batch
    /// loads this once and decides what to skip without a query per file.
    pub fn known_documents(&self) -> Result<HashMap<String, String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT sha256, processor_version FROM documents")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<HashMap<_, _>, _>>()
            .map_err(|e| self.err(e))
    }

    /// Does the store hold the document with this content, made by this processor version?
    pub fn has_current(&self, sha256: &str, version: &str) -> Result<bool, StoreError> {
        self.conn
            .query_row(
                "SELECT 1 FROM documents WHERE sha256 = ?1 AND processor_version = ?2",
                params![sha256, version],
                |_| Ok(()),
            )
            .optional()
            .map(|found| found.is_some())
            .map_err(|e| self.err(e))
    }

    /// Start a run record; its id tags the documents and failures the run writes. Earlier runs
    /// still marked running whose process is gone were killed: they are marked `interrupted`.
    pub fn begin_run(&mut self, version: &str, paths: &[PathBuf]) -> Result<i64, StoreError> {
        let running = self.table("SELECT id, pid FROM runs WHERE status = 'running'", &[])?;
        for row in &running.rows {
            if let (rusqlite::types::Value::Integer(id), rusqlite::types::Value::Integer(pid)) =
                (&row[0], &row[1])
            {
                if !process_alive(*pid) {
                    self.conn
                        .execute(
                            "UPDATE runs SET status = 'interrupted' WHERE id = ?1 AND status = 'running'",
                            [id],
                        )
                        .map_err(|e| self.err(e))?;
                }
            }
        }
        let paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        self.conn
            .execute(
                "INSERT INTO runs(started_at, status, pid, version, paths)
                 VALUES (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), 'running', ?1, ?2, ?3)",
                params![std::process::id(), version, json_text(&paths)],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    /// Close a run record with its totals.
    pub fn finish_run(&mut self, run_id: i64, totals: &RunTotals) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
                    status = 'finished', files = ?2, new = ?3, skipped = ?4, stale = ?5,
                    failed = ?6, pages = ?7, seconds = ?8
                 WHERE id = ?1",
                params![
                    run_id,
                    totals.files as i64,
                    totals.new as i64,
                    totals.skipped as i64,
                    totals.stale as i64,
                    totals.failed as i64,
                    totals.pages as i64,
                    totals.seconds
                ],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Write one document, all its rows, in one transaction. A stored document with the same content
    /// but another processor version is replaced; one with the same version is left alone (a second
    /// run got there first). Earlier failures of this content or path are cleared.
    pub fn put_document(
        &mut self,
        doc: &Document,
        processor_version: &str,
        run_id: Option<i64>,
    ) -> Result<PutOutcome, StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        let outcome =
            write_document(&tx, doc, processor_version, run_id).map_err(|e| sqlite(&path, e))?;
        tx.commit().map_err(|e| sqlite(&path, e))?;
        Ok(outcome)
    }

    /// Record a document that could not be processed, replacing earlier failures of the same file
    /// (the table lists what is failing now, tagged with the latest run that tried).
    pub fn record_failure(
        &mut self,
        failure: &Failure,
        processor_version: &str,
        run_id: Option<i64>,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| sqlite(&path, e))?;
        let file = failure.path.display().to_string();
        tx.execute("DELETE FROM failures WHERE path = ?1", [&file])
            .map_err(|e| sqlite(&path, e))?;
        tx.execute(
            "INSERT INTO failures(run_id, path, sha256, page, reason, processor_version, failed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            params![
                run_id,
                file,
                failure.sha256,
                failure.page,
                failure.reason,
                processor_version
            ],
        )
        .map_err(|e| sqlite(&path, e))?;
        tx.commit().map_err(|e| sqlite(&path, e))
    }

    /// Rows in a table (for summaries and tests).
    pub fn count(&self, table: &str) -> Result<i64, StoreError> {
        if !export::TABLES.contains(&table) {
            return Err(self.invalid(format!("no table {table}")));
        }
        self.conn
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }
}

/// Is process `pid` alive? WAL stores are only shared between processes of one machine, so a
/// local check is enough. Where it cannot be told, assume alive (the run stays `running`).
fn process_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

fn sqlite(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Sqlite {
        path: path.to_path_buf(),
        source,
    }
}

fn delete_document(tx: &Transaction, id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM pages_fts WHERE rowid IN (SELECT id FROM pages WHERE document_id = ?1)",
        [id],
    )?;
    for table in [
        "pages",
        "criteria",
        "targets",
        "budget_items",
        "budget_checks",
        "responsibilities",
        "warnings",
    ] {
        tx.execute(&format!("DELETE FROM {table} WHERE document_id = ?1"), [id])?;
    }
    tx.execute("DELETE FROM documents WHERE id = ?1", [id])?;
    Ok(())
}

fn write_document(
    tx: &Transaction,
    doc: &Document,
    processor_version: &str,
    run_id: Option<i64>,
) -> rusqlite::Result<PutOutcome> {
    let existing: Option<(i64, String)> = tx
        .query_row(
            "SELECT id, processor_version FROM documents WHERE sha256 = ?1",
            [&doc.source.sha256],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let outcome = match existing {
        Some((_, ref v)) if v == processor_version => return Ok(PutOutcome::AlreadyCurrent),
        Some((id, _)) => {
            delete_document(tx, id)?;
            PutOutcome::Replaced
        }
        None => PutOutcome::Inserted,
    };

    let m = &doc.document;
    let year = m.plan_year.or_else(|| {
        m.date
            .as_deref()
            .and_then(|d| d.get(..4))
            .and_then(|y| y.parse().ok())
    });
    let signer = m.signer.as_ref();
    tx.execute(
        "INSERT INTO documents(sha256, path, bytes, media_type, page_count, processor_version,
            pipeline_version, restoration_model, ocr, doc_type, doc_type_name, number, issuer,
            issuer_level, place, date, title, plan_year, year, signer_name, signer_position,
            signer_authority, legal_bases, recipients, budget_currency, budget_total, run_id,
            ingested_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
            ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
        params![
            doc.source.sha256,
            doc.source.path,
            doc.source.bytes as i64,
            doc.source.media_type,
            doc.source.page_count,
            processor_version,
            doc.pipeline.version,
            doc.pipeline.restoration_model,
            doc.pipeline.ocr.as_ref().map(|v| v.to_string()),
            m.doc_type,
            m.doc_type_name,
            m.number,
            m.issuer,
            m.issuer_level.as_ref().map(enum_text),
            m.place,
            m.date,
            m.title,
            m.plan_year,
            year,
            signer.and_then(|s| s.name.clone()),
            signer.and_then(|s| s.position.clone()),
            signer.and_then(|s| s.authority.as_ref().map(enum_text)),
            json_text(&m.legal_bases),
            json_text(&m.recipients),
            doc.budget.currency,
            doc.budget.total,
            run_id,
        ],
    )?;
    let doc_id = tx.last_insert_rowid();

    {
        let mut page_stmt = tx.prepare_cached(
            "INSERT INTO pages(document_id, number, method, ocr_confidence, restored_tokens, text, raw_text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut fts_stmt =
            tx.prepare_cached("INSERT INTO pages_fts(rowid, body) VALUES (?1, ?2)")?;
        for page in &doc.pages {
            page_stmt.execute(params![
                doc_id,
                page.number,
                page.method.as_str(),
                page.ocr_confidence,
                page.restored_tokens,
                page.text,
                page.raw_text
            ])?;
            fts_stmt.execute(params![tx.last_insert_rowid(), fold(&page.text)])?;
        }
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO criteria(document_id, catalogue, number, name, name_in_text, status,
                indicators, subject, page, char_start, char_end, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        for c in &doc.criteria {
            stmt.execute(params![
                doc_id,
                c.set,
                c.number,
                c.name,
                c.name_in_text,
                c.status.as_str(),
                json_text(&c.indicators),
                c.subject,
                c.evidence.page,
                c.evidence.char_start as i64,
                c.evidence.char_end as i64,
                c.evidence.confidence
            ])?;
        }
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO targets(document_id, text, metric, value, value_max, denominator, unit,
                comparator, criterion, indicator, subject, deadline, page, char_start, char_end,
                confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
        )?;
        for t in &doc.targets {
            stmt.execute(params![
                doc_id,
                t.text,
                t.metric,
                t.value,
                t.value_max,
                t.denominator,
                t.unit,
                enum_text(&t.comparator),
                t.criterion,
                t.indicator,
                t.subject,
                t.deadline,
                t.evidence.page,
                t.evidence.char_start as i64,
                t.evidence.char_end as i64,
                t.evidence.confidence
            ])?;
        }
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO budget_items(document_id, item, parent, label, source_kind, amount,
                share_percent, page, char_start, char_end, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for b in &doc.budget.items {
            stmt.execute(params![
                doc_id,
                b.id,
                b.parent,
                b.label,
                b.source_kind,
                b.amount,
                b.share_percent,
                b.evidence.page,
                b.evidence.char_start as i64,
                b.evidence.char_end as i64,
                b.evidence.confidence
            ])?;
        }
        let mut stmt = tx.prepare_cached(
            "INSERT INTO budget_checks(document_id, item, kind, ok, expected, found)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for c in &doc.budget.checks {
            stmt.execute(params![
                doc_id,
                c.item,
                enum_text(&c.kind),
                c.ok,
                c.expected,
                c.found
            ])?;
        }
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO responsibilities(document_id, unit, unit_kind, role, tasks, criteria,
                deadlines, page, char_start, char_end, confidence)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        )?;
        for r in &doc.responsibilities {
            stmt.execute(params![
                doc_id,
                r.unit,
                enum_text(&r.unit_kind),
                enum_text(&r.role),
                json_text(&r.tasks),
                json_text(&r.criteria),
                json_text(&r.deadlines),
                r.evidence.page,
                r.evidence.char_start as i64,
                r.evidence.char_end as i64,
                r.evidence.confidence
            ])?;
        }
    }
    {
        let mut stmt = tx.prepare_cached(
            "INSERT INTO warnings(document_id, code, message, page) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for w in &doc.warnings {
            stmt.execute(params![doc_id, w.code, w.message, w.page])?;
        }
    }
    tx.execute(
        "DELETE FROM failures WHERE sha256 = ?1 OR path = ?2",
        params![doc.source.sha256, doc.source.path],
    )?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn fold_keeps_one_character_for_one() {
        let text = "Xã ĐÔNG Hòa: tỷ lệ hộ dùng nước sạch ≥ 95%, İ";
        let folded = fold(text);
        assert_eq!(folded.chars().count(), text.chars().count());
        assert!(folded.starts_with("xa dong hoa: ty le ho dung nuoc sach ≥ 95%"));
    }
}
