//! `vnplan legacy-decode` / `legacy-encode` on the fixture files.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/legacy")
        .join(name)
}

fn vnplan(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_vnplan"))
        .args(args)
        .output()
        .expect("run vnplan")
}

#[test]
fn decodes_a_vni_file_by_detection() {
    let out = vnplan(&[
        "legacy-decode".as_ref(),
        fixture("plan.vni.txt").as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let want = std::fs::read_to_string(fixture("plan.utf8.txt")).expect("fixture");
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    assert!(String::from_utf8_lossy(&out.stderr).contains("decoded as vni"));
}

#[test]
fn refuses_a_file_that_is_not_legacy_text_and_names_it() {
    let path = fixture("french.cp1252.txt");
    let out = vnplan(&["legacy-decode".as_ref(), path.as_os_str()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("french.cp1252.txt"), "{err}");
    assert!(err.contains("--encoding"), "{err}");
}

#[test]
fn encode_then_decode_round_trips() {
    let dir = std::env::temp_dir().join(format!("vnplan-legacy-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let encoded = dir.join("plan.vni");
    let decoded = dir.join("plan.txt");
    let out = vnplan(&[
        "legacy-encode".as_ref(),
        fixture("plan.utf8.txt").as_os_str(),
        "--encoding".as_ref(),
        "vni".as_ref(),
        "-o".as_ref(),
        encoded.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read(&encoded).expect("encoded"),
        std::fs::read(fixture("plan.vni.txt")).expect("fixture")
    );
    let out = vnplan(&[
        "legacy-decode".as_ref(),
        encoded.as_os_str(),
        "--encoding".as_ref(),
        "vni".as_ref(),
        "-o".as_ref(),
        decoded.as_os_str(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&decoded).expect("decoded"),
        std::fs::read_to_string(fixture("plan.utf8.txt")).expect("fixture")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
