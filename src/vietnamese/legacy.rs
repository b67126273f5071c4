//! Legacy Vietnamese 8-bit font encodings: TCVN3 (ABC, fonts `.VnTime`, `.VnArial` …) and VNI-Windows
//! (fonts `VNI-Times`, `VNI-Helve` …).
//!
//! Plans typed before Unicode, and many typed since, carry their letters in these encodings. They
//! reach us in two forms: plain-text files holding the 8-bit bytes ([`decode_bytes`],
//! [`detect_bytes`]), and PDF text layers drawn with such fonts, where any extractor reports the
//! WinAnsi/Latin-1 character of each byte instead of the Vietnamese letter the font draws
//! ("Céng hoµ" for "Cộng hoà": [`transcode_mojibake`], [`detect_mojibake`], [`encoding_for_font`]).
//! Output is always Unicode NFC.
//!
//! Tables. TCVN3 is the VN3 subset of TCVN 5712:1993: one byte per letter, lower-case letters only
//! (upper-case toned letters live in the separate "H" fonts, `.VnTimeH`, which draw every byte as a
//! capital: [`LegacyEncoding::Tcvn3H`]). VNI-Windows writes most letters as two bytes, base letter
//! plus a mark byte ("oä" = ộ). The letter tables below follow the UniKey converter's tables
//! (VnConv `data.cpp`: `TCVN3` and `VNI-WIN`), and the TCVN3 table agrees entry for entry with GNU
//! libiconv's TCVN-5712 table (`lib/tcvn.h`) on every VN3 position.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use once_cell::sync::Lazy;
use unicode_normalization::UnicodeNormalization;

use super::{is_vietnamese_specific, split_tone, Tone};

/// A legacy 8-bit Vietnamese encoding (bảng mã).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LegacyEncoding {
    /// TCVN3 / ABC (TCVN 5712:1993 VN3), fonts `.VnTime`, `.VnArial`, …
    Tcvn3,
    /// TCVN3 drawn with an "H" font (`.VnTimeH`, `.VnArialH`, …): the same byte values, every letter
    /// shown as a capital. Decoding upper-cases the text. Statistics cannot tell it from
    /// [`LegacyEncoding::Tcvn3`] (the bytes are the same); only the font name can.
    Tcvn3H,
    /// VNI-Windows, fonts `VNI-Times`, `VNI-Helve`, …: base letter + mark byte.
    Vni,
}

impl LegacyEncoding {
    /// The name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            LegacyEncoding::Tcvn3 => "tcvn3",
            LegacyEncoding::Tcvn3H => "tcvn3h",
            LegacyEncoding::Vni => "vni",
        }
    }
}

impl fmt::Display for LegacyEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LegacyEncoding {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().replace(['-', '_', ' '], "").as_str() {
            "tcvn3" | "abc" | "tcvn" => Ok(LegacyEncoding::Tcvn3),
            "tcvn3h" | "abch" => Ok(LegacyEncoding::Tcvn3H),
            "vni" | "vniwin" | "vniwindows" => Ok(LegacyEncoding::Vni),
            _ => Err(format!(
                "unknown legacy encoding {s:?} (expected tcvn3, tcvn3h or vni)"
            )),
        }
    }
}

/// TCVN3 (ABC) letters: byte → letter. Lower-case letters have all their own codes; of the capitals
/// only Ă Â Ê Ô Ơ Ư Đ do (other capitals need an H font). Source: UniKey VnConv `TCVN3`,
/// cross-checked with libiconv `tcvn.h` (VN1 ⊃ VN3).
const TCVN3_LETTERS: [(u8, char); 74] = [
    (0xA1, 'Ă'),
    (0xA2, 'Â'),
    (0xA3, 'Ê'),
    (0xA4, 'Ô'),
    (0xA5, 'Ơ'),
    (0xA6, 'Ư'),
    (0xA7, 'Đ'),
    (0xA8, 'ă'),
    (0xA9, 'â'),
    (0xAA, 'ê'),
    (0xAB, 'ô'),
    (0xAC, 'ơ'),
    (0xAD, 'ư'),
    (0xAE, 'đ'),
    (0xB5, 'à'),
    (0xB6, 'ả'),
    (0xB7, 'ã'),
    (0xB8, 'á'),
    (0xB9, 'ạ'),
    (0xBB, 'ằ'),
    (0xBC, 'ẳ'),
    (0xBD, 'ẵ'),
    (0xBE, 'ắ'),
    (0xC6, 'ặ'),
    (0xC7, 'ầ'),
    (0xC8, 'ẩ'),
    (0xC9, 'ẫ'),
    (0xCA, 'ấ'),
    (0xCB, 'ậ'),
    (0xCC, 'è'),
    (0xCE, 'ẻ'),
    (0xCF, 'ẽ'),
    (0xD0, 'é'),
    (0xD1, 'ẹ'),
    (0xD2, 'ề'),
    (0xD3, 'ể'),
    (0xD4, 'ễ'),
    (0xD5, 'ế'),
    (0xD6, 'ệ'),
    (0xD7, 'ì'),
    (0xD8, 'ỉ'),
    (0xDC, 'ĩ'),
    (0xDD, 'í'),
    (0xDE, 'ị'),
    (0xDF, 'ò'),
    (0xE1, 'ỏ'),
    (0xE2, 'õ'),
    (0xE3, 'ó'),
    (0xE4, 'ọ'),
    (0xE5, 'ồ'),
    (0xE6, 'ổ'),
    (0xE7, 'ỗ'),
    (0xE8, 'ố'),
    (0xE9, 'ộ'),
    (0xEA, 'ờ'),
    (0xEB, 'ở'),
    (0xEC, 'ỡ'),
    (0xED, 'ớ'),
    (0xEE, 'ợ'),
    (0xEF, 'ù'),
    (0xF1, 'ủ'),
    (0xF2, 'ũ'),
    (0xF3, 'ú'),
    (0xF4, 'ụ'),
    (0xF5, 'ừ'),
    (0xF6, 'ử'),
    (0xF7, 'ữ'),
    (0xF8, 'ứ'),
    (0xF9, 'ự'),
    (0xFA, 'ỳ'),
    (0xFB, 'ỷ'),
    (0xFC, 'ỹ'),
    (0xFD, 'ý'),
    (0xFE, 'ỵ'),
];

