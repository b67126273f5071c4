//! `vnplan lm build`: count a syllable n-gram model from xz-compressed corpus text and write it.
//!
//! Input: corpus folders or files (`*.txt.xz` or plain `*.txt`, one paragraph per line, a blank line
//! between documents), the syllable inventory, optionally the OCR confusion table. Every word is
//! lowercased and given canonical tone placement ("hoà" → "hòa") before counting, since sources mix
//! both styles. Every `dev_every`-th document goes to the development split instead of the counts.
//! Output: a model file (see [`super::model`]). Files are read in sorted order and tables built from
//! sorted keys, so the same input gives the same bytes.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::model::{
    build_table, pack, table_capacity, write_model, ModelParts, MAX_ORDER, RESERVED,
};
use super::token::{is_word, line_units, split_core, syllable_key};
use crate::vietnamese::strip_marks;

/// What to build and from where.
pub struct BuildOptions {
    pub corpus: Vec<PathBuf>,
    pub out: PathBuf,
    pub order: usize,
    /// Minimum count to keep an n-gram, for orders 2, 3, 4 (pruning keeps the file small).
    pub min_count: Vec<u32>,
    pub syllables: PathBuf,
    pub confusions: Option<PathBuf>,
    /// Every n-th document (counted per file) is held out; 0 holds out nothing.
    pub dev_every: usize,
    /// Where the held-out documents go (one file per corpus folder), at most `dev_max_bytes` taken
    /// from each corpus file, so every file of a folder is represented.
    pub dev_out: Option<PathBuf>,
    pub dev_max_bytes: usize,
    /// Raise the minimum counts (highest order first) until the n-gram tables fit this many bytes.
    pub max_bytes: Option<usize>,
    /// Count weights per corpus folder name (in-domain text counts more: legal, administrative).
    pub weights: Vec<(String, u32)>,
}

/// Numbers a build reports.
#[derive(Debug, Default)]
pub struct BuildStats {
    pub files: usize,
    pub lines: u64,
    pub tokens: u64,
    pub unk_tokens: u64,
    pub dev_docs: u64,
    pub kept: Vec<usize>,
    pub distinct: Vec<usize>,
    pub file_bytes: usize,
    pub min_count: Vec<u32>,
}

fn io_err(path: &Path, e: std::io::Error) -> anyhow::Error {
    anyhow::anyhow!("{}: {e}", path.display())
}

fn corpus_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                let rd = std::fs::read_dir(&d).map_err(|e| io_err(&d, e))?;
                for entry in rd {
                    let path = entry.map_err(|e| io_err(&d, e))?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else {
                        let name = path.to_string_lossy();
                        if name.ends_with(".txt.xz") || name.ends_with(".txt") {
                            out.push(path);
                        }
                    }
                }
            }
        } else if p.is_file() {
            out.push(p.clone());
        } else {
            anyhow::bail!("{}: no such corpus file or folder", p.display());
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        anyhow::bail!("no corpus files (*.txt.xz, *.txt) under the given paths");
    }
    Ok(out)
}

