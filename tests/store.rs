//! The store with real rows: documents built in code with criteria, targets, budget and
//! responsibilities; analysts' queries and their filters, search without diacritics, read-only SQL,
//! and exports read back (csv, jsonl, xlsx).

use std::fs;
use std::path::Path;
use std::process::Command;

use calamine::{open_workbook, DataType, Reader, Xlsx};
use vnplan::document::*;
use vnplan::store::export::{ExportFormat, TABLES};
use vnplan::store::query::{cell_text, QueryError};
use vnplan::store::{PutOutcome, QueryFilters, QueryKind, Store};

fn evidence(page: u32, start: usize, end: usize) -> Evidence {
    Evidence {
        page,
        char_start: start,
        char_end: end,
        confidence: Some(0.9),
    }
}

/// A commune plan with two pages, two criteria, two targets, a budget of three items and two
/// responsible units.
fn commune_plan(sha: &str, issuer: &str, level: IssuerLevel, year: i32) -> Document {
    let source = Source {
        path: format!("/archive/{sha}.pdf"),
        sha256: sha.to_string(),
        bytes: 1234,
        media_type: "application/pdf".to_string(),
        page_count: 2,
    };
    let pipeline = PipelineInfo {
        version: "test/1".to_string(),
        ocr: Some(serde_json::json!({"engine": "tesseract", "languages": "vie"})),
        restoration_model: None,
    };
    let mut doc = Document::new(source, pipeline);
    doc.pages = vec![
        Page {
            number: 1,
            method: PageMethod::Ocr,
            ocr_confidence: Some(0.91),
            raw_text: "Phan dau 98% so ho su dung nuoc sach".to_string(),
            text: "Phấn đấu 98% số hộ sử dụng nước sạch theo quy chuẩn.".to_string(),
            restored_tokens: Some(7),
            furniture: Vec::new(),
            words: Vec::new(),
        },
        Page {
            number: 2,
            method: PageMethod::TextLayer,
            ocr_confidence: None,
            raw_text: "Cứng hóa 3,5 km đường trục thôn.".to_string(),
            text: "Cứng hóa 3,5 km đường trục thôn.".to_string(),
            restored_tokens: None,
            furniture: Vec::new(),
            words: Vec::new(),
        },
    ];
    doc.document = Metadata {
        doc_type: Some("KH".to_string()),
        doc_type_name: Some("Kế hoạch".to_string()),
        number: Some(format!("{}/KH-UBND", &sha[..2])),
        issuer: Some(issuer.to_string()),
        issuer_level: Some(level),
        place: Some("An Bình".to_string()),
        date: Some(format!("{year}-03-15")),
        title: Some("Thực hiện Chương trình MTQG xây dựng nông thôn mới".to_string()),
        plan_year: Some(year),
        legal_bases: vec![],
        signer: Some(Signer {
            name: Some("Nguyễn Văn A".to_string()),
            position: Some("Chủ tịch".to_string()),
            authority: Some(Authority::TM),
        }),
        recipients: vec!["UBND huyện".to_string()],
    };
    doc.criteria = vec![
        Criterion {
            set: "xa_ntm_2021".to_string(),
            number: 2,
            name: "Giao thông".to_string(),
            name_in_text: None,
            status: CriterionStatus::Maintained,
            indicators: vec!["2.1".to_string()],
            subject: None,
            evidence: evidence(2, 0, 10),
        },
        Criterion {
            set: "xa_ntm_2021".to_string(),
            number: 17,
            name: "Môi trường và an toàn thực phẩm".to_string(),
            name_in_text: None,
            status: CriterionStatus::NotAchieved,
            indicators: vec![],
            subject: None,
            evidence: evidence(1, 0, 20),
        },
    ];
    doc.targets = vec![
        Target {
            text: "98% số hộ sử dụng nước sạch".to_string(),
            metric: Some("tỷ lệ hộ dùng nước sạch".to_string()),
            value: 98.0,
            value_max: None,
            denominator: None,
            unit: "%".to_string(),
            comparator: Comparator::Ge,
            criterion: Some(17),
            indicator: None,
            subject: None,
            deadline: Some(format!("{year}-12-31")),
            evidence: evidence(1, 9, 36),
        },
        Target {
            text: "Cứng hóa 3,5 km đường trục thôn".to_string(),
            metric: None,
            value: 3.5,
            value_max: None,
            denominator: None,
            unit: "km".to_string(),
            comparator: Comparator::Eq,
            criterion: Some(2),
            indicator: None,
            subject: None,
            deadline: None,
            evidence: evidence(2, 0, 31),
        },
    ];
    doc.budget = Budget {
        currency: "VND".to_string(),
        total: Some(12_500_000_000.0),
        items: vec![
            BudgetItem {
                id: 1,
                parent: None,
                label: "Tổng kinh phí".to_string(),
                source_kind: None,
                amount: 12_500_000_000.0,
                share_percent: None,
                evidence: evidence(2, 0, 5),
            },
            BudgetItem {
                id: 2,
                parent: Some(1),
                label: "Ngân sách tỉnh".to_string(),
                source_kind: Some("ngan_sach_tinh".to_string()),
                amount: 5_000_000_000.0,
                share_percent: Some(40.0),
                evidence: evidence(2, 6, 9),
            },
            BudgetItem {
                id: 3,
                parent: Some(1),
                label: "Ngân sách xã".to_string(),
                source_kind: Some("ngan_sach_xa".to_string()),
                amount: 7_500_000_000.0,
                share_percent: Some(60.0),
                evidence: evidence(2, 10, 14),
            },
        ],
        checks: vec![BudgetCheck {
            item: Some(1),
            kind: BudgetCheckKind::ChildrenSum,
            ok: true,
            expected: Some(12_500_000_000.0),
            found: Some(12_500_000_000.0),
        }],
    };
    doc.responsibilities = vec![
        Responsibility {
            unit: "Ban Quản lý xã".to_string(),
            unit_kind: UnitKind::BanQuanLy,
            role: Role::Lead,
            tasks: vec![
                "Chủ trì thực hiện".to_string(),
                "Báo cáo kết quả".to_string(),
            ],
            criteria: vec![2, 17],
            deadlines: vec![format!("{year}-12-31")],
            evidence: evidence(2, 0, 12),
        },
        Responsibility {
            unit: "Đoàn Thanh niên".to_string(),
            unit_kind: UnitKind::MttqDoanThe,
            role: Role::Support,
            tasks: vec!["Vận động hộ dân".to_string()],
            criteria: vec![17],
            deadlines: vec![],
            evidence: evidence(1, 0, 8),
        },
    ];
    doc.warnings = vec![Warning::new(
        "low_confidence",
        "page 1 read with low confidence",
        Some(1),
    )];
    doc
}