/// TCVN 5712 VN1 positions in 0xA0–0xFF that VN3 (ABC) leaves free: some capitals and the five
/// combining tone marks (libiconv `tcvn.h`). A file that uses them was written by a full-TCVN tool,
/// so reading them as VN1 is right; ABC text never contains them. The VN1 capitals in 0x01–0x17 and
/// 0x80–0x9F are not read: there ABC fonts and files keep the control codes and the Windows-1252
/// punctuation (“ ” – …), which real TCVN3 text uses.
const TCVN_VN1_EXTRA: [(u8, char); 21] = [
    (0xAF, 'Ằ'),
    (0xB0, '\u{0300}'),
    (0xB1, '\u{0309}'),
    (0xB2, '\u{0303}'),
    (0xB3, '\u{0301}'),
    (0xB4, '\u{0323}'),
    (0xBA, 'Ẳ'),
    (0xBF, 'Ẵ'),
    (0xC0, 'Ắ'),
    (0xC1, 'Ầ'),
    (0xC2, 'Ẩ'),
    (0xC3, 'Ẫ'),
    (0xC4, 'Ấ'),
    (0xC5, 'Ề'),
    (0xCD, 'Ể'),
    (0xD9, 'Ễ'),
    (0xDA, 'Ế'),
    (0xDB, 'Ồ'),
    (0xE0, 'Ổ'),
    (0xF0, 'Ỗ'),
    (0xFF, 'Ố'),
];

