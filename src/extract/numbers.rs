//! Vietnamese numbers and money: `.` groups thousands, `,` is the decimal mark.
//!
//! `3.200` = 3200, `2,29` = 2.29, `6.424,319` = 6424.319; money in `tỷ`/`triệu`/`nghìn` đồng is
//! scaled to VND. OCR text sometimes uses `.` as a decimal mark (`94.5`): a single `.` followed by
//! anything but exactly three digits is read as a decimal point.

/// Parse one number as written in a Vietnamese document.
pub fn parse_vn_number(s: &str) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || !s.chars().next()?.is_ascii_digit() {
        return None;
    }
    let (int_part, frac_part) = match s.split_once(',') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let int_digits: String = if int_part.contains('.') {
        let groups: Vec<&str> = int_part.split('.').collect();
        let thousands = groups.len() > 1
            && groups[1..].iter().all(|g| g.len() == 3)
            && !groups[0].is_empty()
            && groups[0].len() <= 3;
        if thousands {
            groups.concat()
        } else if groups.len() == 2 && frac_part.is_none() {
            // "94.5": a decimal point (OCR or English-style).
            return format!("{}.{}", groups[0], groups[1]).parse().ok();
        } else {
            return None;
        }
    } else {
        int_part.to_string()
    };
    let text = match frac_part {
        Some(f) if !f.is_empty() && f.chars().all(|c| c.is_ascii_digit()) => {
            format!("{int_digits}.{f}")
        }
        Some(_) => return None,
        None => int_digits,
    };
    text.parse().ok()
}

/// A digit run as OCR and restoration leave it, with look-alike letters read as digits (`O`/`o`
/// for 0, `l`/`I` for 1): `"o2"` → `"02"`, `"2O24"` → `"2024"`. `None` unless the run holds at
/// least one real digit and nothing but digits and look-alikes, so a word is never read as a number.
pub fn ocr_digits(s: &str) -> Option<String> {
    if !s.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    s.chars()
        .map(|c| match c {
            '0'..='9' => Some(c),
            'O' | 'o' => Some('0'),
            'l' | 'I' => Some('1'),
            _ => None,
        })
        .collect()
}

/// The VND multiplier of a money word (`tỷ đồng`, `triệu đồng`, `nghìn đồng`, `đồng`).
pub fn money_scale(word: &str) -> f64 {
    let w = word.to_lowercase();
    if w.starts_with("tỷ") || w.starts_with("tỉ") {
        1e9
    } else if w.starts_with("triệu") || w.starts_with("tr") {
        1e6
    } else if w.starts_with("nghìn") || w.starts_with("ngàn") {
        1e3
    } else {
        1.0
    }
}

/// Round money to whole đồng (amounts like 6.424,319 tỷ are exact in đồng).
pub fn round_vnd(x: f64) -> f64 {
    x.round()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnamese_separators() {
        assert_eq!(parse_vn_number("3.200"), Some(3200.0));
        assert_eq!(parse_vn_number("2,29"), Some(2.29));
        assert_eq!(parse_vn_number("6.424,319"), Some(6424.319));
        assert_eq!(parse_vn_number("35.800"), Some(35800.0));
        assert_eq!(parse_vn_number("1.319,273"), Some(1319.273));
        assert_eq!(parse_vn_number("02"), Some(2.0));
        assert_eq!(parse_vn_number("94.5"), Some(94.5));
        assert_eq!(parse_vn_number("abc"), None);
    }

    #[test]
    fn look_alike_digits() {
        assert_eq!(ocr_digits("o2").as_deref(), Some("02"));
        assert_eq!(ocr_digits("2O24").as_deref(), Some("2024"));
        assert_eq!(ocr_digits("l9").as_deref(), Some("19"));
        assert_eq!(ocr_digits("27").as_deref(), Some("27"));
        assert_eq!(ocr_digits("Il"), None);
        assert_eq!(ocr_digits("2a"), None);
    }

    #[test]
    fn money() {
        let v = round_vnd(parse_vn_number("6.424,319").unwrap_or(0.0) * money_scale("tỷ đồng"));
        assert_eq!(v, 6_424_319_000_000.0);
        assert_eq!(money_scale("triệu đồng"), 1e6);
    }
}
