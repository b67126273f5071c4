//! `vnplan text`: each page's text, or one JSON object per file.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use vnplan::document::Document;
use vnplan::pipeline::Pipeline;

/// Run the pipeline on each file and hand each document to `emit`; a file that fails, or whose
/// `emit` fails, is named on stderr and makes the exit code 1. Engines are released at the end.
fn for_each_document(
    files: &[PathBuf],
    pipeline: &Pipeline,
    mut emit: impl FnMut(&Path, Document) -> Result<(), String>,
) -> ExitCode {
    let mut failed = 0;
    for path in files {
        let result = pipeline
            .process(path)
            .map_err(|f| f.to_string())
            .and_then(|doc| emit(path, doc));
        if let Err(e) = result {
            eprintln!("vnplan: error: {e}");
            failed += 1;
        }
    }
    pipeline.release();
    if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn run(files: &[PathBuf], json: bool, pipeline: Pipeline) -> ExitCode {
    let mut first = true;
    for_each_document(files, &pipeline, |path, doc| {
        // An unreadable page is reported once, as the error below.
        for w in doc.warnings.iter().filter(|w| w.code != "page_unreadable") {
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
        match doc.warnings.iter().find(|w| w.code == "page_unreadable") {
            Some(w) => Err(format!(
                "{}: page {}: {}",
                path.display(),
                w.page.unwrap_or(0),
                w.message
            )),
            None => Ok(()),
        }
    })
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
    for_each_document(files, &pipeline, |path, doc| {
        for w in doc.warnings.iter().filter(|w| w.code == "page_unreadable") {
            eprintln!(
                "vnplan: {}: page {}: {}",
                path.display(),
                w.page.unwrap_or(0),
                w.message
            );
        }
        let json =
            serde_json::to_string_pretty(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
        match out {
            Some(dir) => {
                let stem = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("document");
                let target = dir.join(format!("{stem}.json"));
                std::fs::write(&target, json + "\n")
                    .map_err(|e| format!("cannot write {}: {e}", target.display()))
            }
            None => {
                println!("{json}");
                Ok(())
            }
        }
    })
}
