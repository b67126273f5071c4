//! Document metadata from the Decree 30/2020 header, the legal bases and the signature block.
//!
//! Header: issuing body lines (upper case, left), `Số: …/KH-UBND`, "địa danh, ngày … tháng … năm …",
//! the type word (KẾ HOẠCH …) and the trích yếu. When the scan lost part of the header, the issuer
//! falls back to the sentence that issues the plan ("UBND xã … ban hành Kế hoạch") and the ký hiệu.

use super::numbers::ocr_digits;
use super::skeleton::Skeleton;
use super::text::{clauses, clean, upper_ratio, DocText};
use crate::document::{Authority, IssuerLevel, Metadata, Reference, Signer};
use once_cell::sync::Lazy;
use regex::Regex;

/// Document types of Decree 30/2020 (Phụ lục III) and their abbreviations.
const DOC_TYPES: &[(&str, &str)] = &[
    ("KẾ HOẠCH", "KH"),
    ("QUYẾT ĐỊNH", "QĐ"),
    ("NGHỊ QUYẾT", "NQ"),
    ("BÁO CÁO", "BC"),
    ("CHỈ THỊ", "CT"),
    ("TỜ TRÌNH", "TTr"),
    ("THÔNG BÁO", "TB"),
    ("HƯỚNG DẪN", "HD"),
    ("CHƯƠNG TRÌNH", "CTr"),
    ("PHƯƠNG ÁN", "PA"),
    ("ĐỀ ÁN", "ĐA"),
    ("CÔNG VĂN", "CV"),
    ("KẾT LUẬN", "KL"),
    ("QUY CHẾ", "QC"),
    ("NGHỊ ĐỊNH", "NĐ"),
    ("THÔNG TƯ", "TT"),
];

fn type_of_word(word: &str) -> Option<(&'static str, &'static str)> {
    let w = word.to_uppercase();
    DOC_TYPES
        .iter()
        .find(|(name, _)| w == *name)
        .map(|&(n, a)| (n, a))
}

fn title_case_type(name: &str) -> String {
    let lower = name.to_lowercase();
    let mut c = lower.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

static RE_NUMBER: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"Số\s*:\s*(\d*)\s*/\s*((?:\d{4}\s*/\s*)?[A-ZĐ]{1,6}(?:\s*-\s*[A-ZĐ]{1,8}){0,3})")
        .expect("number regex")
});
// The date line survives restoration with a wrong tone ("thang"), words run together
// ("thango2") and OCR letters in the digits (`o` for 0, `l` for 1): keywords take any vowel,
// digit runs take the look-alike letters and are read through `ocr_digits`.
static RE_PLACE_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?P<place>\p{Lu}\p{Ll}*(?:[ \t]+\p{Lu}\p{Ll}*){0,3})\s*,\s*ng\p{L}y\s*(?P<d>[0-9OoIl]{1,2})?\s*th\p{L}ng\s*(?P<m>[0-9OoIl]{1,2})?\s*n\p{L}m\s*(?P<y>[0-9OoIl]{4})")
        .expect("date regex")
});
static RE_LEVEL_NAME: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"\b((?i:xã|huyện|tỉnh|thành phố|thị xã|thị trấn|phường))\s+(\p{Lu}[\p{L}]*(?:[ \t]+\p{Lu}[\p{L}]*){0,3})")
        .expect("level regex")
});
static RE_ISSUING: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"\b((?i:UBND|ủy ban nhân dân|uỷ ban nhân dân|ban chỉ đạo|BCĐ|HĐND|hội đồng nhân dân|đảng ủy|đảng uỷ))\s+(xã|huyện|tỉnh|thành phố|thị xã|phường|thị trấn)?\s*((?:\p{Lu}\p{Ll}*\s+){0,3})(?:ban hành|xây dựng|triển khai)\s+(?:[Kk]ế hoạch|[Qq]uyết định|[Bb]áo cáo)")
        .expect("issuing regex")
});
static RE_LEGAL: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?:Căn cứ|Thực hiện)\s+(Nghị quyết|Quyết định|Kế hoạch|Nghị định|Thông tư|Chỉ thị|Công văn|Văn bản|Kết luận|Hướng dẫn|Thông báo|Luật)[^;]*")
        .expect("legal regex")
});
static RE_REF_PART: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(Nghị quyết|Quyết định|Kế hoạch|Nghị định|Thông tư|Chỉ thị|Công văn|Văn bản|Kết luận|Hướng dẫn|Thông báo|Luật)\s+(?:số\s*)?([0-9][0-9A-Za-zĐđ/.\-]*)?(?:[^;]*?ngày\s*(\d{1,2})/(\d{1,2})/(\d{4}))?(?:[^;]*?\bcủa\s+([^;,]+?)(?:\s+(?:về|ban hành|phê duyệt|quy định|thông qua)\b|[;,.]|$))?")
        .expect("ref regex")
});
static RE_POSITION: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?:(TM|KT|Q|TL|TUQ)\.\s*)?\b(PHÓ CHỦ TỊCH|CHỦ TỊCH|PHÓ TRƯỞNG BAN THƯỜNG TRỰC|PHÓ TRƯỞNG BAN|TRƯỞNG BAN|PHÓ GIÁM ĐỐC|GIÁM ĐỐC|PHÓ BÍ THƯ|BÍ THƯ|CHÁNH VĂN PHÒNG|PHÓ CHÁNH VĂN PHÒNG|TRƯỞNG PHÒNG|PHÓ TRƯỞNG PHÒNG|TRƯỞNG THÔN)\b")
        .expect("position regex")
});
static RE_AUTHORITY: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"\b(TM|KT|Q|TL|TUQ)\.\s*\p{Lu}").expect("authority regex"));
static RE_PERSON: Lazy<Regex> =
    Lazy::new(|| Regex::new(r"^\p{Lu}\p{Ll}+(?:\s+\p{Lu}\p{Ll}*){1,4}$").expect("person regex"));

