//! `vnplan restore`, `lm build`, `eval restore`, `bench restore`: diacritic restoration and its model.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use vnplan::restore::model::Smoothing;

/// Restore Vietnamese diacritics and repair OCR garble, token by token.
#[derive(Args)]
pub struct RestoreArgs {
    /// Input file (stdin when absent).
    pub file: Option<PathBuf>,
    /// Per-token JSON (original, restored, confidence, offsets) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Model file (default: $VNPLAN_MODEL or models/ in the crate).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The text was read from scans by Tesseract's Vietnamese model: marked words are weighed
    /// with the model's mark channel (dần may be a misread dân), not taken as written.
    #[arg(long)]
    pub ocr: bool,
}

/// Smoothing of a built model (see `vnplan::restore::model::Smoothing`).
#[derive(Clone, Copy, ValueEnum)]
pub enum SmoothingArg {
    /// Interpolated modified Kneser–Ney, backoff form.
    Kn,
    /// Jelinek–Mercer interpolation of relative frequencies, each order 5 times the one below.
    Jm,
    /// Both stored; the mean of their log-scores (the shipped model).
    Mix,
}

#[derive(Subcommand)]
pub enum LmCommand {
    /// Count a syllable n-gram model from corpus text (*.txt.xz) and write the model file.
    Build {
        /// Corpus folders or files.
        #[arg(long, num_args = 1.., required = true)]
        corpus: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 4)]
        order: usize,
        /// Minimum counts for orders 2, 3, 4 (comma-separated).
        #[arg(long, default_value = "2,2,3", value_delimiter = ',')]
        min_count: Vec<u32>,
        /// Syllable inventory (default: syllables.txt in the first corpus folder).
        #[arg(long)]
        syllables: Option<PathBuf>,
        /// OCR confusion table (gold, garbled, count) for the noisy channel; repeatable, counts summed.
        #[arg(long)]
        confusions: Vec<PathBuf>,
        /// Confusion table (gold, read, count) of Tesseract's Vietnamese model
        /// (`models/make_confusions.py --lang vie`): the mark channel for OCR'd marked text;
        /// repeatable, counts summed.
        #[arg(long)]
        vie_confusions: Vec<PathBuf>,
        /// Place names, one per line (`models/make_gazetteer.py`): capitalized words that spell
        /// one without marks get its reading; repeatable.
        #[arg(long)]
        names: Vec<PathBuf>,
        /// Hold out every N-th document (0: none).
        #[arg(long, default_value_t = 50)]
        dev_every: usize,
        /// Write the held-out documents here, one file per corpus folder.
        #[arg(long)]
        dev_out: Option<PathBuf>,
        /// Raise minimum counts until the n-gram tables fit this many bytes.
        #[arg(long)]
        max_bytes: Option<usize>,
        /// Count weight of a corpus folder, FOLDER=N (repeatable): in-domain text counts more.
        #[arg(long = "weight")]
        weights: Vec<String>,
        /// How the stored counts make scores.
        #[arg(long, value_enum, default_value_t = SmoothingArg::Mix)]
        smoothing: SmoothingArg,
        /// Add marked one-syllable words the inventory lacks (Đắk, Lắk, Kạn), and marked words of
        /// two inventory syllables run together (ôtô, môtô), that the corpus has at least N times,
        /// in at least two folders (0: the inventory only).
        #[arg(long, default_value_t = 0)]
        attest: u64,
        /// With --attest N: also add unmarked loanwords the inventory lacks (top, chip, hot) that
        /// the corpus has at least N times, in at least two folders, and at least this share of
        /// the count of the syllables with the same letters (tốp, chíp, hốt); 0: none.
        #[arg(long, default_value_t = 0.0)]
        attest_plain: f64,
    },
}

/// Token accuracy of restoration against gold text.
#[derive(Args)]
pub struct EvalRestoreArgs {
    /// Text to restore (default: the gold text with all marks stripped).
    #[arg(long)]
    pub input: Option<PathBuf>,
    #[arg(long)]
    pub gold: PathBuf,
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Write the restored text here.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Decoder parameter overrides, name=value (tuning).
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// Without --input: make synthetic English-OCR garble of the gold text (with the model's
    /// confusion table) instead of stripping it.
    #[arg(long)]
    pub garble: bool,
    /// The input was read by Tesseract's Vietnamese model (see `vnplan restore --ocr`).
    #[arg(long)]
    pub ocr: bool,
    /// The text is corpus-style, one paragraph per line and a blank line between documents (as
    /// `lm build --dev-out` writes the held-out split): each document is restored on its own, as
    /// the pipeline restores one file, so the second look counts no other document's words.
    #[arg(long)]
    pub documents: bool,
}

