//! The output contract `vnplan.document/1` (`schema/document.schema.json`), as Rust types.
//!
//! This is the one place that knows the schema: every stage fills a part of [`Document`], the JSON
//! writer serializes it, the store maps it to tables. Field names follow the schema exactly.

use serde::{Deserialize, Serialize};

/// The schema identifier written into every document.
pub const SCHEMA_ID: &str = "vnplan.document/1";

/// One ingested plan document.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Document {
    pub schema: String,
    pub source: Source,
    pub pipeline: PipelineInfo,
    pub pages: Vec<Page>,
    pub document: Metadata,
    pub criteria: Vec<Criterion>,
    pub targets: Vec<Target>,
    pub budget: Budget,
    pub responsibilities: Vec<Responsibility>,
    pub warnings: Vec<Warning>,
}

impl Document {
    /// An empty document for `source`, ready for the stages to fill.
    pub fn new(source: Source, pipeline: PipelineInfo) -> Self {
        Document {
            schema: SCHEMA_ID.to_string(),
            source,
            pipeline,
            pages: Vec::new(),
            document: Metadata::default(),
            criteria: Vec::new(),
            targets: Vec::new(),
            budget: Budget::default(),
            responsibilities: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Where the document came from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub media_type: String,
    pub page_count: u32,
}

/// What made the document: pipeline version, OCR engine, restoration model.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct PipelineInfo {
    pub version: String,
    /// Engine name and version, languages, dpi; `None` when no page needed OCR.
    pub ocr: Option<serde_json::Value>,
    /// Name + content hash of the restoration model used.
    pub restoration_model: Option<String>,
}

/// How a page's text was obtained.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum PageMethod {
    /// From a PDF text layer.
    TextLayer,
    /// Read by OCR from a page image.
    Ocr,
    /// From a plain-text input.
    Text,
}

impl PageMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PageMethod::TextLayer => "text-layer",
            PageMethod::Ocr => "ocr",
            PageMethod::Text => "text",
        }
    }
}

/// One page of text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Page {
    pub number: u32,
    pub method: PageMethod,
    pub ocr_confidence: Option<f64>,
    /// Text as read from the source (text layer, OCR or file), NFC, before restoration.
    pub raw_text: String,
    /// Text after normalization and restoration; every evidence offset points into this.
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_tokens: Option<u32>,
    /// Page furniture (page numbers, running headers) found in `text`: marked, never deleted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub furniture: Vec<Furniture>,
    /// OCR pages: every word read, with its confidence and box (the evidence trail of `raw_text`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<OcrWord>,
}

/// One word as OCR read it: text, confidence 0–1, box `[left, top, right, bottom]` in pixels of
/// the page image (after deskew).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OcrWord {
    pub text: String,
    pub confidence: f64,
    pub bbox: [i32; 4],
}

/// A span of page furniture inside a page's text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Furniture {
    /// page_number, running_header, running_footer
    pub kind: String,
    pub char_start: usize,
    pub char_end: usize,
}

/// Document metadata from the Decree 30/2020 header, the legal bases and the signature block.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Metadata {
    /// Abbreviation per Decree 30/2020: KH, QĐ, NQ, BC, ...
    pub doc_type: Option<String>,
    #[serde(default)]
    pub doc_type_name: Option<String>,
    /// Số và ký hiệu as written; `None` when blank.
    pub number: Option<String>,
    pub issuer: Option<String>,
    #[serde(default)]
    pub issuer_level: Option<IssuerLevel>,
    pub place: Option<String>,
    /// ISO 8601, possibly partial.
    pub date: Option<String>,
    /// Trích yếu without the document-type word.
    pub title: Option<String>,
    #[serde(default)]
    pub plan_year: Option<i32>,
    pub legal_bases: Vec<Reference>,
    pub signer: Option<Signer>,
    pub recipients: Vec<String>,
}

/// Administrative level of the issuing body.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum IssuerLevel {
    TrungUong,
    Tinh,
    Huyen,
    Xa,
    Thon,
}

/// A cited document ("Căn cứ …", "Thực hiện …").
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Reference {
    pub text: String,
    pub doc_type: Option<String>,
    pub number: Option<String>,
    pub date: Option<String>,
    pub issuer: Option<String>,
}

