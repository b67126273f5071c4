//! `vnplan text`: each page's text, or one JSON object per file.

use std::path::PathBuf;
use std::process::ExitCode;

use vnplan::pipeline::Pipeline;

pub fn run(files: &[PathBuf], json: bool, pipeline: Pipeline) -> ExitCode {
    let mut failed = 0;
    let mut first = true;
    for path in files {
        match pipeline.process(path) {
            Ok(doc) => {
                for w in &doc.warnings {
                    match w.page {
                        Some(p) => eprintln!("vnplan: {}: page {p}: {}", path.display(), w.message),
                        None => eprintln!("vnplan: {}: {}", path.display(), w.message),
                    }
                }
                if json {
                    let value = serde_json::json!({
                        "schema": doc.schema,
                        "source": doc.source,
                        "pipeline": doc.pipeline,
                        "pages": doc.pages,
                        "warnings": doc.warnings,
                    });
                    println!("{value}");
                } else {
                    for page in &doc.pages {
                        if !first {
                            print!("\u{0C}");
                        }
                        first = false;
                        print!("{}", page.text);
                    }
                }
                if doc.warnings.iter().any(|w| w.code == "page_unreadable") {
                    failed += 1;
                }
            }
            Err(f) => {
                eprintln!("vnplan: error: {f}");
                failed += 1;
            }
        }
    }
    pipeline.release();
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// `vnplan extract`: one JSON document per file.
pub fn extract(files: &[PathBuf], out: Option<&std::path::Path>, pipeline: Pipeline) -> ExitCode {
    if out.is_none() && files.len() > 1 {
        eprintln!("vnplan: error: several files need --out DIR (one JSON document per file)");
        return ExitCode::from(2);
    }
    if let Some(dir) = out {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("vnplan: error: cannot create {}: {e}", dir.display());
            return ExitCode::from(1);
        }
    }
    let mut failed = 0;
    for path in files {
        match pipeline.process(path) {
            Ok(doc) => {
                for w in doc.warnings.iter().filter(|w| w.code == "page_unreadable") {
                    eprintln!(
                        "vnplan: {}: page {}: {}",
                        path.display(),
                        w.page.unwrap_or(0),
                        w.message
                    );
                }
                let json = match serde_json::to_string_pretty(&doc) {
                    Ok(j) => j,
                    Err(e) => {
                        eprintln!("vnplan: error: {}: {e}", path.display());
                        failed += 1;
                        continue;
                    }
                };
                match out {
                    Some(dir) => {
                        let stem = path
                            .file_stem()
                            .and_then(|s| s.to_str())
                            .unwrap_or("document");
                        let target = dir.join(format!("{stem}.json"));
                        if let Err(e) = std::fs::write(&target, json + "\n") {
                            eprintln!("vnplan: error: cannot write {}: {e}", target.display());
                            failed += 1;
                        }
                    }
                    None => println!("{json}"),
                }
            }
            Err(f) => {
                eprintln!("vnplan: error: {f}");
                failed += 1;
            }
        }
    }
    pipeline.release();
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