/// Abbreviations of issuing bodies as analysts write them.
fn abbreviate_body(body: &str) -> String {
    let up = body.to_uppercase().replace("UỶ", "ỦY");
    let up = up.split_whitespace().collect::<Vec<_>>().join(" ");
    for (long, short) in [
        ("ỦY BAN NHÂN DÂN", "UBND"),
        ("HỘI ĐỒNG NHÂN DÂN", "HĐND"),
        ("BAN CHỈ ĐẠO", "BCĐ"),
        ("ĐẢNG ỦY", "Đảng ủy"),
    ] {
        if up == long {
            return short.to_string();
        }
    }
    sentence_case(body)
}

/// Capitals to the way a body is named in running text: abbreviations stay, "Chương trình" keeps
/// its capital, other words go lower case.
fn sentence_case(s: &str) -> String {
    let mut out = Vec::new();
    for w in s.split_whitespace() {
        let has_vowel_lower = w.to_lowercase() != w;
        let is_abbrev = w.chars().count() <= 5
            && w.chars().all(|c| c.is_uppercase() || c == '-' || c == '.')
            && !crate::vietnamese::strip_marks(&w.to_lowercase())
                .chars()
                .any(|c| "aeiouy".contains(c))
            || ["MTQG", "NTM", "UBND", "HĐND", "BCĐ", "BQL", "PTNT", "OCOP"].contains(&w);
        if is_abbrev || !has_vowel_lower {
            out.push(w.to_string());
        } else {
            out.push(w.to_lowercase());
        }
    }
    let mut joined = out.join(" ");
    if let Some(pos) = joined.find("chương trình") {
        joined.replace_range(pos..pos + "chương trình".len(), "Chương trình");
    }
    joined
}

fn admin_name_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let lower = w.to_lowercase();
            let mut c = lower.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn level_of(word: &str) -> Option<IssuerLevel> {
    match word.to_lowercase().as_str() {
        "xã" | "phường" | "thị trấn" => Some(IssuerLevel::Xa),
        "huyện" | "thị xã" | "thành phố" => Some(IssuerLevel::Huyen),
        "tỉnh" => Some(IssuerLevel::Tinh),
        _ => None,
    }
}

