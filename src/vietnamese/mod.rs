//! Vietnamese letters, tone marks and syllables: the one place that knows them.
//!
//! A Vietnamese letter carries at most one tone mark (dấu thanh: huyền, sắc, hỏi, ngã, nặng) on top of
//! its letter diacritics (â ă ê ô ơ ư, and đ). Everything that strips, compares or re-places tone
//! marks goes through this module, so normalization, restoration and extraction agree on what a
//! syllable is. Canonical tone placement is the traditional one used by the seed plans and gold text:
//! "hòa, thủy, khỏe" (not "hoà, thuỷ, khoẻ").

pub mod legacy;

/// The tone (thanh) of a syllable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Tone {
    /// thanh ngang: no mark
    Level,
    /// thanh huyền: `à`
    Grave,
    /// thanh sắc: `á`
    Acute,
    /// thanh hỏi: `ả`
    Hook,
    /// thanh ngã: `ã`
    Tilde,
    /// thanh nặng: `ạ`
    Dot,
}

impl Tone {
    pub const ALL: [Tone; 6] = [
        Tone::Level,
        Tone::Grave,
        Tone::Acute,
        Tone::Hook,
        Tone::Tilde,
        Tone::Dot,
    ];
    fn index(self) -> usize {
        self as usize
    }
}

/// Each row: one vowel letter (with its letter diacritic) in the six tones, lower then upper case.
const VOWEL_ROWS: [&str; 24] = [
    "aàáảãạ",
    "ăằắẳẵặ",
    "âầấẩẫậ",
    "eèéẻẽẹ",
    "êềếểễệ",
    "iìíỉĩị",
    "oòóỏõọ",
    "ôồốổỗộ",
    "ơờớởỡợ",
    "uùúủũụ",
    "ưừứửữự",
    "yỳýỷỹỵ",
    "AÀÁẢÃẠ",
    "ĂẰẮẲẴẶ",
    "ÂẦẤẨẪẬ",
    "EÈÉẺẼẸ",
    "ÊỀẾỂỄỆ",
    "IÌÍỈĨỊ",
    "OÒÓỎÕỌ",
    "ÔỒỐỔỖỘ",
    "ƠỜỚỞỠỢ",
    "UÙÚỦŨỤ",
    "ƯỪỨỬỮỰ",
    "YỲÝỶỸỴ",
];

/// Letter-diacritic base of each row with all letter marks removed too (â → a, ư → u).
const ROW_PLAIN: [char; 24] = [
    'a', 'a', 'a', 'e', 'e', 'i', 'o', 'o', 'o', 'u', 'u', 'y', 'A', 'A', 'A', 'E', 'E', 'I', 'O',
    'O', 'O', 'U', 'U', 'Y',
];

/// Where a vowel character sits in [`VOWEL_ROWS`]: (row, tone). Restoration asks this for every
/// letter it reads (stripping, skeletons, tone placement), so it is one table read, not a scan of
/// the rows.
fn vowel_position(c: char) -> Option<(usize, Tone)> {
    let code = *vowel_table().get(c as usize)?;
    let k = usize::from(code.checked_sub(1)?);
    Some((k / 6, Tone::ALL[k % 6]))
}

/// `char::is_alphabetic`, with Vietnamese letters answered from the vowel table: the standard
/// library searches its Unicode tables for every letter outside ASCII, which was 9 % of
/// restoration time on marked text.
pub fn is_letter(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphabetic()
    } else {
        c == 'đ' || c == 'Đ' || vowel_position(c).is_some() || c.is_alphabetic()
    }
}

/// Per character below U+1F00 (all Vietnamese letters are in Latin-1 Supplement, Latin
/// Extended-A/B and Latin Extended Additional): 1 + row × 6 + tone of [`VOWEL_ROWS`], 0 for a
/// character that is no vowel. Built once.
fn vowel_table() -> &'static [u8] {
    static TABLE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = vec![0u8; 0x1F00];
        for (row, letters) in VOWEL_ROWS.iter().enumerate() {
            for (tone, v) in letters.chars().enumerate() {
                table[v as usize] = u8::try_from(1 + row * 6 + tone).expect("24 rows of 6");
            }
        }
        table
    })
}

