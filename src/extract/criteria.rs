//! Criteria (tiêu chí): number, set, official name, status, indicators.
//!
//! A criterion is named as "Tiêu chí số 13 về …", "Tiêu chí 5 - …" or, for a few, by name only
//! ("hoàn thành các tiêu chí về môi trường và an toàn thực phẩm"). Its status comes from the list
//! heading it sits under ("Các tiêu chí chưa đạt gồm:") or, failing that, from its own sentence.

use super::catalogue::{self, names_match, norm, COMMUNE_SETS, DISTRICT_SET};
use super::skeleton::Skeleton;
use super::text::{clauses, clean, DocText, Marker, Para};
use crate::document::{Criterion, CriterionStatus};
use once_cell::sync::Lazy;
use regex::Regex;

static RE_MENTION: Lazy<Regex> = Lazy::new(|| {
    // Restoration leaves tone errors ("tiêu chi") and garbles "số" ("s", "86", "sô"): the
    // keyword takes any tone on its vowels, and any short token that reads like "số" (an s-like
    // glyph and at most one more) may stand between it and the number.
    Regex::new(r"(?i:ti[eêéèẻẽẹếềểễệ]u\s+(?:ch|tr)[iíìỉĩị])\s*(?:(?i:số)\s*|(?i:[s5$8][\p{L}0-9]?)[^\S\n]+)?(\d{1,2})\b(?:[^\S\n]*(?:về|-|–|:)?[^\S\n]*([^;:.\n(]{0,80}))?")
        .expect("mention regex")
});
static RE_INDICATOR: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i:chỉ\s+tiêu)\s*(?:số\s*)?(\d{1,2})\.(\d{1,2})\b").expect("indicator regex")
});
static RE_BY_NAME: Lazy<Regex> = Lazy::new(|| {
    Regex::new(
        // The name may wrap onto the next line (OCR keeps the page's line breaks); it is compared
        // as a prefix with whitespace folded, so what follows it on that line does no harm.
        r"(?i:hoàn thành)\s+(?:các\s+|những\s+)?(?i:tiêu chí)\s+(?:về\s+)?([^,;.()\n]{3,80}(?:\n[^,;.()\n]{1,80})?)",
    )
    .expect("by-name regex")
});
static RE_NOT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)chưa\s+(?:đạt|hoàn thành)|không\s+đạt|còn\s+\d+\s+tiêu\s+chí")
        .expect("not regex")
});
static RE_TARGET: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)phấn đấu|hoàn thành|thực hiện đạt|cần đạt|có thêm|xây dựng thêm|nâng tổng số")
        .expect("target regex")
});
static RE_MAINTAINED: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)được\s+duy\s+trì|duy trì và nâng cao|giữ vững").expect("maintained regex")
});
static RE_ACHIEVED: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"(?i)đã\s+đạt|được công nhận").expect("achieved regex"));
static RE_DISTRICT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i:tiêu chí huyện)|(?i:huyện)\s+(?:\p{Lu}\p{Ll}*\s+){0,3}(?:(?i:đạt chuẩn)\s+)?(?:NTM|(?i:nông thôn mới))")
        .expect("district regex")
});

struct Mention {
    number: u32,
    start: usize,
    end: usize,
    name_in_text: Option<String>,
    para: usize,
}

/// Statuses a piece of text gives the criteria it introduces or contains.
fn statuses(text: &str, intro: bool) -> Vec<CriterionStatus> {
    let not = RE_NOT.is_match(text);
    let without_not = RE_NOT.replace_all(text, " ");
    let target = RE_TARGET.is_match(&without_not);
    let mut out = Vec::new();
    if intro {
        if not {
            out.push(CriterionStatus::NotAchieved);
        }
        if target {
            out.push(CriterionStatus::Target);
        }
        if out.is_empty() {
            if RE_MAINTAINED.is_match(text) {
                out.push(CriterionStatus::Maintained);
            } else if RE_ACHIEVED.is_match(text) {
                out.push(CriterionStatus::Achieved);
            }
        }
    } else if target {
        out.push(CriterionStatus::Target);
    } else if not {
        out.push(CriterionStatus::NotAchieved);
    } else if RE_ACHIEVED.is_match(text) {
        out.push(CriterionStatus::Achieved);
    } else if text.contains("được duy trì") {
        out.push(CriterionStatus::Maintained);
    }
    out
}

fn is_boundary(doc: &DocText, p: &Para) -> bool {
    matches!(p.marker, Marker::Roman | Marker::Number | Marker::SubNumber)
        && !RE_MENTION.is_match(doc.para_text(p))
}

