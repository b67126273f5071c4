//! Responsible units: the numbered units under "TỔ CHỨC THỰC HIỆN" (role lead) and units given work
//! inline ("Giao cho UBND xã …", "Đài truyền thanh xã phối hợp với …", "Đề nghị …").
//!
//! A unit's name starts with a unit word (UBND, Ban, Phòng, Sở, Công chức, Trạm …) and runs until the
//! verb or preposition that begins its task.

use super::catalogue::norm;
use super::skeleton::{SectionKind, Skeleton};
use super::text::{clauses, clean, DocText, Marker};
use crate::document::{Responsibility, Role, UnitKind};
use once_cell::sync::Lazy;
use regex::Regex;

/// Words that open a unit's name (lower case; matched on word boundaries).
const HEADS: &[&str] = &[
    "ủy ban",
    "uỷ ban",
    "ubnd",
    "ubmttq",
    "hđnd",
    "hội đồng",
    "ban",
    "bcđ",
    "bql",
    "phòng",
    "sở",
    "văn phòng",
    "trung tâm",
    "cơ quan",
    "đơn vị",
    "công chức",
    "cán bộ",
    "chuyên trách",
    "thành viên",
    "đồng chí",
    "trạm",
    "trường",
    "thôn",
    "mttq",
    "mặt trận",
    "tổ chức đoàn thể",
    "đoàn thể",
    "hợp tác xã",
    "htx",
    "đảng ủy",
    "đảng uỷ",
    "chi bộ",
    "cấp ủy",
    "cấp uỷ",
    "công an",
    "đài",
    "đoàn",
    "tổ công tác",
    "ngành",
    "ông, bà",
    "kho bạc",
    "bảo hiểm",
    "ngân hàng",
];

/// Phrases that start with a unit word but are not units.
const NOT_UNITS: &[&str] = &[
    "ban hành",
    "đoàn kết",
    "đoàn viên",
    "phòng chống",
    "phòng, chống",
    "phòng ngừa",
    "trường hợp",
    "hội nghị",
    "hội viên",
    "hội thảo",
    "ngành nghề",
    "đơn vị thôn",
];

/// Words that end a unit's name: the verb or preposition that begins its task.
const STOPS: &[&str] = &[
    "chủ trì",
    "phối hợp",
    "tham mưu",
    "có trách nhiệm",
    "chịu trách nhiệm",
    "tập trung",
    "tổ chức thực hiện",
    "tổ chức triển khai",
    "tổ chức hoạt động",
    "tổ chức tuyên truyền",
    "thường xuyên",
    "tiếp tục",
    "chủ động",
    "xây dựng",
    "báo cáo",
    "thực hiện",
    "đẩy mạnh",
    "phải",
    "nghiêm túc",
    "ký",
    "để",
    "theo",
    "về",
    "trong",
    "tại",
    "trên",
    "với",
    "cho",
    "nhằm",
    "làm",
    "được",
    "đã",
    "sẽ",
    "cần",
    "kịp thời",
    "triển khai",
    "hướng dẫn",
    "chỉ đạo",
    "căn cứ",
    "liên hệ",
    "là",
    "khi",
    "đến",
    "từ",
    "lập",
    "đôn đốc",
    "rà soát",
    "tuyên truyền",
    "vận động",
    "thống nhất",
    "đề xuất",
    "nâng cao",
    "soát xét",
    "phụ trách",
    "đảm bảo",
    "bảo đảm",
    "theo dõi",
    "kiểm tra",
    "quản lý",
    "nghiên cứu",
    "phát động",
    "hỗ trợ",
    "giúp",
    "và nhân dân",
    "và người dân",
];

static RE_INLINE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i)(?P<assign>\bgiao\s+(?:nhiệm\s+vụ\s+)?(?:cụ\s+thể\s+)?cho\s+|\bgiao\s+|phân\s+công\s+nhiệm\s+vụ\s+cho\s+|\bđề\s+nghị\s+)|(?P<support>phối\s+hợp\s+(?:chặt\s+chẽ\s+)?(?:với|cùng)\s+)")
        .expect("inline regex")
});
static RE_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"ngày\s*(\d{1,2})/(\d{1,2})/(\d{4})|tháng\s*(\d{1,2})\s*(?:/|năm)\s*(\d{4})")
        .expect("date regex")
});
static RE_CRIT: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?i:tiêu\s+(?:chí|trí))\s*(?:số\s*)?(\d{1,2})\b").expect("criterion regex")
});