fn vowel_at(row: usize, tone: Tone) -> char {
    VOWEL_ROWS[row]
        .chars()
        .nth(tone.index())
        .expect("every row has six tones")
}

/// Is `c` a Vietnamese vowel letter (any tone, any case)?
pub fn is_vowel(c: char) -> bool {
    vowel_position(c).is_some()
}

/// Split a letter into its toneless form and its tone: `ế` → (`ê`, Acute). Non-vowels are Level.
pub fn split_tone(c: char) -> (char, Tone) {
    match vowel_position(c) {
        Some((row, tone)) => (vowel_at(row, Tone::Level), tone),
        None => (c, Tone::Level),
    }
}

/// Put `tone` on vowel letter `c` (replacing any tone it had); other letters come back unchanged.
pub fn with_tone(c: char, tone: Tone) -> char {
    match vowel_position(c) {
        Some((row, _)) => vowel_at(row, tone),
        None => c,
    }
}

/// Remove every mark from a letter: tone and letter diacritics, `đ` → `d`.
pub fn plain_letter(c: char) -> char {
    match c {
        'đ' => 'd',
        'Đ' => 'D',
        _ => match vowel_position(c) {
            Some((row, _)) => ROW_PLAIN[row],
            None => c,
        },
    }
}

/// Remove tone marks only (`người` → `ngươi`).
pub fn strip_tones(s: &str) -> String {
    s.chars().map(|c| split_tone(c).0).collect()
}

/// Remove all marks (`Người Đảng` → `Nguoi Dang`): the form an English-model OCR or unaccented typing
/// leaves, and the key restoration looks candidates up by.
pub fn strip_marks(s: &str) -> String {
    s.chars().map(plain_letter).collect()
}

/// Does the text contain a letter only Vietnamese uses (a tone mark, â ă ê ô ơ ư, or đ)?
pub fn is_vietnamese_specific(c: char) -> bool {
    if c == 'đ' || c == 'Đ' {
        return true;
    }
    match vowel_position(c) {
        Some((row, tone)) => tone != Tone::Level || !matches!(row % 12, 0 | 3 | 5 | 6 | 9 | 11),
        None => false,
    }
}

/// The tone of a syllable (the one mark found on any of its vowels).
pub fn syllable_tone(syllable: &str) -> Tone {
    syllable
        .chars()
        .map(|c| split_tone(c).1)
        .find(|t| *t != Tone::Level)
        .unwrap_or(Tone::Level)
}

/// Put the syllable's tone on its canonical vowel (traditional placement: hòa, thủy, khỏe, quả, giữa,
/// người, hoàng, thuyền). Returns the input unchanged when it is not a single syllable-like word
/// (no vowel, or more than one toned vowel run).
pub fn canonical_syllable(word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let tone = syllable_tone(word);
    if tone == Tone::Level {
        return word.to_string();
    }
    let Some(pos) = tone_position(&chars) else {
        return word.to_string();
    };
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let bare = split_tone(c).0;
            if i == pos {
                with_tone(bare, tone)
            } else {
                bare
            }
        })
        .collect()
}

