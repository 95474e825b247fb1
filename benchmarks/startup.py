"""Where a kocr run's start-up goes: each step timed in a fresh interpreter, medians of a few rounds.

    python -m benchmarks.startup [--rounds 5] [--image data/samples/01.jpg]

Why: a run of 40 pages pays its start-up once, a run of one page pays it whole, and the page benchmark
counts it (``benchmarks.vs_tesseract_pages``: model loading included). Each row is a separate
``python -c`` so imports are not shared between rows; "kocr predict" is the whole command on one line
crop, for scale.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

STEPS = {
    "python itself": "pass",
    "import numpy, PIL": "import numpy, PIL.Image",
    "import onnxruntime": "import onnxruntime",
    "import torch": "import torch",
    "import the CLI (kocr.cli)": "import kocr.cli",
    "load the default recogniser": "import kocr; kocr.load_recognizer('default')",
    "load the line detector (db)": "from kocr.pages.finders import make_finder; make_finder('db')",
}


def _seconds(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.startup",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--image", type=Path, default=Path("data/samples/01.jpg"))
    options = parser.parse_args()
    commands = {name: [sys.executable, "-c", code] for name, code in STEPS.items()}
    commands[f"kocr predict {options.image}"] = [sys.executable, "-m", "kocr", "predict", str(options.image)]
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(options.rounds):  # rounds interleave the rows, so a slow minute hits all of them
        for name, args in commands.items():
            times[name].append(_seconds(args))
    print(f"{'step (each in a fresh interpreter)':40s} {'median s':>9s} {'min s':>7s}")
    for name, values in times.items():
        print(f"{name:40s} {statistics.median(values):9.2f} {min(values):7.2f}")


if __name__ == "__main__":
    main()
