//! The language-model file: one binary, memory-mapped, with a checked header.
//!
//! Layout (little-endian), after the fixed 64-byte header:
//! `magic "VNPLANLM"`, format version, order, vocabulary size, CRC-32 of the body, body length,
//! probability and backoff quantization steps. The body is a sequence of sections, each a `u64`
//! byte length followed by its bytes, padded to 8: the vocabulary (newline-separated, id order:
//! the reserved units [`RESERVED`], since format version 6 with the comma, then the syllables),
//! unigram log relative frequencies (`f32` per id, for ranking candidates), unigram
//! Kneser–Ney log-probabilities and log-backoffs (`f32` per id), the case table (per id two bytes:
//! quantized −log P(written with a capital | syllable) and −log P(lowercase | syllable), counted
//! inside sentences), the abbreviation table, the OCR confusion table, and one probing hash table
//! per order 2..=N. A slot is one record: a `u32` holding a 24-bit fingerprint of the n-gram and its
//! 8-bit quantized log-probability, then the quantized log-backoff of the n-gram as a context
//! (orders below N, when the smoothing has backoffs) and the second quantized log-probability (mixed
//! models), one byte each. Everything a lookup needs sits in one record, so a found n-gram costs one
//! cache miss, not one per array. Lookups are one hash and a short linear probe, KenLM-style, in a
//! table ordered by fingerprint along each probe run (format version 5; see [`build_table`]), so
//! a missing n-gram stops as early as a found one. Nothing is parsed at load time but the small
//! tables. A long run copies the n-gram tables into huge pages once it has decoded
//! [`COPY_AFTER_SLOTS`] slots ([`LanguageModel::note_decoded`]); until then, and in short runs,
//! lookups read the mapped file.
//!
//! Scores are interpolated modified Kneser–Ney (Chen & Goodman 1998) in backoff form: the
//! probability of the longest stored n-gram, times the backoffs of the longer contexts.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};
use std::time::{Duration, Instant};

use memmap2::{Advice, Mmap, MmapOptions};
use rustc_hash::FxHashMap;

use super::RestoreError;

pub const MAGIC: &[u8; 8] = b"VNPLANLM";
pub const FORMAT_VERSION: u32 = 6;
pub const HEADER_LEN: usize = 64;
/// Highest order the 16-bit id packing of a `u64` key allows.
pub const MAX_ORDER: usize = 4;

/// Reserved ids; syllables follow.
pub const UNK: u16 = 0;
pub const BOS: u16 = 1;
pub const EOS: u16 = 2;
pub const NUM: u16 = 3;
/// A comma after a word: where a clause ends (`tốt, nhưng` against `những người`).
pub const COMMA: u16 = 4;
pub const RESERVED: [&str; 5] = ["<unk>", "<s>", "</s>", "<num>", "<,>"];

/// Slots are filled to at most this share, so probes stay short.
const LOAD_FACTOR: f64 = 0.75;
const FP_BITS: u32 = 24;
const FP_MASK: u32 = (1 << FP_BITS) - 1;

/// Pack up to four ids into one key (first id in the highest bits).
pub fn pack(ids: &[u16]) -> u64 {
    ids.iter().fold(0u64, |k, &id| (k << 16) | u64::from(id))
}

/// How the stored numbers make a score (recorded in the header).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Smoothing {
    /// Tables hold Kneser–Ney log-probabilities and log-backoffs.
    KneserNey,
    /// Tables hold log relative frequencies; orders are interpolated, each weighted this many
    /// times the one below (Jelinek–Mercer).
    Interpolated(f32),
    /// Both: the slots hold relative frequencies and, in a second byte, the Kneser–Ney
    /// log-probabilities; the score is the weighted mean of the two log-scores (`kn_weight` for
    /// Kneser–Ney).
    Mixed { ratio: f32, kn_weight: f32 },
}

impl Smoothing {
    /// Does the model carry Kneser–Ney backoffs?
    pub fn has_backoffs(self) -> bool {
        !matches!(self, Smoothing::Interpolated(_))
    }

    /// Does the model carry a second probability array?
    pub fn has_second(self) -> bool {
        matches!(self, Smoothing::Mixed { .. })
    }
}

/// What a table stores for one n-gram: quantized −log-probability, −log-backoff and the second
/// −log-probability of a mixed model (0 when absent).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Entry {
    pub prob: u8,
    pub backoff: u8,
    pub second: u8,
}

