//! Analysts' queries over the store: targets, criteria, budget items, responsible units and
//! documents, narrowed by filters, as a [`Table`] of rows; and raw read-only SQL.
//!
//! Text filters (issuer, unit) match loosely: case and diacritics are ignored ("ubnd xa an binh"
//! finds "UBND xã An Bình"), so analysts can type without a Vietnamese keyboard.

use std::fmt;
use std::io::Write;

use rusqlite::types::Value;
use rusqlite::ToSql;
use unicode_width::UnicodeWidthStr;

use super::{Store, StoreError};

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryKind {
    Targets,
    Criteria,
    Budget,
    Units,
    Docs,
}

impl QueryKind {
    pub fn name(self) -> &'static str {
        match self {
            QueryKind::Targets => "targets",
            QueryKind::Criteria => "criteria",
            QueryKind::Budget => "budget",
            QueryKind::Units => "units",
            QueryKind::Docs => "docs",
        }
    }
}

/// Filters; `None` means "any". Which apply to which [`QueryKind`] is checked by [`Store::query`].
#[derive(Debug, Clone, Default)]
pub struct QueryFilters {
    /// Criterion number (tiêu chí số N).
    pub criterion: Option<u32>,
    /// Criterion status: achieved, not_achieved, target, maintained, mentioned.
    pub status: Option<String>,
    /// Responsible unit name (units, docs), or unit of measure (targets: %, xã, km, ...).
    pub unit: Option<String>,
    /// Issuing body, matched loosely.
    pub issuer: Option<String>,
    /// Issuer level: trung_uong, tinh, huyen, xa, thon.
    pub level: Option<String>,
    /// Plan year (or the year of the document's date).
    pub year: Option<i32>,
    /// A document: its id, a sha256 prefix, its number (số/ký hiệu) or part of its path.
    pub doc: Option<String>,
}

/// A query the caller got wrong (a filter that does not apply, an unknown status): a usage error.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Rows with named columns, as SQLite returned them.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

const STATUSES: [&str; 5] = [
    "achieved",
    "not_achieved",
    "target",
    "maintained",
    "mentioned",
];
const LEVELS: [&str; 5] = ["trung_uong", "tinh", "huyen", "xa", "thon"];

/// SQL text plus its parameters, built filter by filter.
struct Sql {
    text: String,
    conditions: Vec<String>,
    params: Vec<Box<dyn ToSql>>,
}

impl Sql {
    fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            conditions: Vec::new(),
            params: Vec::new(),
        }
    }

    /// Add a condition with one parameter (every `?` in it).
    fn filter(&mut self, condition: &str, value: Box<dyn ToSql>) {
        self.params.push(value);
        let n = self.params.len();
        self.conditions
            .push(condition.replace('?', &format!("?{n}")));
    }
}