pub fn extract_metadata(doc: &DocText, sk: &Skeleton) -> Metadata {
    let mut md = Metadata::default();
    let text = &doc.text;
    let head_limit = sk.body_start().min(text.len());
    let head = &text[..head_limit];

    // Số và ký hiệu.
    let mut symbol_issuer: Option<String> = None;
    if let Some(c) = RE_NUMBER.captures(head) {
        let digits = c.get(1).map_or("", |m| m.as_str());
        let symbol: String = c
            .get(2)
            .map_or("", |m| m.as_str())
            .split_whitespace()
            .collect();
        if let Some((ty, issuer)) = symbol.rsplit('/').next().and_then(|s| s.split_once('-')) {
            md.doc_type = Some(ty.to_string());
            symbol_issuer = Some(issuer.to_string());
        }
        if !digits.is_empty() {
            md.number = Some(format!("{digits}/{symbol}"));
        }
    }

    // Place and date.
    if let Some(c) = RE_PLACE_DATE.captures(head) {
        md.place = c.name("place").map(|m| clean(m.as_str()));
        let y = c.name("y").and_then(|m| ocr_digits(m.as_str()));
        let m = c
            .name("m")
            .and_then(|m| ocr_digits(m.as_str()))
            .and_then(|m| m.parse::<u32>().ok())
            .filter(|m| (1..=12).contains(m));
        let d = c
            .name("d")
            .and_then(|m| ocr_digits(m.as_str()))
            .and_then(|m| m.parse::<u32>().ok())
            .filter(|d| (1..=31).contains(d));
        md.date = match (y, m, d) {
            (Some(y), Some(m), Some(d)) => Some(format!("{y}-{m:02}-{d:02}")),
            (Some(y), Some(m), None) => Some(format!("{y}-{m:02}")),
            (Some(y), _, _) => Some(y),
            _ => None,
        };
    }

    // Type word line and trích yếu.
    let mut title_end = 0;
    let mut title_lines: Vec<String> = Vec::new();
    let mut type_line_idx = None;
    for (i, l) in doc.lines.iter().enumerate() {
        if l.start >= head_limit {
            break;
        }
        let t = clean(doc.line_text(l));
        if let Some((name, abbr)) = type_of_word(&t) {
            md.doc_type_name = Some(title_case_type(name));
            if md.doc_type.is_none() {
                md.doc_type = Some(abbr.to_string());
            }
            type_line_idx = Some(i);
            break;
        }
    }
    let title_from = match type_line_idx {
        Some(i) => i + 1,
        // No type word (header lost): the title is the first lines, when they come before the
        // legal bases.
        None => 0,
    };
    let is_basis = |t: &str| {
        // OCR leaves specks and dashes before the first word.
        let t = t.trim_start_matches(|c: char| !c.is_alphabetic());
        t.starts_with("Căn cứ")
            || RE_LEGAL.is_match(t) && t.starts_with("Thực hiện")
            || t.starts_with("Sau khi")
            || t.starts_with("Xét ")
    };
    let mut blank_run = 0;
    let mut ended_at_basis = false;
    for l in doc.lines.iter().skip(title_from) {
        if l.start >= head_limit {
            break;
        }
        let t = clean(doc.line_text(l));
        if t.is_empty() || t.chars().all(|c| c == '-' || c == '_' || c == '*') {
            blank_run += 1;
            if !title_lines.is_empty() && blank_run > 2 {
                break;
            }
            continue;
        }
        blank_run = 0;
        if is_basis(&t) {
            ended_at_basis = true;
            break;
        }
        if title_lines.len() >= 4 || (type_line_idx.is_none() && t.contains("Số:")) {
            break;
        }
        title_lines.push(t.clone());
        title_end = l.end;
        if t.ends_with('.') || t.ends_with(';') {
            break;
        }
    }
    if !title_lines.is_empty() {
        let title = title_lines.join(" ");
        let title = title.trim_end_matches(['.', ';', ':']).trim().to_string();
        // Without a type word the "title" must look like one: sentence case, not the header, and
        // followed by the legal bases as a document's opening is (a lone body page has none).
        if type_line_idx.is_some() || (upper_ratio(&title) < 0.5 && ended_at_basis) {
            md.title = Some(title);
        } else {
            title_end = 0;
        }
    }

    // Issuer: header lines above "Số:" / the national motto.
    let mut body_words = String::new();
    let mut admin: Option<(String, String)> = None;
    for l in &doc.lines {
        if l.start >= head_limit {
            break;
        }
        let raw = doc.line_text(l);
        let t = clean(raw);
        if t.contains("Số:") || type_of_word(&t).is_some() {
            break;
        }
        // Cut the motto columns that share the line.
        let mut part = t.as_str();
        for cut in ["CỘNG HÒA", "CỘNG HOÀ", "Độc lập", "ĐỘC LẬP"] {
            if let Some(p) = part.find(cut) {
                part = &part[..p];
            }
        }
        // OCR specks (":", "_", "|") between the header columns.
        let part: String = part
            .chars()
            .map(|c| if ":_|~".contains(c) { ' ' } else { c })
            .collect();
        let part = part.split_whitespace().collect::<Vec<_>>().join(" ");
        let part = part.trim_matches(|c: char| !c.is_alphanumeric()).trim();
        if part.is_empty() || upper_ratio(part) < 0.8 {
            continue;
        }
        // The level and the name of the unit: a line of their own (`XÃ AN BÌNH`), or the end of
        // the body's line (`UBND HUYỆN ĐÔNG HÒA`), whose name keeps its capitals. `XÃ HỘI`
        // (society) and `HUYỆN ỦY` (the district's party committee) are no unit names.
        let mut body_part = part;
        if let Some(c) = RE_LEVEL_NAME.captures(part) {
            let m = c.get(0).expect("the whole match");
            let name = admin_name_case(&c[2]);
            let named = !["Hội", "Ủy", "Uỷ"].contains(&name.split(' ').next().unwrap_or(""));
            if named && (m.start() == 0 || m.end() == part.len()) {
                admin = Some((c[1].to_lowercase(), name));
                body_part = part[..m.start()].trim();
                // A whole body name on one line is the issuing body; a line above it named the
                // body it answers to (Decree 30's first header line).
                if !body_part.is_empty() {
                    body_words.clear();
                }
            }
        }
        if body_part.is_empty() {
            continue;
        }
        if !body_words.is_empty() {
            body_words.push(' ');
        }
        body_words.push_str(body_part);
    }
    // The sentence that issues the plan fills what the header lost.
    let mut cut = text.len().min(head_limit + 3000);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let issuing = RE_ISSUING.captures(&text[..cut]);
    if body_words.is_empty() {
        if let Some(c) = &issuing {
            body_words = c[1].to_string();
        } else if let Some(s) = &symbol_issuer {
            body_words = s.clone();
        }
    }
    if admin.is_none() {
        if let Some(c) = &issuing {
            if let Some(level) = c.get(2) {
                let name = c.get(3).map(|m| m.as_str().trim().to_string());
                let name = match name.filter(|n| !n.is_empty()) {
                    Some(n) => Some(n),
                    None => find_name_for_level(
                        level.as_str(),
                        md.title.as_deref().unwrap_or(""),
                        md.place.as_deref(),
                    ),
                };
                if let Some(n) = name {
                    admin = Some((level.as_str().to_lowercase(), n));
                }
            }
        }
    }
    if !body_words.is_empty() || admin.is_some() {
        let body = if body_words.is_empty() {
            "UBND".to_string()
        } else {
            abbreviate_body(&body_words)
        };
        let issuer = match &admin {
            Some((level, name)) => {
                md.issuer_level = level_of(level);
                if md.place.is_none() {
                    md.place = Some(name.clone());
                }
                format!("{body} {level} {name}")
            }
            None => body,
        };
        md.issuer = Some(issuer);
    }
    if md.doc_type.is_none() {
        // "… ban hành Kế hoạch …" / "Trên đây là Kế hoạch …".
        let lower = text.to_lowercase();
        for (name, abbr) in DOC_TYPES {
            let n = name.to_lowercase();
            if lower.contains(&format!("ban hành {n}"))
                || lower.contains(&format!("xây dựng {n}"))
                || lower.contains(&format!("trên đây là {n}"))
            {
                md.doc_type = Some(abbr.to_string());
                md.doc_type_name = Some(title_case_type(name));
                break;
            }
        }
    }

    // Plan year: the last year in the title, else the date's year.
    static RE_YEAR: Lazy<Regex> =
        Lazy::new(|| Regex::new(r"\b(20\d\d|19\d\d)\b").expect("year regex"));
    md.plan_year = md
        .title
        .as_deref()
        .and_then(|t| RE_YEAR.find_iter(t).last())
        .and_then(|m| m.as_str().parse().ok())
        .or_else(|| {
            md.date
                .as_deref()
                .and_then(|d| d.get(..4))
                .and_then(|y| y.parse().ok())
        });

    md.legal_bases = legal_bases(doc, title_end, head_limit);
    md.signer = signer(doc, sk);
    md.recipients = recipients(doc, sk);
    md
}