/// VNI-Windows letters: letter → bytes (base letter, then the mark byte if any). Capitals use the
/// capital mark bytes (Ù Ø Û Õ Ï …), small letters the small ones (ù ø û õ ï …).
/// Source: UniKey VnConv `VNI-WIN` (each entry a word: low byte base, high byte mark).
const VNI_LETTERS: [(char, &[u8]); 134] = [
    ('Á', b"A\xD9"),
    ('á', b"a\xF9"),
    ('À', b"A\xD8"),
    ('à', b"a\xF8"),
    ('Ả', b"A\xDB"),
    ('ả', b"a\xFB"),
    ('Ã', b"A\xD5"),
    ('ã', b"a\xF5"),
    ('Ạ', b"A\xCF"),
    ('ạ', b"a\xEF"),
    ('Â', b"A\xC2"),
    ('â', b"a\xE2"),
    ('Ấ', b"A\xC1"),
    ('ấ', b"a\xE1"),
    ('Ầ', b"A\xC0"),
    ('ầ', b"a\xE0"),
    ('Ẩ', b"A\xC5"),
    ('ẩ', b"a\xE5"),
    ('Ẫ', b"A\xC3"),
    ('ẫ', b"a\xE3"),
    ('Ậ', b"A\xC4"),
    ('ậ', b"a\xE4"),
    ('Ă', b"A\xCA"),
    ('ă', b"a\xEA"),
    ('Ắ', b"A\xC9"),
    ('ắ', b"a\xE9"),
    ('Ằ', b"A\xC8"),
    ('ằ', b"a\xE8"),
    ('Ẳ', b"A\xDA"),
    ('ẳ', b"a\xFA"),
    ('Ẵ', b"A\xDC"),
    ('ẵ', b"a\xFC"),
    ('Ặ', b"A\xCB"),
    ('ặ', b"a\xEB"),
    ('Đ', b"\xD1"),
    ('đ', b"\xF1"),
    ('É', b"E\xD9"),
    ('é', b"e\xF9"),
    ('È', b"E\xD8"),
    ('è', b"e\xF8"),
    ('Ẻ', b"E\xDB"),
    ('ẻ', b"e\xFB"),
    ('Ẽ', b"E\xD5"),
    ('ẽ', b"e\xF5"),
    ('Ẹ', b"E\xCF"),
    ('ẹ', b"e\xEF"),
    ('Ê', b"E\xC2"),
    ('ê', b"e\xE2"),
    ('Ế', b"E\xC1"),
    ('ế', b"e\xE1"),
    ('Ề', b"E\xC0"),
    ('ề', b"e\xE0"),
    ('Ể', b"E\xC5"),
    ('ể', b"e\xE5"),
    ('Ễ', b"E\xC3"),
    ('ễ', b"e\xE3"),
    ('Ệ', b"E\xC4"),
    ('ệ', b"e\xE4"),
    ('Í', b"\xCD"),
    ('í', b"\xED"),
    ('Ì', b"\xCC"),
    ('ì', b"\xEC"),
    ('Ỉ', b"\xC6"),
    ('ỉ', b"\xE6"),
    ('Ĩ', b"\xD3"),
    ('ĩ', b"\xF3"),
    ('Ị', b"\xD2"),
    ('ị', b"\xF2"),
    ('Ó', b"O\xD9"),
    ('ó', b"o\xF9"),
    ('Ò', b"O\xD8"),
    ('ò', b"o\xF8"),
    ('Ỏ', b"O\xDB"),
    ('ỏ', b"o\xFB"),
    ('Õ', b"O\xD5"),
    ('õ', b"o\xF5"),
    ('Ọ', b"O\xCF"),
    ('ọ', b"o\xEF"),
    ('Ô', b"O\xC2"),
    ('ô', b"o\xE2"),
    ('Ố', b"O\xC1"),
    ('ố', b"o\xE1"),
    ('Ồ', b"O\xC0"),
    ('ồ', b"o\xE0"),
    ('Ổ', b"O\xC5"),
    ('ổ', b"o\xE5"),
    ('Ỗ', b"O\xC3"),
    ('ỗ', b"o\xE3"),
    ('Ộ', b"O\xC4"),
    ('ộ', b"o\xE4"),
    ('Ơ', b"\xD4"),
    ('ơ', b"\xF4"),
    ('Ớ', b"\xD4\xD9"),
    ('ớ', b"\xF4\xF9"),
    ('Ờ', b"\xD4\xD8"),
    ('ờ', b"\xF4\xF8"),
    ('Ở', b"\xD4\xDB"),
    ('ở', b"\xF4\xFB"),
    ('Ỡ', b"\xD4\xD5"),
    ('ỡ', b"\xF4\xF5"),
    ('Ợ', b"\xD4\xCF"),
    ('ợ', b"\xF4\xEF"),
    ('Ú', b"U\xD9"),
    ('ú', b"u\xF9"),
    ('Ù', b"U\xD8"),
    ('ù', b"u\xF8"),
    ('Ủ', b"U\xDB"),
    ('ủ', b"u\xFB"),
    ('Ũ', b"U\xD5"),
    ('ũ', b"u\xF5"),
    ('Ụ', b"U\xCF"),
    ('ụ', b"u\xEF"),
    ('Ư', b"\xD6"),
    ('ư', b"\xF6"),
    ('Ứ', b"\xD6\xD9"),
    ('ứ', b"\xF6\xF9"),
    ('Ừ', b"\xD6\xD8"),
    ('ừ', b"\xF6\xF8"),
    ('Ử', b"\xD6\xDB"),
    ('ử', b"\xF6\xFB"),
    ('Ữ', b"\xD6\xD5"),
    ('ữ', b"\xF6\xF5"),
    ('Ự', b"\xD6\xCF"),
    ('ự', b"\xF6\xEF"),
    ('Ý', b"Y\xD9"),
    ('ý', b"y\xF9"),
    ('Ỳ', b"Y\xD8"),
    ('ỳ', b"y\xF8"),
    ('Ỷ', b"Y\xDB"),
    ('ỷ', b"y\xFB"),
    ('Ỹ', b"Y\xD5"),
    ('ỹ', b"y\xF5"),
    ('Ỵ', b"\xCE"),
    ('ỵ', b"\xEE"),
];

/// Windows-1252, byte → char: what bytes outside a legacy table mean (ASCII, punctuation such as
/// “ ” – in 0x80–0x9F, Latin-1), and what a PDF extractor reports for a legacy font's bytes.
static CP1252: Lazy<[char; 256]> = Lazy::new(|| {
    let mut table = ['\0'; 256];
    let mut decoder = encoding_rs::WINDOWS_1252.new_decoder_without_bom_handling();
    for (b, slot) in table.iter_mut().enumerate() {
        let mut out = [0u16; 2];
        let (_, _, written, _) = decoder.decode_to_utf16(&[b as u8], &mut out, false);
        // Windows-1252 maps every byte to exactly one BMP code point (WHATWG index).
        *slot = char::from_u32(u32::from(out[0]))
            .filter(|_| written == 1)
            .unwrap_or('\u{FFFD}');
    }
    table
});