impl Store {
    /// List `kind` rows matching `filters`, ordered by document then position.
    pub fn query(&self, kind: QueryKind, filters: &QueryFilters) -> Result<Table, QueryError> {
        let applies = |name: &str, ok: bool| -> Result<(), QueryError> {
            if ok {
                Ok(())
            } else {
                Err(QueryError::Usage(format!(
                    "--{name} does not apply to `query {}`",
                    kind.name()
                )))
            }
        };
        use QueryKind::*;
        if filters.criterion.is_some() {
            applies(
                "criterion",
                matches!(kind, Targets | Criteria | Units | Docs),
            )?;
        }
        if let Some(status) = &filters.status {
            applies("status", matches!(kind, Criteria | Docs))?;
            if !STATUSES.contains(&status.as_str()) {
                return Err(QueryError::Usage(format!(
                    "unknown --status {status}; one of {}",
                    STATUSES.join(", ")
                )));
            }
        }
        if filters.unit.is_some() {
            applies("unit", matches!(kind, Targets | Units | Docs))?;
        }
        if let Some(level) = &filters.level {
            if !LEVELS.contains(&level.as_str()) {
                return Err(QueryError::Usage(format!(
                    "unknown --level {level}; one of {}",
                    LEVELS.join(", ")
                )));
            }
        }

        let mut sql = match kind {
            Docs => Sql::new(
                "SELECT d.id AS doc, d.doc_type AS type, d.number, d.date, d.issuer,
                    d.issuer_level AS level, d.year, d.title, d.page_count AS pages,
                    (SELECT count(*) FROM criteria c WHERE c.document_id = d.id) AS criteria,
                    (SELECT count(*) FROM targets t WHERE t.document_id = d.id) AS targets,
                    d.budget_total, d.path
                 FROM documents d",
            ),
            Targets => Sql::new(
                "SELECT t.document_id AS doc, d.number AS doc_number, d.issuer, t.criterion,
                    t.metric, t.comparator, t.value, t.value_max, t.unit, t.deadline, t.subject,
                    t.text, t.page
                 FROM targets t JOIN documents d ON d.id = t.document_id",
            ),
            Criteria => Sql::new(
                "SELECT c.document_id AS doc, d.number AS doc_number, d.issuer, c.catalogue,
                    c.number AS criterion, c.name, c.status, c.subject, c.page
                 FROM criteria c JOIN documents d ON d.id = c.document_id",
            ),
            Budget => Sql::new(
                "SELECT b.document_id AS doc, d.number AS doc_number, d.issuer, b.item, b.parent,
                    b.label, b.source_kind, b.amount, b.share_percent, b.page
                 FROM budget_items b JOIN documents d ON d.id = b.document_id",
            ),
            Units => Sql::new(
                "SELECT r.document_id AS doc, d.number AS doc_number, d.issuer, r.unit,
                    r.unit_kind, r.role,
                    (SELECT group_concat(value, ', ') FROM json_each(r.criteria)) AS criteria,
                    (SELECT group_concat(value, '; ') FROM json_each(r.deadlines)) AS deadlines,
                    (SELECT group_concat(value, '; ') FROM json_each(r.tasks)) AS tasks,
                    r.page
                 FROM responsibilities r JOIN documents d ON d.id = r.document_id",
            ),
        };

        if let Some(n) = filters.criterion {
            let condition = match kind {
                Targets => "t.criterion = ?",
                Criteria => "c.number = ?",
                Units => "EXISTS (SELECT 1 FROM json_each(r.criteria) WHERE value = ?)",
                _ => {
                    "EXISTS (SELECT 1 FROM criteria c WHERE c.document_id = d.id AND c.number = ?)"
                }
            };
            sql.filter(condition, Box::new(n));
        }
        if let Some(status) = &filters.status {
            let condition = match kind {
                Criteria => "c.status = ?",
                _ => {
                    "EXISTS (SELECT 1 FROM criteria c WHERE c.document_id = d.id AND c.status = ?)"
                }
            };
            sql.filter(condition, Box::new(status.clone()));
        }
        if let Some(unit) = &filters.unit {
            let condition = match kind {
                Targets => "vn_fold(t.unit) = vn_fold(?)",
                Units => "vn_fold(r.unit) LIKE '%' || vn_fold(?) || '%'",
                _ => {
                    "EXISTS (SELECT 1 FROM responsibilities r WHERE r.document_id = d.id
                        AND vn_fold(r.unit) LIKE '%' || vn_fold(?) || '%')"
                }
            };
            sql.filter(condition, Box::new(unit.clone()));
        }
        if let Some(issuer) = &filters.issuer {
            sql.filter(
                "vn_fold(d.issuer) LIKE '%' || vn_fold(?) || '%'",
                Box::new(issuer.clone()),
            );
        }
        if let Some(level) = &filters.level {
            sql.filter("d.issuer_level = ?", Box::new(level.clone()));
        }
        if let Some(year) = filters.year {
            sql.filter("d.year = ?", Box::new(year));
        }
        if let Some(doc) = &filters.doc {
            match doc.parse::<i64>() {
                Ok(id) => sql.filter("d.id = ?", Box::new(id)),
                Err(_) => sql.filter(
                    "(d.sha256 LIKE lower(?) || '%' OR d.number = ? OR d.path LIKE '%' || ? || '%')",
                    Box::new(doc.clone()),
                ),
            }
        }