/// The list heading a line-initial mention sits under: the nearest earlier paragraph in the same
/// section that ends with ":" and speaks of criteria without naming one.
fn intro_of(doc: &DocText, para: usize) -> Option<usize> {
    let mut i = para;
    while i > 0 {
        i -= 1;
        let p = &doc.paras[i];
        let t = clean(doc.para_text(p));
        let t = t.trim_end_matches(['*', ' ']);
        let lower = t.to_lowercase();
        if t.ends_with(':')
            && (lower.contains("tiêu chí") || lower.contains("tiêu trí"))
            && !RE_MENTION.is_match(t)
        {
            return Some(i);
        }
        if is_boundary(doc, p) {
            return None;
        }
    }
    None
}

fn para_index(doc: &DocText, pos: usize) -> usize {
    doc.paras
        .iter()
        .position(|p| p.start <= pos && pos < p.end.max(p.start + 1))
        .unwrap_or(0)
}

/// The heading (1., 2.1. …) a paragraph falls under.
fn sub_heading(doc: &DocText, para: usize) -> Option<&str> {
    doc.paras[..=para]
        .iter()
        .rev()
        .find(|p| matches!(p.marker, Marker::Number | Marker::SubNumber | Marker::Roman))
        .map(|p| doc.para_text(p))
}

fn choose_commune_set(mentions: &[Mention], title: &str, plan_year: Option<i32>) -> &'static str {
    let mut best = ("", 0usize);
    let default = if norm(title).contains("nâng cao") {
        "xa_ntm_nang_cao_2021"
    } else {
        match plan_year {
            Some(y) if y >= 2026 => "ntm_2026",
            Some(y) if y <= 2020 => "xa_ntm_2016",
            _ => "xa_ntm_2021",
        }
    };
    let mut scores: Vec<(&'static str, usize)> = Vec::new();
    for &set in COMMUNE_SETS {
        let Some(cat) = catalogue::catalogue(set) else {
            continue;
        };
        let score = mentions
            .iter()
            .filter(|m| {
                m.name_in_text
                    .as_deref()
                    .zip(cat.name(m.number))
                    .is_some_and(|(t, n)| names_match(t, n))
            })
            .count();
        scores.push((set, score));
        if score > best.1 {
            best = (set, score);
        }
    }
    let default_score = scores
        .iter()
        .find(|(s, _)| *s == default)
        .map_or(0, |x| x.1);
    if best.1 > default_score {
        COMMUNE_SETS
            .iter()
            .copied()
            .find(|s| *s == best.0)
            .unwrap_or(default)
    } else {
        default
    }
}