/// What [`LanguageModel::walk`] found for one word after one context.
#[derive(Debug, Clone, Copy)]
pub struct Walk {
    /// Jelinek–Mercer log-score (0 when the smoothing has none).
    jm: f32,
    /// Kneser–Ney log-probability of the longest stored n-gram, before the context backoffs.
    kn: f32,
    /// Length of the longest context whose n-gram with the word is stored.
    pub matched: usize,
    /// Quantized backoff of each stored n-gram found, by length − 1 (0 for the unigram): the
    /// backoffs of the contexts a state ending in this word will have.
    pub backoffs: [u8; MAX_ORDER],
    kn_weight: f32,
}

impl Walk {
    /// The score, given the summed log-backoffs of the contexts longer than [`Walk::matched`].
    pub fn score(&self, backoff: f32) -> f32 {
        if self.kn_weight <= 0.0 {
            return self.jm;
        }
        let kn = self.kn + backoff;
        if self.kn_weight < 1.0 {
            (1.0 - self.kn_weight) * self.jm + self.kn_weight * kn
        } else {
            kn
        }
    }
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

/// What one slot of the order-`n` table of a model of this order and smoothing holds: whether it
/// has a backoff byte and a second-probability byte after its `u32`.
pub fn record_layout(smoothing: Smoothing, order: usize, n: usize) -> RecordLayout {
    RecordLayout {
        backoff: smoothing.has_backoffs() && n < order,
        second: smoothing.has_second(),
    }
}

/// The bytes of one table slot (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RecordLayout {
    pub backoff: bool,
    pub second: bool,
}

impl RecordLayout {
    pub fn width(self) -> usize {
        4 + usize::from(self.backoff) + usize::from(self.second)
    }
}

/// Build one probing table (records of `layout`) from (key, quantized log-probability, quantized
/// log-backoff, second quantized log-probability) entries; the same bytes for the same entries in
/// any order.
///
/// The table is ordered (Amble & Knuth 1974, "Ordered hash tables"): along the probe run from an
/// entry's home slot to the entry, every record has a smaller fingerprint. Inserting in
/// increasing fingerprint order with plain linear probing gives that order (each new entry is the
/// largest so far, so it takes the first free slot), and a lookup can stop at the first record
/// with a larger fingerprint: a missing n-gram, the common case in a lattice, costs as few slots
/// as a found one (½(1 + 1/(1 − α)) ≈ 2.5 at the load factor of 0.75, against ½(1 + 1/(1 − α)²) ≈
/// 8.5 for unordered linear probing), and mostly one cache line.
pub fn build_table(entries: &[(u64, u8, u8, u8)], order: usize, layout: RecordLayout) -> Vec<u8> {
    let cap = table_capacity(entries.len());
    let w = layout.width();
    let mut placed: Vec<(u32, u64, usize, u8, u8, u8)> = entries
        .iter()
        .map(|&(key, q, b, q2)| {
            let (s, fp) = slot_and_fp(key, order, cap);
            (fp, key, s, q, b, q2)
        })
        .collect();
    // Equal fingerprints (different n-grams) in key order, for bytes that do not depend on the
    // order of `entries`.
    placed.sort_unstable_by_key(|&(fp, key, ..)| (fp, key));
    let mut bytes = vec![0u8; cap * w];
    for (fp, _, mut s, q, b, q2) in placed {
        while u32_at(&bytes, s * w) != 0 {
            s += 1;
            if s == cap {
                s = 0;
            }
        }
        let rec = &mut bytes[s * w..(s + 1) * w];
        rec[..4].copy_from_slice(&((fp << 8) | u32::from(q)).to_le_bytes());
        let mut at = 4;
        if layout.backoff {
            rec[at] = b;
            at += 1;
        }
        if layout.second {
            rec[at] = q2;
        }
    }
    bytes
}

