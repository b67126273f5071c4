//! `vnplan eval`: accuracy against gold, printed as the issues define it.

use std::path::Path;

pub fn extract(out: &Path, gold: &Path) -> anyhow::Result<()> {
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
