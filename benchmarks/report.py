"""What ``kocr eval --report`` costs on a large evaluation: time, memory and the report's size.

    python -m benchmarks.report [--lines 100000] [--error-rate 0.3] [--worst 50] [-o report.html]

No model runs: ``--lines`` synthetic results (Korean sentences of 4–30 characters drawn from the KS X
1001 syllables and a few digits and punctuation marks, seeded) are read by a stand-in "model" that
misreads a ``--error-rate`` share of them the way OCR does — a syllable's jamo changed (각 → 갂), a
character dropped or added, a space lost — with lower confidence on the misread ones. Each result goes
through the same path as ``kocr eval --report``: a :class:`kocr.evaluate.ScoredSample` to
:meth:`kocr.report.lines.LineReportCollector.add`, then :func:`kocr.report.lines.write_line_report`.
Images are drawn only when the report asks for one (the worst lines and the confusion examples), as
``kocr eval`` reads back only those.

Prints: seconds spent in the report's collector (per line, µs; making and scoring the synthetic
results apart) and to write the report (matplotlib's import included), the
process's peak memory (resident set, so the interpreter and libraries count too) and the report's size in
bytes, with the number of images and confusion pairs in it.
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

from kocr.charsets.hangul import join_syllable, ks_x_1001_syllables, split_syllable
from kocr.evaluate import DatasetSummary, EvalReport, EvalRow, ScoredSample
from kocr.metrics import sample_cer
from kocr.report.lines import LineReportCollector, write_line_report

EXTRA = "0123456789 .,?-"


def synthetic_line(rng: random.Random, syllables: tuple[str, ...]) -> str:
    length = rng.randint(4, 30)
    words = []
    while sum(len(w) + 1 for w in words) < length:
        words.append(
            "".join(rng.choice(syllables if rng.random() < 0.93 else EXTRA) for _ in range(rng.randint(1, 5)))
        )
    return " ".join(words)[:length].strip() or "가"


def misread(rng: random.Random, text: str, syllables: tuple[str, ...]) -> str:
    """One to three OCR-like mistakes: a jamo changed, a character dropped, added or swapped."""
    chars = list(text)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        if not chars:
            break
        i = rng.randrange(len(chars))
        kind = rng.random()
        if kind < 0.55 and "가" <= chars[i] <= "힣":
            initial, medial, final = split_syllable(chars[i])
            part = rng.randrange(3)
            if part == 0:
                initial = (initial + rng.choice((1, -1))) % 19
            elif part == 1:
                medial = (medial + rng.choice((1, -1, 4))) % 21
            else:
                final = (final + rng.choice((1, 2))) % 28
            chars[i] = join_syllable(initial, medial, final)
        elif kind < 0.7:
            del chars[i]
        elif kind < 0.85:
            chars.insert(i, rng.choice(syllables))
        else:
            chars[i] = rng.choice(syllables)
    return "".join(chars)


@functools.lru_cache(maxsize=4096)
def draw_line(text: str) -> bytes:
    """The line drawn as a PNG: what ``load`` gives the report for the few images it shows."""
    from PIL import Image, ImageDraw

    from kocr.report.fonts import pil_font

    font = pil_font(24)
    image = Image.new("L", (int(font.getlength(text)) + 12, 36), 255)
    ImageDraw.Draw(image).text((6, 3), text, font=font, fill=30)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--lines", type=int, default=100_000, help="synthetic results (default 100000)")
    parser.add_argument("--error-rate", type=float, default=0.3, help="share of lines misread (0.3)")
    parser.add_argument("--worst", type=int, default=50, help="worst lines in the report (50)")
    parser.add_argument("--top", type=int, default=15, help="confusions per table (15)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", type=Path, help="keep the report here (default: a temporary file)")
    args = parser.parse_args()

    rng = random.Random(args.seed)
    syllables = ks_x_1001_syllables()
    summary = DatasetSummary("synthetic")
    collector = LineReportCollector(worst=args.worst, top=args.top)
    collecting = 0.0
    start = time.perf_counter()
    for index in range(args.lines):
        truth = synthetic_line(rng, syllables)
        wrong = rng.random() < args.error_rate
        predicted = misread(rng, truth, syllables) if wrong else truth
        confidence = rng.betavariate(2, 3) if wrong else rng.betavariate(8, 1.2)
        row = EvalRow(
            f"synthetic/{index:06d}.png", truth, predicted, confidence, sample_cer(truth, predicted)
        )
        summary.add(truth, predicted, confidence)
        load = functools.partial(draw_line, truth)
        sample = ScoredSample(row, truth, predicted, "synthetic", "synthetic", load)
        before = time.perf_counter()
        collector.add(sample)
        collecting += time.perf_counter() - before
    collected = time.perf_counter() - start
    result = EvalReport([summary], summary, False, [], None, None, Path("test_log.txt"))  # type: ignore[arg-type]
    with tempfile.TemporaryDirectory() as folder:
        output = args.output or Path(folder) / "report.html"
        start = time.perf_counter()
        write_line_report(output, result, collector, setup={"model": "benchmark stand-in"}, overwrite=True)
        written = time.perf_counter() - start
        html = output.read_text(encoding="utf-8")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)
    pairs = len(collector.syllables.counts) + len(collector.jamo.counts)
    print(
        f"lines: {args.lines:,} ({args.error_rate:.0%} misread), worst shown: {args.worst}, top: {args.top}"
    )
    per_line = collecting / max(1, args.lines) * 1e6
    print(f"collect: {collecting:.2f} s in the report's collector ({per_line:.1f} µs/line), "
          f"{collected - collecting:.2f} s making and scoring the synthetic results")  # fmt: skip
    print(f"write report: {written:.2f} s")
    print(f"peak memory (RSS): {peak / 2**20:.0f} MiB")
    print(f"report: {len(html.encode('utf-8')):,} bytes, {html.count('<img'):,} images; "
          f"{pairs:,} distinct confusion pairs counted, examples kept for "
          f"{collector.syllables.tracked + collector.jamo.tracked:,}")  # fmt: skip


if __name__ == "__main__":
    main()