/// Who signs, and on whose authority (TM., KT., Q., TL., TUQ.).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Signer {
    pub name: Option<String>,
    pub position: Option<String>,
    pub authority: Option<Authority>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "UPPERCASE")]
pub enum Authority {
    TM,
    KT,
    Q,
    TL,
    TUQ,
}

/// A criterion (tiêu chí) named in the document, with the status the text gives it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Criterion {
    /// Catalogue id: xa_ntm_2021, xa_ntm_nang_cao_2021, huyen_ntm_2021, xa_ntm_2016, ..., or unknown.
    pub set: String,
    pub number: u32,
    pub name: String,
    #[serde(default)]
    pub name_in_text: Option<String>,
    pub status: CriterionStatus,
    #[serde(default)]
    pub indicators: Vec<String>,
    #[serde(default)]
    pub subject: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    Achieved,
    NotAchieved,
    Target,
    Maintained,
    Mentioned,
}

impl CriterionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionStatus::Achieved => "achieved",
            CriterionStatus::NotAchieved => "not_achieved",
            CriterionStatus::Target => "target",
            CriterionStatus::Maintained => "maintained",
            CriterionStatus::Mentioned => "mentioned",
        }
    }
}

/// A quantity the plan commits to (chỉ tiêu).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Target {
    /// The clause that states the target.
    pub text: String,
    #[serde(default)]
    pub metric: Option<String>,
    pub value: f64,
    #[serde(default)]
    pub value_max: Option<f64>,
    #[serde(default)]
    pub denominator: Option<f64>,
    /// Normalized unit: %, xã, thôn, hộ, km, ...
    pub unit: String,
    pub comparator: Comparator,
    #[serde(default)]
    pub criterion: Option<u32>,
    #[serde(default)]
    pub indicator: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub deadline: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Comparator {
    Eq,
    Ge,
    Gt,
    Le,
    Lt,
    Range,
    Approx,
}

/// The money the plan needs, allocates or mobilizes, as a tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Budget {
    pub currency: String,
    /// The stated grand total in VND, or `None` when the document states none.
    pub total: Option<f64>,
    pub items: Vec<BudgetItem>,
    pub checks: Vec<BudgetCheck>,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            currency: "VND".to_string(),
            total: None,
            items: Vec::new(),
            checks: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BudgetItem {
    pub id: i64,
    pub parent: Option<i64>,
    pub label: String,
    /// ngan_sach_trung_uong, ngan_sach_tinh, ngan_sach_huyen, ngan_sach_xa, long_ghep, tin_dung,
    /// doanh_nghiep, cong_dong, khac.
    #[serde(default)]
    pub source_kind: Option<String>,
    /// VND.
    pub amount: f64,
    #[serde(default)]
    pub share_percent: Option<f64>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BudgetCheck {
    pub item: Option<i64>,
    pub kind: BudgetCheckKind,
    pub ok: bool,
    pub expected: Option<f64>,
    pub found: Option<f64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BudgetCheckKind {
    ChildrenSum,
    SharesSum,
    ShareMatchesAmount,
}

/// A unit the plan assigns work to.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Responsibility {
    pub unit: String,
    pub unit_kind: UnitKind,
    pub role: Role,
    pub tasks: Vec<String>,
    #[serde(default)]
    pub criteria: Vec<u32>,
    #[serde(default)]
    pub deadlines: Vec<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Ubnd,
    Hdnd,
    So,
    Phong,
    BanChiDao,
    BanQuanLy,
    VanPhong,
    MttqDoanThe,
    CongChuc,
    Thon,
    TruongTram,
    CoQuanKhac,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Lead,
    Support,
    Assigned,
}

/// Something the reader should know about the document: a page with no Vietnamese letters, a budget
/// that does not add up, an inconsistent percentage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Warning {
    pub code: String,
    pub message: String,
    pub page: Option<u32>,
}

impl Warning {
    pub fn new(code: &str, message: impl Into<String>, page: Option<u32>) -> Self {
        Warning {
            code: code.to_string(),
            message: message.into(),
            page,
        }
    }
}

/// Where an item came from: a page and a span of Unicode scalar values in that page's `text`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Default)]
pub struct Evidence {
    pub page: u32,
    pub char_start: usize,
    pub char_end: usize,
    #[serde(default)]
    pub confidence: Option<f64>,
}
