//! The criteria catalogues (bộ tiêu chí) embedded from `models/criteria/`.
//!
//! Each catalogue numbers its criteria differently (criterion 14 is "Giáo dục và Đào tạo" in the
//! 2021 commune set and "Y tế" in the advanced set), so the set a document uses is chosen by how
//! well the names it prints match each catalogue.

use once_cell::sync::Lazy;
use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Catalogue {
    pub id: String,
    /// (number, official name)
    pub criteria: Vec<(u32, String)>,
}

#[derive(Deserialize)]
struct RawCatalogue {
    catalogue_id: String,
    #[serde(default)]
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
struct RawCriterion {
    number: Option<u32>,
    name: Option<String>,
}

const SOURCES: &[&str] = &[
    include_str!("../../models/criteria/xa_ntm_2021.json"),
    include_str!("../../models/criteria/xa_ntm_nang_cao_2021.json"),
    include_str!("../../models/criteria/huyen_ntm_2021.json"),
    include_str!("../../models/criteria/xa_ntm_2016.json"),
    include_str!("../../models/criteria/ntm_2026.json"),
];

/// Commune-level sets a document's criteria numbers may refer to.
pub const COMMUNE_SETS: &[&str] = &[
    "xa_ntm_2021",
    "xa_ntm_nang_cao_2021",
    "xa_ntm_2016",
    "ntm_2026",
];
pub const DISTRICT_SET: &str = "huyen_ntm_2021";

static CATALOGUES: Lazy<Vec<Catalogue>> = Lazy::new(|| {
    SOURCES
        .iter()
        .filter_map(|src| serde_json::from_str::<RawCatalogue>(src).ok())
        .map(|raw| Catalogue {
            id: raw.catalogue_id,
            criteria: raw
                .criteria
                .into_iter()
                .filter_map(|c| Some((c.number?, c.name?)))
                .collect(),
        })
        .collect()
});

pub fn catalogue(id: &str) -> Option<&'static Catalogue> {
    CATALOGUES.iter().find(|c| c.id == id)
}

impl Catalogue {
    pub fn name(&self, number: u32) -> Option<&str> {
        self.criteria
            .iter()
            .find(|(n, _)| *n == number)
            .map(|(_, s)| s.as_str())
    }
}

/// Lower case, tone marks in one style, punctuation to spaces: for comparing names.
pub fn norm(s: &str) -> String {
    let s = crate::vietnamese::canonical_tones(&s.to_lowercase());
    s.chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether a name printed in the text is the catalogue's name: equal, or one starts with the other
/// on a word boundary ("Môi trường" for "Môi trường và an toàn thực phẩm").
pub fn names_match(in_text: &str, official: &str) -> bool {
    let a = norm(in_text);
    let b = norm(official);
    if a.is_empty() || b.is_empty() {
        return false;
    }
    a == b || a.starts_with(&(b.clone() + " ")) || b.starts_with(&(a + " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogues_load() {
        let c = catalogue("xa_ntm_2021").expect("2021 set");
        assert_eq!(c.criteria.len(), 19);
        assert_eq!(c.name(14), Some("Giáo dục và Đào tạo"));
        let nc = catalogue("xa_ntm_nang_cao_2021").expect("advanced set");
        assert_eq!(nc.name(14), Some("Y tế"));
        assert!(catalogue(DISTRICT_SET).is_some());
    }

    #[test]
    fn name_matching() {
        assert!(names_match("Môi trường", "Môi trường và an toàn thực phẩm"));
        assert!(names_match("Giao Thông", "Giao thông"));
        assert!(!names_match("Y tế", "Giáo dục và Đào tạo"));
    }
}