        let order = match kind {
            Docs => "d.id",
            Targets => "t.document_id, t.page, t.char_start, t.id",
            Criteria => "c.document_id, c.number, c.id",
            Budget => "b.document_id, b.item",
            Units => "r.document_id, r.page, r.char_start, r.id",
        };
        let mut text = sql.text.clone();
        if !sql.conditions.is_empty() {
            text.push_str(" WHERE ");
            text.push_str(&sql.conditions.join(" AND "));
        }
        text.push_str(" ORDER BY ");
        text.push_str(order);
        let params: Vec<&dyn ToSql> = sql.params.iter().map(|p| p.as_ref()).collect();
        Ok(self.table(&text, &params)?)
    }

    /// Run one SQL statement and collect its rows. On a store opened with
    /// [`Store::open_read_only`] SQLite refuses any statement that writes.
    ///
    /// Statements SQLite does not mark as read-only (VACUUM INTO, ATTACH, a PRAGMA that sets) are
    /// refused before they run, so none can touch files next to the store either.
    pub fn sql(&self, statement: &str) -> Result<Table, StoreError> {
        let stmt = self.conn.prepare(statement).map_err(|e| self.err(e))?;
        if !stmt.readonly() {
            return Err(self.invalid(
                "only statements that read are allowed (the connection is read-only)".to_string(),
            ));
        }
        drop(stmt);
        self.table(statement, &[])
    }

    pub(crate) fn table(
        &self,
        statement: &str,
        params: &[&dyn ToSql],
    ) -> Result<Table, StoreError> {
        let mut stmt = self.conn.prepare(statement).map_err(|e| self.err(e))?;
        let columns: Vec<String> = stmt.column_names().iter().map(|c| c.to_string()).collect();
        let width = columns.len();
        let mut rows = stmt.query(params).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let mut values = Vec::with_capacity(width);
            for i in 0..width {
                values.push(row.get::<_, Value>(i).map_err(|e| self.err(e))?);
            }
            out.push(values);
        }
        Ok(Table { columns, rows: out })
    }
}

/// How to print a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns for a terminal; long cells cut with "…".
    Table,
    Csv,
    /// One JSON array of objects.
    Json,
}

/// A cell as display text.
pub fn cell_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) => format_real(*f),
        Value::Text(s) => s.clone(),
        Value::Blob(b) => format!("<{} bytes>", b.len()),
    }
}

/// Whole numbers without ".0" (amounts in VND are whole), others as Rust prints them.
fn format_real(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

/// A cell as JSON.
pub fn cell_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Integer(i) => (*i).into(),
        Value::Real(f) => serde_json::Number::from_f64(*f)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
        Value::Text(s) => s.clone().into(),
        Value::Blob(b) => hex::encode(b).into(),
    }
}

impl Table {
    /// Row `i` as a JSON object keyed by column name.
    pub fn row_json(&self, i: usize) -> serde_json::Value {
        let mut object = serde_json::Map::new();
        for (column, value) in self.columns.iter().zip(&self.rows[i]) {
            object.insert(column.clone(), cell_json(value));
        }
        serde_json::Value::Object(object)
    }

    /// Write the table in `format`. `max_cell` bounds a cell's display width in the table view.
    pub fn write(
        &self,
        out: &mut dyn Write,
        format: Format,
        max_cell: usize,
    ) -> std::io::Result<()> {
        match format {
            Format::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&self.columns)?;
                for row in &self.rows {
                    w.write_record(row.iter().map(cell_text))?;
                }
                w.flush()
            }
            Format::Json => {
                let rows: Vec<serde_json::Value> =
                    (0..self.rows.len()).map(|i| self.row_json(i)).collect();
                serde_json::to_writer_pretty(&mut *out, &rows)?;
                writeln!(out)
            }
            Format::Table => write!(
                out,
                "{}",
                TableView {
                    table: self,
                    max_cell
                }
            ),
        }
    }
}