fn starts_with_word(s: &str, w: &str) -> bool {
    s.starts_with(w) && s[w.len()..].chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// Length in bytes of a unit name at the start of `s`, if one starts there.
fn unit_at(s: &str) -> Option<usize> {
    let lower = s.to_lowercase();
    // "các", "từng", "các đồng chí" may precede the unit word.
    let mut off = 0;
    for pre in ["các ", "từng ", "toàn thể "] {
        if lower[off..].starts_with(pre) {
            off += pre.len();
        }
    }
    if !HEADS.iter().any(|h| starts_with_word(&lower[off..], h))
        || NOT_UNITS.iter().any(|w| starts_with_word(&lower[off..], w))
    {
        return None;
    }
    // Lower-casing keeps byte lengths for Vietnamese letters except a few; map back by chars.
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let lchars: Vec<char> = lower.chars().collect();
    if chars.len() != lchars.len() {
        return None;
    }
    let mut end = off;
    let mut words = 0;
    let mut i = lower[..off].chars().count();
    while i < lchars.len() && words < 12 {
        // Skip spaces.
        let mut j = i;
        while j < lchars.len() && lchars[j] == ' ' {
            j += 1;
        }
        if j >= lchars.len() {
            break;
        }
        let c = lchars[j];
        if ",.;:()\n\"“”".contains(c) {
            // "Ông, bà" is one unit word.
            let rest: String = lchars[j..].iter().take(5).collect();
            if rest.starts_with(", bà") {
                i = j + 4;
                end = chars.get(i).map_or(s.len(), |x| x.0);
                continue;
            }
            break;
        }
        let rest: String = lchars[j..].iter().collect();
        if words > 0 && STOPS.iter().any(|st| starts_with_word(&rest, st)) {
            break;
        }
        // "và" joins parts of one name only when a capitalised name follows ("Nông nghiệp và PTNT").
        if starts_with_word(&rest, "và") {
            let next = chars.get(j + 3).map(|x| x.1);
            if !next.is_some_and(|c| c.is_uppercase()) {
                break;
            }
        }
        // One word (or a dash).
        let mut k = j;
        while k < lchars.len() && !lchars[k].is_whitespace() && !",.;:()\"“”".contains(lchars[k]) {
            k += 1;
        }
        i = k;
        words += 1;
        end = chars.get(k).map_or(s.len(), |x| x.0);
    }
    let name = s[..end].trim_end_matches([' ', '-', '–']);
    if name.is_empty() {
        None
    } else {
        Some(name.len())
    }
}

fn unit_kind(unit: &str) -> UnitKind {
    let l = unit.to_lowercase();
    let has = |w: &str| l.contains(w);
    if has("ubnd") || has("ủy ban nhân dân") || has("uỷ ban nhân dân") || has("chính quyền") {
        UnitKind::Ubnd
    } else if has("hđnd") || has("hội đồng nhân dân") {
        UnitKind::Hdnd
    } else if has("mttq") || has("mặt trận") || has("đoàn thể") || has("chính trị - xã hội") {
        UnitKind::MttqDoanThe
    } else if has("ban chỉ đạo") || has("bcđ") {
        UnitKind::BanChiDao
    } else if has("ban quản lý") || has("bql") {
        UnitKind::BanQuanLy
    } else if l.starts_with("sở") || l.starts_with("các sở") {
        UnitKind::So
    } else if has("phòng") && !has("văn phòng") {
        UnitKind::Phong
    } else if has("văn phòng") {
        UnitKind::VanPhong
    } else if has("công chức") || has("cán bộ") || has("chuyên trách") {
        UnitKind::CongChuc
    } else if has("thôn") || has("xóm") || has("bản") {
        UnitKind::Thon
    } else if has("trường") || has("trạm") {
        UnitKind::TruongTram
    } else {
        UnitKind::CoQuanKhac
    }
}

/// Name key for merging mentions of one unit: abbreviations expanded, "các" dropped.
pub fn unit_key(unit: &str) -> String {
    let mut s = format!(" {} ", norm(unit));
    for (a, b) in [
        (" ubnd ", " ủy ban nhân dân "),
        (" ubmttq ", " ủy ban mặt trận tổ quốc "),
        (" hđnd ", " hội đồng nhân dân "),
        (" bcđ ", " ban chỉ đạo "),
        (" bcd ", " ban chỉ đạo "),
        (" bql ", " ban quản lý "),
        (" mttq ", " mặt trận tổ quốc "),
        (" ntm ", " nông thôn mới "),
        (" xdntm ", " xây dựng nông thôn mới "),
        (" ptnt ", " phát triển nông thôn "),
        (" htx ", " hợp tác xã "),
        (" uỷ ", " ủy "),
    ] {
        while s.contains(a) {
            s = s.replace(a, b);
        }
    }
    let s = s.trim().to_string();
    let s = s
        .strip_prefix("đề nghị ")
        .or_else(|| s.strip_prefix("đối với "))
        .unwrap_or(&s)
        .to_string();
    let s = s.strip_prefix("các ").unwrap_or(&s).to_string();
    s
}

/// Lenient equality of two unit names: one's words are a contiguous part of the other's.
pub fn units_match(a: &str, b: &str) -> bool {
    let (ka, kb) = (unit_key(a), unit_key(b));
    if ka.is_empty() || kb.is_empty() {
        return false;
    }
    if ka == kb {
        return true;
    }
    let (short, long) = if ka.len() <= kb.len() {
        (ka, kb)
    } else {
        (kb, ka)
    };
    short.split(' ').count() >= 2 && format!(" {long} ").contains(&format!(" {short} "))
}

fn deadlines(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for c in RE_DATE.captures_iter(text) {
        let d = if let (Some(d), Some(m), Some(y)) = (c.get(1), c.get(2), c.get(3)) {
            let d: u32 = d.as_str().parse().unwrap_or(0);
            let m: u32 = m.as_str().parse().unwrap_or(0);
            format!("{}-{m:02}-{d:02}", y.as_str())
        } else if let (Some(m), Some(y)) = (c.get(4), c.get(5)) {
            let m: u32 = m.as_str().parse().unwrap_or(0);
            format!("{}-{m:02}", y.as_str())
        } else {
            continue;
        };
        if !out.contains(&d) {
            out.push(d);
        }
    }
    out
}

fn criteria_in(text: &str) -> Vec<u32> {
    let mut out: Vec<u32> = RE_CRIT
        .captures_iter(text)
        .filter_map(|c| c[1].parse().ok())
        .filter(|n| (1..=19).contains(n))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Split a heading naming several units ("Ban Chỉ đạo NTM, UBND cấp xã") when every part is a unit.
fn split_units(name: &str) -> Vec<String> {
    let parts: Vec<&str> = name.split(", ").collect();
    if parts.len() > 1
        && parts.iter().all(|p| {
            p.chars().next().is_some_and(|c| c.is_uppercase()) && unit_at(p).is_some()
        })
    {
        parts.iter().map(|p| p.trim().to_string()).collect()
    } else {
        vec![name.to_string()]
    }
}

fn strip_lead(s: &str) -> &str {
    let mut s = s.trim();
    for pre in ["Đề nghị ", "Đối với ", "đề nghị ", "đối với "] {
        if let Some(x) = s.strip_prefix(pre) {
            s = x.trim();
        }
    }
    s
}

fn heading_unit(text: &str) -> Option<String> {
    let first = text.lines().next().unwrap_or("");
    let first = clean(first);
    let s = strip_lead(&first);
    if let Some(len) = unit_at(s) {
        let mut name = s[..len].to_string();
        // Keep a bracketed alternative name: "(Phòng Nội vụ)".
        let rest = &s[len..];
        if rest.trim_start().starts_with('(') {
            if let Some(close) = rest.find(')') {
                name = format!("{name} {}", rest[..=close].trim());
            }
        }
        for tail in [" trong địa bàn xã", " trên địa bàn xã", " trên địa bàn"] {
            if let Some(x) = name.strip_suffix(tail) {
                name = x.to_string();
            }
        }
        return Some(name);
    }
    // "Công tác … của Ban chỉ đạo": the unit the heading's work belongs to.
    let lower = s.to_lowercase();
    if let Some(p) = lower.find(" của ") {
        let after = &s[p + " của ".len()..];
        if let Some(len) = unit_at(after) {
            return Some(after[..len].to_string());
        }
    }
    None
}

pub fn extract_responsibilities(doc: &DocText, sk: &Skeleton) -> Vec<Responsibility> {
    let mut out: Vec<Responsibility> = Vec::new();
    let mut heading_spans: Vec<(usize, usize)> = Vec::new();

    // 1. The numbered units of TỔ CHỨC THỰC HIỆN.
    for (si, sec) in sk.sections.iter().enumerate() {
        if sec.kind != SectionKind::Organization {
            continue;
        }
        let sec_end = sk.sections.get(si + 1).map_or(sk.closing_start, |s| s.start);
        let paras: Vec<usize> = (0..doc.paras.len())
            .filter(|&i| doc.paras[i].start > sec.start && doc.paras[i].start < sec_end)
            .collect();
        let heads: Vec<usize> = paras
            .iter()
            .copied()
            .filter(|&i| doc.paras[i].marker == Marker::Number)
            .collect();
        for (hi, &h) in heads.iter().enumerate() {
            let p = &doc.paras[h];
            let Some(name) = heading_unit(doc.para_body(p)) else {
                continue;
            };
            heading_spans.push((p.start, p.end));
            let next = heads.get(hi + 1).map_or(sec_end, |&n| doc.paras[n].start);
            let mut tasks = Vec::new();
            let mut task_text = String::new();
            // A heading line that goes on with the task ("… (Phòng Nội vụ) phối hợp với …").
            let body = clean(doc.para_body(p));
            if body.chars().count() > name.chars().count() + 20 {
                tasks.push(body.clone());
                task_text.push_str(&body);
            }
            for &i in paras.iter().filter(|&&i| {
                doc.paras[i].start > p.start && doc.paras[i].start < next
            }) {
                let t = clean(doc.para_body(&doc.paras[i]));
                if !t.is_empty() {
                    task_text.push(' ');
                    task_text.push_str(&t);
                    tasks.push(t);
                }
            }
            let body_start = p.body_start;
            let crit = criteria_in(&task_text);
            let dl = deadlines(&task_text);
            for unit in split_units(&name) {
                let pos = doc.text[body_start..p.end]
                    .find(unit.as_str())
                    .map_or(body_start, |x| body_start + x);
                out.push(Responsibility {
                    unit_kind: unit_kind(&unit),
                    unit: unit.clone(),
                    role: Role::Lead,
                    tasks: tasks.clone(),
                    criteria: crit.clone(),
                    deadlines: dl.clone(),
                    evidence: doc.evidence(pos, pos + unit.len()),
                });
            }
        }
    }

    // 2. Units given work inline, anywhere in the body.
    let body = sk.body_start();
    let mut inline: Vec<(String, Role, usize, usize, String)> = Vec::new();
    for p in &doc.paras {
        if p.start < body || p.start >= sk.closing_start {
            continue;
        }
        if heading_spans.iter().any(|&(s, _)| s == p.start) {
            continue;
        }
        for (cs, ce) in clauses(&doc.text, p.body_start, p.end) {
            let clause = doc.slice(cs, ce);
            let task = clean(clause);
            // Subjects at the start of the clause: "Đảng ủy, HĐND, UBND … tiếp tục …".
            let lead_trim = clause.len() - clause.trim_start().len();
            let mut pos = lead_trim;
            loop {
                let rest = &clause[pos..];
                let Some(len) = unit_at(rest) else { break };
                inline.push((
                    rest[..len].to_string(),
                    Role::Assigned,
                    cs + pos,
                    cs + pos + len,
                    task.clone(),
                ));
                let after = &rest[len..];
                let skip = after.len() - after.trim_start_matches([',', ' ', '\n']).len();
                let after2 = &after[skip..];
                if skip > 0 && after[..skip].contains(',') {
                    pos += len + skip;
                } else if let Some(x) = after2.strip_prefix("và ") {
                    pos += len + skip + (after2.len() - x.len());
                } else {
                    break;
                }
            }
            for c in RE_INLINE.captures_iter(clause) {
                let Some(m) = c.get(0) else { continue };
                let rest = &clause[m.end()..];
                if let Some(len) = unit_at(rest) {
                    let role = if c.name("support").is_some() {
                        Role::Support
                    } else {
                        Role::Assigned
                    };
                    inline.push((
                        rest[..len].to_string(),
                        role,
                        cs + m.end(),
                        cs + m.end() + len,
                        task.clone(),
                    ));
                }
            }
        }
    }
    for (unit, role, s, e, task) in inline {
        let unit = clean(&unit);
        let key = unit_key(&unit);
        // Vague partners ("các ngành có liên quan") are not units the plan tasks.
        if key.ends_with("liên quan") || key.split(' ').count() > 10 {
            continue;
        }
        if let Some(existing) = out.iter_mut().find(|r| units_match(&r.unit, &unit)) {
            if !existing.tasks.contains(&task) && existing.role != Role::Lead {
                existing.tasks.push(task);
            }
            continue;
        }
        out.push(Responsibility {
            unit_kind: unit_kind(&unit),
            criteria: criteria_in(&task),
            deadlines: deadlines(&task),
            unit,
            role,
            tasks: vec![task],
            evidence: doc.evidence(s, e),
        });
    }
    out
}