pub fn extract_criteria(
    doc: &DocText,
    sk: &Skeleton,
    title: &str,
    plan_year: Option<i32>,
) -> Vec<Criterion> {
    let body_start = sk.body_start();
    let end = sk.closing_start;
    let mut mentions = Vec::new();
    for c in RE_MENTION.captures_iter(&doc.text[..end]) {
        let Some(m) = c.get(0) else { continue };
        if m.start() < body_start {
            continue;
        }
        let Some(number) = c.get(1).and_then(|n| n.as_str().parse::<u32>().ok()) else {
            continue;
        };
        if number == 0 || number > 19 {
            continue;
        }
        let name_in_text = c
            .get(2)
            .map(|n| clean(n.as_str()).trim_matches(['-', ' ', '*']).to_string())
            .filter(|n| !n.is_empty());
        mentions.push(Mention {
            number,
            start: m.start(),
            end: c.get(1).map_or(m.end(), |n| n.end()),
            name_in_text,
            para: para_index(doc, m.start()),
        });
    }
    let commune_set = choose_commune_set(&mentions, title, plan_year);
    let commune_cat = catalogue::catalogue(commune_set);
    let district_cat = catalogue::catalogue(DISTRICT_SET);

    let mut out: Vec<Criterion> = Vec::new();
    let push = |out: &mut Vec<Criterion>,
                set: &str,
                number: u32,
                status: CriterionStatus,
                name_in_text: Option<String>,
                start: usize,
                end: usize| {
        if out
            .iter()
            .any(|c| c.set == set && c.number == number && c.status == status)
        {
            return;
        }
        let name = catalogue::catalogue(set)
            .and_then(|c| c.name(number))
            .map(str::to_string)
            .or_else(|| name_in_text.clone())
            .unwrap_or_default();
        out.push(Criterion {
            set: set.to_string(),
            number,
            name,
            name_in_text,
            status,
            indicators: Vec::new(),
            subject: None,
            evidence: doc.evidence(start, end),
        });
    };

    let mut mention_sets: Vec<(u32, usize, &str)> = Vec::new();
    for m in &mentions {
        let para = &doc.paras[m.para];
        // At the start of the paragraph, or of a line inside it (a list item whose marker OCR
        // lost: "o. Tiêu chí số 8").
        let line_start = doc.text[..m.start].rfind('\n').map_or(0, |x| x + 1);
        let lead = &doc.text[line_start.max(para.start)..m.start];
        let at_start = m.start <= para.body_start + 2 || lead.trim().chars().count() <= 4;
        let intro = if at_start {
            intro_of(doc, m.para)
        } else {
            None
        };
        // District criteria are named in a district context or by a district criterion's name.
        let mut context = String::from(doc.para_text(para));
        if let Some(i) = intro {
            context.push(' ');
            context.push_str(doc.para_text(&doc.paras[i]));
        }
        if let Some(h) = sub_heading(doc, m.para) {
            context.push(' ');
            context.push_str(h);
        }
        let by_name_district = m.name_in_text.as_deref().is_some_and(|t| {
            let d = district_cat.and_then(|c| c.name(m.number));
            let c = commune_cat.and_then(|c| c.name(m.number));
            d.is_some_and(|d| names_match(t, d)) && !c.is_some_and(|c| names_match(t, c))
        });
        let set = if by_name_district || RE_DISTRICT.is_match(&context) {
            DISTRICT_SET
        } else {
            commune_set
        };
        mention_sets.push((m.number, m.start, set));
        let mut sts = match intro {
            Some(i) => statuses(doc.para_text(&doc.paras[i]), true),
            None => Vec::new(),
        };
        if sts.is_empty() {
            let own = if at_start {
                doc.para_text(para).to_string()
            } else {
                clauses(&doc.text, para.start, para.end)
                    .into_iter()
                    .find(|&(s, e)| s <= m.start && m.start < e)
                    .map(|(s, e)| doc.slice(s, e).to_string())
                    .unwrap_or_default()
            };
            sts = statuses(&own, false);
        }
        if sts.is_empty() {
            sts.push(CriterionStatus::Mentioned);
        }
        for st in sts {
            push(
                &mut out,
                set,
                m.number,
                st,
                m.name_in_text.clone(),
                m.start,
                m.end,
            );
        }
    }

    // Criteria named without a number, in a commitment to complete them.
    if let Some(cat) = commune_cat {
        for c in RE_BY_NAME.captures_iter(&doc.text[..end]) {
            let (Some(all), Some(name)) = (c.get(0), c.get(1)) else {
                continue;
            };
            if all.start() < body_start || RE_MENTION.is_match(all.as_str()) {
                continue;
            }
            let found = cat.criteria.iter().find(|(_, official)| {
                official.split_whitespace().count() >= 2 && {
                    let t = norm(name.as_str());
                    let o = norm(official);
                    t == o || t.starts_with(&(o + " "))
                }
            });
            if let Some((number, _)) = found {
                push(
                    &mut out,
                    commune_set,
                    *number,
                    CriterionStatus::Target,
                    Some(clean(name.as_str())),
                    name.start(),
                    name.end(),
                );
            }
        }
    }

    // Indicators ("chỉ tiêu 13.2") go to their criterion, in the set of its nearest earlier mention.
    for c in RE_INDICATOR.captures_iter(&doc.text[..end]) {
        let (Some(all), Some(n)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let Ok(number) = n.as_str().parse::<u32>() else {
            continue;
        };
        let code = format!("{}.{}", &c[1], &c[2]);
        let set = mention_sets
            .iter()
            .rfind(|(num, start, _)| *num == number && *start <= all.start())
            .map_or(commune_set, |x| x.2);
        for cr in out.iter_mut() {
            if cr.number == number && cr.set == set && !cr.indicators.contains(&code) {
                cr.indicators.push(code.clone());
            }
        }
    }
    // A criterion with a real status needs no "mentioned" entry.
    let has_status: Vec<(String, u32)> = out
        .iter()
        .filter(|c| c.status != CriterionStatus::Mentioned)
        .map(|c| (c.set.clone(), c.number))
        .collect();
    out.retain(|c| {
        c.status != CriterionStatus::Mentioned || !has_status.contains(&(c.set.clone(), c.number))
    });
    out
}