/// The byte an extractor's character stands for: the inverse of [`CP1252`], and also the Latin-1
/// reading of the C1 controls U+0080–U+009F (extractors that use Latin-1 rather than WinAnsi give
/// U+0093 for byte 0x93). The encoders check their result by decoding it, so the second reading
/// never leaks into encoded text.
fn cp1252_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    if cp < 0x80 || (0xA0..=0xFF).contains(&cp) {
        return u8::try_from(cp).ok();
    }
    (0x80u8..0xA0)
        .find(|&b| CP1252[usize::from(b)] == c)
        .or_else(|| u8::try_from(cp).ok().filter(|b| (0x80..0xA0).contains(b)))
}

/// TCVN3 byte → char: Windows-1252, overlaid with the VN1 extras and the VN3 letters.
static TCVN3_DECODE: Lazy<[char; 256]> = Lazy::new(|| {
    let mut table = *CP1252;
    for &(b, c) in TCVN_VN1_EXTRA.iter().chain(TCVN3_LETTERS.iter()) {
        table[usize::from(b)] = c;
    }
    table
});

/// VNI single bytes (letters written with one byte, and everything else) and two-byte letters.
struct VniTables {
    single: [char; 256],
    pairs: HashMap<(u8, u8), char>,
}

static VNI_DECODE: Lazy<VniTables> = Lazy::new(|| {
    let mut single = *CP1252;
    let mut pairs = HashMap::new();
    for &(c, bytes) in VNI_LETTERS.iter() {
        match *bytes {
            [b] => single[usize::from(b)] = c,
            [base, mark] => {
                pairs.insert((base, mark), c);
                // Text typed with Caps Lock or converted case by case mixes a base of one case
                // with a mark of the other ("Oä"); the base decides the case of the letter. Every
                // VNI mark byte is a Latin-1 letter whose other case is 0x20 away.
                pairs.entry((base, mark ^ 0x20)).or_insert(c);
            }
            _ => {}
        }
    }
    VniTables { single, pairs }
});

/// One unit of legacy input: a byte of the 8-bit encoding, or a character that has no byte (text an
/// extractor reported outside Windows-1252) and passes through unchanged.
#[derive(Clone, Copy)]
enum Unit {
    Byte(u8),
    Char(char),
}

fn decode_units(units: &[Unit], enc: LegacyEncoding) -> String {
    let mut out = String::with_capacity(units.len() + units.len() / 2);
    match enc {
        LegacyEncoding::Tcvn3 | LegacyEncoding::Tcvn3H => {
            for u in units {
                match *u {
                    Unit::Byte(b) => out.push(TCVN3_DECODE[usize::from(b)]),
                    Unit::Char(c) => out.push(c),
                }
            }
        }
        LegacyEncoding::Vni => {
            let tables = &*VNI_DECODE;
            let mut i = 0;
            while i < units.len() {
                match units[i] {
                    Unit::Byte(b) => {
                        if let Some(Unit::Byte(m)) = units.get(i + 1) {
                            if let Some(&c) = tables.pairs.get(&(b, *m)) {
                                out.push(c);
                                i += 2;
                                continue;
                            }
                        }
                        out.push(tables.single[usize::from(b)]);
                    }
                    Unit::Char(c) => out.push(c),
                }
                i += 1;
            }
        }
    }
    let nfc: String = out.nfc().collect();
    if enc == LegacyEncoding::Tcvn3H {
        nfc.to_uppercase()
    } else {
        nfc
    }
}

/// Decode the bytes of a text file written in a legacy encoding to Unicode NFC. Every byte decodes
/// (bytes outside the letter tables read as Windows-1252), so this never fails.
pub fn decode_bytes(bytes: &[u8], enc: LegacyEncoding) -> String {
    let units: Vec<Unit> = bytes.iter().map(|&b| Unit::Byte(b)).collect();
    decode_units(&units, enc)
}

/// Repair text a PDF extractor read from a legacy font: each character goes back to the byte it
/// stands for in Windows-1252/Latin-1, and the bytes are decoded with `enc`. Characters with no such
/// byte (already-Unicode Vietnamese, CJK, symbols) pass through unchanged.
///
/// TCVN3 writes ư as 0xAD, which WinAnsiEncoding names "hyphen": extractors report it as U+00AD or
/// as a plain `-` ("ng-êi" for "người"). A `-` inside a word is read as ư when that makes the word a
/// Vietnamese syllable and the hyphenated parts are not ("KH-UBND" keeps its hyphen).
pub fn transcode_mojibake(s: &str, enc: LegacyEncoding) -> String {
    if enc == LegacyEncoding::Vni || !s.contains('-') {
        return transcode_plain(s, enc);
    }
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    let mut rest = s;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| c.is_whitespace() != rest.starts_with(char::is_whitespace))
            .unwrap_or(rest.len());
        let (token, tail) = rest.split_at(split);
        out.push_str(&transcode_token(token, enc));
        rest = tail;
    }
    out
}

