//! The `vnplan` command line: parses arguments, calls the library, prints.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "vnplan",
    version,
    about = "Vietnamese plan documents into searchable text and structured data"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Score outputs against gold files.
    Eval {
        #[command(subcommand)]
        what: EvalCommand,
    },
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Score extracted JSON documents against gold (`NNN.gold.json`), as schema/ANNOTATION.md defines.
    Extract {
        /// Directory of extracted documents (`*.json`).
        #[arg(long)]
        out: PathBuf,
        /// Directory of gold files (`NNN.gold.json`).
        #[arg(long)]
        gold: PathBuf,
    },
}

fn eval_extract(out: &std::path::Path, gold: &std::path::Path) -> anyhow::Result<()> {
    let results = vnplan::extract::eval::score_dirs(out, gold)?;
    if results.is_empty() {
        anyhow::bail!(
            "no output in {} has a gold file in {} (matched by leading 3-digit id or stem)",
            out.display(),
            gold.display()
        );
    }
    println!(
        "{:<28} {:>8} {:>9} {:>9} {:>9} {:>6} {:>9}",
        "document", "metadata", "criteria", "targets", "budget", "total", "units"
    );
    let n = results.len() as f64;
    let mut sums = [0.0f64; 5];
    let mut totals_ok = 0;
    for (name, s) in &results {
        let row = [
            s.metadata(),
            s.criteria.f1(),
            s.targets.f1(),
            s.budget_amounts.f1(),
            s.responsibilities.f1(),
        ];
        for (acc, v) in sums.iter_mut().zip(row) {
            *acc += v;
        }
        if s.budget_total_ok {
            totals_ok += 1;
        }
        println!(
            "{:<28} {:>8.3} {:>9.3} {:>9.3} {:>9.3} {:>6} {:>9.3}",
            name,
            row[0],
            row[1],
            row[2],
            row[3],
            if s.budget_total_ok { "ok" } else { "WRONG" },
            row[4]
        );
        let missed: Vec<&str> = s
            .metadata_fields
            .iter()
            .filter(|f| !f.1)
            .map(|f| f.0)
            .collect();
        println!(
            "  criteria {}/{}/{}  targets {}/{}/{}  budget {}/{}/{}  units {}/{}/{}  (matched/predicted/gold){}",
            s.criteria.matched, s.criteria.predicted, s.criteria.gold,
            s.targets.matched, s.targets.predicted, s.targets.gold,
            s.budget_amounts.matched, s.budget_amounts.predicted, s.budget_amounts.gold,
            s.responsibilities.matched, s.responsibilities.predicted, s.responsibilities.gold,
            if missed.is_empty() { String::new() } else { format!("  metadata wrong: {}", missed.join(", ")) }
        );
    }
    println!(
        "{:<28} {:>8.3} {:>9.3} {:>9.3} {:>9.3} {:>6} {:>9.3}",
        "overall (mean)",
        sums[0] / n,
        sums[1] / n,
        sums[2] / n,
        sums[3] / n,
        format!("{totals_ok}/{}", results.len()),
        sums[4] / n
    );
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Eval { what } => match what {
            EvalCommand::Extract { out, gold } => eval_extract(&out, &gold),
        },
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vnplan: {e:#}");
            ExitCode::FAILURE
        }
    }
}