/// Restoration throughput, model load time and peak memory.
#[derive(Args)]
pub struct BenchRestoreArgs {
    /// Text to restore (repeated as needed).
    #[arg(long)]
    pub input: PathBuf,
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Tokens to process in total.
    #[arg(long, default_value_t = 1_000_000)]
    pub tokens: usize,
    /// Decoder parameter overrides, name=value (to weigh speed against accuracy).
    #[arg(long = "param")]
    pub params: Vec<String>,
    /// The input was read by Tesseract's Vietnamese model (see `vnplan restore --ocr`).
    #[arg(long)]
    pub ocr: bool,
    /// Also time the decoder with these overrides (name=value) on top of `--param`, block by block
    /// in turn with the reference, and print its speed as a ratio of the reference's: the two
    /// share the machine's state of the moment, so the ratio holds where the speeds drift. They
    /// also share the thread's lookup memo (the second of a turn finds the first one's lookups
    /// of the block), so who goes first alternates by round, and the speeds themselves read
    /// higher than without `--against`.
    #[arg(long = "against")]
    pub against: Vec<String>,
}

fn read_input(file: Option<&Path>) -> anyhow::Result<String> {
    match file {
        Some(p) => {
            std::fs::read_to_string(p).with_context(|| format!("{}: cannot read", p.display()))
        }
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .context("stdin: cannot read")?;
            Ok(s)
        }
    }
}

fn origin_of(ocr: bool) -> vnplan::restore::Origin {
    if ocr {
        vnplan::restore::Origin::Ocr
    } else {
        vnplan::restore::Origin::Typed
    }
}

fn load_restorer(model: Option<PathBuf>) -> anyhow::Result<vnplan::restore::Restorer> {
    let path = model.unwrap_or_else(vnplan::restore::default_model_path);
    Ok(vnplan::restore::Restorer::load(&path)?)
}

fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let RestoreArgs {
        file,
        json,
        model,
        ocr,
    } = args;
    let origin = origin_of(ocr);
    let r = load_restorer(model)?;
    let text = read_input(file.as_deref())?;
    let mut stdout = std::io::stdout().lock();
    if json {
        let out = r.restore_long(&text, origin, true);
        serde_json::to_writer_pretty(&mut stdout, &out)?;
        writeln!(stdout)?;
    } else {
        // Block by block, each written when done: memory stays that of one block.
        for block in vnplan::restore::blocks(&text, vnplan::restore::BLOCK_TOKENS) {
            let out = r.restore_blocks_from(&[(block, origin)], false);
            for o in out {
                stdout.write_all(o.text.as_bytes())?;
            }
        }
    }
    Ok(())
}

