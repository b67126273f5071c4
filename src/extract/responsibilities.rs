//! Responsible units: the numbered units under "TỔ CHỨC THỰC HIỆN" (role lead) and units given work
//! inline ("Giao cho UBND xã …", "Đài truyền thanh xã phối hợp với …", "Đề nghị …").
//!
//! A unit's name starts with a unit word (UBND, Ban, Phòng, Sở, Công chức, Trạm …) and runs until the
//! verb or preposition that begins its task.

use super::catalogue::norm;
use super::skeleton::{SectionKind, Skeleton};
use super::text::{clauses, clean, tolerant_regex, DocText, Marker};
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

/// Verbs that begin a unit's task: they end its name, and show it is the one doing the work.
const TASK_VERBS: &[&str] = &[
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
];

/// Other words that end a unit's name (prepositions, auxiliaries, more verbs), beside [`TASK_VERBS`].
const STOPS: &[&str] = &[
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
    "đạt",
    "đăng ký",
    "phấn đấu",
    "còn lại",
    "năm",
    "và người dân",
];

static RE_INLINE: Lazy<Regex> = Lazy::new(|| {
    // Cue words as restoration leaves them (any case and tone; long words unaccented too).
    let t = tolerant_regex;
    Regex::new(&format!(
        r"(?P<assign>\b{}\s+(?:{}\s+)?(?:{}\s+)?{}\s+|{}\s+{}\s+{}\s+|\b{}\s+|\b{}\s+)|(?P<support>{}\s+(?:{}\s+)?(?:{}|{})\s+)",
        t("giao"),
        t(r"nhiệm\s+vụ"),
        t(r"cụ\s+thể"),
        t("cho"),
        t(r"phân\s+công"),
        t(r"nhiệm\s+vụ"),
        t("cho"),
        t(r"đề\s+nghị"),
        t(r"đối\s+với"),
        t(r"phối\s+hợp"),
        t(r"chặt\s+chẽ"),
        t("với"),
        t("cùng"),
    ))
    .expect("inline regex")
});
static RE_FOR_NAMED: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"(?:^|[\s(-])[Đđ]ối\s+với\s+(?:\d+\s+)?(xã|thôn|bản|huyện)\s+(\p{Lu}\p{Ll}*(?:[ \t]+\p{Lu}\p{Ll}*)*(?:\s*,\s*\p{Lu}\p{Ll}*(?:[ \t]+\p{Lu}\p{Ll}*)*)*)")
        .expect("named regex")
});
static RE_DATE: Lazy<Regex> = Lazy::new(|| {
    Regex::new(r"ngày\s*(\d{1,2})/(\d{1,2})/(\d{4})|tháng\s*(\d{1,2})\s*(?:/|năm)\s*(\d{4})")
        .expect("date regex")
});
static RE_CRIT: Lazy<Regex> = Lazy::new(|| {
    // As in criteria mentions: any tone on the keyword, a garbled "số" ("s", "86").
    Regex::new(r"(?i:ti[eêéèẻẽẹếềểễệ]u\s+(?:ch|tr)[iíìỉĩị])\s*(?:(?i:số)\s*|(?i:[s5$8][\p{L}0-9]?)[^\S\n]+)?(\d{1,2})\b")
        .expect("criterion regex")
});

fn starts_with_word(s: &str, w: &str) -> bool {
    s.starts_with(w)
        && s[w.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric())
}

/// More verbs that show the unit before them is the one doing the work (a subject, not a
/// mention), beside [`TASK_VERBS`].
const VERBS: &[&str] = &[
    "triển khai",
    "hướng dẫn",
    "chỉ đạo",
    "theo dõi",
    "kiểm tra",
    "rà soát",
    "tuyên truyền",
    "vận động",
    "soát xét",
    "đôn đốc",
    "phát động",
    "làm tốt",
    "cần",
    "nâng cao",
];

/// Every word that ends a unit's name.
fn stop_words() -> impl Iterator<Item = &'static &'static str> {
    TASK_VERBS.iter().chain(STOPS)
}

/// Every verb that makes the unit before it the subject of a task.
fn subject_verbs() -> impl Iterator<Item = &'static &'static str> {
    TASK_VERBS.iter().chain(VERBS)
}

