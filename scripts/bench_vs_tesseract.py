"""kocr against Tesseract 5 (kor, --psm 7) on the dev benchmark, both measured in this one run.

    python scripts/make_devset.py -o devset          # once
    python scripts/bench_vs_tesseract.py devset [--saved-model default] [--json out.json]
    python scripts/bench_vs_tesseract.py devset --variant plain --variant loose --variant inverted \\
        --variant red --normalize both               # crops as they come from elsewhere

Variants (``--variant``, repeatable; made from the dev images, deterministically, into a temporary
folder that both engines read): ``plain`` the images as they are; ``loose`` each line centred in a canvas
4× its height and 3 heights wider, filled with the median of the line's border (text in the middle
quarter, as a detector or a hand crop gives); ``inverted`` 255 − every pixel; ``red`` white text on a red
sign (the line's paper → (200, 35, 40), its ink → (245, 245, 245), anti-aliasing kept). ``--normalize``
reads with kocr's input normalisation on, off, as the model says (default), or ``both`` (two kocr rows).
    python scripts/bench_vs_tesseract.py devset --decoder greedy --decoder beam   # both decoders, one run

Per split and overall: exact-match accuracy, CER, CER ignoring spaces, and images/s. Tesseract runs the
way a user runs it, one `tesseract IMG stdout -l kor --psm 7` process per line, two at a time so both
cores are busy (OMP_THREAD_LIMIT=1 each); kocr recognises each split's images batched (width-sorted,
batch 64), image decoding and decoding (greedy, or beam search with the model's LM: ``--decoder``,
repeatable, each measured as its own engine) included. Texts of both engines are normalised the same
way (NFC, collapsed whitespace) before scoring.

This script installs nothing: get Tesseract with `apt-get install tesseract-ocr tesseract-ocr-kor`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from kocr import metrics
from kocr.data.images import load_image
from kocr.data.labels.reader import read_label_file
from kocr.predict import Recognizer
from kocr.text import normalize

SPLITS = ("print-seen", "print-heldout", "hand-seen", "hand-heldout")
VARIANTS = ("plain", "loose", "inverted", "red")
SIGN_RED = np.array([200, 35, 40], np.float32)
SIGN_WHITE = np.array([245, 245, 245], np.float32)


def _border_median(grey: np.ndarray) -> float:
    return float(np.median(np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])))


def loose(image: Image.Image) -> Image.Image:
    """The line in the middle quarter of a canvas 4× its height (1.5 heights of margin all round)."""
    grey = np.asarray(image.convert("L"))
    height, width = grey.shape
    margin = round(1.5 * height)
    canvas = np.full((height + 2 * margin, width + 2 * margin), round(_border_median(grey)), np.uint8)
    canvas[margin : margin + height, margin : margin + width] = grey
    return Image.fromarray(canvas)


def inverted(image: Image.Image) -> Image.Image:
    return Image.fromarray(255 - np.asarray(image.convert("L")))


def red(image: Image.Image) -> Image.Image:
    """White text on a red sign: paper (the border median) → red, ink (the far 1st/99th percentile) →
    white, linearly in between so anti-aliasing stays."""
    grey = np.asarray(image.convert("L")).astype(np.float32)
    paper = _border_median(grey)
    ink = float(np.percentile(grey, 1 if paper >= 128 else 99))
    strength = np.clip((grey - paper) / (ink - paper if abs(ink - paper) >= 1 else 1.0), 0, 1)[..., None]
    colour = (1 - strength) * SIGN_RED + strength * SIGN_WHITE
    return Image.fromarray((colour + 0.5).astype(np.uint8), mode="RGB")


MAKERS: dict[str, Callable[[Image.Image], Image.Image]] = {"loose": loose, "inverted": inverted, "red": red}


def variant_images(images: list[Path], variant: str, folder: Path) -> list[Path]:
    """``images`` as ``variant`` (PNG files under ``folder``); ``plain`` is the files themselves."""
    if variant == "plain":
        return images
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for number, path in enumerate(images):
        target = folder / f"{number:05d}.png"
        MAKERS[variant](load_image(path)).save(target)
        made.append(target)
    return made


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
    parser.add_argument(
        "--decoder",
        action="append",
        choices=("auto", "greedy", "beam"),
        help="kocr decoder (repeatable: each is its own engine); default: the model's default (auto)",
    )
    parser.add_argument("--lm", default="auto", help="language model for beam search (default: the model's)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--max-width",
        type=int,
        help="squeeze kocr's input lines to at most this many pixels wide, as training does (default: "
        "read each line at its natural width)",
    )
    parser.add_argument(
        "--variant", action="append", choices=VARIANTS, help="image variants to read (repeatable) [plain]"
    )
    parser.add_argument(
        "--normalize",
        choices=("model", "on", "off", "both"),
        default="model",
        help="kocr's input normalisation: as the model says, on, off, or both (one kocr row each)",
    )
    parser.add_argument("--limit", type=int, help="only the first N lines of each split (quick checks)")
    args = parser.parse_args()

    use_tesseract = not args.no_tesseract
    if use_tesseract and shutil.which("tesseract") is None:
        raise SystemExit(
            "tesseract not found: apt-get install tesseract-ocr tesseract-ocr-kor (or --no-tesseract)"
        )
    settings = {"model": [None], "on": [True], "off": [False], "both": [True, False]}[args.normalize]
    recognizers: dict[str, Recognizer] = {}
    for setting in settings:
        for decoder in args.decoder or ["auto"]:
            recognizer = Recognizer.load(
                args.saved_model,
                device="cpu",
                batch_size=args.batch_size,
                normalize=setting,
                decoder=decoder,
                lm=args.lm,
            )
            if args.max_width:
                recognizer.preprocess = replace(recognizer.preprocess, max_width=args.max_width)
            name = ["kocr"]
            if len(settings) > 1:
                name.append("norm" if setting else "raw")
            if args.decoder:
                name.append(recognizer.describe_decoder()["decoder"])
            recognizers[" ".join(name)] = recognizer
            recognizer.predict_images([load_image(read_split(args.devset / SPLITS[0])[0][0])])  # warm-up
    engines = [*recognizers, *(["tesseract"] if use_tesseract else [])]

    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="kocr-variants-") as scratch:
        for variant in args.variant or ["plain"]:
            results[variant] = {}
            every: dict[str, list[str]] = {"truth": [], **{engine: [] for engine in engines}}
            seconds = dict.fromkeys(engines, 0.0)
            for split in SPLITS:
                images, truths = read_split(args.devset / split)
                images, truths = images[: args.limit], truths[: args.limit]
                images = variant_images(images, variant, Path(scratch) / variant / split)
                results[variant][split] = {}
                every["truth"] += truths
                for engine in engines:
                    if engine == "tesseract":
                        texts, elapsed = run_tesseract(images, args.jobs)
                    else:
                        texts, elapsed = run_kocr(recognizers[engine], images)
                    results[variant][split][engine] = scores(truths, texts, elapsed)
                    every[engine] += texts
                    seconds[engine] += elapsed
            results[variant]["overall"] = {
                engine: scores(every["truth"], every[engine], seconds[engine]) for engine in engines
            }

    header = (
        f"{'variant':<9} {'split':<14} {'engine':<16} {'accuracy':>9} {'CER':>8} {'CER-nosp':>9} {'img/s':>9}"
    )
    print(header)
    print("-" * len(header))
    for variant, splits in results.items():
        for split, by_engine in splits.items():
            for engine, figures in by_engine.items():
                print(f"{variant:<9} {split:<14} {engine:<16} {figures['accuracy']:>9.2%} "
                      f"{figures['cer']:>8.4f} {figures['cer_ignore_space']:>9.4f} "
                      f"{figures['images_per_s']:>9.1f}")  # fmt: skip
    if len(results) > 1 and "plain" in results:
        print("\noverall CER by variant (change from plain, CER points):")
        for engine in engines:
            plain = results["plain"]["overall"][engine]["cer"]
            cells = [
                f"{variant} {splits['overall'][engine]['cer']:.4f} "
                f"({100 * (splits['overall'][engine]['cer'] - plain):+.1f})"
                for variant, splits in results.items()
            ]
            print(f"  {engine:<16} " + ", ".join(cells))
    if use_tesseract:
        for variant, splits in results.items():
            overall = splits["overall"]
            kocr = overall[engines[0]]["images_per_s"]
            ratio = kocr / max(overall["tesseract"]["images_per_s"], 1e-9)
            print(f"{variant}: {engines[0]} throughput / Tesseract throughput: {ratio:.1f}x")
    first = next(iter(recognizers.values()))
    normalization = ", ".join(
        f"{engine}: {r.describe()['normalization']}" for engine, r in recognizers.items()
    )
    print(f"model: {first.source}; device: cpu; torch threads: {__import__('torch').get_num_threads()}")
    print(f"input normalisation: {normalization}")
    for name, recognizer in recognizers.items():
        print(f"{name}: {recognizer.describe_decoder()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
