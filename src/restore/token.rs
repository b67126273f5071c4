//! Tokens as the model sees them: the same splitting for counting the corpus and for decoding, so the
//! units the decoder scores are the units the model counted.
//!
//! A whitespace token is `prefix core suffix`: the core runs from the first to the last letter or digit
//! (with `&`, `¢` and `€` inside, which English-model OCR leaves for marked letters), the rest is punctuation.
//! A core becomes one model unit: a known syllable (lowercase, canonical tone placement), `<num>` for
//! numbers, `<unk>` for anything else. Sentence-final punctuation ends a sentence (`</s> <s>`).

use std::borrow::Cow;

use crate::vietnamese::{canonical_syllable, is_letter, strip_marks};

use super::model::{BOS, COMMA, EOS, NUM, UNK};

/// Characters that belong to a token's core besides letters and digits.
/// Combining diacritics (U+0300–U+036F) belong to the letter before them: text that is not NFC
/// carries its marks this way.
pub fn is_core_char(c: char) -> bool {
    c.is_alphanumeric() || c == '&' || c == '¢' || c == '€' || ('\u{300}'..='\u{36f}').contains(&c)
}

/// Split a token into (prefix, core, suffix) byte ranges of `tok`.
pub fn split_core(tok: &str) -> (usize, usize) {
    let start = tok
        .char_indices()
        .find(|(_, c)| is_core_char(*c))
        .map(|(i, _)| i);
    match start {
        None => (tok.len(), tok.len()),
        Some(s) => {
            let end = tok
                .char_indices()
                .rev()
                .find(|(_, c)| is_core_char(*c))
                .map(|(i, c)| i + c.len_utf8())
                .unwrap_or(tok.len());
            (s, end)
        }
    }
}

/// Does punctuation after a word end its sentence?
pub fn ends_sentence(suffix: &str) -> bool {
    suffix.contains(['.', '!', '?', ';', ':'])
}

/// Does the punctuation after a word end a clause (a comma) without ending the sentence?
pub fn ends_clause(suffix: &str) -> bool {
    suffix.contains(',') && !ends_sentence(suffix)
}

/// A number as written in these documents: digits with `.`, `,`, `/`, `-` separators (2024, 25/12/2023,
/// 1.250,5).
pub fn is_number(core: &str) -> bool {
    core.chars().next().is_some_and(|c| c.is_ascii_digit())
        && core.chars().last().is_some_and(|c| c.is_ascii_digit())
        && core
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | ',' | '/' | '-'))
}

/// Lowercase and canonical tone placement: the key a syllable has in the vocabulary.
pub fn syllable_key(core: &str) -> Cow<'_, str> {
    if core.is_ascii() {
        // No marks, so no tone to place: the common case of unmarked text, without the
        // tone-placement analysis; in lowercase already (most of a stripped text), the core itself.
        if core.bytes().any(|b| b.is_ascii_uppercase()) {
            return Cow::Owned(core.to_ascii_lowercase());
        }
        return Cow::Borrowed(core);
    }
    Cow::Owned(canonical_syllable(&core.to_lowercase()))
}

/// Is this core made only of letters (any script's letters; `đ` and marked vowels included)?
pub fn is_word(core: &str) -> bool {
    !core.is_empty() && core.chars().all(is_letter)
}

/// Toneless, markless lowercase skeleton (`Người` → `nguoi`).
pub fn skeleton(core: &str) -> String {
    strip_marks(&core.to_lowercase())
}

/// The model units of one corpus line, `<s>` … `</s>` with sentence breaks inside.
pub fn line_units(line: &str, lookup: &mut impl FnMut(&str) -> Option<u16>, out: &mut Vec<u16>) {
    out.clear();
    out.push(BOS);
    for tok in line.split_whitespace() {
        let (s, e) = split_core(tok);
        let core = &tok[s..e];
        if !core.is_empty() {
            let unit = if is_number(core) {
                NUM
            } else if is_word(core) {
                lookup(core).unwrap_or(UNK)
            } else {
                UNK
            };
            out.push(unit);
        }
        if ends_sentence(&tok[e..]) && out.last() != Some(&BOS) {
            out.push(EOS);
            out.push(BOS);
        } else if ends_clause(&tok[e..]) && !matches!(out.last(), Some(&BOS) | Some(&COMMA)) {
            out.push(COMMA);
        }
    }
    if out.last() == Some(&BOS) {
        out.pop();
    } else {
        out.push(EOS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cores() {
        let t = "(MTQG);";
        let (s, e) = split_core(t);
        assert_eq!(&t[s..e], "MTQG");
        let t = "x&,";
        let (s, e) = split_core(t);
        assert_eq!(&t[s..e], "x&");
        assert_eq!(split_core("-"), (1, 1));
    }

    #[test]
    fn a_comma_is_a_unit_between_words() {
        let ids = ["tốt", "nhưng", "không"];
        let mut lookup = |w: &str| {
            ids.iter()
                .position(|&x| x == syllable_key(w))
                .map(|i| 10 + i as u16)
        };
        let mut out = Vec::new();
        line_units("Tốt, nhưng không.", &mut lookup, &mut out);
        assert_eq!(out, [BOS, 10, COMMA, 11, 12, EOS]);
        // A comma alone, at the start of a line or after another comma, adds nothing; one that
        // also ends a sentence is a sentence end.
        line_units(", tốt,, nhưng , không..., tốt", &mut lookup, &mut out);
        assert_eq!(out, [BOS, 10, COMMA, 11, 12, EOS, BOS, 10, EOS]);
        assert!(ends_clause("),") && !ends_clause(".,") && !ends_clause(")"));
    }

    #[test]
    fn numbers() {
        assert!(is_number("2024"));
        assert!(is_number("25/12/2023"));
        assert!(!is_number("s6"));
        assert!(!is_number("34-NQ"));
    }

    #[test]
    fn syllable_keys() {
        // Unmarked letters take the fast path; it must agree with the full one.
        for w in ["Nong", "THON", "moi", "x&", "UBND"] {
            assert_eq!(syllable_key(w), canonical_syllable(&w.to_lowercase()));
        }
        assert_eq!(syllable_key("Nong"), "nong");
        // Marked words get canonical tone placement.
        assert_eq!(syllable_key("Hoà"), syllable_key("Hòa"));
        assert_eq!(syllable_key("THUỶ"), "thủy");
    }
}