/// How a unit name ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// At a verb: the unit is the subject of a task.
    Verb,
    /// At any other stop word, punctuation or the end of the text.
    Other,
}

/// Length in bytes of a unit name at the start of `s`, if one starts there, and how it ended.
fn unit_at(s: &str) -> Option<(usize, End)> {
    // Wrapped lines: a newline inside a clause is a space.
    let lower: Vec<char> = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    if chars.len() != lower.len() {
        return None;
    }
    // Compared text: runs of spaces collapsed, so "tổ chức  triển khai" still ends a name.
    let rest_at = |i: usize| -> String {
        let mut out = String::new();
        for &c in &lower[i.min(lower.len())..] {
            if !(c == ' ' && out.ends_with(' ')) {
                out.push(c);
            }
        }
        out
    };
    // "các", "từng", "toàn thể" may precede the unit word.
    let mut i = 0;
    for pre in ["các ", "toàn thể "] {
        if rest_at(i).starts_with(pre) {
            i += pre.chars().count();
        }
    }
    let head = rest_at(i);
    if !HEADS.iter().any(|h| starts_with_word(&head, h))
        || NOT_UNITS.iter().any(|w| starts_with_word(&head, w))
    {
        return None;
    }
    let byte_at = |i: usize| chars.get(i).map_or(s.len(), |x| x.0);
    let mut end = byte_at(i);
    let mut ended = End::Other;
    let mut words = 0;
    let mut prev_word = String::new();
    while i < lower.len() && words < 20 {
        let mut j = i;
        while j < lower.len() && lower[j] == ' ' {
            j += 1;
        }
        if j >= lower.len() {
            break;
        }
        let c = lower[j];
        if c == ',' {
            // A comma goes on with the same unit when a lower-case word follows that is neither a
            // new unit ("các …") nor a verb: "Cán bộ, công chức", "Các thôn, bản".
            let mut k = j + 1;
            while k < lower.len() && lower[k] == ' ' {
                k += 1;
            }
            let next = rest_at(k);
            let next_upper = chars.get(k).is_some_and(|x| x.1.is_uppercase());
            let continues = !next_upper
                && next.chars().next().is_some_and(|c| c.is_alphabetic())
                && !starts_with_word(&next, "các")
                && !starts_with_word(&next, "và")
                && !stop_words().any(|st| starts_with_word(&next, st));
            if continues {
                i = k;
                continue;
            }
            break;
        }
        if ".;:()\"“”".contains(c) {
            break;
        }
        let rest = rest_at(j);
        // "Ban chỉ đạo", "Ban quản lý" are names, not the verbs "chỉ đạo", "quản lý".
        // "Ban chỉ đạo", "Ban quản lý xây dựng NTM", "Ban chỉ đạo thực hiện …" are names.
        let after_ban = prev_word == "ban"
            || ((prev_word == "lý" || prev_word == "đạo")
                && (starts_with_word(&rest, "xây dựng") || starts_with_word(&rest, "thực hiện")));
        // A capitalised word is part of a name ("UBND huyện Đình Lập"), never a stop.
        let capital = chars.get(j).is_some_and(|x| x.1.is_uppercase());
        if words > 0 && !after_ban && !capital {
            if subject_verbs().any(|v| starts_with_word(&rest, v)) {
                ended = End::Verb;
                // An adverb counts only when a verb follows it ("thường xuyên kiểm tra"), not in a
                // name ("Giáo dục thường xuyên").
                for adv in ["thường xuyên ", "tiếp tục ", "kịp thời "] {
                    if let Some(after) = rest.strip_prefix(adv) {
                        if !subject_verbs().any(|v| starts_with_word(after, v)) {
                            ended = End::Other;
                        }
                    }
                }
                break;
            }
            if stop_words().any(|st| starts_with_word(&rest, st)) {
                break;
            }
        }
        // "và" joins parts of one name only when a capitalised word follows ("Nông nghiệp và PTNT").
        if starts_with_word(&rest, "và") {
            let next = chars.get(j + 3).map(|x| x.1);
            if !next.is_some_and(|c| c.is_uppercase()) {
                break;
            }
        }
        let mut k = j;
        while k < lower.len() && lower[k] != ' ' && !",.;:()\"“”".contains(lower[k]) {
            k += 1;
        }
        prev_word = lower[j..k].iter().collect();
        i = k;
        words += 1;
        end = byte_at(k);
    }
    let name = s[..end].trim_end_matches([' ', '-', '–', '\n']);
    if name.is_empty() {
        None
    } else {
        Some((name.len(), ended))
    }
}