/// A store with two plans: a commune (2024) and a district (2023).
fn filled_store(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("plans.db");
    let mut store = Store::open(&db).expect("open store");
    let a = commune_plan("aa11", "UBND xã An Bình", IssuerLevel::Xa, 2024);
    let b = commune_plan("bb22", "UBND huyện Đông Hòa", IssuerLevel::Huyen, 2023);
    assert_eq!(
        store.put_document(&a, "test/1", None).expect("put"),
        PutOutcome::Inserted
    );
    assert_eq!(
        store.put_document(&b, "test/1", None).expect("put"),
        PutOutcome::Inserted
    );
    db
}

fn texts(table: &vnplan::store::Table, column: &str) -> Vec<String> {
    let i = table
        .columns
        .iter()
        .position(|c| c == column)
        .unwrap_or_else(|| panic!("no column {column} in {:?}", table.columns));
    table.rows.iter().map(|r| cell_text(&r[i])).collect()
}

#[test]
fn documents_map_to_rows_and_replace_cleanly() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = filled_store(tmp.path());
    let mut store = Store::open(&db).expect("reopen");
    for (table, n) in [
        ("documents", 2),
        ("pages", 4),
        ("criteria", 4),
        ("targets", 4),
        ("budget_items", 6),
        ("budget_checks", 2),
        ("responsibilities", 4),
        ("warnings", 2),
    ] {
        assert_eq!(store.count(table).expect("count"), n, "{table}");
    }
    let a = commune_plan("aa11", "UBND xã An Bình", IssuerLevel::Xa, 2024);
    assert_eq!(
        store.put_document(&a, "test/1", None).expect("put"),
        PutOutcome::AlreadyCurrent
    );
    assert_eq!(
        store.put_document(&a, "test/2", None).expect("put"),
        PutOutcome::Replaced
    );
    assert_eq!(store.count("documents").expect("count"), 2);
    assert_eq!(store.count("pages").expect("count"), 4);
    assert_eq!(store.count("targets").expect("count"), 4);
    let fts: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM pages_fts", [], |r| r.get(0))
        .expect("fts count");
    assert_eq!(fts, 4);
    assert!(store.has_current("aa11", "test/2").expect("has"));
    assert!(!store.has_current("aa11", "test/1").expect("has"));
}