fn transcode_plain(s: &str, enc: LegacyEncoding) -> String {
    let units: Vec<Unit> = s
        .chars()
        .map(|c| cp1252_byte(c).map_or(Unit::Char(c), Unit::Byte))
        .collect();
    decode_units(&units, enc)
}

/// One whitespace-free token of TCVN3 mojibake, deciding what its hyphens are (see
/// [`transcode_mojibake`]).
fn transcode_token(token: &str, enc: LegacyEncoding) -> String {
    let plain = transcode_plain(token, enc);
    if !token.contains('-') || !plain.chars().any(char::is_alphabetic) {
        return plain;
    }
    let with_u = transcode_plain(&token.replace('-', "\u{AD}"), enc);
    let trim = |w: &str| -> String {
        w.trim_matches(|c: char| c.is_ascii_punctuation() && c != '-')
            .to_string()
    };
    let plain_core = trim(&plain);
    // A compound hyphen joins two syllables; one at the edge of a word ("nh-", "-u") is a letter.
    let hyphenated_ok = plain_core.split('-').all(is_syllable);
    if is_syllable(trim_punctuation(&with_u)) && !hyphenated_ok {
        with_u
    } else {
        plain
    }
}

/// A character that a legacy encoding cannot write.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{character:?} (U+{code:04X}) at character {index} has no {encoding} code", code = u32::from(*.character))]
pub struct Unencodable {
    pub character: char,
    /// Index of the character in the NFC form of the input.
    pub index: usize,
    pub encoding: LegacyEncoding,
}

/// Encode Unicode text in a legacy encoding: the inverse of [`decode_bytes`], used to make test
/// inputs and to check the tables. TCVN3 has no codes for most toned capitals; like the UniKey
/// converter, they are written with the small letter's byte (an H font shows them as capitals), so
/// `decode_bytes(encode(s))` gives those letters in lower case. [`LegacyEncoding::Tcvn3H`] writes
/// every letter with its small letter's byte.
pub fn encode_str(s: &str, enc: LegacyEncoding) -> Result<Vec<u8>, Unencodable> {
    let text: String = match enc {
        LegacyEncoding::Tcvn3H => s.nfc().flat_map(char::to_lowercase).collect(),
        _ => s.nfc().collect(),
    };
    let mut out = Vec::with_capacity(text.len());
    for (index, c) in text.chars().enumerate() {
        let fail = || Unencodable {
            character: c,
            index,
            encoding: enc,
        };
        match enc {
            LegacyEncoding::Tcvn3 | LegacyEncoding::Tcvn3H => {
                out.push(tcvn3_byte(c).ok_or_else(fail)?);
            }
            LegacyEncoding::Vni => {
                if let Some(&(_, bytes)) = VNI_LETTERS.iter().find(|(l, _)| *l == c) {
                    out.extend_from_slice(bytes);
                } else {
                    let b = cp1252_byte(c).ok_or_else(fail)?;
                    // A byte that VNI reads as a letter cannot stand for its Latin-1 character.
                    if VNI_DECODE.single[usize::from(b)] != c {
                        return Err(fail());
                    }
                    // Nor can a mark byte follow a letter it would combine with ("aø" is à).
                    if let Some(&prev) = out.last() {
                        if VNI_DECODE.pairs.contains_key(&(prev, b)) {
                            return Err(fail());
                        }
                    }
                    out.push(b);
                }
            }
        }
    }
    Ok(out)
}

fn tcvn3_byte(c: char) -> Option<u8> {
    if let Some(&(b, _)) = TCVN3_LETTERS.iter().find(|(_, l)| *l == c) {
        return Some(b);
    }
    // A toned capital without a code of its own: the small letter's byte (the UniKey convention).
    if c.is_uppercase() && !c.is_ascii() {
        let mut lower = c.to_lowercase();
        if let (Some(l), None) = (lower.next(), lower.next()) {
            if let Some(&(b, _)) = TCVN3_LETTERS.iter().find(|(_, x)| *x == l) {
                return Some(b);
            }
        }
    }
    let b = cp1252_byte(c)?;
    (TCVN3_DECODE[usize::from(b)] == c).then_some(b)
}

/// Which legacy encoding a text file that is not UTF-8 is in, judged by whether its non-ASCII words
/// become Vietnamese syllables once decoded. `None` for UTF-8, pure ASCII, and text that reads
/// better as Windows-1252 (French, German …) or as neither.
pub fn detect_bytes(bytes: &[u8]) -> Option<LegacyEncoding> {
    if std::str::from_utf8(bytes).is_ok() {
        return None;
    }
    let as_cp1252: String = bytes.iter().map(|&b| CP1252[usize::from(b)]).collect();
    detect_mojibake(&as_cp1252)
}

