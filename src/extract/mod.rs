//! Extraction: from the pages' text to metadata, criteria, targets, budget and responsible units.
//!
//! Input: the pages after normalization and restoration (`Page::text`). Output: an [`Extraction`]
//! whose every item carries [`Evidence`](crate::document::Evidence) — page number and a span of
//! Unicode scalar values in that page's `text`. Rules, not guesses: first the skeleton (header,
//! top-level sections, "Nơi nhận"), then each extractor looks where its items live.

mod budget;
pub mod catalogue;
mod criteria;
pub mod eval;
mod metadata;
pub mod numbers;
mod responsibilities;
mod skeleton;
mod targets;
mod text;

use crate::document::{
    Budget, Criterion, IssuerLevel, Metadata, Page, PageMethod, Responsibility, Target, Warning,
};

/// Everything extracted from one document.
#[derive(Debug, Clone, PartialEq)]
pub struct Extraction {
    pub document: Metadata,
    pub criteria: Vec<Criterion>,
    pub targets: Vec<Target>,
    pub budget: Budget,
    pub responsibilities: Vec<Responsibility>,
    pub warnings: Vec<Warning>,
}

/// Run every extractor over the pages' `text`.
pub fn extract(pages: &[Page]) -> Extraction {
    let doc = text::DocText::new(pages);
    let sk = skeleton::Skeleton::new(&doc);
    let mut warnings = Vec::new();
    let md = metadata::extract_metadata(&doc, &sk);
    let criteria =
        criteria::extract_criteria(&doc, &sk, md.title.as_deref().unwrap_or(""), md.plan_year);
    let targets = targets::extract_targets(&doc, &sk, &mut warnings);
    let budget = budget::extract_budget(&doc, &sk, &mut warnings);
    let level = md.issuer_level.map(|l| match l {
        IssuerLevel::TrungUong => "trung ương",
        IssuerLevel::Tinh => "tỉnh",
        IssuerLevel::Huyen => "huyện",
        IssuerLevel::Xa => "xã",
        IssuerLevel::Thon => "thôn",
    });
    let responsibilities = responsibilities::extract_responsibilities(&doc, &sk, level);
    Extraction {
        document: md,
        criteria,
        targets,
        budget,
        responsibilities,
        warnings,
    }
}

/// Pages of a plain-text document: one page per form-feed-separated chunk (a text without form
/// feeds is one page), in Unicode NFC as normalization would leave them. For development and
/// tests; real inputs go through the pipeline.
pub fn pages_from_text(text: &str) -> Vec<Page> {
    use unicode_normalization::UnicodeNormalization;
    text.split('\u{c}')
        .enumerate()
        .map(|(i, chunk)| {
            let nfc: String = chunk.nfc().collect();
            Page {
                number: i as u32 + 1,
                method: PageMethod::Text,
                ocr_confidence: None,
                raw_text: chunk.to_string(),
                text: nfc,
                restored_tokens: None,
                furniture: Vec::new(),
                words: Vec::new(),
            }
        })
        .collect()
}

impl Extraction {
    /// Put the extraction into a document (the stages before filled `source`, `pipeline`, `pages`).
    pub fn fill(self, doc: &mut crate::document::Document) {
        doc.document = self.document;
        doc.criteria = self.criteria;
        doc.targets = self.targets;
        doc.budget = self.budget;
        doc.responsibilities = self.responsibilities;
        doc.warnings.extend(self.warnings);
    }
}
