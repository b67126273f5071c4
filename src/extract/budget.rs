//! Budget: the money the plan needs, allocates or mobilizes, as a tree with checks.
//!
//! Amounts ("6.424,319 tỷ đồng") are converted to VND. The stated grand total ("Tổng nhu cầu … là")
//! is `total`; each list item with an amount is a `BudgetItem`, nested by its list marker (1., -, +)
//! the way the document nests them. Checks: children add up to their parent, top-level items to the
//! total, shares to 100 %, each share to its amount. A failed check becomes a warning: it is how an
//! OCR error in a figure shows itself.

use super::numbers::{money_scale, parse_vn_number, round_vnd};
use super::skeleton::{SectionKind, Skeleton};
use super::text::{clean, DocText, Marker};
use crate::document::{Budget, BudgetCheck, BudgetCheckKind, BudgetItem, Warning};
use once_cell::sync::Lazy;
use regex::Regex;

static RE_AMOUNT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?P<n>\d{1,3}(?:\.\d{3})+(?:,\d+)?|\d+(?:,\d+)?)\s*(?P<scale>tỷ|tỉ|triệu|nghìn|ngàn)?\s*(?:đồng|VNĐ|VND|đ)")
        .expect("amount regex")
});
static RE_SHARE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"^[\s,;]*\(?\s*(?:chiếm|bằng)\s*(?:tỷ\s+lệ\s*)?(?P<p>\d+(?:,\d+)?)\s*%")
        .expect("share regex")
});
static RE_TOTAL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)\btổng\s+(?:nhu cầu|kinh phí|vốn|nguồn|cộng|số|mức|dự toán)")
        .expect("total regex")
});
static RE_MONEY_CONTEXT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)vốn|kinh phí|ngân sách|nguồn|huy động|đầu tư|tín dụng").expect("context regex")
});

struct Amount {
    start: usize,
    end: usize,
    vnd: f64,
    share: Option<f64>,
    share_text: Option<String>,
}

fn amounts_in(doc: &DocText, start: usize, end: usize) -> Vec<Amount> {
    let s = doc.slice(start, end);
    let mut out = Vec::new();
    for c in RE_AMOUNT.captures_iter(s) {
        let (Some(all), Some(n)) = (c.get(0), c.name("n")) else {
            continue;
        };
        let before = &s[..all.start()];
        let after = &s[all.end()..];
        if before
            .chars()
            .last()
            .is_some_and(|ch| ch.is_alphanumeric() || "/.,".contains(ch))
        {
            continue;
        }
        // "đ" must end the word; "1 triệu đồng/hộ" is a rate, not an amount.
        if after.chars().next().is_some_and(|ch| ch.is_alphanumeric()) {
            continue;
        }
        if after.trim_start().starts_with('/') {
            continue;
        }
        let Some(v) = parse_vn_number(n.as_str()) else {
            continue;
        };
        let scale = c.name("scale").map_or(1.0, |m| money_scale(m.as_str()));
        let share = RE_SHARE.captures(after);
        out.push(Amount {
            start: start + all.start(),
            end: start + all.end(),
            vnd: round_vnd(v * scale),
            share: share
                .as_ref()
                .and_then(|c| c.name("p"))
                .and_then(|m| parse_vn_number(m.as_str())),
            share_text: share.and_then(|c| c.name("p").map(|m| m.as_str().to_string())),
        });
    }
    out
}

fn source_kind(label: &str) -> Option<String> {
    let l = label.to_lowercase();
    let k = if l.contains("trung ương") {
        "ngan_sach_trung_uong"
    } else if l.contains("lồng ghép") {
        "long_ghep"
    } else if l.contains("tín dụng") {
        "tin_dung"
    } else if l.contains("doanh nghiệp") {
        "doanh_nghiep"
    } else if l.contains("cộng đồng") || l.contains("nhân dân") || l.contains("người dân")
    {
        "cong_dong"
    } else if l.contains("ngân sách tỉnh") {
        "ngan_sach_tinh"
    } else if l.contains("ngân sách huyện") || l.contains("cấp huyện") {
        "ngan_sach_huyen"
    } else if l.contains("ngân sách xã") || l.contains("cấp xã") {
        "ngan_sach_xa"
    } else {
        return None;
    };
    Some(k.to_string())
}

