"""`kocr predict` against clovaai's demo.py on the same TPS-ResNet-BiLSTM-CTC checkpoint and images.

    DTRB_DIR=../shared/reference/dtrb python -m benchmarks.vs_clovaai [--images DIR] [--rounds 3]

clovaai's code is not part of kocr: the script runs an unmodified deep-text-recognition-benchmark tree
given by ``$DTRB_DIR`` (and its import shims from ``$DTRB_SHIMS``, default ``$DTRB_DIR/../dtrb-shims``)
and exits with a message when the variable is not set. Both programs run as a user runs them, as
separate processes, end to end (start-up, checkpoint loading, image decoding, inference, output),
alternately for ``--rounds`` rounds so a busy machine slows both alike; medians are reported.

- checkpoint: ``--checkpoint best_accuracy.pth`` with ``--character-file``, or by default a seeded,
  randomly initialised TRBC in clovaai's format (DataParallel ``module.`` keys) over a 2,417-symbol
  Korean charset, written to a temporary folder;
- images: ``--images DIR``, or by default the first 64 lines of each dev-benchmark split
  (``devset``, from ``scripts/make_devset.py``, or ``--devset``), 256 in all;
- demo.py runs with ``--batch_size 64`` and its default 4 loader workers; kocr predict with its defaults
  and greedy decoding (its default for checkpoints without a language model), as clovaai decodes, once
  per ``--engine`` (default: ``torch`` and ``onnxruntime``; the ONNX export happens in an untimed
  warm-up run and is cached, as ``kocr predict --engine onnxruntime`` caches it for a user).

It prints both times, the ratio, and whether every prediction is identical.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

from benchmarks.devset import read_split, split_names
from benchmarks.fixtures import clovaai_trbc
from benchmarks.timing import alternate, stopwatch
from kocr.text import unescape_field


def collect_images(devset: Path, folder: Path, per_split: int = 64) -> Path:
    """The first ``per_split`` lines of each dev split, copied into one folder (demo.py reads a folder)."""
    folder.mkdir(parents=True, exist_ok=True)
    for split in split_names(devset):
        for file in read_split(devset / split)[0][:per_split]:
            shutil.copy(file, folder / f"{split}-{file.name}")
    return folder


def run_demo(
    dtrb: Path, shims: Path, images: Path, checkpoint: Path, characters: str, cwd: Path
) -> tuple[float, dict[str, str]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(shims), str(dtrb)]))
    command = [
        sys.executable, str(dtrb / "demo.py"), "--Transformation", "TPS", "--FeatureExtraction", "ResNet",
        "--SequenceModeling", "BiLSTM", "--Prediction", "CTC", "--image_folder", str(images),
        "--saved_model", str(checkpoint), "--character", characters, "--batch_size", "64",
    ]  # fmt: skip
    seconds, result = stopwatch(
        subprocess.run, command, cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"demo.py failed:\n{result.stderr[-2000:]}")
    predictions = {}
    for line in result.stdout.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].strip().startswith(str(images)):
            predictions[Path(parts[0].strip()).name] = parts[1].strip()
    return seconds, predictions


def run_kocr(
    images: Path, checkpoint: Path, charset: Path, output: Path, engine: str
) -> tuple[float, dict[str, str]]:
    output.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "kocr", "predict", str(images), "--saved-model", str(checkpoint),
        "--charset", str(charset), "-o", str(output), "--engine", engine,
    ]  # fmt: skip
    seconds, result = stopwatch(subprocess.run, command, capture_output=True, text=True, check=False)
    if result.returncode:
        raise SystemExit(f"kocr predict failed:\n{result.stderr[-2000:]}")
    predictions = {}
    for line in output.read_text(encoding="utf-8").splitlines()[1:]:
        name, text = (unescape_field(field) for field in line.split("\t")[:2])  # kocr's plain TSV
        predictions[Path(name).name] = text
    return seconds, predictions


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.vs_clovaai",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--images", type=Path)
    parser.add_argument("--devset", type=Path, default=Path("devset"))
    parser.add_argument("--checkpoint", type=Path)
    parser.add_argument("--character-file", type=Path, help="the checkpoint's one-line --character string")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine", action="append", choices=("torch", "onnxruntime"), help="repeatable")
    args = parser.parse_args()
    if not os.environ.get("DTRB_DIR"):
        raise SystemExit(
            "set DTRB_DIR to a clovaai deep-text-recognition-benchmark tree to run this benchmark"
        )
    dtrb = Path(os.environ["DTRB_DIR"]).resolve()
    shims = Path(os.environ.get("DTRB_SHIMS", dtrb.parent / "dtrb-shims")).resolve()
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        if args.checkpoint:
            if not args.character_file:
                raise SystemExit("--checkpoint needs --character-file")
            checkpoint, charset = args.checkpoint, args.character_file
        else:
            checkpoint, charset = clovaai_trbc(work)
        characters = charset.read_text(encoding="utf-8").strip("\n")
        images = args.images or collect_images(args.devset, work / "images")
        count = sum(1 for p in images.iterdir() if p.is_file())
        engines = args.engine or ["torch", "onnxruntime"]
        for engine in engines:  # warm-up: caches, and the one-time ONNX export
            run_kocr(images, checkpoint, charset, work / "kocr.tsv", engine)
        cases = {"demo.py": partial(run_demo, dtrb, shims, images, checkpoint, characters, work)}
        for engine in engines:
            cases[engine] = partial(run_kocr, images, checkpoint, charset, work / "kocr.tsv", engine)
        runs = alternate(cases, args.rounds)
        demo_s, demo = statistics.median(s for s, _ in runs["demo.py"]), runs["demo.py"][-1][1]
        kocr_times = {engine: [s for s, _ in runs[engine]] for engine in engines}
        readings = {engine: runs[engine][-1][1] for engine in engines}
        print(f"images: {count}; rounds: {args.rounds} (medians); demo.py printed {len(demo)} predictions")
        print(f"clovaai demo.py (batch 64):      {demo_s:6.2f} s  {count / demo_s:6.1f} img/s")
        for engine in engines:
            kocr_s = statistics.median(kocr_times[engine])
            same = sum(demo.get(name) == text for name, text in readings[engine].items())
            print(
                f"kocr predict --engine {engine:<11} {kocr_s:6.2f} s  {count / kocr_s:6.1f} img/s  "
                f"{demo_s / kocr_s:.2f}x demo.py; identical predictions {same} of {len(readings[engine])}"
            )


if __name__ == "__main__":
    main()