/// Index of the vowel that carries the tone in canonical placement, on the toneless letters.
fn tone_position(chars: &[char]) -> Option<usize> {
    let bare: Vec<char> = chars.iter().map(|c| split_tone(*c).0).collect();
    let lower: Vec<char> = bare
        .iter()
        .map(|c| c.to_lowercase().next().unwrap_or(*c))
        .collect();
    // The vowel run: first maximal run of vowels.
    let start = lower.iter().position(|c| is_vowel(*c))?;
    let mut end = start;
    while end < lower.len() && is_vowel(lower[end]) {
        end += 1;
    }
    // A second vowel run means this is not one syllable.
    if lower[end..].iter().any(|c| is_vowel(*c)) {
        return None;
    }
    let mut vstart = start;
    // "qu" and "gi" onsets: the u / i belongs to the onset when more vowels follow.
    if start > 0 && end - start >= 2 {
        let onset_last = lower[start - 1];
        if (onset_last == 'q' && lower[start] == 'u') || (onset_last == 'g' && lower[start] == 'i')
        {
            vstart += 1;
        }
    }
    // "gi" alone as a vowel run ("gì", "gìn"): the i carries the tone.
    let run = &lower[vstart..end];
    let has_final = end < lower.len();
    // A vowel with a letter diacritic takes the tone (ươ: on ơ).
    let marked: Vec<usize> = run
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, 'â' | 'ă' | 'ê' | 'ô' | 'ơ' | 'ư'))
        .map(|(i, _)| i)
        .collect();
    let offset = if let Some(&last) = marked.last() {
        last
    } else {
        match run.len() {
            1 => 0,
            2 => {
                if has_final {
                    1
                } else {
                    0
                }
            }
            _ => 1,
        }
    };
    Some(vstart + offset)
}

/// Canonical tone placement for every word of a text; everything else is left as it is.
pub fn canonical_tones(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if !word.is_empty() {
            if word.chars().any(|c| split_tone(c).1 != Tone::Level) {
                out.push_str(&canonical_syllable(word));
            } else {
                out.push_str(word);
            }
            word.clear();
        }
    };
    for c in text.chars() {
        if is_letter(c) {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vowel_table_holds_every_vowel_and_nothing_else() {
        for (row, letters) in VOWEL_ROWS.iter().enumerate() {
            for (tone, v) in letters.chars().enumerate() {
                assert_eq!(vowel_position(v), Some((row, Tone::ALL[tone])), "{v}");
            }
        }
        let vowels = (0..0x3000u32)
            .filter_map(char::from_u32)
            .filter(|&c| vowel_position(c).is_some())
            .count();
        assert_eq!(vowels, 24 * 6);
        for c in ['b', 'đ', 'Đ', '&', '中', '\u{1F00}'] {
            assert_eq!(vowel_position(c), None, "{c}");
        }
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            assert_eq!(is_letter(c), c.is_alphabetic(), "{c}");
        }
    }

    #[test]
    fn splits_and_puts_tones() {
        assert_eq!(split_tone('ế'), ('ê', Tone::Acute));
        assert_eq!(split_tone('Ữ'), ('Ư', Tone::Tilde));
        assert_eq!(with_tone('ơ', Tone::Dot), 'ợ');
        assert_eq!(split_tone('b'), ('b', Tone::Level));
    }

    #[test]
    fn strips_marks() {
        assert_eq!(strip_marks("Người Đảng bộ xã"), "Nguoi Dang bo xa");
        assert_eq!(strip_tones("người"), "ngươi");
    }

    #[test]
    fn canonical_placement_is_traditional() {
        for (input, want) in [
            ("hoà", "hòa"),
            ("thuỷ", "thủy"),
            ("khoẻ", "khỏe"),
            ("hòa", "hòa"),
            ("hoàng", "hoàng"),
            ("hoáng", "hoáng"),
            ("quả", "quả"),
            ("giữa", "giữa"),
            ("người", "người"),
            ("thuyền", "thuyền"),
            ("Hoà", "Hòa"),
            ("HOÀ", "HÒA"),
            ("gìn", "gìn"),
            ("mùa", "mùa"),
            ("hoài", "hoài"),
            ("quyết", "quyết"),
        ] {
            assert_eq!(canonical_syllable(input), want, "{input}");
        }
        assert_eq!(
            canonical_tones("Cộng hoà xã hội, thuỷ lợi."),
            "Cộng hòa xã hội, thủy lợi."
        );
    }

    #[test]
    fn vietnamese_specific_letters() {
        assert!(is_vietnamese_specific('ô'));
        assert!(is_vietnamese_specific('đ'));
        assert!(is_vietnamese_specific('à'));
        assert!(!is_vietnamese_specific('a'));
        assert!(!is_vietnamese_specific('y'));
    }
}
