//! The language-model file: one binary, memory-mapped, with a checked header.
//!
//! Layout (little-endian), after the fixed 64-byte header:
//! `magic "VNPLANLM"`, format version, order, vocabulary size, body length, CRC-32 of the body,
//! quantization step and backoff weight. The body is a sequence of sections, each a `u64` byte length
//! followed by its bytes, padded to 8: the vocabulary (newline-separated syllables, id order), unigram
//! log-probabilities (`f32` per id), the abbreviation table, the OCR confusion table, and one probing
//! hash table per order 2..=N. A hash slot is a `u32`: a 24-bit fingerprint of the n-gram and an
//! 8-bit quantized log-probability, so lookups are one hash and a short linear probe, KenLM-style,
//! and nothing is parsed at load time but the small tables.
//!
//! Scores are stupid backoff (Brants et al. 2007): the relative frequency of the longest n-gram seen,
//! times 0.4 per order backed off; they are log-scores, not normalized probabilities.

use std::path::{Path, PathBuf};

use memmap2::Mmap;
use rustc_hash::FxHashMap;

use super::RestoreError;

pub const MAGIC: &[u8; 8] = b"VNPLANLM";
pub const FORMAT_VERSION: u32 = 1;
pub const HEADER_LEN: usize = 64;
/// Highest order the 16-bit id packing of a `u64` key allows.
pub const MAX_ORDER: usize = 4;

/// Reserved ids; syllables follow.
pub const UNK: u16 = 0;
pub const BOS: u16 = 1;
pub const EOS: u16 = 2;
pub const NUM: u16 = 3;
pub const RESERVED: [&str; 4] = ["<unk>", "<s>", "</s>", "<num>"];

/// Slots are filled to at most this share, so probes stay short.
const LOAD_FACTOR: f64 = 0.7;
const FP_BITS: u32 = 24;
const FP_MASK: u32 = (1 << FP_BITS) - 1;

/// Pack up to four ids into one key (first id in the highest bits).
pub fn pack(ids: &[u16]) -> u64 {
    ids.iter().fold(0u64, |k, &id| (k << 16) | u64::from(id))
}

