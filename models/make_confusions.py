#!/usr/bin/env python3
"""Make OCR confusion pairs for the restoration model's noisy channel.

Renders corpus lines as degraded 300 DPI scans (the degradation of ../shared/scans/recipe), reads them
with `tesseract -l eng` (what English-model OCR makes of Vietnamese, like seeds 000 and 004) or, with
`--lang vie`, with Tesseract's Vietnamese model (what the pipeline reads scans with: it confuses the
marks of circumflex letters, dân → dần, chi → chỉ), aligns the output with the rendered text token by
token and counts (correct token, OCR token) pairs.

Usage: make_confusions.py [--lang eng|vie] RECIPE_DIR OUT.tsv PAGES SEED CORPUS.txt.xz...
Output: `gold_token<TAB>tesseract_eng_output<TAB>count` (`tesseract_vie_output` with `--lang vie`), the format of
../shared/corpus/ocr_eng_confusions_synthetic.tsv (merge the two with `--confusions` of
`vnplan lm build`, which takes one file: concatenate them without the second header).
Development split: documents the model holds out (every 50th, the 25th, 75th, ...) are skipped.
Needs Pillow, numpy, scipy, fonts-liberation2 and tesseract-ocr-eng (or -vie).
"""
import collections, lzma, os, random, subprocess, sys, tempfile, unicodedata

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ARGS = sys.argv[1:]
LANG = "eng"
if ARGS[:1] == ["--lang"]:
    LANG, ARGS = ARGS[1], ARGS[2:]
RECIPE, OUT, PAGES, SEED = ARGS[0], ARGS[1], int(ARGS[2]), int(ARGS[3])
SOURCES = ARGS[4:]
sys.path.insert(0, RECIPE)
from make_pages import degrade  # noqa: E402  (the recipe's scanner model)

FONT = "/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf"
DPI = 300
W, H = 2480, 3508
LEFT, RIGHT, TOP = int(30 / 25.4 * DPI), int(20 / 25.4 * DPI), int(20 / 25.4 * DPI)
PT = 14
LINE = int(PT / 72 * DPI * 1.25)


def lines_of(path, rng, want):
    """Paragraph lines of the counted documents, sampled."""
    out, doc, prev_blank = [], 0, True
    with lzma.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                if not prev_blank:
                    doc += 1
                prev_blank = True
                continue
            prev_blank = False
            if doc % 50 == 25 or len(line) < 40:
                continue
            out.append(unicodedata.normalize("NFC", line))
    rng.shuffle(out)
    return out[:want]


def wrap(text, font, width):
    words, lines, cur = text.split(), [], ""
    for w in words:
        t = (cur + " " + w).strip()
        if font.getlength(t) <= width or not cur:
            cur = t
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    return lines


def main():
    rng = random.Random(SEED)
    nrng = np.random.default_rng(SEED)
    font = ImageFont.truetype(FONT, int(PT / 72 * DPI))
    per_page = (H - 2 * TOP) // LINE
    paragraphs = []
    for src in SOURCES:
        paragraphs += lines_of(src, rng, PAGES * 12 // len(SOURCES) + 10)
    rng.shuffle(paragraphs)
    rendered = []
    for p in paragraphs:
        rendered += wrap(p, font, W - LEFT - RIGHT)
    pairs = collections.Counter()
    lines_used = 0
    with tempfile.TemporaryDirectory() as tmp:
        for page in range(PAGES):
            gt = rendered[page * per_page:(page + 1) * per_page]
            if not gt:
                break
            img = Image.new("L", (W, H), 255)
            d = ImageDraw.Draw(img)
            for i, l in enumerate(gt):
                d.text((LEFT, TOP + i * LINE), l, font=font, fill=0)
            arr, _ = degrade(img, DPI, nrng)
            path = os.path.join(tmp, f"p{page}.png")
            Image.fromarray(arr.astype(np.uint8)).save(path, dpi=(DPI, DPI))
            ocr = subprocess.run(
                ["tesseract", path, "-", "-l", LANG, "--psm", "6"],
                capture_output=True, text=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            ).stdout
            got = [l for l in ocr.splitlines() if l.strip()]
            if len(got) != len(gt):
                continue
            for g, o in zip(gt, got):
                gt_toks, o_toks = g.split(), o.split()
                if len(gt_toks) != len(o_toks):
                    continue
                lines_used += 1
                for a, b in zip(gt_toks, o_toks):
                    pairs[(a, unicodedata.normalize("NFC", b))] += 1
            print(f"page {page + 1}/{PAGES}: {lines_used} lines aligned, {len(pairs)} pairs",
                  file=sys.stderr, flush=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(f"gold_token\ttesseract_{LANG}_output\tcount\n")
        for (a, b), c in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0])):
            f.write(f"{a}\t{b}\t{c}\n")


if __name__ == "__main__":
    main()