/// Repair one run of extracted PDF text if it is legacy mojibake: by its font's name when that names
/// a TCVN3 or VNI font, otherwise by [`detect_mojibake`] (fonts are often embedded under generic
/// names such as `TT1`). Returns the Unicode text and the encoding, or `None` when the text is not
/// legacy mojibake and should be kept as it is.
pub fn repair_extracted(text: &str, font_name: Option<&str>) -> Option<(String, LegacyEncoding)> {
    let enc = font_name
        .and_then(encoding_for_font)
        .or_else(|| detect_mojibake(text))?;
    Some((transcode_mojibake(text, enc), enc))
}

/// How many non-ASCII words detection reads at most.
const MAX_DETECTION_WORDS: usize = 4000;

/// Does text a PDF extractor produced look like TCVN3 or VNI mojibake rather than Vietnamese,
/// English or Western European text? Every word with a non-ASCII character is read twice, as it
/// stands and transcoded; the encoding is reported when transcoding turns clearly more of those
/// words into valid Vietnamese syllables than it breaks, and most of them end up valid. Words that
/// are already Vietnamese Unicode count against it. Needs at least two such words.
pub fn detect_mojibake(s: &str) -> Option<LegacyEncoding> {
    let mut candidates: Vec<&str> = Vec::new();
    let mut unicode_vietnamese = 0usize;
    for word in s.split_whitespace().map(trim_punctuation) {
        // A few thousand words decide as well as a whole book does.
        if candidates.len() >= MAX_DETECTION_WORDS {
            break;
        }
        if word.is_ascii() {
            continue;
        }
        if word.chars().all(|c| cp1252_byte(c).is_some()) {
            candidates.push(word);
        } else if word.chars().any(is_vietnamese_specific) {
            unicode_vietnamese += 1;
        }
    }
    let n = candidates.len();
    if n < 2 {
        return None;
    }
    let valid_as_is: Vec<bool> = candidates.iter().map(|w| is_syllable(w)).collect();
    let mut best: Option<(LegacyEncoding, usize)> = None;
    for enc in [LegacyEncoding::Tcvn3, LegacyEncoding::Vni] {
        let mut valid = 0usize;
        let mut gained = 0usize;
        let mut lost = 0usize;
        let mut signed = 0usize;
        for (word, &before) in candidates.iter().zip(&valid_as_is) {
            let after = is_syllable(&transcode_mojibake(word, enc));
            valid += usize::from(after);
            gained += usize::from(after && !before);
            lost += usize::from(before && !after);
            signed += usize::from(has_signature(word, enc));
        }
        let gain = gained.saturating_sub(lost);
        // Most transcoded words must be Vietnamese, the gain must be a real share of the words,
        // and it must outweigh the words that are already Unicode Vietnamese. The signature
        // keeps OCR text read with an English model ("Péi véi céc", which TCVN3 would turn into
        // syllables) from passing: real legacy text shows the encoding's own marks.
        let plausible = valid * 2 >= n
            && gain >= 2
            && gain * 10 >= n * 3
            && gain > unicode_vietnamese
            && signed >= 1
            && signed * 8 >= n;
        if plausible && best.is_none_or(|(_, g)| gain > g) {
            best = Some((enc, gain));
        }
    }
    best.map(|(enc, _)| enc)
}

/// Does the word show a mark of the encoding that ordinary Latin-1 text lacks? TCVN3 writes its
/// most frequent letters (à á ả ã ạ ă â ê ô ơ ư đ, ì, ữ) with bytes that are symbols in Latin-1
/// (µ ¸ ¶ · ¹ ¨ © ª « ¬ SHY ® × ÷); VNI writes toned vowels as a vowel plus a mark byte ("aø").
fn has_signature(word: &str, enc: LegacyEncoding) -> bool {
    let bytes: Vec<Option<u8>> = word.chars().map(cp1252_byte).collect();
    if bytes.len() < 2 {
        return false;
    }
    match enc {
        LegacyEncoding::Tcvn3 | LegacyEncoding::Tcvn3H => bytes
            .iter()
            .flatten()
            .any(|&b| (0xA1..=0xBF).contains(&b) || b == 0xD7 || b == 0xF7),
        LegacyEncoding::Vni => bytes.windows(2).any(|pair| match *pair {
            [Some(base), Some(mark)] => VNI_DECODE.pairs.contains_key(&(base, mark)),
            _ => false,
        }),
    }
}

/// Strip the punctuation that surrounds a word in running text. Legacy letter bytes are never
/// ASCII, and the Windows-1252 quotes and dashes are not letters in either table (« and » are:
/// TCVN3 ô and ằ).
fn trim_punctuation(word: &str) -> &str {
    word.trim_matches(|c: char| {
        c.is_ascii_punctuation() || matches!(c, '“' | '”' | '‘' | '’' | '…' | '–' | '—')
    })
}