fn find_name_for_level(level: &str, title: &str, place: Option<&str>) -> Option<String> {
    for c in RE_LEVEL_NAME.captures_iter(title) {
        if c[1].eq_ignore_ascii_case(level) || c[1].to_lowercase() == level.to_lowercase() {
            return Some(c[2].to_string());
        }
    }
    place.map(str::to_string)
}

fn legal_bases(doc: &DocText, from: usize, to: usize) -> Vec<Reference> {
    let mut out = Vec::new();
    if from >= to {
        return out;
    }
    // "Căn cứ A; Căn cứ B" or "Thực hiện A; B; C. <issuing sentence>": each part citing a
    // document is one reference.
    for (s, e) in clauses(&doc.text, from, to) {
        let text = clean(doc.slice(s, e));
        let t = text.trim_start_matches(|c: char| !c.is_alphabetic());
        let t = ["Căn cứ ", "Thực hiện ", "và "]
            .iter()
            .find_map(|p| t.strip_prefix(p))
            .unwrap_or(t);
        let Some(c) = RE_REF_PART.captures(t) else {
            continue;
        };
        if c.get(0).map(|m| m.start()) != Some(0) {
            continue;
        }
        let doc_type = match &c[1] {
            "Nghị quyết" => "NQ",
            "Quyết định" => "QĐ",
            "Kế hoạch" => "KH",
            "Nghị định" => "NĐ",
            "Thông tư" => "TT",
            "Chỉ thị" => "CT",
            "Kết luận" => "KL",
            "Hướng dẫn" => "HD",
            "Thông báo" => "TB",
            "Luật" => "Luật",
            _ => "CV",
        };
        let date = match (c.get(3), c.get(4), c.get(5)) {
            (Some(d), Some(m), Some(y)) => {
                let d: u32 = d.as_str().parse().unwrap_or(0);
                let m: u32 = m.as_str().parse().unwrap_or(0);
                Some(format!("{}-{m:02}-{d:02}", y.as_str()))
            }
            _ => None,
        };
        out.push(Reference {
            text: text.clone(),
            doc_type: Some(doc_type.to_string()),
            number: c.get(2).map(|m| {
                let n = m.as_str().trim_end_matches(['.', ',']).to_string();
                // "34/NQ-" + line break + "HĐND": the symbol goes on after the wrap.
                match (n.ends_with('-'), t[m.end()..].split_whitespace().next()) {
                    (true, Some(w)) if w.chars().all(|c| c.is_uppercase()) => {
                        format!("{n}{}", w.trim_end_matches([',', '.', ';']))
                    }
                    _ => n,
                }
            }),
            date,
            issuer: c.get(6).map(|m| m.as_str().trim().to_string()),
        });
    }
    out
}

