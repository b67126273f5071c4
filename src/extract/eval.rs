//! Scoring extractions against gold, as `schema/ANNOTATION.md` defines it.
//!
//! - document: the share of the scored fields (doc_type, number, issuer, date, title, plan_year,
//!   signer.name) that equal gold (tone-mark style, case and spacing aside);
//! - criteria: F1 over the set of (number, status), maintained counted as achieved, mentioned not
//!   scored;
//! - targets: F1 over the multiset of (value, unit), the denominator compared where gold has one;
//! - budget: whether the total is right, and F1 over the multiset of item amounts;
//! - responsibilities: F1 over the set of unit names, matched leniently (abbreviations expanded, one
//!   name's words a contiguous part of the other's).
//!
//! An empty gold list matched by an empty output scores 1.

use super::catalogue::norm;
use super::responsibilities::{unit_key, units_match};
use anyhow::{Context, Result};
use serde_json::Value;
use std::path::Path;

/// Precision, recall and F1 of one list.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Prf {
    pub matched: usize,
    pub predicted: usize,
    pub gold: usize,
}

impl Prf {
    pub fn precision(&self) -> f64 {
        if self.predicted == 0 {
            if self.gold == 0 {
                1.0
            } else {
                0.0
            }
        } else {
            self.matched as f64 / self.predicted as f64
        }
    }
    pub fn recall(&self) -> f64 {
        if self.gold == 0 {
            if self.predicted == 0 {
                1.0
            } else {
                0.0
            }
        } else {
            self.matched as f64 / self.gold as f64
        }
    }
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// The scores of one document.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    /// (field, equal to gold)
    pub metadata_fields: Vec<(&'static str, bool)>,
    pub criteria: Prf,
    pub targets: Prf,
    pub budget_amounts: Prf,
    pub budget_total_ok: bool,
    pub responsibilities: Prf,
}

impl Scores {
    pub fn metadata(&self) -> f64 {
        if self.metadata_fields.is_empty() {
            return 0.0;
        }
        self.metadata_fields.iter().filter(|f| f.1).count() as f64
            / self.metadata_fields.len() as f64
    }
}

fn text_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => norm(x) == norm(y),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::Number(y)) | (Value::Number(y), Value::String(x)) => {
            y.as_f64() == x.trim().parse::<f64>().ok()
        }
        _ => false,
    }
}

fn exact_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) => {
            let f = |s: &str| {
                crate::vietnamese::canonical_tones(&s.split_whitespace().collect::<String>())
            };
            f(x) == f(y)
        }
        _ => text_eq(a, b),
    }
}

fn field<'a>(v: &'a Value, path: &[&str]) -> &'a Value {
    let mut cur = v;
    for p in path {
        cur = cur.get(p).unwrap_or(&Value::Null);
    }
    cur
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0)
}