fn label_before(doc: &DocText, from: usize, to: usize) -> String {
    let l = clean(doc.slice(from, to));
    let mut l = l
        .trim()
        .trim_end_matches([':', ',', '-'])
        .trim()
        .to_string();
    for suffix in [" là:", " là", ":", " khoảng", " dự kiến"] {
        if let Some(x) = l.strip_suffix(suffix) {
            l = x.trim().to_string();
        }
    }
    l
}

fn tolerance(amount: f64) -> f64 {
    // Figures are printed to three decimals of a tỷ at most; allow rounding in the last digit.
    (amount.abs() * 1e-4).max(1e6)
}

pub fn extract_budget(doc: &DocText, sk: &Skeleton, warnings: &mut Vec<Warning>) -> Budget {
    let mut budget = Budget::default();
    let body = sk.body_start();
    // Marker types in order of first appearance give the depth of each list level.
    let mut marker_depths: Vec<Marker> = Vec::new();
    let mut stack: Vec<(usize, i64)> = Vec::new();
    let mut next_id = 1i64;
    let mut share_texts: Vec<(i64, String)> = Vec::new();
    for p in &doc.paras {
        if p.start < body || p.start >= sk.closing_start {
            continue;
        }
        let kind = sk.kind_at(p.start);
        let text = doc.para_text(p);
        if kind != SectionKind::Funding && !RE_MONEY_CONTEXT.is_match(text) {
            continue;
        }
        let amounts = amounts_in(doc, p.start, p.end);
        let Some(first) = amounts.first() else {
            continue;
        };
        let head = doc.slice(p.body_start.min(first.start), first.start);
        if budget.total.is_none() && RE_TOTAL.is_match(head) {
            budget.total = Some(first.vnd);
            continue;
        }
        if p.marker == Marker::None && kind != SectionKind::Funding {
            continue;
        }
        let depth = match marker_depths.iter().position(|m| *m == p.marker) {
            Some(d) => d,
            None => {
                marker_depths.push(p.marker);
                marker_depths.len() - 1
            }
        };
        while stack.last().is_some_and(|&(d, _)| d >= depth) {
            stack.pop();
        }
        let parent = stack.last().map(|&(_, id)| id);
        let label = label_before(doc, p.body_start.min(first.start), first.start);
        let id = next_id;
        next_id += 1;
        if let Some(t) = &first.share_text {
            share_texts.push((id, t.clone()));
        }
        budget.items.push(BudgetItem {
            id,
            parent,
            source_kind: source_kind(&label),
            label,
            amount: first.vnd,
            share_percent: first.share,
            evidence: doc.evidence(first.start, first.end),
        });
        stack.push((depth, id));
    }
    check(&mut budget, &share_texts, warnings);
    budget
}

