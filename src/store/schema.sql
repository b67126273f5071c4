-- vnplan store, schema version 1. Every statement is idempotent: opening a store runs this file.
-- One row in `documents` per distinct file content (sha256); everything else hangs off a document
-- and is deleted with it when a stale document is reprocessed.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL,            -- running | finished | interrupted (killed mid-way)
    pid         INTEGER,                  -- process that ran it (to tell a live run from a dead one)
    version     TEXT NOT NULL,            -- processor (pipeline + model) version
    paths       TEXT NOT NULL,            -- JSON array of the paths given
    files       INTEGER,
    new         INTEGER,
    skipped     INTEGER,
    stale       INTEGER,
    failed      INTEGER,
    pages       INTEGER,
    seconds     REAL
);

CREATE TABLE IF NOT EXISTS documents (
    id                INTEGER PRIMARY KEY,
    sha256            TEXT NOT NULL UNIQUE,
    path              TEXT NOT NULL,
    bytes             INTEGER NOT NULL,
    media_type        TEXT NOT NULL,
    page_count        INTEGER NOT NULL,
    processor_version TEXT NOT NULL,
    pipeline_version  TEXT NOT NULL,
    restoration_model TEXT,
    ocr               TEXT,               -- JSON
    doc_type          TEXT,
    doc_type_name     TEXT,
    number            TEXT,
    issuer            TEXT,
    issuer_level      TEXT,
    place             TEXT,
    date              TEXT,
    title             TEXT,
    plan_year         INTEGER,
    year              INTEGER,            -- plan_year, else the year of `date`
    signer_name       TEXT,
    signer_position   TEXT,
    signer_authority  TEXT,
    legal_bases       TEXT NOT NULL,      -- JSON array of references
    recipients        TEXT NOT NULL,      -- JSON array of strings
    budget_currency   TEXT NOT NULL,
    budget_total      REAL,
    run_id            INTEGER REFERENCES runs(id),
    ingested_at       TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pages (
    id              INTEGER PRIMARY KEY,
    document_id     INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    method          TEXT NOT NULL,
    ocr_confidence  REAL,
    restored_tokens INTEGER,
    text            TEXT NOT NULL,
    raw_text        TEXT NOT NULL,
    UNIQUE (document_id, number)
);

-- Full-text index over page text folded to plain letters (no tone marks, no letter diacritics,
-- đ → d), so "nuoc sach" finds "nước sạch". rowid = pages.id. Folding is one character for one
-- character, so offsets in `body` are offsets in pages.text.
CREATE VIRTUAL TABLE IF NOT EXISTS pages_fts USING fts5(
    body,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TABLE IF NOT EXISTS criteria (
    id           INTEGER PRIMARY KEY,
    document_id  INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    catalogue    TEXT NOT NULL,
    number       INTEGER NOT NULL,
    name         TEXT NOT NULL,
    name_in_text TEXT,
    status       TEXT NOT NULL,
    indicators   TEXT NOT NULL,           -- JSON array
    subject      TEXT,
    page         INTEGER NOT NULL,
    char_start   INTEGER NOT NULL,
    char_end     INTEGER NOT NULL,
    confidence   REAL
);

CREATE TABLE IF NOT EXISTS targets (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    text        TEXT NOT NULL,
    metric      TEXT,
    value       REAL NOT NULL,
    value_max   REAL,
    denominator REAL,
    unit        TEXT NOT NULL,
    comparator  TEXT NOT NULL,
    criterion   INTEGER,
    indicator   TEXT,
    subject     TEXT,
    deadline    TEXT,
    page        INTEGER NOT NULL,
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    confidence  REAL
);

CREATE TABLE IF NOT EXISTS budget_items (
    id            INTEGER PRIMARY KEY,
    document_id   INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    item          INTEGER NOT NULL,       -- the item's id inside its document
    parent        INTEGER,                -- the parent's `item`, not a row id
    label         TEXT NOT NULL,
    source_kind   TEXT,
    amount        REAL NOT NULL,
    share_percent REAL,
    page          INTEGER NOT NULL,
    char_start    INTEGER NOT NULL,
    char_end      INTEGER NOT NULL,
    confidence    REAL
);

CREATE TABLE IF NOT EXISTS budget_checks (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    item        INTEGER,
    kind        TEXT NOT NULL,
    ok          INTEGER NOT NULL,
    expected    REAL,
    found       REAL
);

CREATE TABLE IF NOT EXISTS responsibilities (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    unit        TEXT NOT NULL,
    unit_kind   TEXT NOT NULL,
    role        TEXT NOT NULL,
    tasks       TEXT NOT NULL,            -- JSON array of strings
    criteria    TEXT NOT NULL,            -- JSON array of criterion numbers
    deadlines   TEXT NOT NULL,            -- JSON array of strings
    page        INTEGER NOT NULL,
    char_start  INTEGER NOT NULL,
    char_end    INTEGER NOT NULL,
    confidence  REAL
);

CREATE TABLE IF NOT EXISTS warnings (
    id          INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    page        INTEGER
);

-- Documents that could not be processed. A document that later succeeds has its failures removed,
-- so this table lists what is still failing.
CREATE TABLE IF NOT EXISTS failures (
    id                INTEGER PRIMARY KEY,
    run_id            INTEGER REFERENCES runs(id),
    path              TEXT NOT NULL,
    sha256            TEXT,
    page              INTEGER,
    reason            TEXT NOT NULL,
    processor_version TEXT NOT NULL,
    failed_at         TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS pages_document ON pages(document_id);
CREATE INDEX IF NOT EXISTS criteria_document ON criteria(document_id);
CREATE INDEX IF NOT EXISTS criteria_number ON criteria(number);
CREATE INDEX IF NOT EXISTS targets_document ON targets(document_id);
CREATE INDEX IF NOT EXISTS targets_criterion ON targets(criterion);
CREATE INDEX IF NOT EXISTS budget_items_document ON budget_items(document_id);
CREATE INDEX IF NOT EXISTS budget_checks_document ON budget_checks(document_id);
CREATE INDEX IF NOT EXISTS responsibilities_document ON responsibilities(document_id);
CREATE INDEX IF NOT EXISTS warnings_document ON warnings(document_id);
CREATE INDEX IF NOT EXISTS failures_sha256 ON failures(sha256);
CREATE INDEX IF NOT EXISTS failures_path ON failures(path);

INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', '1');