/// The legacy encoding a font draws, from its name as a PDF or word processor gives it: TCVN3 fonts
/// are named `.VnTime`, `.VnArial Narrow`, `VnTimeH` …, VNI fonts `VNI-Times`, `VNI-Helve` … A
/// subset prefix (`ABCDEF+`), PDF `#20` escapes and style suffixes (`,Bold`, `-Italic`) are allowed.
pub fn encoding_for_font(font_name: &str) -> Option<LegacyEncoding> {
    let name = unescape_pdf_name(font_name.trim().trim_start_matches('/'));
    let name = strip_subset_prefix(&name);
    let family = strip_style(name);

    let lower = family.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("vni") {
        if rest.starts_with(['-', ' ', '_']) && rest.len() > 1 {
            return Some(LegacyEncoding::Vni);
        }
    }
    let abc = family.strip_prefix('.').unwrap_or(family);
    let mut chars = abc.chars();
    if let (Some('V'), Some('n'), Some(c)) = (chars.next(), chars.next(), chars.next()) {
        if c.is_ascii_uppercase() {
            // The H fonts append a capital H to the family name: .VnTimeH, .VnArial NarrowH.
            let tail: Vec<char> = abc.chars().rev().take(2).collect();
            let is_h = tail.len() == 2 && tail[0] == 'H' && tail[1].is_ascii_lowercase();
            return Some(if is_h {
                LegacyEncoding::Tcvn3H
            } else {
                LegacyEncoding::Tcvn3
            });
        }
    }
    None
}

/// Undo PDF name escapes (`#20` → space).
fn unescape_pdf_name(name: &str) -> String {
    let bytes = name.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'#' && i + 2 < bytes.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A PDF subset font is named `ABCDEF+Family`: six capital letters and a plus.
fn strip_subset_prefix(name: &str) -> &str {
    match name.split_once('+') {
        Some((tag, rest)) if tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()) => rest,
        _ => name,
    }
}

/// The family part of a font name without its style (`,Bold`, `-BoldItalic`, `Bold`).
fn strip_style(name: &str) -> &str {
    let name = name.split(',').next().unwrap_or(name).trim();
    const STYLES: [&str; 8] = [
        "BoldItalic",
        "BoldOblique",
        "Bold",
        "Italic",
        "Oblique",
        "Regular",
        "Normal",
        "Roman",
    ];
    let mut family = name;
    for style in STYLES {
        if let Some(rest) = family.strip_suffix(style) {
            let rest = rest.trim_end_matches(['-', ' ', '_']);
            if !rest.is_empty() {
                family = rest;
                break;
            }
        }
    }
    family
}

// ---------------------------------------------------------------------------------------------
// Vietnamese syllable check, the statistic behind detection. Written Vietnamese is one syllable
// per word with a narrow structure: onset consonant, vowel nucleus (with glides), optional final
// consonant, one tone. Mojibake words ("Céng", "hoµ", "nghÜa") and Western words ("für", "été")
// almost never fit it, while the transcoded words do.

/// Onsets, longest first so that "ngh" wins over "ng" and "n".
const ONSETS: [&str; 27] = [
    "ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "th", "tr", "qu", "b", "c", "d", "đ", "g",
    "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x",
];

/// Vowel groups (toneless) that may end a syllable.
const OPEN_NUCLEI: [&str; 45] = [
    "a", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y", "ai", "ao", "au", "ay", "âu", "ây", "eo",
    "êu", "ia", "iu", "oa", "oe", "oi", "ôi", "ơi", "ua", "uê", "ui", "uơ", "uy", "ưa", "ưi", "ưu",
    "oai", "oay", "oao", "oeo", "uya", "uyu", "uây", "uôi", "ươi", "ươu", "iêu", "yêu",
];

/// Vowel groups (toneless) that take a final consonant.
const CLOSED_NUCLEI: [&str; 20] = [
    "a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "oa", "oă", "oe", "oo", "uâ", "uê",
    "uy", "iê", "yê",
];

/// Vowel groups that take a final consonant, continued (kept apart to keep the lines short).
const CLOSED_NUCLEI_MORE: [&str; 3] = ["uô", "ươ", "uyê"];

const CODAS: [&str; 8] = ["ng", "nh", "ch", "c", "m", "n", "p", "t"];

/// Is `word` one well-formed Vietnamese syllable (any case)?
fn is_syllable(word: &str) -> bool {
    let mut tone = Tone::Level;
    let mut letters = String::with_capacity(word.len());
    for c in word.chars().flat_map(char::to_lowercase) {
        let (bare, t) = split_tone(c);
        if t != Tone::Level {
            if tone != Tone::Level {
                return false; // two tone marks
            }
            tone = t;
        }
        if !(bare.is_ascii_lowercase() || matches!(bare, 'ă' | 'â' | 'ê' | 'ô' | 'ơ' | 'ư' | 'đ'))
            || matches!(bare, 'f' | 'j' | 'w' | 'z')
        {
            return false;
        }
        letters.push(bare);
    }
    if letters.is_empty() {
        return false;
    }
    // Try every onset that fits (and none): "gi" may be onset or g + nucleus i.
    std::iter::once("")
        .chain(ONSETS.iter().copied().filter(|o| letters.starts_with(o)))
        .any(|onset| rhyme_ok(onset, &letters[onset.len()..], tone))
}