/// What the builder hands to [`write_model`].
pub struct ModelParts {
    pub order: usize,
    pub smoothing: Smoothing,
    pub quant_step: f32,
    pub backoff_step: f32,
    pub vocab: Vec<String>,
    /// Log relative frequency per id (ranking candidates).
    pub unigram: Vec<f32>,
    /// Kneser–Ney unigram log-probability and log-backoff per id.
    pub unigram_kn: Vec<f32>,
    pub unigram_backoff: Vec<f32>,
    /// Per id: quantized −log P(capitalized | syllable), −log P(lowercase | syllable).
    pub case: Vec<u8>,
    /// Lines `stripped\tspelling` for abbreviations written with đ (HĐND, BCĐ) and other fixed forms.
    pub abbreviations: String,
    /// Lines `garbled\tgold\tcount`: token-level OCR confusions for the noisy channel.
    pub confusions: String,
    /// Lines of place names, syllables lowercase and canonical (`phúc chu`): the administrative
    /// units the decoder favours where capitalized words spell one without marks.
    pub names: String,
    /// Tables for orders 2..=order, in order: records laid out by [`record_layout`].
    pub tables: Vec<Vec<u8>>,
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
    for floats in [&parts.unigram, &parts.unigram_kn, &parts.unigram_backoff] {
        let bytes: Vec<u8> = floats.iter().flat_map(|f| f.to_le_bytes()).collect();
        push_section(&mut body, &bytes);
    }
    push_section(&mut body, &parts.case);
    push_section(&mut body, parts.abbreviations.as_bytes());
    push_section(&mut body, parts.confusions.as_bytes());
    push_section(&mut body, parts.names.as_bytes());
    for t in &parts.tables {
        push_section(&mut body, t);
    }
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(parts.order as u32).to_le_bytes());
    out.extend_from_slice(&(parts.vocab.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&(body.len() as u64).to_le_bytes());
    out.extend_from_slice(&parts.quant_step.to_le_bytes());
    out.extend_from_slice(&parts.backoff_step.to_le_bytes());
    let (kind, ratio, kn_weight) = match parts.smoothing {
        Smoothing::KneserNey => (0u32, 0f32, 1f32),
        Smoothing::Interpolated(r) => (1u32, r, 0f32),
        Smoothing::Mixed { ratio, kn_weight } => (2u32, ratio, kn_weight),
    };
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&ratio.to_le_bytes());
    out.extend_from_slice(&kn_weight.to_le_bytes());
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

/// A loaded, checked model. The n-gram tables are read from the mapped file until a copy in huge
/// pages is ready ([`Resident`]).
pub struct LanguageModel {
    map: Arc<Mmap>,
    /// The n-gram tables in huge pages, once a thread started by [`Self::start_copy`] has copied
    /// them (`None`: the copy failed).
    resident: Arc<OnceLock<Option<Resident>>>,
    /// Whether that thread was started.
    copying: AtomicBool,
    copy: Once,
    /// Slots decoded with this model so far, and how many start the copy.
    decoded: AtomicUsize,
    copy_after: AtomicUsize,
    pub order: usize,
    pub smoothing: Smoothing,
    pub vocab: Vec<String>,
    pub ids: FxHashMap<String, u16>,
    /// Log relative frequency per id.
    pub unigram: Vec<f32>,
    /// What a step of the decoder reads of each unit, per id.
    per_unit: Vec<UnitScores>,
    /// Per id: −log P(capitalized | syllable), −log P(lowercase | syllable), in nats.
    case: Vec<[f32; 2]>,
    pub abbreviations: String,
    pub confusions: String,
    pub names: String,
    /// Per order 2..=order: byte offset into the map, capacity, record layout.
    tables: Vec<Table>,
    quant_step: f32,
    backoff_step: f32,
    pub checksum: u32,
    /// `exp` of every quantized value: interpolation sums probabilities, and a table read is far
    /// cheaper than `exp` per lookup.
    quant_prob: [f32; 256],
}

/// The unigram numbers of one unit that scoring it reads, together: one cache line holds those
/// of two units, where separate arrays took a line each (scoring is bound by memory latency).
#[derive(Debug, Clone, Copy, Default)]
#[repr(C, align(32))]
struct UnitScores {
    /// The unigram probability (`exp` of the log relative frequency).
    prob: f32,
    /// The Kneser–Ney unigram log-probability.
    kn: f32,
    /// The Kneser–Ney log-backoff of the unit as a one-unit context.
    backoff: f32,
    /// The Jelinek–Mercer log-score of the unit where no n-gram of it is stored, per context
    /// length below the order, for the model's own interpolation ratio: the most common case of a
    /// lattice, and a table read saves its `ln`. 0 in Kneser–Ney models.
    jm_ln: [f32; MAX_ORDER],
}

/// Sum of the interpolation weights of orders 1 ..= `context` + 1, each `ratio` times the one
/// below: what [`LanguageModel::walk`] divides by.
fn interpolation_total(ratio: f32, context: usize) -> f32 {
    let mut w = 1.0f32;
    let mut total = 1.0f32;
    for _ in 0..context {
        w *= ratio;
        total += w;
    }
    total
}

