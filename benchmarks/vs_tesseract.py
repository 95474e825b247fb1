"""kocr against Tesseract 5 (kor, --psm 7) on the dev benchmark, both measured in this one run.

    python scripts/make_devset.py -o devset          # once
    python -m benchmarks.vs_tesseract devset [--saved-model default] [--json out.json]
    python -m benchmarks.vs_tesseract devset --variant plain --variant loose --variant inverted \\
        --variant red --normalize both               # crops as they come from elsewhere

Variants (``--variant``, repeatable; made from the dev images, deterministically, into a temporary
folder that both engines read): ``plain`` the images as they are; ``loose`` each line centred in a canvas
4× its height and 3 heights wider, filled with the median of the line's border (text in the middle
quarter, as a detector or a hand crop gives); ``inverted`` 255 − every pixel; ``red`` white text on a red
sign (the line's paper → (200, 35, 40), its ink → (245, 245, 245), anti-aliasing kept). ``--normalize``
reads with kocr's input normalisation on, off, as the model says (default), or ``both`` (two kocr rows).
    python -m benchmarks.vs_tesseract devset --decoder greedy --decoder beam   # both decoders, one run

Per split and overall: exact-match accuracy, CER, CER ignoring spaces, and images/s. Tesseract runs the
way a user runs it, one `tesseract IMG stdout -l kor --psm 7` process per line, two at a time so both
cores are busy (OMP_THREAD_LIMIT=1 each); kocr recognises each split's images batched (width-sorted,
batch 64), image decoding and decoding (greedy, or beam search with the model's LM: ``--decoder``,
repeatable, each measured as its own engine) included. Texts of both engines are normalised the same
way (NFC, collapsed whitespace) before scoring.

This benchmark installs nothing: get Tesseract with `apt-get install tesseract-ocr tesseract-ocr-kor`.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from dataclasses import replace
from pathlib import Path

from benchmarks import tesseract
from benchmarks.devset import read_split, split_names
from benchmarks.timing import stopwatch
from benchmarks.variants import VARIANTS, variant_images
from kocr import metrics
from kocr.data.images import load_image
from kocr.load import load_recognizer
from kocr.runtime.base import LineRecognizer
from kocr.text import normalize


def run_kocr(recognizer: LineRecognizer, images: list[Path]) -> list[str]:
    """kocr's normalised texts, image decoding included (as Tesseract decodes its images)."""
    predictions = recognizer.predict_images([load_image(path) for path in images])
    return [normalize(p.text) for p in predictions]


def scores(truths: list[str], predictions: list[str], seconds: float) -> dict[str, float]:
    return {
        "accuracy": metrics.accuracy(truths, predictions),
        "cer": metrics.cer(truths, predictions),
        "cer_ignore_space": metrics.cer(truths, predictions, ignore_space=True),
        "images_per_s": len(truths) / seconds if seconds else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vs_tesseract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("devset", type=Path)
    parser.add_argument("--saved-model", default="default")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--jobs", type=int, default=tesseract.DEFAULT_JOBS, help="parallel Tesseract processes"
    )
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
    if use_tesseract and not tesseract.available():
        raise SystemExit(f"tesseract not found: {tesseract.INSTALL} (or --no-tesseract)")
    splits = split_names(args.devset)
    settings = {"model": [None], "on": [True], "off": [False], "both": [True, False]}[args.normalize]
    recognizers: dict[str, LineRecognizer] = {}
    for setting in settings:
        for decoder in args.decoder or ["auto"]:
            recognizer = load_recognizer(
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
            recognizer.predict_images([load_image(read_split(args.devset / splits[0])[0][0])])  # warm-up
    engines = [*recognizers, *(["tesseract"] if use_tesseract else [])]

    results: dict[str, dict[str, dict[str, dict[str, float]]]] = {}
    with tempfile.TemporaryDirectory(prefix="kocr-variants-") as scratch:
        for variant in args.variant or ["plain"]:
            results[variant] = {}
            every: dict[str, list[str]] = {"truth": [], **{engine: [] for engine in engines}}
            seconds = dict.fromkeys(engines, 0.0)
            for split in splits:
                images, truths = read_split(args.devset / split)
                images, truths = images[: args.limit], truths[: args.limit]
                images = variant_images(images, variant, Path(scratch) / variant / split)
                results[variant][split] = {}
                every["truth"] += truths
                for engine in engines:
                    if engine == "tesseract":
                        elapsed, texts = stopwatch(tesseract.read_lines, images, args.jobs)
                    else:
                        elapsed, texts = stopwatch(run_kocr, recognizers[engine], images)
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
    if use_tesseract:
        print(f"Tesseract {tesseract.version()}: --psm 7, {args.jobs} processes at a time")
    for name, recognizer in recognizers.items():
        print(f"{name}: {recognizer.describe_decoder()}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