#[test]
fn queries_filter_by_criterion_status_unit_issuer_level_year_doc() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Store::open_read_only(&filled_store(tmp.path())).expect("open");
    let q = |kind, filters: QueryFilters| store.query(kind, &filters).expect("query");

    let all = q(QueryKind::Targets, QueryFilters::default());
    assert_eq!(all.rows.len(), 4);
    let clean_water = q(
        QueryKind::Targets,
        QueryFilters {
            criterion: Some(17),
            ..Default::default()
        },
    );
    assert_eq!(texts(&clean_water, "value"), vec!["98", "98"]);
    let km = q(
        QueryKind::Targets,
        QueryFilters {
            unit: Some("km".into()),
            year: Some(2024),
            ..Default::default()
        },
    );
    assert_eq!(texts(&km, "value"), vec!["3.5"]);

    let not_achieved = q(
        QueryKind::Criteria,
        QueryFilters {
            status: Some("not_achieved".into()),
            level: Some("huyen".into()),
            ..Default::default()
        },
    );
    assert_eq!(texts(&not_achieved, "criterion"), vec!["17"]);
    assert_eq!(texts(&not_achieved, "issuer"), vec!["UBND huyện Đông Hòa"]);

    // Loose matching: no diacritics, any case, đ = d.
    let docs = q(
        QueryKind::Docs,
        QueryFilters {
            issuer: Some("dong hoa".into()),
            ..Default::default()
        },
    );
    assert_eq!(texts(&docs, "year"), vec!["2023"]);
    let units = q(
        QueryKind::Units,
        QueryFilters {
            unit: Some("doan thanh nien".into()),
            ..Default::default()
        },
    );
    assert_eq!(units.rows.len(), 2);
    let lead_on_2 = q(
        QueryKind::Units,
        QueryFilters {
            criterion: Some(2),
            doc: Some("aa11".into()),
            ..Default::default()
        },
    );
    assert_eq!(texts(&lead_on_2, "unit"), vec!["Ban Quản lý xã"]);
    assert_eq!(
        texts(&lead_on_2, "tasks"),
        vec!["Chủ trì thực hiện; Báo cáo kết quả"]
    );

    let budget = q(
        QueryKind::Budget,
        QueryFilters {
            doc: Some("bb/KH-UBND".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        texts(&budget, "amount"),
        vec!["12500000000", "5000000000", "7500000000"]
    );

    // Filters that do not apply, and unknown values, are usage errors.
    for (kind, filters) in [
        (
            QueryKind::Budget,
            QueryFilters {
                criterion: Some(1),
                ..Default::default()
            },
        ),
        (
            QueryKind::Criteria,
            QueryFilters {
                status: Some("done".into()),
                ..Default::default()
            },
        ),
    ] {
        assert!(matches!(
            store.query(kind, &filters),
            Err(QueryError::Usage(_))
        ));
    }
}

#[test]
fn search_ignores_diacritics_and_highlights_the_words_as_written() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let store = Store::open_read_only(&filled_store(tmp.path())).expect("open");
    let hits = store.search("nuoc sach", 10, "[", "]").expect("search");
    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|h| h.page == 1));
    assert!(
        hits[0].snippet.contains("[nước] [sạch]"),
        "{}",
        hits[0].snippet
    );
    let road = store.search("DUONG truc", 10, "[", "]").expect("search");
    assert_eq!(road.len(), 2);
    assert!(
        road[0].snippet.contains("[đường] [trục]"),
        "{}",
        road[0].snippet
    );
    assert!(store
        .search("dien luc", 10, "[", "]")
        .expect("search")
        .is_empty());
    // FTS syntax in the input is taken as words, not as operators.
    assert!(store.search("nuoc AND \"", 10, "[", "]").is_ok());
}

