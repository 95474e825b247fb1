"""kocr against Tesseract 5 (kor, --psm 7) on the dev benchmark, both measured in this one run.

    python scripts/make_devset.py -o devset          # once
    python scripts/bench_vs_tesseract.py devset [--saved-model default] [--json out.json]

Per split and overall: exact-match accuracy, CER, CER ignoring spaces, and images/s. Tesseract runs the
way a user runs it, one `tesseract IMG stdout -l kor --psm 7` process per line, two at a time so both
cores are busy (OMP_THREAD_LIMIT=1 each); kocr recognises each split's images batched (width-sorted,
batch 64), image decoding included. Texts of both engines are normalised the same way (NFC, collapsed
whitespace) before scoring.

This script installs nothing: get Tesseract with `apt-get install tesseract-ocr tesseract-ocr-kor`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from kocr import metrics
from kocr.data.images import load_image
from kocr.data.labelfile import read_label_file
from kocr.predict import Recognizer
from kocr.text import normalize

SPLITS = ("print-seen", "print-heldout", "hand-seen", "hand-heldout")


def read_split(folder: Path) -> tuple[list[Path], list[str]]:
    parsed = read_label_file(folder / "gt.txt", "gt", strict=True)
    return [folder / r.image for r in parsed.records], [normalize(r.label) for r in parsed.records]  # type: ignore[operator]


def run_tesseract(images: list[Path], jobs: int) -> tuple[list[str], float]:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(image: Path) -> str:
        result = subprocess.run(
            ["tesseract", str(image), "stdout", "-l", "kor", "--psm", "7"],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        return normalize(result.stdout)

    start = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:
        texts = list(pool.map(one, images))
    return texts, time.perf_counter() - start


def run_kocr(recognizer: Recognizer, images: list[Path]) -> tuple[list[str], float]:
    start = time.perf_counter()
    predictions = recognizer.predict_images([load_image(path) for path in images])
    return [normalize(p.text) for p in predictions], time.perf_counter() - start


def scores(truths: list[str], predictions: list[str], seconds: float) -> dict[str, float]:
    return {
        "accuracy": metrics.accuracy(truths, predictions),
        "cer": metrics.cer(truths, predictions),
        "cer_ignore_space": metrics.cer(truths, predictions, ignore_space=True),
        "images_per_s": len(truths) / seconds if seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("devset", type=Path)
    parser.add_argument("--saved-model", default="default")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="parallel Tesseract processes")
    parser.add_argument("--no-tesseract", action="store_true", help="measure kocr only")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--max-width",
        type=int,
        help="squeeze kocr's input lines to at most this many pixels wide, as training does (default: "
        "read each line at its natural width)",
    )
    args = parser.parse_args()

    use_tesseract = not args.no_tesseract
    if use_tesseract and shutil.which("tesseract") is None:
        raise SystemExit(
            "tesseract not found: apt-get install tesseract-ocr tesseract-ocr-kor (or --no-tesseract)"
        )
    recognizer = Recognizer.load(args.saved_model, device="cpu", batch_size=args.batch_size)
    if args.max_width:
        recognizer.preprocess = replace(recognizer.preprocess, max_width=args.max_width)
    recognizer.predict_images([load_image(read_split(args.devset / SPLITS[0])[0][0])])  # warm-up

    results: dict[str, dict[str, dict[str, float]]] = {}
    every: dict[str, list] = {"truth": [], "kocr": [], "tesseract": [], "kocr_s": [0.0], "tesseract_s": [0.0]}
    for split in SPLITS:
        images, truths = read_split(args.devset / split)
        kocr_texts, kocr_seconds = run_kocr(recognizer, images)
        results[split] = {"kocr": scores(truths, kocr_texts, kocr_seconds)}
        every["truth"] += truths
        every["kocr"] += kocr_texts
        every["kocr_s"][0] += kocr_seconds
        if use_tesseract:
            tess_texts, tess_seconds = run_tesseract(images, args.jobs)
            results[split]["tesseract"] = scores(truths, tess_texts, tess_seconds)
            every["tesseract"] += tess_texts
            every["tesseract_s"][0] += tess_seconds
    results["overall"] = {"kocr": scores(every["truth"], every["kocr"], every["kocr_s"][0])}
    if use_tesseract:
        results["overall"]["tesseract"] = scores(every["truth"], every["tesseract"], every["tesseract_s"][0])

    header = f"{'split':<14} {'engine':<10} {'accuracy':>9} {'CER':>8} {'CER-nosp':>9} {'img/s':>9}"
    print(header)
    print("-" * len(header))
    for split, engines in results.items():
        for engine, figures in engines.items():
            print(f"{split:<14} {engine:<10} {figures['accuracy']:>9.2%} {figures['cer']:>8.4f} "
                  f"{figures['cer_ignore_space']:>9.4f} {figures['images_per_s']:>9.1f}")  # fmt: skip
    if use_tesseract:
        overall = results["overall"]
        ratio = overall["kocr"]["images_per_s"] / max(overall["tesseract"]["images_per_s"], 1e-9)
        print(f"\nkocr throughput / Tesseract throughput: {ratio:.1f}x")
    print(f"model: {recognizer.source}; device: cpu; torch threads: {__import__('torch').get_num_threads()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