/// The terminal view: columns padded to their widest cell (by display width, so Vietnamese letters
/// and wide characters line up), newlines flattened, long cells cut.
struct TableView<'a> {
    table: &'a Table,
    max_cell: usize,
}

fn clip(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.width() <= max {
        return flat;
    }
    let mut out = String::new();
    let mut width = 0;
    for c in flat.chars() {
        let w = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if width + w + 1 > max {
            break;
        }
        out.push(c);
        width += w;
    }
    out.push('…');
    out
}

/// Like [`clip`], keeping the end.
fn clip_front(text: &str, max: usize) -> String {
    if text.width() <= max {
        return text.to_string();
    }
    let mut kept: Vec<char> = Vec::new();
    let mut width = 0;
    for c in text.chars().rev() {
        let w = UnicodeWidthStr::width(c.encode_utf8(&mut [0; 4]) as &str);
        if width + w + 1 > max {
            break;
        }
        kept.push(c);
        width += w;
    }
    std::iter::once('…').chain(kept.into_iter().rev()).collect()
}

impl fmt::Display for TableView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.table;
        // A path is told apart by its end (the file name), so it is cut at the front.
        let is_path: Vec<bool> = t.columns.iter().map(|c| c == "path").collect();
        let cells: Vec<Vec<String>> = t
            .rows
            .iter()
            .map(|row| {
                row.iter()
                    .enumerate()
                    .map(|(i, v)| {
                        if is_path[i] {
                            clip_front(&cell_text(v), self.max_cell)
                        } else {
                            clip(&cell_text(v), self.max_cell)
                        }
                    })
                    .collect()
            })
            .collect();
        let mut widths: Vec<usize> = t.columns.iter().map(|c| c.width()).collect();
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.width());
            }
        }
        let numeric: Vec<bool> = (0..t.columns.len())
            .map(|i| {
                t.rows
                    .iter()
                    .all(|r| matches!(r[i], Value::Integer(_) | Value::Real(_) | Value::Null))
            })
            .collect();
        let line = |f: &mut fmt::Formatter<'_>, row: &[String]| -> fmt::Result {
            let mut parts = Vec::with_capacity(row.len());
            for (i, cell) in row.iter().enumerate() {
                let pad = " ".repeat(widths[i].saturating_sub(cell.width()));
                if numeric[i] {
                    parts.push(format!("{pad}{cell}"));
                } else {
                    parts.push(format!("{cell}{pad}"));
                }
            }
            writeln!(f, "{}", parts.join("  ").trim_end())
        };
        line(f, &t.columns)?;
        let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
        writeln!(f, "{}", rule.join("  "))?;
        for row in &cells {
            line(f, row)?;
        }
        writeln!(f, "({} rows)", t.rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_cells_are_cut_and_flattened() {
        assert_eq!(clip("Ủy ban\nnhân dân", 40), "Ủy ban nhân dân");
        let cut = clip("Ban Chỉ đạo các Chương trình mục tiêu quốc gia", 12);
        assert_eq!(cut, "Ban Chỉ đạo…");
        assert!(cut.width() <= 12);
        assert_eq!(
            clip_front("/archive/2024/kh-an-binh.txt", 16),
            "…/kh-an-binh.txt"
        );
    }

    #[test]
    fn table_view_aligns_by_display_width() {
        let table = Table {
            columns: vec!["unit".into(), "value".into()],
            rows: vec![
                vec![Value::Text("xã".into()), Value::Real(98.0)],
                vec![Value::Text("km".into()), Value::Real(3.5)],
            ],
        };
        let mut out = Vec::new();
        table.write(&mut out, Format::Table, 40).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[2], "xã       98");
        assert_eq!(lines[3], "km      3.5");
        assert_eq!(lines[4], "(2 rows)");
    }
}