fn unit_kind(unit: &str) -> UnitKind {
    let l = unit.to_lowercase();
    let has = |w: &str| l.contains(w);
    if has("ubnd") || has("ủy ban nhân dân") || has("uỷ ban nhân dân") || has("chính quyền")
    {
        UnitKind::Ubnd
    } else if has("hđnd") || has("hội đồng nhân dân") {
        UnitKind::Hdnd
    } else if has("mttq") || has("mặt trận") || has("đoàn thể") || has("chính trị - xã hội")
    {
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
        && parts
            .iter()
            .all(|p| p.chars().next().is_some_and(|c| c.is_uppercase()) && unit_at(p).is_some())
    {
        parts.iter().map(|p| p.trim().to_string()).collect()
    } else {
        vec![name.to_string()]
    }
}

/// Multi-word parts of organisation names. A unit name that holds one of them with a single word
/// garbled by OCR or restoration ("mặt tin tổ quốc", "chi b", "tổ chizcc") gets the phrase back.
const ORG_PHRASES: &[&str] = &[
    "ủy ban nhân dân",
    "hội đồng nhân dân",
    "mặt trận tổ quốc",
    "ban chỉ đạo",
    "ban quản lý",
    "ban phát triển",
    "tổ chức",
    "đoàn thể",
    "chính trị",
    "xã hội",
    "chi bộ",
    "cấp ủy",
    "công chức",
    "đơn vị",
    "cơ quan",
    "thành viên",
    "thường trực",
    "nông thôn mới",
    "hội nông dân",
    "hội liên hiệp phụ nữ",
    "đoàn thanh niên",
    "hội cựu chiến binh",
];

/// Case-, tone- and mark-folded form of a word, with a trailing punctuation mark dropped.
fn fold_word(w: &str) -> String {
    crate::vietnamese::strip_marks(&w.trim_end_matches(TRAILING).to_lowercase())
}

/// Punctuation a word of a unit name may carry ("chi b, thôn").
const TRAILING: &[char] = &[',', ';', ':', '.'];

/// Whether `w` cannot be a Vietnamese syllable as written: a letter the alphabet lacks
/// (f, j, w, z), a digit among letters, or a bare consonant.
fn garbled_word(w: &str) -> bool {
    let f = fold_word(w);
    let letters = f.chars().filter(|c| c.is_alphabetic()).count();
    letters > 0
        && (f
            .chars()
            .any(|c| matches!(c, 'f' | 'j' | 'w' | 'z') || c.is_ascii_digit())
            || !f.chars().any(|c| "aeiouy".contains(c)))
}

/// Put back an organisation phrase in which one word was garbled. In a phrase of three words or
/// more, all words but one must match (folded) and the odd one must start with the same letter;
/// in a two-word phrase the first must match and the second must be `garbled_word` with the same
/// first letter. The phrase takes the case of the first letter it replaces.
pub fn repair_unit_name(unit: &str) -> String {
    let words: Vec<&str> = unit.split(' ').collect();
    let folded: Vec<String> = words.iter().map(|w| fold_word(w)).collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    'outer: while i < words.len() {
        for phrase in ORG_PHRASES {
            let pw: Vec<&str> = phrase.split(' ').collect();
            if i + pw.len() > words.len() {
                continue;
            }
            let pf: Vec<String> = pw.iter().map(|w| fold_word(w)).collect();
            let diffs: Vec<usize> = (0..pw.len()).filter(|&k| folded[i + k] != pf[k]).collect();
            let [d] = diffs[..] else { continue };
            let got = &folded[i + d];
            let same_first = got.chars().next() == pf[d].chars().next();
            let ok = same_first
                && if pw.len() >= 3 {
                    !got.is_empty() && got.chars().all(char::is_alphabetic)
                } else {
                    d == pw.len() - 1 && garbled_word(words[i + d])
                };
            if !ok {
                continue;
            }
            for (k, p) in pw.iter().enumerate() {
                if k == d {
                    let upper = words[i + k].starts_with(char::is_uppercase);
                    let mut c = p.chars();
                    let mut w: String = match c.next() {
                        Some(f) if upper => f.to_uppercase().chain(c).collect(),
                        _ => p.to_string(),
                    };
                    let orig = words[i + k];
                    w.push_str(&orig[orig.trim_end_matches(TRAILING).len()..]);
                    out.push(w);
                } else {
                    out.push(words[i + k].to_string());
                }
            }
            i += pw.len();
            continue 'outer;
        }
        out.push(words[i].to_string());
        i += 1;
    }
    out.join(" ")
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
    if unit_at(s).is_some() {
        // A heading names its unit whole: keep the line up to a colon or the verb that starts the
        // task on the same line ("… (Phòng Nội vụ) phối hợp với …").
        let mut name = s.split(':').next().unwrap_or(s).trim().to_string();
        let lower = name.to_lowercase();
        let cut = subject_verbs()
            .filter(|v| !["chỉ đạo", "thực hiện", "xây dựng"].contains(v))
            .filter_map(|v| lower.find(&format!(" {v} ")))
            .min();
        if let Some(c) = cut.filter(|&c| name.is_char_boundary(c)) {
            name.truncate(c);
        }
        let mut name = name.trim_end_matches(['.', ',', ';', ' ']).to_string();
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
        if let Some((len, _)) = unit_at(after) {
            return Some(after[..len].to_string());
        }
    }
    None
}

