//! Exports of every table for spreadsheets and other tools: CSV or JSON Lines (one file per table
//! in a directory) or one XLSX workbook (one sheet per table).
//!
//! XLSX cells hold at most 32 767 characters (an Excel limit); longer page texts are cut there and
//! counted in [`ExportSummary::truncated_cells`]. CSV and JSON Lines carry full text.

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use rusqlite::types::Value;
use rust_xlsxwriter::{Format as CellFormat, Workbook, XlsxError};

use super::query::{cell_json, cell_text, Table};
use super::{Store, StoreError};

/// Every exported table, in the order of the export. (The full-text index is derived, not exported.)
pub const TABLES: [&str; 11] = [
    "documents",
    "pages",
    "criteria",
    "targets",
    "budget_items",
    "budget_checks",
    "responsibilities",
    "warnings",
    "failures",
    "runs",
    "meta",
];

const XLSX_CELL_MAX: usize = 32_767;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
    Xlsx,
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct ExportSummary {
    /// (table, rows) in export order.
    pub tables: Vec<(String, usize)>,
    /// Files written.
    pub files: Vec<PathBuf>,
    /// XLSX cells cut at Excel's 32 767-character limit.
    pub truncated_cells: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{}: {source}", path.display())]
    Xlsx {
        path: PathBuf,
        #[source]
        source: XlsxError,
    },
}

impl Store {
    fn whole_table(&self, name: &str) -> Result<Table, StoreError> {
        // `name` comes from TABLES, never from input.
        let order = if name == "meta" { "key" } else { "id" };
        self.table(&format!("SELECT * FROM {name} ORDER BY {order}"), &[])
    }

    /// Export every table to `out`: a directory for CSV and JSON Lines (`<table>.csv` /
    /// `<table>.jsonl`, created if needed), a file for XLSX.
    pub fn export(&self, format: ExportFormat, out: &Path) -> Result<ExportSummary, ExportError> {
        let mut summary = ExportSummary::default();
        match format {
            ExportFormat::Csv | ExportFormat::Jsonl => {
                fs::create_dir_all(out).map_err(|source| ExportError::Io {
                    path: out.to_path_buf(),
                    source,
                })?;
                for name in TABLES {
                    let table = self.whole_table(name)?;
                    let path = out.join(format!(
                        "{name}.{}",
                        if format == ExportFormat::Csv {
                            "csv"
                        } else {
                            "jsonl"
                        }
                    ));
                    if format == ExportFormat::Csv {
                        write_csv(&table, &path)?;
                    } else {
                        write_jsonl(&table, &path)?;
                    }
                    summary.tables.push((name.to_string(), table.rows.len()));
                    summary.files.push(path);
                }
            }
            ExportFormat::Xlsx => {
                let xlsx = |source| ExportError::Xlsx {
                    path: out.to_path_buf(),
                    source,
                };
                let mut workbook = Workbook::new();
                let bold = CellFormat::new().set_bold();
                for name in TABLES {
                    let table = self.whole_table(name)?;
                    let sheet = workbook.add_worksheet();
                    sheet.set_name(name).map_err(xlsx)?;
                    for (c, column) in table.columns.iter().enumerate() {
                        sheet
                            .write_string_with_format(0, c as u16, column, &bold)
                            .map_err(xlsx)?;
                    }
                    for (r, row) in table.rows.iter().enumerate() {
                        let r = (r + 1) as u32;
                        for (c, value) in row.iter().enumerate() {
                            let c = c as u16;
                            match value {
                                Value::Null => {}
                                Value::Integer(i) => {
                                    sheet.write_number(r, c, *i as f64).map_err(xlsx)?;
                                }
                                Value::Real(f) => {
                                    sheet.write_number(r, c, *f).map_err(xlsx)?;
                                }
                                other => {
                                    let text = cell_text(other);
                                    let text = if text.chars().count() > XLSX_CELL_MAX {
                                        summary.truncated_cells += 1;
                                        text.chars().take(XLSX_CELL_MAX).collect()
                                    } else {
                                        text
                                    };
                                    sheet.write_string(r, c, &text).map_err(xlsx)?;
                                }
                            }
                        }
                    }
                    summary.tables.push((name.to_string(), table.rows.len()));
                }
                if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
                    fs::create_dir_all(parent).map_err(|source| ExportError::Io {
                        path: parent.to_path_buf(),
                        source,
                    })?;
                }
                workbook.save(out).map_err(xlsx)?;
                summary.files.push(out.to_path_buf());
            }
        }
        Ok(summary)
    }
}

fn write_csv(table: &Table, path: &Path) -> Result<(), ExportError> {
    let err = |source| ExportError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    w.write_record(&table.columns).map_err(err)?;
    for row in &table.rows {
        w.write_record(row.iter().map(cell_text)).map_err(err)?;
    }
    w.flush().map_err(|source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn write_jsonl(table: &Table, path: &Path) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::create(path).map_err(io)?;
    let mut w = BufWriter::new(file);
    for row in &table.rows {
        let mut object = serde_json::Map::new();
        for (column, value) in table.columns.iter().zip(row) {
            object.insert(column.clone(), cell_json(value));
        }
        serde_json::to_writer(&mut w, &object).map_err(|e| io(e.into()))?;
        w.write_all(b"\n").map_err(io)?;
    }
    w.flush().map_err(io)
}