/// The n-gram tables copied out of the mapped file into anonymous memory advised for huge pages.
///
/// Every lookup lands on a random slot of tables of tens of MB: with 4 KB pages nearly each one
/// also misses the TLB and walks the page tables, with 2 MB pages the tables take a few dozen TLB
/// entries. The kernel maps page-cache pages of the file only 4 KB at a time, so the tables are
/// copied; the header, vocabulary and small tables stay in the map. Measured in one process on
/// the stripped seeds (`bench restore`, the `--against` restorer kept on the mapped file by a
/// temporary switch): the mapped file ran at 0.90–0.95 of the copy text only, 0.89–0.92 with
/// confidences; an earlier trial copying the bigram table alone gained 1.03. The copy (≈ 50 MB
/// more memory) is made by a thread of its own once the model has decoded [`COPY_AFTER_SLOTS`]
/// slots, since it took 11–370 ms here, most of it the first touch of fresh memory: loading
/// stays as fast as mapping, short runs do not copy, and lookups move to the copy when it is
/// done. Where the kernel has no transparent huge pages, there is no copy.
struct Resident {
    bytes: Mmap,
    /// The tables' places in `bytes`.
    tables: Vec<Table>,
    /// How long the copy took.
    took: Duration,
}

/// Slots (≈ tokens) decoded before the n-gram tables are copied into huge pages: the copy took up
/// to 370 ms of a core here, about what 1.08 times the speed saves over 1 M tokens, so a short
/// run (a file of a few pages) never pays for it and a long one (a night's ingest, a benchmark
/// after its warm-up) does.
pub const COPY_AFTER_SLOTS: usize = 100_000;

/// Size of a huge page on x86-64 and AArch64 with 4 KB base pages.
const HUGE_PAGE: usize = 1 << 21;

impl Resident {
    /// The tables of `map` copied into memory advised for huge pages, or `None` where the
    /// advice is refused.
    fn copy(map: &[u8], tables: &[Table]) -> Option<Resident> {
        let started = Instant::now();
        let total: usize = tables.iter().map(Table::bytes).sum();
        // One huge page more, to start the tables on a huge-page boundary.
        let mut anon = MmapOptions::new().len(total + HUGE_PAGE).map_anon().ok()?;
        anon.advise(Advice::HugePage).ok()?;
        let mut at = anon.as_ptr().align_offset(HUGE_PAGE);
        let mut placed = Vec::with_capacity(tables.len());
        for t in tables {
            let n = t.bytes();
            anon[at..at + n].copy_from_slice(&map[t.offset..t.offset + n]);
            placed.push(Table { offset: at, ..*t });
            at += n;
        }
        Some(Resident {
            bytes: anon.make_read_only().ok()?,
            tables: placed,
            took: started.elapsed(),
        })
    }
}

/// Whether the kernel may back memory advised for huge pages with them (Linux with transparent
/// huge pages in `always` or `madvise` mode): where it may not, no copy is made.
pub fn huge_pages_possible() -> bool {
    std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
        .is_ok_and(|mode| !mode.contains("[never]"))
}

/// Where one order's table sits in the map.
#[derive(Debug, Clone, Copy)]
struct Table {
    offset: usize,
    capacity: usize,
    width: usize,
    layout: RecordLayout,
}

impl Table {
    /// How many bytes the table takes.
    fn bytes(&self) -> usize {
        self.capacity * self.width
    }

    /// The record of the n-gram whose [`ngram_hash`] is `h`, in the file bytes `b`.
    fn find(&self, b: &[u8], h: u64) -> Option<Entry> {
        let (mut s, fp) = slot_and_fp_of_hash(h, self.capacity);
        loop {
            let at = self.offset + self.width * s;
            let v = u32_at(b, at);
            // An empty slot ends the run; so does a larger fingerprint, since the table is
            // ordered (see [`build_table`]): the n-gram would have been placed before it.
            if v == 0 || v >> 8 > fp {
                return None;
            }
            if v >> 8 == fp {
                let backoff = if self.layout.backoff { b[at + 4] } else { 0 };
                let second = if self.layout.second {
                    b[at + 4 + usize::from(self.layout.backoff)]
                } else {
                    0
                };
                return Some(Entry {
                    prob: v as u8,
                    backoff,
                    second,
                });
            }
            s += 1;
            if s == self.capacity {
                s = 0;
            }
        }
    }
}

/// Start loading the cache line that holds `at`.
#[cfg(target_arch = "x86_64")]
#[inline]
pub(crate) fn prefetch_read<T>(at: &T) {
    let byte = at as *const T as *const u8;
    use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
    // SAFETY: a prefetch is a hint; it never faults and the address comes from a live reference.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(byte as *const i8) }
}

