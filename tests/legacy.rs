//! Legacy Vietnamese encodings (TCVN3, VNI): decoding, mojibake repair, detection, font names.
//!
//! Byte strings in the hand-checked tests are written from the published tables (UniKey VnConv,
//! libiconv tcvn.h) and from converter documentation, not from this crate's encoder, so a table error
//! cannot hide behind a round trip.

use std::path::PathBuf;

use vnplan::vietnamese::legacy::{
    decode_bytes, detect_bytes, detect_mojibake, encode_str, encoding_for_font, repair_extracted,
    transcode_mojibake,
    LegacyEncoding::{self, Tcvn3, Tcvn3H, Vni},
};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/legacy")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("fixture is UTF-8")
}

/// What a PDF extractor reports for legacy font bytes: the Latin-1 character of each byte (the
/// fixtures use no byte in 0x80–0x9F, where WinAnsi differs).
fn as_latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// TCVN3 (ABC) has codes only for the capitals Ă Â Ê Ô Ơ Ư Đ; other toned capitals are written with
/// the small letter's byte, so they come back in lower case.
fn tcvn3_case_fold(s: &str) -> String {
    s.chars()
        .map(|c| {
            if !c.is_ascii() && c.is_uppercase() && !"ĂÂÊÔƠƯĐ".contains(c) {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

#[test]
fn tcvn3_hand_checked_words() {
    for (bytes, want) in [
        (
            &b"C\xE9ng ho\xB5 x\xB7 h\xE9i ch\xF1 ngh\xDCa Vi\xD6t Nam"[..],
            "Cộng hoà xã hội chủ nghĩa Việt Nam",
        ),
        (
            b"\xA7\xE9c l\xCBp - T\xF9 do - H\xB9nh ph\xF3c",
            "Độc lập - Tự do - Hạnh phúc",
        ),
        (b"B\xB6o Th\xBEng", "Bảo Thắng"),
        (b"M\xAD\xEAng Kh\xAD\xACng", "Mường Khương"),
        (b"B\xB8t X\xB8t", "Bát Xát"),
        (b"n\xA9ng th\xABn m\xEDi", "nâng thôn mới"),
        (
            b"\xAE\xE3ng g\xE4p, k\xDD, ch\xDFn, gi\xF7a, k\xFC, \xA8n",
            "đóng gọp, kí, chòn, giữa, kỹ, ăn",
        ),
    ] {
        assert_eq!(decode_bytes(bytes, Tcvn3), want);
        assert_eq!(transcode_mojibake(&as_latin1(bytes), Tcvn3), want);
    }
    // The brief's own example, as an extractor prints it.
    assert_eq!(
        transcode_mojibake("Céng hoµ x· héi chñ nghÜa", Tcvn3),
        "Cộng hoà xã hội chủ nghĩa"
    );
}

#[test]
fn tcvn3_u_horn_reported_as_hyphen() {
    // WinAnsiEncoding names byte 0xAD "hyphen", so extractors print ư as '-' or U+00AD.
    assert_eq!(
        transcode_mojibake("ng-êi d©n, Ch-¬ng tr×nh, nh- sau, -u tiªn", Tcvn3),
        "người dân, Chương trình, như sau, ưu tiên"
    );
    assert_eq!(transcode_mojibake("ng\u{AD}êi", Tcvn3), "người");
    // pdftotext's output for a WinAnsiEncoding font named .VnTime drawing the TCVN3 bytes
    // "ng\xAD\xEAi C\xE9ng ho\xB5 x\xB7 h\xE9i \x93x\xB7\x94" (checked with poppler 22.12).
    let extracted = "ng-êi Céng hoµ x· héi “x·”";
    assert_eq!(detect_mojibake(extracted), Some(Tcvn3));
    assert_eq!(
        transcode_mojibake(extracted, Tcvn3),
        "người Cộng hoà xã hội “xã”"
    );
    // Real hyphens stay: codes, numbers, a dash between words.
    assert_eq!(
        transcode_mojibake("Sè 263/Q§-TTg, 2021-2025 - KH-UBND", Tcvn3),
        "Số 263/QĐ-TTg, 2021-2025 - KH-UBND"
    );
}

#[test]
fn tcvn3_h_fonts_draw_capitals() {
    assert_eq!(decode_bytes(b"c\xE9ng ho\xB5", Tcvn3H), "CỘNG HOÀ");
    assert_eq!(transcode_mojibake("kÕ ho¹ch", Tcvn3H), "KẾ HOẠCH");
}

#[test]
fn vni_hand_checked_words() {
    for (bytes, want) in [
        (&b"Xin cha\xF8o ca\xF9c ba\xEFn"[..], "Xin chào các bạn"),
        (
            b"Co\xE4ng ho\xF8a xa\xF5 ho\xE4i chu\xFB ngh\xF3a Vie\xE4t Nam",
            "Cộng hòa xã hội chủ nghĩa Việt Nam",
        ),
        (
            b"\xD1o\xE4c la\xE4p - T\xF6\xEF do - Ha\xEFnh phu\xF9c",
            "Độc lập - Tự do - Hạnh phúc",
        ),
        (b"ng\xF6\xF4\xF8i", "người"),
        (b"CO\xC4NG HO\xD8A", "CỘNG HÒA"),
        (b"TH\xD6\xD4\xD8NG", "THƯỜNG"),
        (b"ca\xEAn c\xF6\xF9 quy\xEE", "căn cứ quyỵ"),
        (
            b"ta\xE9t, ta\xE8ng, la\xFAng, la\xFCng, ma\xEBt",
            "tắt, tằng, lẳng, lẵng, mặt",
        ),
        (b"ki\xF3, \xEDt, \xE6, \xF2, \xEC", "kiĩ, ít, ỉ, ị, ì"),
    ] {
        assert_eq!(decode_bytes(bytes, Vni), want, "{}", as_latin1(bytes));
        assert_eq!(transcode_mojibake(&as_latin1(bytes), Vni), want);
    }
    // A mark whose case differs from its base still belongs to it; the base decides the case.
    assert_eq!(decode_bytes(b"O\xE4", Vni), "Ộ");
    // A mark byte with no base to sit on is just its Windows-1252 character.
    assert_eq!(decode_bytes(b"caf\xE9", Vni), "café");
}

/// Every Vietnamese letter, both cases, through the encoder and back.
#[test]
fn every_letter_round_trips() {
    let letters = "aàáảãạăằắẳẵặâầấẩẫậeèéẻẽẹêềếểễệiìíỉĩịoòóỏõọôồốổỗộơờớởỡợuùúủũụưừứửữựyỳýỷỹỵđ";
    let all: String = letters
        .chars()
        .flat_map(|c| c.to_uppercase().chain(std::iter::once(c)))
        .collect();
    let vni = encode_str(&all, Vni).expect("VNI writes every letter");
    assert_eq!(decode_bytes(&vni, Vni), all);
    let tcvn3 = encode_str(&all, Tcvn3).expect("TCVN3 writes every letter");
    assert_eq!(decode_bytes(&tcvn3, Tcvn3), tcvn3_case_fold(&all));
    // One byte per letter in TCVN3.
    assert_eq!(tcvn3.len(), all.chars().count());
}

#[test]
fn encoder_refuses_what_the_encoding_cannot_write() {
    let err = encode_str("Xin chào 世界", Vni).expect_err("CJK has no VNI code");
    assert_eq!(err.character, '世');
    assert!(encode_str("é", Tcvn3).is_ok(), "é is a TCVN3 letter");
    assert!(encode_str("ü", Tcvn3).is_err(), "0xFC is ỹ in TCVN3");
    // ø after a vowel would read back as a tone mark ("aø" is à).
    assert!(encode_str("aø", Vni).is_err());
    assert!(encode_str("ø", Vni).is_ok());
}

#[test]
fn fixture_files_decode_to_the_plan_text() {
    let want = fixture_text("plan.utf8.txt");
    assert_eq!(decode_bytes(&fixture("plan.vni.txt"), Vni), want);
    assert_eq!(
        decode_bytes(&fixture("plan.tcvn3.txt"), Tcvn3),
        tcvn3_case_fold(&want)
    );
}

#[test]
fn detects_legacy_files() {
    assert_eq!(detect_bytes(&fixture("plan.tcvn3.txt")), Some(Tcvn3));
    assert_eq!(detect_bytes(&fixture("plan.vni.txt")), Some(Vni));
    // The OCR text as Windows-1252 bytes, as an old tool would have saved it.
    let ocr: Vec<u8> = fixture_text("ocr_unaccented.txt")
        .chars()
        .map(|c| u8::try_from(u32::from(c)).expect("Latin-1 fixture"))
        .collect();
    assert_eq!(detect_bytes(&ocr), None);
    for other in [
        "plan.utf8.txt",
        "plan.cp1258.txt",
        "french.cp1252.txt",
        "german.cp1252.txt",
        "english.txt",
    ] {
        assert_eq!(detect_bytes(&fixture(other)), None, "{other}");
    }
}

#[test]
fn detects_and_repairs_mojibake() {
    let want = fixture_text("plan.utf8.txt");
    for (file, enc) in [("plan.tcvn3.txt", Tcvn3), ("plan.vni.txt", Vni)] {
        let extracted = as_latin1(&fixture(file));
        assert_eq!(detect_mojibake(&extracted), Some(enc), "{file}");
        let repaired = transcode_mojibake(&extracted, enc);
        let want = if enc == Tcvn3 {
            tcvn3_case_fold(&want)
        } else {
            want.clone()
        };
        assert_eq!(repaired, want);
        if enc == Tcvn3 {
            // The same page from an extractor that prints WinAnsi "hyphen" for ư.
            let winansi = extracted.replace('\u{AD}', "-");
            assert_eq!(detect_mojibake(&winansi), Some(enc));
            assert_eq!(transcode_mojibake(&winansi, enc), want);
        }
    }
    // Single lines, as one text run of a PDF page gives them.
    assert_eq!(
        detect_mojibake("Céng hoµ x· héi chñ nghÜa ViÖt Nam"),
        Some(Tcvn3)
    );
    assert_eq!(
        detect_mojibake("Coäng hoøa xaõ hoäi chuû nghóa Vieät Nam"),
        Some(Vni)
    );
    assert_eq!(detect_mojibake("Xin chaøo caùc baïn"), Some(Vni));
}

#[test]
fn mojibake_detection_leaves_real_text_alone() {
    let latin1 = |name: &str| as_latin1(&fixture(name));
    for text in [
        fixture_text("plan.utf8.txt"),
        fixture_text("english.txt"),
        // OCR read with an English model: Latin-1 accents that TCVN3 would turn into syllables.
        fixture_text("ocr_unaccented.txt"),
        latin1("french.cp1252.txt"),
        latin1("german.cp1252.txt"),
        // Vietnamese whose words all happen to be Latin-1 letters.
        "Tên các xã là Yên và Tân, có nhà, có cây, là bà con".to_string(),
        "Cộng hòa xã hội chủ nghĩa Việt Nam".to_string(),
    ] {
        assert_eq!(detect_mojibake(&text), None, "{text}");
    }
}

#[test]
fn repair_keeps_characters_outside_the_byte_range() {
    // An extractor that already mapped part of a line to Unicode: those letters stay.
    assert_eq!(
        transcode_mojibake("Kế hoạch: Céng hoµ – “x·”", Tcvn3),
        "Kế hoạch: Cộng hoà – “xã”"
    );
    // An extractor that reads bytes as Latin-1 gives C1 controls for the WinAnsi quotes.
    assert_eq!(transcode_mojibake("\u{93}x·\u{94}", Tcvn3), "“xã”");
}

#[test]
fn font_names_choose_the_encoding() {
    let cases: [(&str, Option<LegacyEncoding>); 8] = [
        (".VnTime", Some(Tcvn3)),
        ("BCDEFG+.VnTimeH,Bold", Some(Tcvn3H)),
        (".VnCentury Schoolbook", Some(Tcvn3)),
        ("VnArial", Some(Tcvn3)),
        ("VNI-Times", Some(Vni)),
        ("ABCDEF+VNI-Helve,Italic", Some(Vni)),
        ("TimesNewRomanPS-BoldMT", None),
        ("Calibri", None),
    ];
    for (name, want) in cases {
        assert_eq!(encoding_for_font(name), want, "{name}");
    }
}

#[test]
fn encoding_names_parse() {
    assert_eq!("TCVN3".parse::<LegacyEncoding>(), Ok(Tcvn3));
    assert_eq!("vni-win".parse::<LegacyEncoding>(), Ok(Vni));
    assert!("viscii".parse::<LegacyEncoding>().is_err());
}

#[test]
fn repair_uses_the_font_then_the_statistics() {
    // Only the font name can tell an H font (capitals) from the same bytes in .VnTime.
    assert_eq!(
        repair_extracted("kÕ ho¹ch", Some("ABCDEF+.VnTimeH,Bold")),
        Some(("KẾ HOẠCH".to_string(), Tcvn3H))
    );
    assert_eq!(
        repair_extracted("kÕ ho¹ch", None),
        Some(("kế hoạch".to_string(), Tcvn3))
    );
    assert_eq!(
        repair_extracted("Coäng hoøa xaõ hoäi chuû nghóa", Some("TT1")),
        Some(("Cộng hòa xã hội chủ nghĩa".to_string(), Vni))
    );
    assert_eq!(
        repair_extracted("Cộng hòa xã hội", Some("TimesNewRomanPSMT")),
        None
    );
}