fn mix(mut x: u64) -> u64 {
    // splitmix64 finalizer: good avalanche, so slot and fingerprint bits are independent.
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hash of an n-gram key of the given order: what places it in its table (and in the decoder's
/// lookup memo).
pub fn ngram_hash(key: u64, order: usize) -> u64 {
    mix(key ^ ((order as u64) << 60))
}

fn slot_and_fp(key: u64, order: usize, capacity: usize) -> (usize, u32) {
    slot_and_fp_of_hash(ngram_hash(key, order), capacity)
}

fn slot_and_fp_of_hash(h: u64, capacity: usize) -> (usize, u32) {
    let slot = ((u128::from(h) * capacity as u128) >> 64) as usize;
    let fp = ((h as u32) & FP_MASK).max(1);
    (slot, fp)
}

/// Capacity of the probing table holding `n` entries.
pub fn table_capacity(n: usize) -> usize {
    ((n as f64 / LOAD_FACTOR).ceil() as usize).max(8)
}

/// Build one probing table from (key, quantized value) pairs; deterministic for the same input order.
pub fn build_table(entries: &[(u64, u8)], order: usize) -> Vec<u32> {
    let cap = table_capacity(entries.len());
    let mut slots = vec![0u32; cap];
    for &(key, q) in entries {
        let (mut s, fp) = slot_and_fp(key, order, cap);
        while slots[s] != 0 {
            s += 1;
            if s == cap {
                s = 0;
            }
        }
        slots[s] = (fp << 8) | u32::from(q);
    }
    slots
}

/// What the builder hands to [`write_model`].
pub struct ModelParts {
    pub order: usize,
    pub quant_step: f32,
    pub backoff: f32,
    pub vocab: Vec<String>,
    pub unigram: Vec<f32>,
    /// Lines `stripped\tspelling` for abbreviations written with đ (HĐND, BCĐ) and other fixed forms.
    pub abbreviations: String,
    /// Lines `garbled\tgold\tcount`: token-level OCR confusions for the noisy channel.
    pub confusions: String,
    /// Tables for orders 2..=order, in order.
    pub tables: Vec<Vec<u32>>,
}

fn push_section(body: &mut Vec<u8>, bytes: &[u8]) {
    body.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    body.extend_from_slice(bytes);
    while body.len() % 8 != 0 {
        body.push(0);
    }
}

/// Serialize a model: header + body, the body checksummed.
pub fn encode_model(parts: &ModelParts) -> Vec<u8> {
    let mut body = Vec::new();
    push_section(&mut body, parts.vocab.join("\n").as_bytes());
    let uni: Vec<u8> = parts.unigram.iter().flat_map(|f| f.to_le_bytes()).collect();
    push_section(&mut body, &uni);
    push_section(&mut body, parts.abbreviations.as_bytes());
    push_section(&mut body, parts.confusions.as_bytes());
    for t in &parts.tables {
        let bytes: Vec<u8> = t.iter().flat_map(|v| v.to_le_bytes()).collect();
        push_section(&mut body, &bytes);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(parts.order as u32).to_le_bytes());
    out.extend_from_slice(&(parts.vocab.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&parts.quant_step.to_le_bytes());
    out.extend_from_slice(&parts.backoff.to_le_bytes());
    out.resize(HEADER_LEN, 0);
    out.extend_from_slice(&body);
    out
}

/// Write a model file atomically (temporary file, then rename).
pub fn write_model(path: &Path, parts: &ModelParts) -> std::io::Result<()> {
    let bytes = encode_model(parts);
    let tmp = path.with_extension("lm.tmp");
    std::fs::write(&tmp, &bytes)?;
    std::fs::rename(&tmp, path)
}

/// A loaded, checked model. The n-gram tables stay in the mapped file.
pub struct LanguageModel {
    map: Mmap,
    pub order: usize,
    pub vocab: Vec<String>,
    pub ids: FxHashMap<String, u16>,
    pub unigram: Vec<f32>,
    pub abbreviations: String,
    pub confusions: String,
    /// (byte offset into the map, capacity) per order 2..=order.
    tables: Vec<(usize, usize)>,
    quant_step: f32,
    backoff: f32,
    pub checksum: u32,
    /// `exp` of every quantized log-score, and of every unigram log-score: interpolation sums
    /// probabilities, and a table read is far cheaper than `exp` per lookup.
    quant_prob: [f32; 256],
    unigram_prob: Vec<f32>,
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn prefetch_read(byte: &u8) {
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: a prefetch is a hint; it never faults and the address comes from a live reference.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(byte as *const u8 as *const i8) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn prefetch_read(_byte: &u8) {}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn f32_at(b: &[u8], at: usize) -> f32 {
    f32::from_bits(u32_at(b, at))
}

impl LanguageModel {
    pub fn load(path: &Path) -> Result<LanguageModel, RestoreError> {
        let bad = |cause: String| RestoreError::BadModel {
            path: PathBuf::from(path),
            cause,
        };
        let file = std::fs::File::open(path).map_err(|e| RestoreError::Io {
            path: path.to_path_buf(),
            cause: e,
        })?;
        // SAFETY: the model file is opened read-only and treated as immutable bytes; a concurrent
        // writer would be a misuse (the builder writes a new file and renames it into place).
        let map = unsafe { Mmap::map(&file) }.map_err(|e| RestoreError::Io {
            path: path.to_path_buf(),
            cause: e,
        })?;
        let b = &map[..];
        if b.len() < HEADER_LEN || &b[..8] != MAGIC {
            return Err(bad("not a vnplan language model (bad magic number)".into()));
        }
        let version = u32_at(b, 8);
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version}, this build reads version {FORMAT_VERSION}: rebuild it with `vnplan lm build`"
            )));
        }
        let order = u32_at(b, 12) as usize;
        let vocab_size = u32_at(b, 16) as usize;
        let checksum = u32_at(b, 20);
        let body_len = u64::from_le_bytes(b[24..32].try_into().unwrap_or([0; 8])) as usize;
        let quant_step = f32_at(b, 32);
        let backoff = f32_at(b, 36);
        if !(2..=MAX_ORDER).contains(&order) {
            return Err(bad(format!("order {order} is outside 2..={MAX_ORDER}")));
        }
        if b.len() != HEADER_LEN + body_len {
            return Err(bad(format!(
                "truncated or padded: header says {} bytes, file has {}",
                HEADER_LEN + body_len,
                b.len()
            )));
        }
        let body = &b[HEADER_LEN..];
        let actual = crc32fast::hash(body);
        if actual != checksum {
            return Err(bad(format!(
                "checksum mismatch (header {checksum:08x}, content {actual:08x}): the file is corrupt"
            )));
        }
        // Sections.
        let mut pos = 0usize;
        let mut sections: Vec<(usize, usize)> = Vec::new();
        while pos < body.len() {
            if pos + 8 > body.len() {
                return Err(bad("section table runs past the end".into()));
            }
            let len = u64::from_le_bytes(body[pos..pos + 8].try_into().unwrap_or([0; 8])) as usize;
            let start = pos + 8;
            if start + len > body.len() {
                return Err(bad("section runs past the end".into()));
            }
            sections.push((HEADER_LEN + start, len));
            pos = (start + len).div_ceil(8) * 8;
        }
        if sections.len() != 4 + (order - 1) {
            return Err(bad(format!(
                "{} sections, expected {} for order {order}",
                sections.len(),
                4 + order - 1
            )));
        }
        let text = |i: usize| -> Result<String, RestoreError> {
            let (s, l) = sections[i];
            String::from_utf8(b[s..s + l].to_vec())
                .map_err(|_| bad(format!("section {i} is not UTF-8")))
        };
        let vocab: Vec<String> = text(0)?.split('\n').map(str::to_string).collect();
        if vocab.len() != vocab_size || vocab_size > usize::from(u16::MAX) {
            return Err(bad(format!(
                "vocabulary has {} entries, header says {vocab_size}",
                vocab.len()
            )));
        }
        let (us, ul) = sections[1];
        if ul != vocab_size * 4 {
            return Err(bad(
                "unigram table size does not match the vocabulary".into()
            ));
        }
        let unigram: Vec<f32> = (0..vocab_size).map(|i| f32_at(b, us + 4 * i)).collect();
        let abbreviations = text(2)?;
        let confusions = text(3)?;
        let mut tables = Vec::new();
        for &(s, l) in &sections[4..] {
            if l % 4 != 0 || l == 0 {
                return Err(bad("n-gram table has a bad size".into()));
            }
            tables.push((s, l / 4));
        }
        let ids = vocab
            .iter()
            .enumerate()
            .map(|(i, w)| (w.clone(), i as u16))
            .collect();
        let mut quant_prob = [0f32; 256];
        for (q, p) in quant_prob.iter_mut().enumerate() {
            *p = (-(q as f32) * quant_step).exp();
        }
        let unigram_prob = unigram.iter().map(|l| l.exp()).collect();
        Ok(LanguageModel {
            quant_prob,
            unigram_prob,
            map,
            order,
            vocab,
            ids,
            unigram,
            abbreviations,
            confusions,
            tables,
            quant_step,
            backoff,
            checksum,
        })
    }

    /// Quantized log-score of the n-gram `ids` (order = ids.len() ≥ 2), if stored.
    fn lookup(&self, ids: &[u16]) -> Option<f32> {
        let order = ids.len();
        self.probe(ngram_hash(pack(ids), order), order)
            .map(|q| -(f32::from(q)) * self.quant_step)
    }

    /// The quantized value stored for the n-gram of this order whose [`ngram_hash`] is `h`.
    pub fn probe(&self, h: u64, order: usize) -> Option<u8> {
        let (off, cap) = self.tables[order - 2];
        let (mut s, fp) = slot_and_fp_of_hash(h, cap);
        let b = &self.map[..];
        loop {
            let v = u32_at(b, off + 4 * s);
            if v == 0 {
                return None;
            }
            if v >> 8 == fp {
                return Some(v as u8);
            }
            s += 1;
            if s == cap {
                s = 0;
            }
        }
    }

    /// Ask the CPU to start loading the slots [`Self::score`] will probe for `word` after
    /// `history`. Scoring is bound by memory latency (one cache miss per order); issuing the loads
    /// for a whole lattice column before scoring it lets them overlap.
    pub fn prefetch(&self, history: &[u16], word: u16) {
        let h = &history[history.len().saturating_sub(self.order - 1)..];
        let mut buf = [0u16; MAX_ORDER];
        for n in 2..=h.len() + 1 {
            buf[..n - 1].copy_from_slice(&h[h.len() + 1 - n..]);
            buf[n - 1] = word;
            let (off, cap) = self.tables[n - 2];
            let (s, _) = slot_and_fp(pack(&buf[..n]), n, cap);
            let at = off + 4 * s;
            if at < self.map.len() {
                prefetch_read(&self.map[at]);
            }
        }
    }

    /// [`Self::prefetch`] for one n-gram given its [`ngram_hash`].
    pub fn prefetch_hash(&self, h: u64, order: usize) {
        let (off, cap) = self.tables[order - 2];
        let (s, _) = slot_and_fp_of_hash(h, cap);
        let at = off + 4 * s;
        if at < self.map.len() {
            prefetch_read(&self.map[at]);
        }
    }

    /// Stupid-backoff log-score of `word` after `history` (oldest first; only the last order-1 used).
    ///
    /// Looks up from the bigram upwards and stops at the first miss: pruning thresholds never
    /// decrease with the order, so an n-gram is stored only if its (n-1)-gram suffix is, and most
    /// candidates of a lattice miss already at the bigram (one probe instead of order-1).
    pub fn score(&self, history: &[u16], word: u16) -> f32 {
        self.score_with(history, word, self.backoff)
    }

    /// [`Self::score`] with another backoff log-weight than the model's (decoder tuning).
    pub fn score_with(&self, history: &[u16], word: u16, backoff: f32) -> f32 {
        let mut buf = [0u16; MAX_ORDER];
        let h = &history[history.len().saturating_sub(self.order - 1)..];
        let mut best = self.unigram[usize::from(word)];
        let mut best_n = 1usize;
        for n in 2..=h.len() + 1 {
            buf[..n - 1].copy_from_slice(&h[h.len() + 1 - n..]);
            buf[n - 1] = word;
            match self.lookup(&buf[..n]) {
                Some(lp) => {
                    best = lp;
                    best_n = n;
                }
                None => break,
            }
        }
        best + backoff * (h.len() + 1 - best_n) as f32
    }

    /// Log of a Jelinek–Mercer interpolation of the stored relative frequencies of every order, the
    /// weight of each order `ratio` times the one below. Same lookups as [`Self::score`] (bottom-up,
    /// stopping at the first miss), but a seen higher order does not hide the evidence of the lower
    /// ones; measured on the development split it restores slightly more than stupid backoff.
    pub fn score_interpolated(&self, history: &[u16], word: u16, ratio: f32) -> f32 {
        let mut buf = [0u16; MAX_ORDER];
        let h = &history[history.len().saturating_sub(self.order - 1)..];
        let mut w = 1.0f32;
        let mut total_w = w;
        let mut p = w * self.unigram_prob[usize::from(word)];
        let mut alive = true;
        for n in 2..=h.len() + 1 {
            w *= ratio;
            total_w += w;
            if !alive {
                continue;
            }
            buf[..n - 1].copy_from_slice(&h[h.len() + 1 - n..]);
            buf[n - 1] = word;
            match self.probe(ngram_hash(pack(&buf[..n]), n), n) {
                Some(q) => p += w * self.quant_prob[usize::from(q)],
                None => alive = false,
            }
        }
        (p / total_w).ln()
    }

    /// Probability (not log) of a quantized value from [`Self::probe`].
    pub fn quant_prob(&self, q: u8) -> f32 {
        self.quant_prob[usize::from(q)]
    }

    /// Quantization step (nats) of the stored log-scores.
    pub fn quant_step(&self) -> f32 {
        self.quant_step
    }

    /// Unigram relative frequency (not log) of a unit.
    pub fn unigram_prob(&self, word: u16) -> f32 {
        self.unigram_prob[usize::from(word)]
    }

    pub fn id(&self, word: &str) -> Option<u16> {
        self.ids.get(word).copied()
    }

    /// Backoff log-weight the model was built with.
    pub fn backoff(&self) -> f32 {
        self.backoff
    }

    pub fn file_len(&self) -> usize {
        self.map.len()
    }
}