fn unit_norm(u: &str) -> String {
    u.trim()
        .to_lowercase()
        .replace('²', "2")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Score one extraction (a `vnplan.document/1` JSON) against its gold file.
pub fn score(out: &Value, gold: &Value) -> Scores {
    let mut s = Scores::default();
    let od = field(out, &["document"]);
    let gd = field(gold, &["document"]);
    for (name, path, exact) in [
        ("doc_type", &["doc_type"][..], true),
        ("number", &["number"][..], true),
        ("issuer", &["issuer"][..], false),
        ("date", &["date"][..], true),
        ("title", &["title"][..], false),
        ("plan_year", &["plan_year"][..], true),
        ("signer.name", &["signer", "name"][..], false),
    ] {
        let (a, b) = (field(od, path), field(gd, path));
        let ok = if exact { exact_eq(a, b) } else { text_eq(a, b) };
        s.metadata_fields.push((name, ok));
    }

    // Criteria: set of (number, status).
    let crit_set = |v: &Value| -> Vec<(u64, String)> {
        let mut set: Vec<(u64, String)> = Vec::new();
        for c in v
            .get("criteria")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(n), Some(st)) = (
                c.get("number").and_then(Value::as_u64),
                c.get("status").and_then(Value::as_str),
            ) else {
                continue;
            };
            let st = match st {
                "maintained" => "achieved",
                "mentioned" => continue,
                x => x,
            };
            let key = (n, st.to_string());
            if !set.contains(&key) {
                set.push(key);
            }
        }
        set
    };
    let (oc, gc) = (crit_set(out), crit_set(gold));
    s.criteria = Prf {
        matched: oc.iter().filter(|k| gc.contains(k)).count(),
        predicted: oc.len(),
        gold: gc.len(),
    };

    // Targets: multiset of (value, unit), denominator where gold has one.
    let targets = |v: &Value| -> Vec<(f64, String, Option<f64>)> {
        v.get("targets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t.get("value")?.as_f64()?,
                    unit_norm(t.get("unit")?.as_str()?),
                    t.get("denominator").and_then(Value::as_f64),
                ))
            })
            .collect()
    };
    let (ot, gt) = (targets(out), targets(gold));
    let mut used = vec![false; ot.len()];
    let mut matched = 0;
    for (gv, gu, gden) in &gt {
        let hit = ot.iter().enumerate().position(|(i, (v, u, den))| {
            !used[i]
                && close(*v, *gv)
                && u == gu
                && gden.is_none_or(|g| den.is_some_and(|d| close(d, g)))
        });
        if let Some(i) = hit {
            used[i] = true;
            matched += 1;
        }
    }
    s.targets = Prf {
        matched,
        predicted: ot.len(),
        gold: gt.len(),
    };

    // Budget: total, and the multiset of item amounts.
    let total = |v: &Value| field(v, &["budget", "total"]).as_f64();
    s.budget_total_ok = match (total(out), total(gold)) {
        (None, None) => true,
        (Some(a), Some(b)) => close(a, b),
        _ => false,
    };
    let amounts = |v: &Value| -> Vec<f64> {
        field(v, &["budget", "items"])
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i.get("amount").and_then(Value::as_f64))
            .collect()
    };
    let (oa, ga) = (amounts(out), amounts(gold));
    let mut used = vec![false; oa.len()];
    let mut matched = 0;
    for g in &ga {
        if let Some(i) = (0..oa.len()).find(|&i| !used[i] && close(oa[i], *g)) {
            used[i] = true;
            matched += 1;
        }
    }
    s.budget_amounts = Prf {
        matched,
        predicted: oa.len(),
        gold: ga.len(),
    };

    // Responsibilities: set of unit names, lenient one-to-one matching (exact keys first).
    let units = |v: &Value| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in v
            .get("responsibilities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(u) = r.get("unit").and_then(Value::as_str) {
                if !out.iter().any(|x| unit_key(x) == unit_key(u)) {
                    out.push(u.to_string());
                }
            }
        }
        out
    };
    let (ou, gu) = (units(out), units(gold));
    let mut used_o = vec![false; ou.len()];
    let mut used_g = vec![false; gu.len()];
    let mut matched = 0;
    for pass in 0..2 {
        for (gi, g) in gu.iter().enumerate() {
            if used_g[gi] {
                continue;
            }
            let hit = ou.iter().enumerate().position(|(i, o)| {
                !used_o[i]
                    && if pass == 0 {
                        unit_key(o) == unit_key(g)
                    } else {
                        units_match(o, g)
                    }
            });
            if let Some(i) = hit {
                used_o[i] = true;
                used_g[gi] = true;
                matched += 1;
            }
        }
    }
    s.responsibilities = Prf {
        matched,
        predicted: ou.len(),
        gold: gu.len(),
    };
    s
}

/// Score every `*.json` output in `out_dir` that has a gold file in `gold_dir`, matched by the
/// leading three-digit id (`001_….json` ↔ `001.gold.json`) or the file stem. Sorted by name.
pub fn score_dirs(out_dir: &Path, gold_dir: &Path) -> Result<Vec<(String, Scores)>> {
    let mut golds = Vec::new();
    for e in std::fs::read_dir(gold_dir)
        .with_context(|| format!("cannot read gold directory {}", gold_dir.display()))?
    {
        let p = e?.path();
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_string();
        if let Some(stem) = name.strip_suffix(".gold.json") {
            golds.push((stem.to_string(), p));
        }
    }
    let mut results = Vec::new();
    let mut outs: Vec<_> = std::fs::read_dir(out_dir)
        .with_context(|| format!("cannot read output directory {}", out_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .filter(|p| !p.to_string_lossy().ends_with(".gold.json"))
        .collect();
    outs.sort();
    for p in outs {
        let stem = p
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("")
            .to_string();
        let id: String = stem.chars().take_while(|c| c.is_ascii_digit()).collect();
        let gold = golds.iter().find(|(g, _)| {
            *g == stem
                || (id.len() == 3
                    && g.chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect::<String>()
                        == id)
        });
        let Some((_, gp)) = gold else { continue };
        let read = |path: &Path| -> Result<Value> {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not valid JSON", path.display()))
        };
        results.push((stem, score(&read(&p)?, &read(gp)?)));
    }
    Ok(results)
}