fn check(budget: &mut Budget, share_texts: &[(i64, String)], warnings: &mut Vec<Warning>) {
    let items = budget.items.clone();
    let page_of = |id: Option<i64>| {
        id.and_then(|id| items.iter().find(|i| i.id == id))
            .map(|i| i.evidence.page)
    };
    let mut checks = Vec::new();
    let parents: Vec<Option<i64>> = std::iter::once(None)
        .chain(items.iter().map(|i| Some(i.id)))
        .collect();
    for parent in parents {
        let children: Vec<&BudgetItem> = items.iter().filter(|i| i.parent == parent).collect();
        if children.is_empty() {
            continue;
        }
        let expected = match parent {
            Some(id) => items.iter().find(|i| i.id == id).map(|i| i.amount),
            None => budget.total,
        };
        if let Some(expected) = expected {
            let found: f64 = children.iter().map(|c| c.amount).sum();
            let ok = (found - expected).abs() <= tolerance(expected);
            if !ok {
                warnings.push(Warning::new(
                    "budget_children_sum",
                    format!(
                        "budget items under {} add up to {found:.0} VND, not {expected:.0}",
                        parent.map_or("the total".to_string(), |id| format!("item {id}"))
                    ),
                    page_of(parent).or_else(|| page_of(children.first().map(|c| c.id))),
                ));
            }
            checks.push(BudgetCheck {
                item: parent,
                kind: BudgetCheckKind::ChildrenSum,
                ok,
                expected: Some(expected),
                found: Some(found),
            });
        }
        let shares: Vec<f64> = children.iter().filter_map(|c| c.share_percent).collect();
        if shares.len() >= 2 && shares.len() == children.len() {
            let found: f64 = shares.iter().sum();
            let ok = (found - 100.0).abs() <= 0.1;
            if !ok {
                warnings.push(Warning::new(
                    "budget_shares_sum",
                    format!("shares add up to {found:.2}%, not 100%"),
                    page_of(children.first().map(|c| c.id)),
                ));
            }
            checks.push(BudgetCheck {
                item: parent,
                kind: BudgetCheckKind::SharesSum,
                ok,
                expected: Some(100.0),
                found: Some(found),
            });
        }
    }
    if let Some(total) = budget.total.filter(|t| *t > 0.0) {
        for item in items.iter().filter(|i| i.parent.is_none()) {
            let Some(share) = item.share_percent else {
                continue;
            };
            let computed = item.amount / total * 100.0;
            let decimals = share_texts
                .iter()
                .find(|(id, _)| *id == item.id)
                .and_then(|(_, t)| t.split_once(',').map(|(_, f)| f.len()))
                .unwrap_or(0);
            // Printed shares are rounded or truncated to their last decimal.
            let tol = 10f64.powi(-(decimals as i32)) + 1e-9;
            let ok = (computed - share).abs() <= tol;
            if !ok {
                warnings.push(Warning::new(
                    "budget_share_mismatch",
                    format!(
                        "\"{}\": {:.0} VND is {computed:.2}% of the total, the text gives {share}%",
                        item.label, item.amount
                    ),
                    Some(item.evidence.page),
                ));
            }
            checks.push(BudgetCheck {
                item: Some(item.id),
                kind: BudgetCheckKind::ShareMatchesAmount,
                ok,
                expected: Some(computed),
                found: Some(share),
            });
        }
    }
    budget.checks = checks;
}

#[cfg(test)]
mod tests {
    use crate::document::BudgetCheckKind;
    use crate::extract::{extract, pages_from_text};

    #[test]
    fn tree_total_and_a_failed_check() {
        let text = "III. KINH PHÍ THỰC HIỆN\nTổng nhu cầu vốn là 100,5 tỷ đồng, trong đó:\n\
                    1. Vốn ngân sách: 60,5 tỷ đồng, chiếm 60,2%\n- Ngân sách tỉnh: 40 tỷ đồng.\n\
                    - Ngân sách huyện: 25 tỷ đồng.\n2. Vốn huy động: 40 tỷ đồng, chiếm 39,8%\n";
        let x = extract(&pages_from_text(text));
        let b = &x.budget;
        assert_eq!(b.total, Some(100_500_000_000.0));
        let tree: Vec<(i64, Option<i64>, f64)> =
            b.items.iter().map(|i| (i.id, i.parent, i.amount)).collect();
        assert_eq!(
            tree,
            vec![
                (1, None, 60_500_000_000.0),
                (2, Some(1), 40_000_000_000.0),
                (3, Some(1), 25_000_000_000.0),
                (4, None, 40_000_000_000.0),
            ]
        );
        // 40 + 25 is not 60,5: the children check fails and a warning names it.
        let failed: Vec<_> = b.checks.iter().filter(|c| !c.ok).collect();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].kind, BudgetCheckKind::ChildrenSum);
        assert_eq!(failed[0].item, Some(1));
        assert!(x.warnings.iter().any(|w| w.code == "budget_children_sum"));
        assert!(b
            .checks
            .iter()
            .any(|c| c.kind == BudgetCheckKind::SharesSum && c.ok));
    }
}