fn open_text(path: &Path) -> anyhow::Result<Box<dyn BufRead>> {
    let f = std::fs::File::open(path).map_err(|e| io_err(path, e))?;
    let r: Box<dyn Read> = if path.to_string_lossy().ends_with(".xz") {
        Box::new(xz2::read::XzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Ok(Box::new(BufReader::with_capacity(1 << 20, r)))
}

/// Read the syllable inventory: one syllable a line, lowercase.
pub fn read_vocab(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let mut vocab: Vec<String> = RESERVED.iter().map(|s| s.to_string()).collect();
    let mut seen: FxHashMap<String, ()> = FxHashMap::default();
    for line in text.lines() {
        let w = line.split('\t').next().unwrap_or("").trim();
        if w.is_empty() || !is_word(w) {
            continue;
        }
        let key = syllable_key(w);
        if seen.insert(key.clone(), ()).is_none() {
            vocab.push(key);
        }
    }
    if vocab.len() > usize::from(u16::MAX) {
        anyhow::bail!("{}: more than 65535 syllables", path.display());
    }
    Ok(vocab)
}

/// Abbreviation segments seen in the corpus (all capitals, not a syllable): HĐND, BCĐ, QĐ.
fn note_abbreviations(line: &str, ids: &FxHashMap<String, u16>, abbr: &mut FxHashMap<String, u32>) {
    for tok in line.split_whitespace() {
        let (s, e) = split_core(tok);
        let core = &tok[s..e];
        let in_code = core.contains(['-', '/']);
        for seg in core.split(['-', '/']) {
            let n = seg.chars().count();
            if !(2..=8).contains(&n) || !seg.chars().all(|c| c.is_alphabetic() && c.is_uppercase())
            {
                continue;
            }
            if !in_code && ids.contains_key(&syllable_key(seg)) {
                continue;
            }
            *abbr.entry(seg.to_string()).or_insert(0) += 1;
        }
    }
}

/// Build the model; returns what was counted and kept.
pub fn build(opts: &BuildOptions) -> anyhow::Result<BuildStats> {
    if !(3..=MAX_ORDER).contains(&opts.order) {
        anyhow::bail!("order must be 3 or {MAX_ORDER}, got {}", opts.order);
    }
    // Lookups stop at the first missing order (see `LanguageModel::score`), which is only right
    // when a kept n-gram's suffix is kept too: thresholds must not decrease with the order.
    if opts.min_count.windows(2).any(|w| w[1] < w[0]) {
        anyhow::bail!(
            "minimum counts must not decrease with the order: {:?}",
            opts.min_count
        );
    }
    let vocab = read_vocab(&opts.syllables)?;
    let ids: FxHashMap<String, u16> = vocab
        .iter()
        .enumerate()
        .map(|(i, w)| (w.clone(), i as u16))
        .collect();
    let files = corpus_files(&opts.corpus)?;
    let mut stats = BuildStats {
        files: files.len(),
        ..Default::default()
    };
    let order = opts.order;
    let mut unigram = vec![0u64; vocab.len()];
    let mut counts: Vec<FxHashMap<u64, u32>> =
        (0..order - 1).map(|_| FxHashMap::default()).collect();
    let mut abbr: FxHashMap<String, u32> = FxHashMap::default();
    // Raw core → unit, so each distinct spelling is lowercased and canonicalized once.
    let mut cache: FxHashMap<String, Option<u16>> = FxHashMap::default();
    let mut units = Vec::new();
    let mut dev_writers: FxHashMap<PathBuf, (std::fs::File, usize)> = FxHashMap::default();
    if let Some(d) = &opts.dev_out {
        std::fs::create_dir_all(d).map_err(|e| io_err(d, e))?;
    }
    for path in &files {
        let reader = open_text(path)?;
        let mut doc = 0usize;
        let mut prev_blank = true;
        let mut dev_written = 0usize;
        let weight = opts
            .weights
            .iter()
            .find(|(name, _)| path.components().any(|c| c.as_os_str() == name.as_str()))
            .map(|w| w.1)
            .unwrap_or(1);
        let folder = path
            .parent()
            .and_then(|p| p.file_name())
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "corpus".into());
        for line in reader.lines() {
            let line = line.map_err(|e| io_err(path, e))?;
            let blank = line.trim().is_empty();
            if blank {
                if !prev_blank {
                    doc += 1;
                }
                prev_blank = true;
                continue;
            }
            prev_blank = false;
            if opts.dev_every > 0 && doc % opts.dev_every == opts.dev_every / 2 {
                if let Some(d) = &opts.dev_out {
                    let dev_path = d.join(format!("{folder}.txt"));
                    if !dev_writers.contains_key(&dev_path) {
                        let f =
                            std::fs::File::create(&dev_path).map_err(|e| io_err(&dev_path, e))?;
                        dev_writers.insert(dev_path.clone(), (f, 0));
                    }
                    if let Some((f, _)) = dev_writers.get_mut(&dev_path) {
                        if dev_written < opts.dev_max_bytes {
                            writeln!(f, "{line}").map_err(|e| io_err(&dev_path, e))?;
                            dev_written += line.len() + 1;
                        }
                    }
                }
                continue;
            }
            stats.lines += 1;
            note_abbreviations(&line, &ids, &mut abbr);
            let mut lookup = |core: &str| -> Option<u16> {
                if let Some(u) = cache.get(core) {
                    return *u;
                }
                let u = ids.get(&syllable_key(core)).copied();
                cache.insert(core.to_string(), u);
                u
            };
            line_units(&line, &mut lookup, &mut units);
            for (i, &u) in units.iter().enumerate() {
                unigram[usize::from(u)] += u64::from(weight);
                for n in 2..=order {
                    if i + 1 >= n {
                        let key = pack(&units[i + 1 - n..=i]);
                        *counts[n - 2].entry(key).or_insert(0) += weight;
                    }
                }
            }
            stats.tokens += units.len() as u64;
            stats.unk_tokens += units.iter().filter(|&&u| u == 0).count() as u64;
        }
        stats.dev_docs += (doc / opts.dev_every.max(1)) as u64;
    }
    // Unigram log relative frequency; unseen syllables get half a count.
    let total: u64 = unigram.iter().sum::<u64>().max(1);
    let uni_lp: Vec<f32> = unigram
        .iter()
        .map(|&c| ((c as f64).max(0.5) / total as f64).ln() as f32)
        .collect();
    let quant_step = 0.1f32;
    let mut min_count: Vec<u32> = (2..=order)
        .map(|n| opts.min_count.get(n - 2).copied().unwrap_or(1).max(1))
        .collect();
    if let Some(budget) = opts.max_bytes {
        // Bytes of the tables at given thresholds: one u32 slot per entry over the load factor.
        let size = |mins: &[u32]| -> usize {
            counts
                .iter()
                .zip(mins)
                .map(|(m, &t)| 4 * table_capacity(m.values().filter(|&&c| c >= t).count()))
                .sum()
        };
        let top = min_count.len() - 1;
        while size(&min_count) > budget {
            // Raise the highest order first; a lower order follows only when the one above it
            // has reached twice its threshold, so the pruning stays as light as the budget allows.
            let mut i = top;
            while i > 0 && min_count[i] >= 2 * min_count[i - 1] {
                i -= 1;
            }
            min_count[i] += 1;
            if min_count[0] > 1000 {
                anyhow::bail!("cannot fit the model into {budget} bytes");
            }
        }
        for i in 1..min_count.len() {
            min_count[i] = min_count[i].max(min_count[i - 1]);
        }
    }
    stats.min_count = min_count.clone();
    let mut tables = Vec::new();
    for n in 2..=order {
        let min = min_count[n - 2];
        let map = &counts[n - 2];
        stats.distinct.push(map.len());
        let mut entries: Vec<(u64, u8)> = Vec::new();
        for (&key, &c) in map {
            if c < min {
                continue;
            }
            let ctx = key >> 16;
            let ctx_count = if n == 2 {
                unigram[ctx as usize]
            } else {
                u64::from(counts[n - 3].get(&ctx).copied().unwrap_or(c))
            };
            let lp = (f64::from(c) / ctx_count.max(u64::from(c)) as f64).ln();
            let q = (-lp / f64::from(quant_step)).round().clamp(0.0, 255.0) as u8;
            entries.push((key, q));
        }
        entries.sort_unstable();
        stats.kept.push(entries.len());
        tables.push(build_table(&entries, n));
    }
    // Abbreviations: the most frequent spelling of each stripped form, when it carries a mark.
    let mut by_key: FxHashMap<String, Vec<(String, u32)>> = FxHashMap::default();
    for (form, c) in abbr {
        by_key
            .entry(strip_marks(&form))
            .or_default()
            .push((form, c));
    }
    let mut abbr_lines: Vec<String> = Vec::new();
    for (key, mut forms) in by_key {
        forms.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (best, c) = &forms[0];
        let plain = forms.iter().find(|f| f.0 == key).map(|f| f.1).unwrap_or(0);
        // Frequent unmarked abbreviations are kept too (CP, UBND), so that OCR repairs of
        // abbreviations (P read for Đ) never rewrite a real one.
        // Forms with đ are rare in running text (ĐU, BCĐ live in document headers): a lower bar.
        if (*best == key && *c >= 20) || (*best != key && *c >= 5 && *c > plain.saturating_mul(3)) {
            abbr_lines.push(format!("{key}\t{best}"));
        }
    }
    abbr_lines.sort();
    let confusions = match &opts.confusions {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| io_err(p, e))?;
            let mut lines: Vec<String> = Vec::new();
            for l in text.lines().skip(1) {
                let f: Vec<&str> = l.split('\t').collect();
                if f.len() == 3 && f[2].parse::<u32>().is_ok() {
                    lines.push(format!("{}\t{}\t{}", f[1], f[0], f[2]));
                }
            }
            lines.join("\n")
        }
        None => String::new(),
    };
    let parts = ModelParts {
        order,
        quant_step,
        backoff: 0.4f32.ln(),
        vocab,
        unigram: uni_lp,
        abbreviations: abbr_lines.join("\n"),
        confusions,
        tables,
    };
    if let Some(dir) = opts.out.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
        }
    }
    write_model(&opts.out, &parts).map_err(|e| io_err(&opts.out, e))?;
    stats.file_bytes = std::fs::metadata(&opts.out)
        .map_err(|e| io_err(&opts.out, e))?
        .len() as usize;
    Ok(stats)
}