#[test]
fn sql_runs_reads_and_refuses_writes() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = filled_store(tmp.path());
    let store = Store::open_read_only(&db).expect("open");
    let copy = tmp.path().join("copy.db");
    let t = store
        .sql("SELECT number FROM documents WHERE vn_fold(issuer) LIKE '%an binh%'")
        .expect("select");
    assert_eq!(texts(&t, "number"), vec!["aa/KH-UBND"]);
    for write in [
        "DELETE FROM documents",
        "INSERT INTO meta(key, value) VALUES ('x', 'y')",
        "DROP TABLE targets",
        "UPDATE pages SET text = ''",
        &format!("VACUUM INTO '{}'", copy.display()),
    ] {
        assert!(store.sql(write).is_err(), "{write} was allowed");
    }
    assert!(!copy.exists(), "VACUUM INTO wrote a file");
    // Even with query_only switched off, the connection itself is read-only.
    let _ = store.sql("PRAGMA query_only = 0");
    assert!(store.sql("DELETE FROM documents").is_err());
    drop(store);

    let out = Command::new(env!("CARGO_BIN_EXE_vnplan"))
        .args(["sql", "--db"])
        .arg(&db)
        .arg("DELETE FROM documents")
        .output()
        .expect("run vnplan");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("read-only"));
    assert_eq!(
        Store::open_read_only(&db)
            .expect("open")
            .count("documents")
            .expect("count"),
        2
    );
}

#[test]
fn query_cli_prints_table_csv_and_json() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = filled_store(tmp.path());
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_vnplan"))
            .args(args)
            .arg("--db")
            .arg(&db)
            .output()
            .expect("run vnplan");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, csv_text) = run(&["query", "targets", "--criterion", "17", "--format", "csv"]);
    assert_eq!(code, Some(0));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = reader.headers().expect("header").clone();
    let unit = headers
        .iter()
        .position(|h| h == "unit")
        .expect("unit column");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| &r[unit] == "%"));

    let (code, json) = run(&[
        "query", "criteria", "--issuer", "an binh", "--format", "json",
    ]);
    assert_eq!(code, Some(0));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).expect("json");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["status"], "not_achieved");

    let (code, table) = run(&["query", "docs"]);
    assert_eq!(code, Some(0));
    assert!(table.contains("UBND huyện Đông Hòa"));
    assert!(table.contains("(2 rows)"));

    let (code, search) = run(&["search", "nuoc", "sach"]);
    assert_eq!(code, Some(0));
    assert!(search.contains("«nước» «sạch»"), "{search}");

    assert_eq!(run(&["query", "budget", "--status", "achieved"]).0, Some(2));
}

#[test]
fn exports_read_back() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = filled_store(tmp.path());
    let store = Store::open_read_only(&db).expect("open");

    let csv_dir = tmp.path().join("csv");
    let summary = store
        .export(ExportFormat::Csv, &csv_dir)
        .expect("csv export");
    assert_eq!(summary.tables.len(), TABLES.len());
    for (table, rows) in &summary.tables {
        let mut reader = csv::Reader::from_path(csv_dir.join(format!("{table}.csv"))).expect("csv");
        assert_eq!(reader.records().count(), *rows, "{table}");
    }
    let mut pages = csv::Reader::from_path(csv_dir.join("pages.csv")).expect("csv");
    let text_col = pages
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == "text")
        .expect("text column");
    let first = pages.records().next().expect("a row").expect("row");
    assert!(first[text_col].contains("nước sạch"));

    let jsonl_dir = tmp.path().join("jsonl");
    store
        .export(ExportFormat::Jsonl, &jsonl_dir)
        .expect("jsonl export");
    let targets = fs::read_to_string(jsonl_dir.join("targets.jsonl")).expect("jsonl");
    let rows: Vec<serde_json::Value> = targets
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["value"], 98.0);
    assert_eq!(rows[0]["unit"], "%");

    let xlsx = tmp.path().join("plans.xlsx");
    let summary = store
        .export(ExportFormat::Xlsx, &xlsx)
        .expect("xlsx export");
    let mut book: Xlsx<_> = open_workbook(&xlsx).expect("open xlsx");
    assert_eq!(book.sheet_names(), TABLES.map(String::from).to_vec());
    for (table, rows) in &summary.tables {
        let range = book.worksheet_range(table).expect("sheet");
        assert_eq!(range.height(), rows + 1, "{table}");
    }
    let budget = book.worksheet_range("budget_items").expect("sheet");
    let amount_col = budget
        .rows()
        .next()
        .expect("header")
        .iter()
        .position(|c| c.get_string() == Some("amount"))
        .expect("amount column");
    let amounts: Vec<f64> = budget
        .rows()
        .skip(1)
        .filter_map(|r| r[amount_col].get_float())
        .collect();
    assert_eq!(amounts.len(), 6);
    assert_eq!(amounts[1], 5_000_000_000.0);
}
