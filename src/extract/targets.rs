//! Targets (chỉ tiêu): every quantity inside a target statement.
//!
//! In a MỤC TIÊU / CHỈ TIÊU section every quantity with a unit is a target; elsewhere only those in a
//! clause that commits to something ("phấn đấu", "nâng tổng số … lên", "để đạt", "xây dựng 04 …").
//! Quantities that describe rather than commit are left out: list sizes ("gồm 08 tiêu chí", "5 thôn:"),
//! present state ("43 xã đã được công nhận"), restated scopes ("(181/181 xã)"), money, dates.

use super::numbers::parse_vn_number;
use super::skeleton::{SectionKind, Skeleton};
use super::text::{clauses, clean, tolerant_regex, DocText};
use crate::document::{Comparator, Target, Warning};
use once_cell::sync::Lazy;
use regex::Regex;

const NUM: &str = r"\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?";

/// Unit words of a quantity, as regex fragments (most specific first).
const UNITS: &[&str] = &[
    r"%",
    r"tiêu\s+chí\s*/\s*(?:0?1\s+)?xã",
    r"tiêu\s+chí",
    r"sản\s+phẩm",
    r"lao\s+động",
    r"người",
    r"lượt",
    r"công\s+trình",
    r"tuyến",
    r"vườn",
    r"điểm",
    r"mô\s+hình",
    r"trường",
    r"cái",
    r"hoạt\s+động",
    r"thị\s+trấn",
    r"khu\s+dân\s+cư",
    r"hợp\s+tác\s+xã",
    r"HTX",
    r"doanh\s+nghiệp",
    r"thôn",
    r"bản",
    r"xóm",
    r"hộ",
    r"km2",
    r"km",
    r"m2",
    r"m²",
    r"m3",
    r"ha",
    r"m",
    r"xã",
    r"huyện",
    r"lớp",
    r"học\s+viên",
    r"chợ",
    r"tấn",
    r"cây",
    r"chiếc",
    r"ngôi",
    r"căn",
    r"gia\s+đình",
];

/// Unit words of a per-unit quantity ("m2/người").
const PER_UNITS: &[&str] = &["người", "hộ", "xã", "thôn", "huyện", "năm"];

/// Each unit word's whole-text matcher (tolerant, as in `RE_QTY`) and its written form, to read a
/// matched unit back as the word it stands for ("Lượt" → "lượt", "nguoi" → "người").
static UNIT_FORMS: Lazy<Vec<(Regex, String)>> = Lazy::new(|| {
    UNITS
        .iter()
        .chain(PER_UNITS)
        .filter_map(|p| {
            let re = Regex::new(&format!("^(?:{})$", tolerant_regex(p))).ok()?;
            let form = p
                .replace(r"(?:0?1\s+)?", "")
                .replace(r"\s*", "")
                .replace(r"\s+", " ");
            Some((re, form))
        })
        .collect()
});

fn unit_form(u: &str) -> String {
    UNIT_FORMS
        .iter()
        .find(|(re, _)| re.is_match(u))
        .map_or_else(|| u.to_string(), |(_, f)| f.clone())
}

static RE_QTY: Lazy<Regex> = Lazy::new(|| {
    // Unit words as restoration leaves them: any case ("Lượt"), any tone ("xa"), unaccented
    // when long ("nguoi").
    Regex::new(&format!(
        r"(?P<sym>[<>≥≤]\s*)?(?P<n1>{NUM})(?:\s*/\s*(?P<den>{NUM}))?(?:\s*[-–—]\s*(?P<n2>{NUM}))?\s*(?P<unit>{})(?P<per>\s*/\s*(?:{}))?",
        UNITS
            .iter()
            .map(|u| tolerant_regex(u))
            .collect::<Vec<_>>()
            .join("|"),
        PER_UNITS
            .iter()
            .map(|u| tolerant_regex(u))
            .collect::<Vec<_>>()
            .join("|")
    ))
    .expect("quantity regex")
});

static RE_CUE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)phấn đấu|nâng tổng|nâng tỷ lệ|để đạt|đảm bảo đạt|bảo đảm đạt|hoàn thành|đạt tỷ lệ|có thêm\s+\d|xây dựng thêm\s+\d|(?:năm\s+20\d\d|tập trung)\s+(?:(?:thực hiện|triển khai)\s+)?(?:xây dựng\s+)+\d")
        .expect("cue regex")
});
static RE_KEEP_AFTER: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)giữ vững|tiếp tục|phấn đấu|hoàn thành").expect("keep regex"));
static RE_PRESENT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^\s*(?:đã\s+được|đã\s+đạt|được\s+duy\s+trì|đã\s+được\s+công\s+nhận)")
        .expect("present regex")
});
static RE_MONEY: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)\d\s*(?:tỷ|tỉ|triệu|nghìn|ngàn)\s+đồng").expect("money regex"));
static RE_CRITERION_LEAD: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^(?:\(\d+\)\s*)?(?i:tiêu\s+chí)\s*(?:số\s*)?(\d{1,2})\b").expect("lead regex")
});
static RE_SHARE_AFTER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(&format!(
        r"^\s*,?\s*(?:chiếm|đạt|bằng)\s*(?:tỷ\s+lệ\s*)?(?P<p>{NUM})\s*%"
    ))
    .expect("share regex")
});

