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

