//! Throughput of legacy-encoding decoding, mojibake repair and detection, on the plan excerpt in
//! fixtures/legacy repeated to about 1 MB. Prints MB/s; no assertions on time.

use std::hint::black_box;
use std::time::Instant;

use vnplan::vietnamese::legacy::{
    decode_bytes, detect_bytes, detect_mojibake, transcode_mojibake, LegacyEncoding,
};

fn fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/legacy")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn repeat_to_mb(bytes: &[u8]) -> Vec<u8> {
    let times = (1 << 20) / bytes.len().max(1) + 1;
    bytes.repeat(times)
}

fn measure(label: &str, bytes: usize, mut f: impl FnMut()) {
    f(); // warm the lazily built tables
    let rounds = 5;
    let start = Instant::now();
    for _ in 0..rounds {
        f();
    }
    let secs = start.elapsed().as_secs_f64() / f64::from(rounds);
    println!("{label:<28} {:>8.1} MB/s", bytes as f64 / secs / 1e6);
}

fn main() {
    for (file, enc) in [
        ("plan.tcvn3.txt", LegacyEncoding::Tcvn3),
        ("plan.vni.txt", LegacyEncoding::Vni),
    ] {
        let bytes = repeat_to_mb(&fixture(file));
        let latin1: String = bytes.iter().map(|&b| char::from(b)).collect();
        let winansi = latin1.replace('\u{AD}', "-");
        measure(&format!("decode_bytes {enc}"), bytes.len(), || {
            black_box(decode_bytes(black_box(&bytes), enc));
        });
        measure(&format!("transcode_mojibake {enc}"), bytes.len(), || {
            black_box(transcode_mojibake(black_box(&latin1), enc));
        });
        if enc == LegacyEncoding::Tcvn3 {
            measure("transcode (ư as '-') tcvn3", bytes.len(), || {
                black_box(transcode_mojibake(black_box(&winansi), enc));
            });
        }
        measure(&format!("detect_bytes {enc}"), bytes.len(), || {
            black_box(detect_bytes(black_box(&bytes)));
        });
        // One page of text, the unit the PDF reader asks about.
        let page = &latin1[..latin1
            .char_indices()
            .nth(3000)
            .map_or(latin1.len(), |(i, _)| i)];
        measure(&format!("detect_mojibake page {enc}"), page.len(), || {
            black_box(detect_mojibake(black_box(page)));
        });
    }
}
