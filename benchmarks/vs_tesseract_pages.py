"""Whole pages: kocr (each line finder) against Tesseract 5 (each page segmentation mode), in one run.

    python -m benchmarks.vs_tesseract_pages devpages                  # every split of the dev pages
    python -m benchmarks.vs_tesseract_pages devpages --split form --finder classical --psm 4 --limit 10

The dev pages come from ``scripts/make_devpages.py``: held-out fonts and text no training line uses,
one folder per split with ``NAME.gt.txt`` beside each page. Per split and engine it prints page CER
(whitespace runs as one space), lines found (ground-truth lines matched one to one by a read line of
CER <= 0.5: :mod:`kocr.pages.metrics`), pages per second and peak memory.

Both sides run as a user runs them, model loading included: kocr as one ``kocr eval --layout page``
process per split and finder (its own threads), Tesseract as one ``tesseract PAGE stdout -l kor --psm P``
process per page, ``--jobs`` at a time with one thread each, so both use every core. Peak memory is the
largest resident set of any process of that engine.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks import tesseract
from benchmarks.devset import split_names
from kocr.pages.metrics import score_page
from kocr.pages.truth import iter_page_samples

# Runs a command and prints its children's peak resident set (KiB) last: the peak of one process tree.
_PEAK = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
    "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(r.returncode)"
)


def run_measured(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str, str]:
    """Wall seconds, peak RSS (MiB), stdout and stderr of ``command``."""
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, *command], capture_output=True, text=True, env=env, check=False
    )
    seconds = time.perf_counter() - start
    *messages, peak = result.stderr.rstrip("\n").split("\n")
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n" + "\n".join(messages)[-3000:])
    return seconds, int(peak) // 1024, result.stdout, "\n".join(messages)


def kocr_split(folder: Path, finder: str, limit: int | None) -> dict[str, float]:
    """``kocr eval --layout page`` on a split: its figures, wall time and peak memory."""
    with tempfile.TemporaryDirectory() as temp:
        data = folder if limit is None else _first_pages(folder, limit, Path(temp) / "pages")
        summary = Path(temp) / "summary.json"
        log = Path(temp) / "log.txt"
        command = [sys.executable, "-m", "kocr", "eval", "--layout", "page", "--line-finder", finder,
                   str(data), "--log-file", str(log), "--summary-json", str(summary)]  # fmt: skip
        seconds, peak, _, _ = run_measured(command)
        figures = json.loads(summary.read_text(encoding="utf-8"))["combined"]
    return {"page_cer": figures["page_cer"], "lines_found": figures["lines_found"], "pages": figures["pages"],
            "pages_per_second": figures["pages"] / seconds, "peak_mib": peak}  # fmt: skip


def tesseract_split(folder: Path, psm: int, jobs: int, limit: int | None) -> dict[str, float]:
    """Tesseract on every page of a split: the same figures."""
    samples = list(iter_page_samples(folder))[:limit]
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(image: Path) -> tuple[int, str]:
        _, peak, out, _ = run_measured(
            ["tesseract", str(image), "stdout", "-l", "kor", "--psm", str(psm)], env
        )
        return peak, out

    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(one, [s.image for s in samples]))
    seconds = time.perf_counter() - start
    distance = length = lines = found = 0
    for sample, (_, text) in zip(samples, results, strict=True):
        score = score_page(sample.lines, [line for line in text.splitlines() if line.strip()])
        distance, length = distance + score.distance, length + score.length
        lines, found = lines + score.lines, found + score.found
    return {
        "page_cer": distance / max(1, length),
        "lines_found": found / max(1, lines),
        "pages": len(samples),
        "pages_per_second": len(samples) / seconds,
        "peak_mib": max(p for p, _ in results),
    }


def _first_pages(folder: Path, limit: int, target: Path) -> Path:
    """A folder of links to the first ``limit`` pages of ``folder`` and their texts."""
    target.mkdir(parents=True)
    for sample in list(iter_page_samples(folder))[:limit]:
        (target / sample.image.name).symlink_to(sample.image.resolve())
        (target / (sample.image.stem + ".gt.txt")).write_text(
            "\n".join(sample.lines) + "\n", encoding="utf-8"
        )
    return target


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vs_tesseract_pages",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("devpages", type=Path, help="the dev pages (scripts/make_devpages.py)")
    parser.add_argument("--split", action="append", help="only these splits (repeatable)")
    parser.add_argument("--finder", action="append", help="kocr line finders (default: auto, classical)")
    parser.add_argument("--psm", action="append", type=int, help="Tesseract modes (default: 3, 4, 6, 11)")
    parser.add_argument(
        "--jobs", type=int, default=tesseract.DEFAULT_JOBS, help="Tesseract processes at once"
    )
    parser.add_argument("--limit", type=int, help="pages per split")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    splits = args.split or list(split_names(args.devpages))
    finders = args.finder or ["auto", "classical"]
    modes = args.psm or ([3, 4, 6, 11] if tesseract.available() else [])
    if not tesseract.available():
        print(f"tesseract not found ({tesseract.INSTALL}); kocr only", file=sys.stderr)
    else:
        print(f"Tesseract {tesseract.version()}, -l kor, {args.jobs} processes at once")
    results: dict[str, dict[str, dict[str, float]]] = {}
    for split in splits:
        folder = args.devpages / split
        row: dict[str, dict[str, float]] = {}
        for finder in finders:
            row[f"kocr {finder}"] = kocr_split(folder, finder, args.limit)
        for psm in modes:
            row[f"tesseract psm {psm}"] = tesseract_split(folder, psm, args.jobs, args.limit)
        results[split] = row
        print(f"\n{split}")
        print(f"  {'engine':<20} {'page CER':>9} {'lines found':>12} {'pages/s':>8} {'peak MiB':>9}")
        for engine, f in row.items():
            figures = f"{f['page_cer']:9.4f} {f['lines_found']:12.1%} {f['pages_per_second']:8.2f}"
            print(f"  {engine:<20} {figures} {f['peak_mib']:9,.0f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
