//! The document's skeleton: where the header ends, the top-level sections (I., II., … or headings
//! in capitals) and what each is about, and where "Nơi nhận" starts.
//!
//! Extractors ask the skeleton which kind of section a position is in: targets live in MỤC TIÊU /
//! CHỈ TIÊU sections, money in NGUỒN VỐN / KINH PHÍ, responsible units in TỔ CHỨC THỰC HIỆN.

use super::text::{clean, upper_ratio, DocText, Marker};
use once_cell::sync::Lazy;
use regex::Regex;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionKind {
    /// Header, title and legal bases, before the first top-level heading.
    Preamble,
    /// MỤC TIÊU, CHỈ TIÊU: every quantity is a target.
    Target,
    /// TỔ CHỨC THỰC HIỆN: the responsible units.
    Organization,
    /// NGUỒN VỐN, KINH PHÍ: the money.
    Funding,
    /// Anything else (MỤC ĐÍCH, NHIỆM VỤ, GIẢI PHÁP …).
    Other,
    /// "Nơi nhận" and the signature block.
    Closing,
}

#[derive(Debug, Clone)]
pub struct Section {
    pub start: usize,
    pub kind: SectionKind,
}

pub struct Skeleton {
    pub sections: Vec<Section>,
    pub closing_start: usize,
}

static RE_CLOSING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?m)^[\s#*_]*(?:Nơi nhận|NƠI NHẬN)\s*[:.]?|Trên đây là (?:[Kk]ế hoạch|[Bb]áo cáo|[Qq]uyết định|[Nn]ghị quyết)")
        .expect("closing regex")
});

fn kind_of(title: &str) -> SectionKind {
    let t = title.to_uppercase();
    if t.contains("TỔ CHỨC THỰC HIỆN") || t.contains("PHÂN CÔNG") {
        SectionKind::Organization
    } else if t.contains("MỤC TIÊU") || t.contains("CHỈ TIÊU") {
        SectionKind::Target
    } else if t.contains("NGUỒN VỐN") || t.contains("KINH PHÍ") || t.contains("NGUỒN LỰC")
    {
        SectionKind::Funding
    } else {
        SectionKind::Other
    }
}

impl Skeleton {
    pub fn new(doc: &DocText) -> Skeleton {
        let closing_start = RE_CLOSING
            .find(&doc.text)
            .map_or(doc.text.len(), |m| m.start());
        let mut sections = vec![Section {
            start: 0,
            kind: SectionKind::Preamble,
        }];
        for p in &doc.paras {
            if p.start >= closing_start {
                break;
            }
            let body = clean(doc.para_body(p));
            let letters = body.chars().filter(|c| c.is_alphabetic()).count();
            let is_heading = match p.marker {
                Marker::Roman => letters >= 4,
                // A whole paragraph in capitals after the preamble: an unnumbered section heading.
                Marker::None => {
                    letters >= 10
                        && upper_ratio(&body) > 0.85
                        && body.chars().count() < 80
                        && sections.len() > 1
                }
                _ => false,
            };
            if is_heading {
                sections.push(Section {
                    start: p.start,
                    kind: kind_of(&body),
                });
            }
        }
        sections.push(Section {
            start: closing_start,
            kind: SectionKind::Closing,
        });
        Skeleton {
            sections,
            closing_start,
        }
    }

    /// The section a byte position is in.
    pub fn section_at(&self, pos: usize) -> &Section {
        let mut cur = &self.sections[0];
        for s in &self.sections {
            if s.start <= pos {
                cur = s;
            } else {
                break;
            }
        }
        cur
    }

    pub fn kind_at(&self, pos: usize) -> SectionKind {
        self.section_at(pos).kind
    }

    /// The end of the preamble: the start of the first top-level section.
    pub fn body_start(&self) -> usize {
        self.sections.get(1).map_or(self.closing_start, |s| s.start)
    }
}
