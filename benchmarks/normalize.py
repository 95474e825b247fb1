"""What input normalisation costs: ms per line for ``normalize_line`` next to the rest of preprocessing.

    python -m benchmarks.normalize devset [--lines 200] [--repeats 3]

Inputs, made from the first ``--lines`` dev lines of each split (decoded once, before timing):

- ``dev line``: the lines as they are (grey, 32–64 px high, most 300–500 px wide);
- ``32×300``: the same resized to 32 × 300 px, a typical small line;
- ``loose``: each line in the middle quarter of a canvas 4× its height (``benchmarks.variants``, as
  ``benchmarks.vs_tesseract`` reads it);
- ``photo crop``: each line scaled to 100 px high, white on red, in a 400 × 2000 px RGB canvas (text in
  the middle quarter; a crop from a phone photo).

Columns: ``normalize_line`` alone; the rest of preprocessing (colour mode, resize to the model height,
tensor, as the bundled model's ``Preprocess`` with normalisation off); and both together (``Preprocess``
with ``normalize=True``, which resizes the smaller normalised image). Each is the CPU time of this
process per line (one thread; other jobs on a shared machine do not inflate it), median of
``--repeats`` passes over all inputs; the last column is the wall-clock time of "together".
"""

from __future__ import annotations

import argparse
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from benchmarks.devset import read_split, split_names
from benchmarks.timing import median_ms_per_item
from benchmarks.variants import loose, photo_crop
from kocr.data.images import load_image
from kocr.data.line_normalize import normalize_line
from kocr.load import load_recognizer


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.normalize",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("devset", type=Path)
    parser.add_argument("--lines", type=int, default=50, help="lines per split")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)

    lines = []
    for split in split_names(args.devset):
        paths, _ = read_split(args.devset / split)
        lines += [load_image(path).convert("L") for path in paths[: args.lines]]
    inputs = {
        "dev line": lines,
        "32×300": [line.resize((300, 32), Image.Resampling.BICUBIC) for line in lines],
        "loose": [loose(line) for line in lines],
        "photo crop": [photo_crop(line) for line in lines],
    }
    plain = replace(load_recognizer("default", device="cpu", normalize=False).preprocess, normalize=False)
    normalised = replace(plain, normalize=True)

    header = (
        f"{'input':<12} {'size (median)':>14} {'normalize_line':>15} {'rest':>7} {'together':>9} "
        f"{'together, wall':>15}"
    )
    print("ms per line (CPU time of this process unless marked wall)")
    print(header)
    print("-" * len(header))
    for name, images in inputs.items():
        sizes = np.median([image.size for image in images], axis=0).astype(int)
        alone, _ = median_ms_per_item(normalize_line, images, args.repeats)
        rest, _ = median_ms_per_item(plain, images, args.repeats)
        together, together_wall = median_ms_per_item(normalised, images, args.repeats)
        size = f"{sizes[1]}×{sizes[0]}"
        print(f"{name:<12} {size:>14} {alone:>15.3f} {rest:>7.3f} {together:>9.3f} {together_wall:>15.3f}")
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"{len(lines)} lines per input; {args.repeats} passes, median; torch threads: 1; load average {load}"
    )


if __name__ == "__main__":
    main()