fn normalize_unit(u: &str, per: Option<&str>) -> String {
    let u = u.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut u = unit_form(&u.to_lowercase().replace('²', "2"));
    if u.starts_with("tiêu chí/") || u.starts_with("tiêu chí /") {
        u = "tiêu chí/xã".to_string();
    }
    if u == "htx" {
        u = "hợp tác xã".to_string();
    }
    if let Some(p) = per {
        let p: String = p
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '/')
            .collect();
        u = format!("{u}/{}", unit_form(&p.to_lowercase()));
    }
    u
}

fn last_words(s: &str, n: usize) -> String {
    let words: Vec<&str> = s.split_whitespace().collect();
    let from = words.len().saturating_sub(n);
    words[from..].join(" ").to_lowercase()
}

fn decimals(s: &str) -> usize {
    s.split_once(',').map_or(0, |(_, f)| f.len())
}

pub fn extract_targets(doc: &DocText, sk: &Skeleton, warnings: &mut Vec<Warning>) -> Vec<Target> {
    let mut out = Vec::new();
    for p in &doc.paras {
        let kind = sk.kind_at(p.start);
        if !matches!(
            kind,
            SectionKind::Target | SectionKind::Other | SectionKind::Organization
        ) {
            continue;
        }
        // Headings name a topic, they state no quantity to reach.
        if sk.sections.iter().any(|s| s.start == p.start) {
            continue;
        }
        let lead_criterion = RE_CRITERION_LEAD
            .captures(doc.para_body(p))
            .and_then(|c| c[1].parse::<u32>().ok());
        for (cs, ce) in clauses(&doc.text, p.start, p.end) {
            let clause = doc.slice(cs, ce);
            if RE_MONEY.is_match(clause) {
                continue;
            }
            if kind != SectionKind::Target && !RE_CUE.is_match(clause) {
                continue;
            }
            for c in RE_QTY.captures_iter(clause) {
                let (Some(all), Some(n1)) = (c.get(0), c.name("n1")) else {
                    continue;
                };
                let before = &clause[..all.start()];
                let after = &clause[all.end()..];
                // The number must stand alone: not part of a code, date or longer number.
                if before
                    .chars()
                    .last()
                    .is_some_and(|ch| ch.is_alphanumeric() || "/.,-–".contains(ch))
                {
                    continue;
                }
                // The unit must end on a word boundary ("m" is not "mỗi", "hộ" is not "hội").
                if after.chars().next().is_some_and(|ch| ch.is_alphanumeric()) {
                    continue;
                }
                let prev = last_words(before, 3);
                let prev1 = last_words(before, 1);
                let after_trim = after.trim_start();
                // List sizes.
                if prev1 == "gồm" || prev.ends_with("gồm có") || after_trim.starts_with(':') {
                    continue;
                }
                // A classification, not an amount to reach.
                if prev.contains("thuộc nhóm") || prev.ends_with("nhóm đạt từ") {
                    continue;
                }
                // A qualifier of a noun ("vườn 1000m2 trở lên" = gardens of that size), not a goal.
                if after_trim.to_lowercase().starts_with("trở lên")
                    && !matches!(prev1.as_str(), "từ" | "đạt" | "là" | "có" | "được" | "lên")
                    && prev1.chars().all(char::is_alphabetic)
                    && !prev1.is_empty()
                {
                    continue;
                }
                // A scope restated in brackets: "(181/181 xã)".
                if before.trim_end().ends_with('(') && after_trim.starts_with(')') {
                    continue;
                }
                // Present state, unless the clause goes on to commit ("… giữ vững 10 tiêu chí").
                if RE_PRESENT.is_match(after) && !RE_KEEP_AFTER.is_match(after) {
                    continue;
                }
                let Some(value) = parse_vn_number(n1.as_str()) else {
                    continue;
                };
                let value_max = c.name("n2").and_then(|m| parse_vn_number(m.as_str()));
                let denominator = c.name("den").and_then(|m| parse_vn_number(m.as_str()));
                let mut unit = normalize_unit(
                    c.name("unit").map_or("", |m| m.as_str()),
                    c.name("per").map(|m| m.as_str()),
                );
                if unit == "tiêu chí" && before.to_lowercase().contains("tiêu chí/") {
                    unit = "tiêu chí/xã".to_string();
                }
                let sym = c.name("sym").map(|m| m.as_str().trim());
                let after_words = after_trim.to_lowercase();
                let comparator = if value_max.is_some() {
                    Comparator::Range
                } else if let Some(s) = sym {
                    match s {
                        ">" => Comparator::Gt,
                        "<" => Comparator::Lt,
                        "≥" => Comparator::Ge,
                        _ => Comparator::Le,
                    }
                } else if prev1 == "trên" || prev1 == "hơn" {
                    Comparator::Gt
                } else if prev.ends_with("ít nhất")
                    || prev.ends_with("tối thiểu")
                    || prev.ends_with("tối thiểu là")
                    || prev.ends_with("không dưới")
                    || after_words.starts_with("trở lên")
                {
                    Comparator::Ge
                } else if prev1 == "dưới" {
                    Comparator::Lt
                } else if prev.ends_with("tối đa") || prev.ends_with("không quá") {
                    Comparator::Le
                } else if prev1 == "khoảng" || prev1 == "gần" || prev1 == "xấp" {
                    Comparator::Approx
                } else {
                    Comparator::Eq
                };
                let start = cs + all.start();
                let end = cs + all.end();
                // Check a fraction against the percentage printed beside it.
                if let (Some(den), Some(sh)) = (denominator, RE_SHARE_AFTER.captures(after)) {
                    if let Some(pct) = sh.name("p").and_then(|m| parse_vn_number(m.as_str())) {
                        if den > 0.0 {
                            let computed = value / den * 100.0;
                            let tol = 0.5 * 10f64.powi(-(decimals(&sh["p"]) as i32)) + 0.01;
                            if (computed - pct).abs() > tol {
                                let ev = doc.evidence(start, end);
                                warnings.push(Warning::new(
                                    "target_share_mismatch",
                                    format!(
                                        "{}/{} = {:.2}% but the text gives {}% (\"{}\")",
                                        n1.as_str(),
                                        c.name("den").map_or("", |m| m.as_str()),
                                        computed,
                                        &sh["p"],
                                        clean(&doc.text[start..(end + sh[0].len()).min(ce)])
                                    ),
                                    Some(ev.page),
                                ));
                            }
                        }
                    }
                }
                out.push(Target {
                    text: clean(clause),
                    metric: None,
                    value,
                    value_max,
                    denominator,
                    unit,
                    comparator,
                    criterion: lead_criterion,
                    indicator: None,
                    subject: None,
                    deadline: None,
                    evidence: doc.evidence(start, end),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::document::Comparator;
    use crate::extract::{extract, pages_from_text};

    fn targets(text: &str) -> Vec<(f64, Option<f64>, String, Comparator)> {
        extract(&pages_from_text(text))
            .targets
            .into_iter()
            .map(|t| (t.value, t.value_max, t.unit, t.comparator))
            .collect()
    }

    #[test]
    fn unit_words_with_restoration_errors() {
        // A capital from a line start, a wrong tone on a short word, an unrestored long word.
        let t = targets(
            "I. MỤC TIÊU\n- Bồi dưỡng 4.000 Lượt cán bộ; nâng lên 30 xa; đạt 12 m2/nguoi.\n",
        );
        assert_eq!(
            t,
            vec![
                (4000.0, None, "lượt".to_string(), Comparator::Eq),
                (30.0, None, "xã".to_string(), Comparator::Eq),
                (12.0, None, "m2/người".to_string(), Comparator::Eq),
            ]
        );
        // A short word keeps its letter marks: "cần" is not the unit "căn".
        assert!(targets("I. MỤC TIÊU\n- Năm 2024 cần tập trung.\n").is_empty());
    }

    #[test]
    fn comparators_ranges_and_units() {
        let t = targets(
            "I. MỤC TIÊU\n- Tỷ lệ bao phủ bảo hiểm y tế đạt > 99,08%; cứng hóa trên 350 km; \
             tối thiểu là 10% diện tích; khoảng 1.000 lao động; từ 14,5 – 15,0 tiêu chí/01 xã; \
             đạt tỷ lệ > 2m²/người; giảm từ 4,5% trở lên.\n",
        );
        assert_eq!(
            t,
            vec![
                (99.08, None, "%".to_string(), Comparator::Gt),
                (350.0, None, "km".to_string(), Comparator::Gt),
                (10.0, None, "%".to_string(), Comparator::Ge),
                (1000.0, None, "lao động".to_string(), Comparator::Approx),
                (
                    14.5,
                    Some(15.0),
                    "tiêu chí/xã".to_string(),
                    Comparator::Range
                ),
                (2.0, None, "m2/người".to_string(), Comparator::Gt),
                (4.5, None, "%".to_string(), Comparator::Ge),
            ]
        );
    }

    #[test]
    fn descriptions_are_not_targets() {
        // List sizes, present state, money, dates, and clauses without a commitment outside a
        // target section.
        let t = targets(
            "I. MỤC TIÊU\n- Duy trì tại 43 xã đã được công nhận đạt chuẩn; tập trung ở 5 thôn: A, B.\n\
             - Vốn ngân sách 12 tỷ đồng, hỗ trợ 1 triệu đồng/hộ.\n\
             II. NHIỆM VỤ\n- Rà soát các tiêu chí đã đạt gồm 08 tiêu chí.\n- Có 17/19 tiêu chí được duy trì.\n\
             - Phấn đấu nâng tổng số sản phẩm OCOP lên 38 sản phẩm.\n",
        );
        assert_eq!(
            t,
            vec![(38.0, None, "sản phẩm".to_string(), Comparator::Eq)]
        );
    }
}