/// Whether the words of `short` appear in `long` in order ("cơ quan truyền thông" in "cơ quan
/// thông tin truyền thông").
fn subsequence(short: &str, long: &str) -> bool {
    let mut words = long.split(' ');
    short.split(' ').all(|w| words.any(|x| x == w))
}

/// A unit key without the trailing qualifiers that only repeat the issuer's own level ("Ban chỉ
/// đạo xã" in a commune plan is its "Ban Chỉ đạo NTM").
fn strip_level(key: &str, level: Option<&str>) -> String {
    let mut k = key.to_string();
    loop {
        let before = k.clone();
        for tail in [" nông thôn mới", " cấp xã", " cấp huyện", " cấp tỉnh"] {
            if let Some(x) = k.strip_suffix(tail) {
                k = x.to_string();
            }
        }
        if let Some(l) = level {
            if let Some(x) = k.strip_suffix(&format!(" {l}")) {
                k = x.to_string();
            }
        }
        if k == before {
            return k;
        }
    }
}

/// `level`: the issuer's level word (xã, huyện, tỉnh), whose repetition in a unit name is noise.
pub fn extract_responsibilities(
    doc: &DocText,
    sk: &Skeleton,
    level: Option<&str>,
) -> Vec<Responsibility> {
    let mut out: Vec<Responsibility> = Vec::new();
    let mut heading_spans: Vec<(usize, usize)> = Vec::new();

    // 1. The numbered units of TỔ CHỨC THỰC HIỆN.
    for (si, sec) in sk.sections.iter().enumerate() {
        if sec.kind != SectionKind::Organization {
            continue;
        }
        let sec_end = sk
            .sections
            .get(si + 1)
            .map_or(sk.closing_start, |s| s.start);
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
            for &i in paras
                .iter()
                .filter(|&&i| doc.paras[i].start > p.start && doc.paras[i].start < next)
            {
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
                let unit = repair_unit_name(&unit);
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
        // A heading paragraph's first line is its unit; the lines after it are ordinary text.
        let from = if heading_spans.iter().any(|&(s, _)| s == p.start) {
            match doc.text[p.start..p.end].find('\n') {
                Some(n) => p.start + n + 1,
                None => continue,
            }
        } else {
            p.body_start
        };
        for (cs, ce) in clauses(&doc.text, from, p.end) {
            let clause = doc.slice(cs, ce);
            let task = clean(clause);
            // Subjects: a list of units at the start of the clause or after a comma, taken when
            // the last one is followed by its verb ("Đảng ủy, HĐND, … các Cấp ủy chi bộ tiếp tục").
            let mut starts = vec![clause.len() - clause.trim_start().len()];
            for (i, ch) in clause.char_indices() {
                if ch == ',' {
                    let after = &clause[i + 1..];
                    let t = after.trim_start();
                    // After a comma a new subject is capitalised or plural ("các …"); a bare
                    // lower-case unit word continues an enumeration ("các phòng, ban chuyên môn").
                    if t.starts_with(char::is_uppercase) || t.starts_with("các ") {
                        starts.push(i + 1 + (after.len() - t.len()));
                    }
                }
            }
            let mut covered = 0;
            for st in starts {
                if st < covered {
                    continue;
                }
                let mut pos = st;
                let mut list = Vec::new();
                let mut verb = false;
                loop {
                    let rest = &clause[pos..];
                    let Some((len, end)) = unit_at(rest) else {
                        break;
                    };
                    list.push((pos, pos + len));
                    if end == End::Verb {
                        verb = true;
                        break;
                    }
                    let after = &rest[len..];
                    let trimmed = after.trim_start_matches([',', ' ', '\n']);
                    let skip = after.len() - trimmed.len();
                    if after[..skip].contains(',') {
                        pos += len + skip;
                    } else if let Some(x) = trimmed.strip_prefix("và ") {
                        pos += len + skip + (trimmed.len() - x.len());
                    } else {
                        break;
                    }
                }
                if verb {
                    covered = list.last().map_or(covered, |x| x.1);
                    for (s, e) in list {
                        inline.push((
                            clause[s..e].to_string(),
                            Role::Assigned,
                            cs + s,
                            cs + e,
                            task.clone(),
                        ));
                    }
                }
            }
            for c in RE_INLINE.captures_iter(clause) {
                let Some(m) = c.get(0) else { continue };
                let rest = &clause[m.end()..];
                if let Some((len, _)) = unit_at(rest) {
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
            // Named communes or villages given their own paragraph: "Đối với 02 xã A, B: …".
            for c in RE_FOR_NAMED.captures_iter(clause) {
                let (Some(level), Some(names)) = (c.get(1), c.get(2)) else {
                    continue;
                };
                let mut off = names.start();
                for name in names.as_str().split(',') {
                    let lead = name.len() - name.trim_start().len();
                    let n = name.trim();
                    if !n.is_empty() {
                        let s = cs + off + lead;
                        inline.push((
                            format!("{} {}", level.as_str().to_lowercase(), clean(n)),
                            Role::Assigned,
                            s,
                            s + n.len(),
                            task.clone(),
                        ));
                    }
                    off += name.len() + 1;
                }
            }
        }
    }
    for (unit, role, s, e, task) in inline {
        let unit = repair_unit_name(&clean(&unit));
        let key = unit_key(&unit);
        // Vague partners ("các ngành có liên quan") are not units the plan tasks.
        if key.contains("liên quan") || key.split(' ').count() > 18 {
            continue;
        }
        // Generic partners one works with ("phối hợp với các phòng ban …") are not tasked.
        let generic = [
            "phòng ban",
            "phòng",
            "cơ quan",
            "đơn vị",
            "ngành",
            "ban ngành",
            "sở",
        ];
        if role == Role::Support
            && unit.to_lowercase().starts_with("các ")
            && generic.iter().any(|g| key.starts_with(g))
        {
            continue;
        }
        // One unit named twice: the same key, a shorter name inside a heading's name ("UBND" in
        // "Ủy ban nhân dân xã"), or a bare plural that opens another name ("các thôn" / "các
        // thôn, bản"). Between inline mentions the longer name is kept.
        let same = |r: &Responsibility| {
            let k = unit_key(&r.unit);
            k == key
                || (r.role == Role::Lead
                    && key.split(' ').count() >= 2
                    && format!(" {k} ").contains(&format!(" {key} ")))
                || (r.role == Role::Lead && units_match(&r.unit, &unit) && key.len() <= k.len())
                || (!key.contains(' ') && k.split(' ').next() == Some(key.as_str()))
                || (!k.contains(' ') && key.split(' ').next() == Some(k.as_str()))
                || (r.role != Role::Lead
                    && k.split(' ').count() >= 3
                    && key.split(' ').count() >= 3
                    && (subsequence(&k, &key) || subsequence(&key, &k)))
                || (r.role == Role::Lead && {
                    let (a, b) = (strip_level(&k, level), strip_level(&key, level));
                    a == b && a.contains(' ')
                })
        };
        if let Some(existing) = out.iter_mut().find(|r| same(r)) {
            if existing.role != Role::Lead && unit.len() > existing.unit.len() {
                existing.unit = unit.clone();
                existing.evidence = doc.evidence(s, e);
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(s: &str) -> Option<&str> {
        unit_at(s).map(|(len, _)| &s[..len])
    }

    #[test]
    fn unit_names_end_at_their_task() {
        assert_eq!(
            unit("Phòng Nông nghiệp và PTNT và các cơ quan liên quan"),
            Some("Phòng Nông nghiệp và PTNT")
        );
        assert_eq!(
            unit("Đài truyền thanh xã phối hợp với"),
            Some("Đài truyền thanh xã")
        );
        assert_eq!(
            unit("Ban chỉ đạo xã tập trung mọi nguồn lực"),
            Some("Ban chỉ đạo xã")
        );
        assert_eq!(
            unit("Cán bộ, công chức phải đẩy mạnh"),
            Some("Cán bộ, công chức")
        );
        assert_eq!(
            unit("UBND huyện Đình Lập xây dựng kế hoạch"),
            Some("UBND huyện Đình Lập")
        );
        assert_eq!(unit("Ban hành Kế hoạch"), None);
        assert_eq!(unit("Tuyên truyền sâu rộng"), None);
    }

    #[test]
    fn garbled_organisation_words() {
        assert_eq!(
            repair_unit_name("Ủy ban mặt tin tổ quốc"),
            "Ủy ban mặt trận tổ quốc"
        );
        assert_eq!(
            repair_unit_name("các Cấp ủy chi b, thôn"),
            "các Cấp ủy chi bộ, thôn"
        );
        assert_eq!(
            repair_unit_name("tổ chizcc Đoàn thể chính trị"),
            "tổ chức Đoàn thể chính trị"
        );
        // Real words are left alone in two-word phrases; unrelated names are untouched.
        assert_eq!(repair_unit_name("tổ chim"), "tổ chim");
        assert_eq!(repair_unit_name("Phòng Nội vụ"), "Phòng Nội vụ");
        assert_eq!(
            repair_unit_name("Ban chỉ huy quân sự"),
            "Ban chỉ huy quân sự"
        );
    }

    #[test]
    fn lenient_matching() {
        assert!(units_match("Uỷ ban MTTQ", "Ủy ban Mặt trận Tổ quốc"));
        assert!(units_match("Các thành viên BCD", "Các thành viên BCĐ"));
        assert!(units_match(
            "Phòng Nội vụ",
            "Cơ quan Thường trực Hội đồng Thi đua-Khen thưởng huyện (Phòng Nội vụ)"
        ));
        assert!(!units_match("Sở Tài chính", "Sở Kế hoạch và Đầu tư"));
    }

    #[test]
    fn organization_headings_and_inline_units() {
        let text = "I. NHIỆM VỤ\n- Giao cho UBND xã chịu trách nhiệm liên hệ.\n\
                    II. TỔ CHỨC THỰC HIỆN\n1. Phòng Tài chính - Kế hoạch\n\
                    Phối hợp với Phòng Nông nghiệp và PTNT tham mưu.\n\
                    2. Chế độ thông tin báo cáo\nHằng tháng báo cáo.\n";
        let x = crate::extract::extract(&crate::extract::pages_from_text(text));
        let units: Vec<(&str, Role)> = x
            .responsibilities
            .iter()
            .map(|r| (r.unit.as_str(), r.role))
            .collect();
        assert_eq!(
            units,
            vec![
                ("Phòng Tài chính - Kế hoạch", Role::Lead),
                ("UBND xã", Role::Assigned),
                ("Phòng Nông nghiệp và PTNT", Role::Support),
            ]
        );
    }
}