fn signer(doc: &DocText, sk: &Skeleton) -> Option<Signer> {
    let from = sk.closing_start.min(doc.text.len());
    let tail = &doc.text[from..];
    let mut position: Option<(usize, String)> = None;
    for c in RE_POSITION.captures_iter(tail) {
        if c.get(1).is_none() {
            if let Some(m) = c.get(2) {
                position = Some((from + m.end(), m.as_str().to_string()));
            }
        }
    }
    let mut authority = None;
    for c in RE_AUTHORITY.captures_iter(tail) {
        let a = match &c[1] {
            "TM" => Authority::TM,
            "KT" => Authority::KT,
            "Q" => Authority::Q,
            "TL" => Authority::TL,
            _ => Authority::TUQ,
        };
        // The signer's own authority is the innermost one: KT./Q./TL. over the outer TM.
        if authority.is_none() || a != Authority::TM {
            authority = Some(a);
        }
    }
    let (pos_end, position) = position?;
    let mut name = None;
    for l in &doc.lines {
        if l.start < pos_end {
            continue;
        }
        let t = clean(doc.line_text(l));
        // List items and notes in brackets ("(Đã ký)") are not names.
        if t.starts_with('-') || t.starts_with('(') || t.starts_with('[') || t.is_empty() {
            continue;
        }
        // OCR leaves specks around the signature ("Bùi Văn Lương .", "| Bùi Văn Lương"): the
        // name is the line without the non-letters at its edges.
        let core = t
            .trim_matches(|c: char| !c.is_alphabetic())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if RE_PERSON.is_match(&core) {
            name = Some(core);
            break;
        }
    }
    Some(Signer {
        name,
        position: Some(position),
        authority,
    })
}

fn recipients(doc: &DocText, sk: &Skeleton) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for l in &doc.lines {
        if l.start < sk.closing_start {
            continue;
        }
        let t = clean(doc.line_text(l));
        if t.contains("Nơi nhận") || t.contains("NƠI NHẬN") {
            inside = true;
            continue;
        }
        if !inside {
            continue;
        }
        let continuation = !t.starts_with('-')
            && out
                .last()
                .is_some_and(|l: &String| !l.ends_with('.') && !RE_PERSON.is_match(&t));
        if continuation && !t.is_empty() && upper_ratio(&t) < 0.8 {
            let r = t.trim().trim_end_matches([';', ':', '.', ',']).trim();
            if let Some(last) = out.last_mut() {
                last.push(' ');
                last.push_str(r);
            }
            continue;
        }
        if let Some(r) = t.strip_prefix('-') {
            // Cut the signature column that shares the line.
            let mut r = r;
            if let Some(p) = RE_AUTHORITY.find(r).or_else(|| RE_POSITION.find(r)) {
                r = &r[..p.start()];
            }
            let r = r.trim().trim_end_matches([';', ':', '.', ',']).trim();
            if !r.is_empty() {
                out.push(r.to_string());
            }
        }
    }
    out
}