fn rhyme_ok(onset: &str, rest: &str, tone: Tone) -> bool {
    let first = match rest.chars().next() {
        Some(c) => c,
        None => return false,
    };
    // Spelling rules: k, gh, ngh only before e ê i (y); c, g, ng never there; q only as "qu".
    let front = matches!(first, 'e' | 'ê' | 'i' | 'y');
    match onset {
        "k" if !front => return false,
        "gh" | "ngh" if !matches!(first, 'e' | 'ê' | 'i') => return false,
        "c" | "ng" if front => return false,
        "g" if first != 'i' && front => return false,
        "qu" if first == 'u' => return false,
        _ => {}
    }
    std::iter::once("")
        .chain(CODAS.iter().copied().filter(|c| rest.ends_with(c)))
        .any(|coda| {
            let nucleus = &rest[..rest.len() - coda.len()];
            if nucleus.is_empty() {
                return false;
            }
            if coda.is_empty() {
                return OPEN_NUCLEI.contains(&nucleus);
            }
            if !(CLOSED_NUCLEI.contains(&nucleus) || CLOSED_NUCLEI_MORE.contains(&nucleus)) {
                return false;
            }
            if matches!(coda, "ch" | "nh")
                && !matches!(nucleus, "a" | "ê" | "i" | "oa" | "uê" | "uy")
            {
                return false;
            }
            // Stopped syllables (-p -t -c -ch) take only sắc or nặng.
            !matches!(coda, "p" | "t" | "c" | "ch") || matches!(tone, Tone::Acute | Tone::Dot)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables() {
        for w in [
            "Cộng",
            "hoà",
            "xã",
            "hội",
            "chủ",
            "nghĩa",
            "Việt",
            "người",
            "khuya",
            "quyết",
            "giữa",
            "gì",
            "thuở",
            "nghiêng",
            "kỹ",
            "xoong",
            "huỳnh",
            "ĐƯỜNG",
            "ước",
            "ăn",
        ] {
            assert!(is_syllable(w), "{w}");
        }
        for w in [
            "Céng", "hoµ", "x·", "héi", "für", "été", "où", "trốs", "cỏc", "gha", "ci", "ă",
            "khuyêu", "Straße", "tiê",
        ] {
            assert!(!is_syllable(w), "{w}");
        }
    }

    #[test]
    fn plan_words_are_syllables() {
        // Every word of real plan text with a diacritic passes, apart from abbreviations (QĐ).
        let text = include_str!("../../fixtures/legacy/plan.utf8.txt");
        let words: Vec<&str> = text
            .split_whitespace()
            .map(trim_punctuation)
            .filter(|w| !w.is_ascii() && w.chars().all(char::is_alphabetic))
            .collect();
        let bad: Vec<&&str> = words.iter().filter(|w| !is_syllable(w)).collect();
        assert!(words.len() > 80, "{}", words.len());
        assert!(
            bad.iter()
                .all(|w| w.chars().all(char::is_uppercase) && w.len() <= 8),
            "{bad:?}"
        );
    }

    #[test]
    fn cp1252_round_trips_every_byte() {
        for b in 0..=255u8 {
            assert_eq!(
                cp1252_byte(CP1252[usize::from(b)]),
                Some(b),
                "byte {b:#04x}"
            );
        }
        assert_eq!(CP1252[0x93], '“');
    }

    #[test]
    fn font_names() {
        assert_eq!(encoding_for_font("/.VnTime"), Some(LegacyEncoding::Tcvn3));
        assert_eq!(
            encoding_for_font("ABCDEF+.VnArial,Bold"),
            Some(LegacyEncoding::Tcvn3)
        );
        assert_eq!(encoding_for_font("VnTimeH"), Some(LegacyEncoding::Tcvn3H));
        assert_eq!(
            encoding_for_font(".VnArial#20NarrowH"),
            Some(LegacyEncoding::Tcvn3H)
        );
        assert_eq!(
            encoding_for_font(".VnTimeH-BoldItalic"),
            Some(LegacyEncoding::Tcvn3H)
        );
        assert_eq!(encoding_for_font("VNI-Times"), Some(LegacyEncoding::Vni));
        assert_eq!(
            encoding_for_font("QWERTY+VNI-Helve-Condense,Bold"),
            Some(LegacyEncoding::Vni)
        );
        assert_eq!(encoding_for_font("TimesNewRomanPSMT"), None);
        assert_eq!(encoding_for_font("Arial,Bold"), None);
        assert_eq!(encoding_for_font("Vnexpress"), None);
        assert_eq!(encoding_for_font("VNI"), None);
    }
}