pub fn lm(command: LmCommand) -> anyhow::Result<()> {
    use vnplan::restore::build;
    let LmCommand::Build {
        corpus,
        out,
        order,
        min_count,
        syllables,
        confusions,
        vie_confusions,
        names,
        dev_every,
        dev_out,
        max_bytes,
        weights,
        smoothing,
        attest,
        attest_plain,
    } = command;
    let smoothing = match smoothing {
        SmoothingArg::Kn => Smoothing::KneserNey,
        SmoothingArg::Jm => Smoothing::Interpolated(5.0),
        SmoothingArg::Mix => Smoothing::Mixed {
            ratio: 5.0,
            kn_weight: 0.5,
        },
    };
    let weights = weights
        .iter()
        .map(|w| {
            let (name, n) = w
                .split_once('=')
                .ok_or_else(|| anyhow::anyhow!("--weight {w}: expected FOLDER=N"))?;
            let n: u32 = n
                .parse()
                .map_err(|_| anyhow::anyhow!("--weight {w}: N must be a whole number"))?;
            Ok((name.to_string(), n))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let first = corpus.first().cloned().unwrap_or_default();
    let root = if first.is_dir() {
        first
    } else {
        first.parent().map(PathBuf::from).unwrap_or_default()
    };
    let syllables = syllables.unwrap_or_else(|| root.join("syllables.txt"));
    let t0 = std::time::Instant::now();
    let stats = build::build(&build::BuildOptions {
        corpus,
        out: out.clone(),
        order,
        min_count,
        syllables,
        confusions,
        vie_confusions,
        names,
        dev_every,
        dev_out,
        dev_max_bytes: 150_000,
        max_bytes,
        weights,
        smoothing,
        attest_min: attest,
        attest_plain,
    })?;
    println!(
        "{}: {} files, {} lines, {} tokens ({} unknown), {} held-out documents",
        out.display(),
        stats.files,
        stats.lines,
        stats.tokens,
        stats.unk_tokens,
        stats.dev_docs
    );
    for (i, (d, k)) in stats.distinct.iter().zip(&stats.kept).enumerate() {
        println!("  {}-grams: {d} distinct, {k} kept", i + 2);
    }
    if !stats.attested.is_empty() {
        let list: Vec<String> = stats
            .attested
            .iter()
            .map(|(w, n)| format!("{w} {n}"))
            .collect();
        println!(
            "  {} syllables added from the corpus: {}",
            list.len(),
            list.join(", ")
        );
    }
    println!(
        "  minimum counts {:?}; {} bytes, {:.1} s",
        stats.min_count,
        stats.file_bytes,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn eval(args: EvalRestoreArgs) -> anyhow::Result<()> {
    use vnplan::restore::eval;
    let EvalRestoreArgs {
        input,
        gold,
        model,
        output,
        params,
        garble,
        ocr,
        documents,
    } = args;
    let mut r = load_restorer(model)?;
    for p in &params {
        r.params.set(p).map_err(anyhow::Error::msg)?;
    }
    let gold_text = read_input(Some(&gold))?;
    let input_text = match &input {
        Some(p) => read_input(Some(p))?,
        None if garble => eval::garble_text(&gold_text, &r.language_model().confusions),
        None => eval::strip_text(&gold_text),
    };
    let t0 = std::time::Instant::now();
    let out = if documents {
        vnplan::restore::Restored::concat(
            eval::documents(&input_text)
                .into_iter()
                .map(|doc| r.restore_long(doc, origin_of(ocr), false)),
        )
    } else {
        r.restore_long(&input_text, origin_of(ocr), false)
    };
    let secs = t0.elapsed().as_secs_f64();
    if let Some(o) = output {
        std::fs::write(&o, &out.text).with_context(|| format!("{}: cannot write", o.display()))?;
    }
    let before = eval::token_accuracy(&input_text, &gold_text);
    let after = eval::token_accuracy(&out.text, &gold_text);
    println!(
                "input {:.2} % -> restored {:.2} % of {} gold tokens ({} matched; {} tokens changed; {:.2} s)",
                100.0 * before.ratio(),
                100.0 * after.ratio(),
                after.total,
                after.matched,
                out.changed,
                secs
            );
    Ok(())
}

/// The lowest, median and highest of some rates (the median of an even count: the mean of the
/// middle two).
fn spread(rates: &[f64]) -> (f64, f64, f64) {
    let mut sorted = rates.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    let median = (sorted[(n - 1) / 2] + sorted[n / 2]) / 2.0;
    (sorted[0], median, sorted[n - 1])
}

pub fn bench(args: BenchRestoreArgs) -> anyhow::Result<()> {
    let BenchRestoreArgs {
        input,
        model,
        tokens,
        params,
        ocr,
        against,
    } = args;
    let origin = origin_of(ocr);
    let path = model.unwrap_or_else(vnplan::restore::default_model_path);
    let t0 = std::time::Instant::now();
    let mut r = vnplan::restore::Restorer::load(&path)?;
    let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
    for p in &params {
        r.params.set(p).map_err(anyhow::Error::msg)?;
    }
    let text = read_input(Some(&input))?;
    let per = text.split_whitespace().count().max(1);
    let rounds = tokens.div_ceil(per);
    let blocks = vnplan::restore::blocks(&text, vnplan::restore::BLOCK_TOKENS);
    let other = if against.is_empty() {
        None
    } else {
        let mut o = vnplan::restore::Restorer::load(&path)?;
        for p in params.iter().chain(&against) {
            o.params.set(p).map_err(anyhow::Error::msg)?;
        }
        Some(o)
    };
    // Warm-up: a long run copies the model's n-gram tables into huge pages once it has decoded
    // `COPY_AFTER_SLOTS` slots, in a thread of its own; the rates of a run that long are of the
    // run after that, and the copy's own time is printed with them. Shorter runs read the
    // mapped file throughout, as they would outside the bench.
    let warm = std::time::Instant::now();
    let mut warm_tokens = 0;
    let copy_after = vnplan::restore::model::COPY_AFTER_SLOTS;
    let long = rounds * per >= copy_after;
    for restorer in std::iter::once(&r).chain(other.as_ref()).filter(|_| long) {
        let mut done = 0;
        while done < copy_after {
            for b in &blocks {
                restorer.restore_blocks_from(&[(b, origin)], false);
            }
            done += per;
        }
        warm_tokens += done;
        let lm = restorer.language_model();
        while lm.copy_running() && warm.elapsed() < std::time::Duration::from_secs(10) {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    // The pipeline's way (text only, page-sized blocks), then with per-token confidences (the
    // `restore --json` way), on the same input. With `--against`, each block goes through both
    // restorers, in turn, the first one alternating by round.
    let mut rates = [[0.0f64; 2]; 2];
    // Per pass, the rate of each round (one pass over the input) of the restorer being measured:
    // how much the host's speed moved during the run.
    let mut round_rates: [Vec<f64>; 2] = Default::default();
    let mut changed = 0;
    for (k, confidence) in [false, true].into_iter().enumerate() {
        let mut secs = [0.0f64; 2];
        changed = 0;
        for round in 0..rounds {
            let before = secs[0];
            for b in &blocks {
                for turn in 0..2 {
                    let which = turn ^ (round % 2);
                    let restorer = match which {
                        0 => &r,
                        _ => match &other {
                            Some(o) => o,
                            None => continue,
                        },
                    };
                    let t1 = std::time::Instant::now();
                    for out in restorer.restore_blocks_from(&[(b, origin)], confidence) {
                        if which == 0 {
                            changed += out.changed;
                        }
                    }
                    secs[which] += t1.elapsed().as_secs_f64();
                }
            }
            round_rates[k].push(per as f64 / (secs[0] - before));
        }
        for (which, s) in secs.iter().enumerate() {
            rates[which][k] = (rounds * per) as f64 / s;
        }
    }
    let [text_only, with_conf] = rates[0];
    println!(
        "model {} loaded in {load_ms:.1} ms; {} tokens ({changed} changed) in blocks of <= {} tokens, one thread:",
        r.model_id(),
        rounds * per,
        vnplan::restore::BLOCK_TOKENS
    );
    println!(
        "  text only (pipeline): {:.0} tokens/s = {:.2} x the 300 k tokens/s target",
        text_only,
        text_only / 300_000.0
    );
    println!(
        "  with confidences (restore --json): {:.0} tokens/s = {:.2} x text only",
        with_conf,
        with_conf / text_only
    );
    if rounds > 1 {
        let [text_rounds, conf_rounds] = round_rates.map(|r| spread(&r));
        println!(
            "  per round of {per} tokens ({rounds} rounds): text only median {:.0}, {:.0}–{:.0} tokens/s; with confidences median {:.0}, {:.0}–{:.0}",
            text_rounds.1, text_rounds.0, text_rounds.2, conf_rounds.1, conf_rounds.0, conf_rounds.2
        );
    }
    if other.is_some() {
        let [o_text, o_conf] = rates[1];
        println!(
            "  against {}: text only {:.0} tokens/s = {:.3} x the reference; with confidences {:.0} = {:.3} x",
            against.join(" "),
            o_text,
            o_text / text_only,
            o_conf,
            o_conf / with_conf
        );
    }
    match r.language_model().tables_copied() {
        Some(took) if warm_tokens > 0 => println!(
            "  after a warm-up of {warm_tokens} tokens, in which the n-gram tables were copied into huge pages ({:.1} ms, a thread of its own)",
            took.as_secs_f64() * 1000.0
        ),
        // Both passes and the second look's decodings together passed the slots that start it.
        Some(took) => println!(
            "  no warm-up: fewer tokens than the {copy_after} that start the copy into huge pages, but the timed runs decoded that many slots; the n-gram tables were copied into huge pages partway through them ({:.1} ms, a thread of its own)",
            took.as_secs_f64() * 1000.0
        ),
        None if warm_tokens == 0 => println!(
            "  no warm-up: fewer tokens than the {copy_after} that start the copy into huge pages; n-gram tables read from the mapped file"
        ),
        None => println!(
            "  after a warm-up of {warm_tokens} tokens; n-gram tables read from the mapped file (no copy in huge pages)"
        ),
    }
    println!("  peak RSS {} MB", peak_rss_kb().unwrap_or(0) / 1024);
    Ok(())
}