/// Start loading the cache line that holds `at` (nothing to do on this architecture).
#[cfg(not(target_arch = "x86_64"))]
#[inline]
pub(crate) fn prefetch_read<T>(_at: &T) {}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let bytes: [u8; 4] = b[at..at + 4].try_into().expect("a four-byte range");
    u32::from_le_bytes(bytes)
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
        let backoff_step = f32_at(b, 36);
        let smoothing = match (u32_at(b, 40), f32_at(b, 44), f32_at(b, 48)) {
            (0, _, _) => Smoothing::KneserNey,
            (1, r, _) if r > 0.0 => Smoothing::Interpolated(r),
            (2, ratio, kn_weight) if ratio > 0.0 && (0.0..=1.0).contains(&kn_weight) => {
                Smoothing::Mixed { ratio, kn_weight }
            }
            (k, _, _) => return Err(bad(format!("unknown smoothing kind {k}"))),
        };
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
        let expected = 8 + (order - 1);
        if sections.len() != expected {
            return Err(bad(format!(
                "{} sections, expected {expected} for order {order}",
                sections.len()
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
        if vocab.len() < RESERVED.len() || vocab[..RESERVED.len()] != RESERVED {
            return Err(bad(format!(
                "vocabulary does not start with the reserved units {}",
                RESERVED.join(" ")
            )));
        }
        let floats = |i: usize| -> Result<Vec<f32>, RestoreError> {
            let (us, ul) = sections[i];
            if ul != vocab_size * 4 {
                return Err(bad(format!(
                    "section {i}: unigram table size does not match the vocabulary"
                )));
            }
            Ok((0..vocab_size).map(|k| f32_at(b, us + 4 * k)).collect())
        };
        let unigram = floats(1)?;
        let unigram_kn = floats(2)?;
        let unigram_backoff = floats(3)?;
        let (cs, cl) = sections[4];
        if cl != vocab_size * 2 {
            return Err(bad("case table size does not match the vocabulary".into()));
        }
        let case = (0..vocab_size)
            .map(|k| {
                [
                    f32::from(b[cs + 2 * k]) * quant_step,
                    f32::from(b[cs + 2 * k + 1]) * quant_step,
                ]
            })
            .collect();
        let abbreviations = text(5)?;
        let confusions = text(6)?;
        let names = text(7)?;
        let mut tables = Vec::new();
        for (i, &(s, l)) in sections[8..8 + order - 1].iter().enumerate() {
            let layout = record_layout(smoothing, order, i + 2);
            let width = layout.width();
            if l % width != 0 || l == 0 {
                return Err(bad(format!(
                    "n-gram table of order {} has a bad size ({l} bytes, records of {width})",
                    i + 2
                )));
            }
            tables.push(Table {
                offset: s,
                capacity: l / width,
                width,
                layout,
            });
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
        let per_unit = (0..vocab_size)
            .map(|k| {
                let prob = unigram[k].exp();
                let mut jm_ln = [0.0; MAX_ORDER];
                if let Smoothing::Interpolated(ratio) | Smoothing::Mixed { ratio, .. } = smoothing {
                    for (l, v) in jm_ln.iter_mut().enumerate().take(order) {
                        *v = (prob / interpolation_total(ratio, l)).ln();
                    }
                }
                UnitScores {
                    prob,
                    kn: unigram_kn[k],
                    backoff: unigram_backoff[k],
                    jm_ln,
                }
            })
            .collect();
        let map = Arc::new(map);
        Ok(LanguageModel {
            map,
            resident: Arc::new(OnceLock::new()),
            copy: Once::new(),
            copying: AtomicBool::new(false),
            decoded: AtomicUsize::new(0),
            copy_after: AtomicUsize::new(COPY_AFTER_SLOTS),
            order,
            smoothing,
            vocab,
            ids,
            unigram,
            per_unit,
            case,
            abbreviations,
            confusions,
            names,
            tables,
            quant_step,
            backoff_step,
            checksum,
            quant_prob,
        })
    }

    /// What is stored for the n-gram of this order whose [`ngram_hash`] is `h`: its quantized
    /// log-probability and log-backoff (0 for the top order).
    #[inline]
    pub fn probe(&self, h: u64, order: usize) -> Option<Entry> {
        let (bytes, t) = self.table(order);
        t.find(bytes, h)
    }

    /// The table of one order and the bytes it is in: the copy in huge pages once it is made,
    /// the map before.
    #[inline]
    fn table(&self, order: usize) -> (&[u8], &Table) {
        match self.resident.get() {
            Some(Some(r)) => (&r.bytes, &r.tables[order - 2]),
            _ => (&self.map, &self.tables[order - 2]),
        }
    }

    /// Count `slots` more decoded slots; past [`COPY_AFTER_SLOTS`] (or what [`Self::copy_after`]
    /// set), start copying the n-gram tables into huge pages.
    pub fn note_decoded(&self, slots: usize) {
        let before = self.decoded.fetch_add(slots, Ordering::Relaxed);
        if before + slots >= self.copy_after.load(Ordering::Relaxed) {
            self.start_copy();
        }
    }

    /// Copy the n-gram tables into huge pages once this many slots have been decoded (0: at the
    /// next decoding).
    pub fn copy_after(&self, slots: usize) {
        self.copy_after.store(slots, Ordering::Relaxed);
    }

    /// Whether a copy of the tables into huge pages has been started and is not finished.
    pub fn copy_running(&self) -> bool {
        self.copying.load(Ordering::Acquire) && self.resident.get().is_none()
    }

    /// Start copying the n-gram tables into huge pages ([`Resident`]), once, in a thread of its
    /// own. Lookups read the map until the copy is done.
    fn start_copy(&self) {
        self.copy.call_once(|| {
            let table_bytes: usize = self.tables.iter().map(Table::bytes).sum();
            // Below a huge page there is nothing to gain.
            if table_bytes < HUGE_PAGE || !huge_pages_possible() {
                return;
            }
            let (map, resident, tables) = (
                Arc::clone(&self.map),
                Arc::clone(&self.resident),
                self.tables.clone(),
            );
            // A thread that cannot be started leaves the lookups in the map.
            let spawned = std::thread::Builder::new()
                .name("vnplan-lm-copy".into())
                .spawn(move || {
                    let _ = resident.set(Resident::copy(&map, &tables));
                });
            self.copying.store(spawned.is_ok(), Ordering::Release);
        });
    }

    /// How long copying the n-gram tables into huge pages took, once it is done ([`Resident`]);
    /// `None` while it runs, and where there is no copy.
    pub fn tables_copied(&self) -> Option<Duration> {
        self.resident.get().and_then(Option::as_ref).map(|r| r.took)
    }

    /// Start loading the table slot of one n-gram given its [`ngram_hash`]. Scoring is bound by
    /// memory latency (one cache miss per order); issuing the loads for a whole lattice column
    /// before scoring it lets them overlap.
    #[inline]
    pub fn prefetch_hash(&self, h: u64, order: usize) {
        let (bytes, t) = self.table(order);
        let (s, _) = slot_and_fp_of_hash(h, t.capacity);
        let at = t.offset + t.width * s;
        // A record can straddle two cache lines.
        let end = at + t.width - 1;
        if end < bytes.len() {
            prefetch_read(&bytes[at]);
            if end / 64 != at / 64 {
                prefetch_read(&bytes[end]);
            }
        }
    }

    /// Kneser–Ney log-probability of `word` after `history` (oldest first; only the last order-1
    /// used), looking n-grams up directly.
    pub fn score(&self, history: &[u16], word: u16) -> f32 {
        self.score_by(history, word, |key, order| {
            self.probe(ngram_hash(key, order), order)
        })
    }

    /// [`Self::score`] over any lookup of (packed key, order) → stored entry (the decoder passes a
    /// memoized one).
    ///
    /// Backoff form: the probability of the longest stored n-gram ending in `word`, plus the
    /// log-backoffs of the longer contexts. Looks up from the bigram upwards and stops at the first
    /// miss: pruning thresholds never decrease with the order, so an n-gram is stored only if its
    /// suffix is, and most candidates of a lattice miss already at the bigram. Likewise a context is
    /// stored only if its own suffix is, so the backoffs stop at the first context not stored.
    pub fn score_by(
        &self,
        history: &[u16],
        word: u16,
        lookup: impl FnMut(u64, usize) -> Option<Entry>,
    ) -> f32 {
        self.score_as(self.smoothing, history, word, lookup)
    }

    /// [`Self::score_by`] with another weighting of the same stored numbers (the decoder's
    /// `kn_weight` override of a mixed model, for tuning).
    pub fn score_as(
        &self,
        smoothing: Smoothing,
        history: &[u16],
        word: u16,
        mut lookup: impl FnMut(u64, usize) -> Option<Entry>,
    ) -> f32 {
        let h = &history[history.len().saturating_sub(self.order - 1)..];
        let walk = self.walk(smoothing, h, word, h.len(), &mut lookup);
        // Kneser–Ney backoff form: the backoffs of the contexts longer than the match. A context
        // is stored only if its own suffix is, so they stop at the first context not stored.
        let mut backoff = 0.0f32;
        if walk.kn_weight > 0.0 {
            let l = h.len();
            for k in walk.matched + 1..=l {
                let ctx = &h[l - k..];
                let stored = if k == 1 {
                    None
                } else {
                    match lookup(pack(ctx), k) {
                        Some(e) => Some(e.backoff),
                        None => break,
                    }
                };
                backoff += self.context_backoff(ctx[ctx.len() - 1], stored);
            }
        }
        walk.score(backoff)
    }

    /// The n-gram half of a score: `word` after the context `h` (at most order-1 units, oldest
    /// first), looking up orders 2 ..= `max_context` + 1 from the bigram upwards to the first miss.
    /// Pruning thresholds never decrease with the order, so an n-gram is stored only if its
    /// prefix and its suffix are: a caller that knows only the last `max_context` units of `h`
    /// form a stored n-gram can skip the longer lookups, which would miss. [`Walk::score`] adds
    /// the context backoffs.
    pub fn walk(
        &self,
        smoothing: Smoothing,
        h: &[u16],
        word: u16,
        max_context: usize,
        mut lookup: impl FnMut(u64, usize) -> Option<Entry>,
    ) -> Walk {
        let (ratio, kn_weight, kn_in_second) = match smoothing {
            Smoothing::Interpolated(r) => (r, 0.0, false),
            Smoothing::KneserNey => (0.0, 1.0, false),
            Smoothing::Mixed { ratio, kn_weight } => (ratio, kn_weight, true),
        };
        let l = h.len();
        let unit = &self.per_unit[usize::from(word)];
        // The context of the n-gram being looked up, packed: the last n-1 units of `h`.
        let mut context = 0u64;
        // One walk up the orders serves both: the same n-grams, bottom-up to the first miss.
        // Jelinek–Mercer sums the relative frequencies of every order found, each order weighted
        // `ratio` times the one below (a seen higher order does not hide the lower ones);
        // Kneser–Ney takes the longest found.
        let mut w = 1.0f32;
        let mut total_w = 1.0f32;
        let mut walk = Walk {
            jm: unit.prob,
            kn: unit.kn,
            matched: 0,
            backoffs: [0; MAX_ORDER],
            kn_weight,
        };
        for n in 2..=l + 1 {
            w *= ratio;
            total_w += w;
            if walk.matched + 2 < n || n - 1 > max_context {
                continue;
            }
            context |= u64::from(h[l + 1 - n]) << (16 * (n - 2));
            if let Some(e) = lookup((context << 16) | u64::from(word), n) {
                walk.jm += w * self.quant_prob[usize::from(e.prob)];
                let q = if kn_in_second { e.second } else { e.prob };
                walk.kn = -f32::from(q) * self.quant_step;
                walk.matched = n - 1;
                walk.backoffs[n - 1] = e.backoff;
            }
        }
        walk.jm = if kn_weight >= 1.0 {
            0.0
        } else if walk.matched == 0 && Some(ratio) == self.own_ratio() && l < self.order {
            // Nothing above the unigram was found: the same number, computed at load.
            unit.jm_ln[l]
        } else {
            (walk.jm / total_w).ln()
        };
        walk
    }

    /// The Kneser–Ney log-probability of `b` after `a`, given what the lookup of the bigram found
    /// (`second`: the Kneser–Ney number is the entry's second, as in mixed models).
    pub fn kn_bigram(&self, a: u16, b: u16, found: Option<Entry>, second: bool) -> f32 {
        match found {
            Some(e) => -f32::from(if second { e.second } else { e.prob }) * self.quant_step,
            None => self.per_unit[usize::from(b)].kn + self.per_unit[usize::from(a)].backoff,
        }
    }

    /// The unigram Kneser–Ney log-probability of `word`.
    pub fn kn_unigram(&self, word: u16) -> f32 {
        self.per_unit[usize::from(word)].kn
    }

    /// The log-backoff of the one-unit context `unit` in a Kneser–Ney bigram the model does not
    /// store ([`Self::kn_bigram`]).
    pub fn kn_unigram_backoff(&self, unit: u16) -> f32 {
        self.per_unit[usize::from(unit)].backoff
    }

    /// The interpolation ratio the model was built with, if it interpolates.
    fn own_ratio(&self) -> Option<f32> {
        match self.smoothing {
            Smoothing::Interpolated(r) | Smoothing::Mixed { ratio: r, .. } => Some(r),
            Smoothing::KneserNey => None,
        }
    }

    /// Log-backoff of a context whose own n-gram entry carried `backoff` (order ≥ 2), or of the
    /// one-unit context `unit`.
    pub fn context_backoff(&self, unit: u16, backoff: Option<u8>) -> f32 {
        match backoff {
            Some(b) => -f32::from(b) * self.backoff_step,
            None => self.per_unit[usize::from(unit)].backoff,
        }
    }

    /// −log P(written capitalized | syllable) and −log P(lowercase | syllable), counted inside
    /// sentences in the corpus.
    pub fn case_cost(&self, word: u16) -> [f32; 2] {
        self.case
            .get(usize::from(word))
            .copied()
            .unwrap_or([0.0; 2])
    }

    pub fn id(&self, word: &str) -> Option<u16> {
        self.ids.get(word).copied()
    }

    pub fn file_len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries with keys spread like n-grams of a small vocabulary, and distinct values.
    fn entries(n: usize) -> Vec<(u64, u8, u8, u8)> {
        (0..n as u64)
            .map(|i| {
                let key = pack(&[(i % 997) as u16 + 4, (i / 997) as u16 + 4, 7]);
                (key, (i % 251) as u8 + 1, (i % 13) as u8, (i % 7) as u8)
            })
            .collect()
    }

    fn table(n: usize, layout: RecordLayout) -> Table {
        Table {
            offset: 0,
            capacity: table_capacity(n),
            width: layout.width(),
            layout,
        }
    }

    #[test]
    fn ordered_tables_find_every_entry_and_stop_early_on_missing_ones() {
        let layout = RecordLayout {
            backoff: true,
            second: true,
        };
        let order = 3;
        let es = entries(20_000);
        let bytes = build_table(&es, order, layout);
        // The same bytes whatever order the entries come in.
        let mut reversed = es.clone();
        reversed.reverse();
        assert!(build_table(&reversed, order, layout) == bytes);
        let t = table(es.len(), layout);
        for &(key, q, b, q2) in &es {
            let e = t.find(&bytes, ngram_hash(key, order));
            assert_eq!(e.map(|e| (e.prob, e.backoff, e.second)), Some((q, b, q2)));
        }
        // Missing n-grams: the ordered search stops at a larger fingerprint; a search of the whole
        // run up to the next empty slot finds nothing either, bar a fingerprint shared by chance.
        let (mut slots_ordered, mut slots_run) = (0usize, 0usize);
        let (mut shared, mut found) = (0usize, 0usize);
        for i in 0..20_000u64 {
            let key = pack(&[(i % 991) as u16 + 4, (i / 991) as u16 + 4, 8]);
            let h = ngram_hash(key, order);
            let (home, fp) = slot_and_fp_of_hash(h, t.capacity);
            let mut s = home;
            let mut stopped = false;
            loop {
                let v = u32_at(&bytes, s * t.width);
                if v == 0 {
                    break;
                }
                if v >> 8 > fp {
                    stopped = true;
                }
                if !stopped {
                    slots_ordered += 1;
                }
                slots_run += 1;
                shared += usize::from(v >> 8 == fp);
                s = (s + 1) % t.capacity;
            }
            if t.find(&bytes, h).is_some() {
                found += 1;
            }
        }
        assert!(shared <= 2, "{shared} fingerprints shared by chance");
        assert!(found <= shared, "{found} missing n-grams found");
        // About 2.5 slots against 8.5 at a load of 0.75.
        assert!(
            slots_ordered * 2 < slots_run,
            "ordered {slots_ordered} slots, whole runs {slots_run}"
        );
    }

    #[test]
    fn tables_copied_for_huge_pages_answer_as_the_map_does() {
        // Two tables one after another in a file-like buffer, at an odd offset.
        let layout = RecordLayout {
            backoff: true,
            second: true,
        };
        let es = entries(30_000);
        let (bigrams, trigrams) = (&es[..10_000], &es[10_000..]);
        let mut file = vec![0u8; 24];
        let mut tables = Vec::new();
        for (part, order) in [(bigrams, 2), (trigrams, 3)] {
            let t = Table {
                offset: file.len(),
                ..table(part.len(), layout)
            };
            file.extend(build_table(part, order, layout));
            tables.push(t);
        }
        let Some(copy) = Resident::copy(&file, &tables) else {
            // A kernel without transparent huge pages refuses the advice: nothing to check.
            return;
        };
        let start = copy.bytes.as_ptr() as usize + copy.tables[0].offset;
        assert_eq!(start % HUGE_PAGE, 0, "starts on a huge page");
        for (part, order, i) in [(bigrams, 2, 0), (trigrams, 3, 1)] {
            for &(key, ..) in part {
                let h = ngram_hash(key, order);
                let (mapped, copied) = (
                    tables[i].find(&file, h),
                    copy.tables[i].find(&copy.bytes, h),
                );
                assert!(mapped.is_some());
                assert_eq!(mapped, copied);
            }
            // Missing n-grams are missing from both.
            for k in 0..2_000u64 {
                let h = ngram_hash(pack(&[k as u16 + 4, 9, 9]), order);
                assert_eq!(
                    tables[i].find(&file, h).is_some(),
                    copy.tables[i].find(&copy.bytes, h).is_some()
                );
            }
        }
    }
}
