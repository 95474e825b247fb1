"""Benchmark the data layer: LMDB build throughput and LmdbDataset + DataLoader throughput.

    python -m benchmarks.data [-n 5000] [--repeats 3]

Makes N synthetic grey text-line PNGs (strokes drawn with PIL plus grain; height 32 px by default,
widths 60-400 px), then times, in interleaved rounds so a busy machine skews every configuration alike:

- ``build_lmdb`` (read + PIL decode check + write) with 1 worker, 2 threads and 2 processes, plus the
  bare ``LmdbWriter`` on bytes already in memory (the cost of LMDB itself);
- one epoch of ``LmdbDataset`` through a DataLoader (batch 64, resize to 32x128, float tensor) with 0 and
  2 workers.

The median of the rounds is reported.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw
from torch.utils.data import DataLoader

from benchmarks.timing import alternate, stopwatch
from kocr.data.labels.samples import Sample
from kocr.data.lmdb.build import build_lmdb
from kocr.data.lmdb.dataset import LmdbDataset
from kocr.data.lmdb.writer import LmdbWriter

SYLLABLES = [chr(c) for c in range(0xAC00, 0xAC00 + 2000, 7)]


def line_image(rng: random.Random, noise: float, height: int = 32) -> bytes:
    """A white line with dark pseudo-glyph strokes, PNG-encoded like a scanned/rendered text line."""
    width = rng.randint(60, 400)
    image = Image.new("L", (width, 32), 255 - rng.randint(0, 40))
    draw = ImageDraw.Draw(image)
    x = rng.randint(2, 8)
    while x < width - 12:
        glyph = rng.randint(10, 18)
        for _ in range(rng.randint(2, 5)):
            x0, y0 = x + rng.randint(0, glyph // 2), rng.randint(4, 14)
            x1, y1 = x + rng.randint(glyph // 2, glyph), rng.randint(16, 28)
            draw.line((x0, y0, x1, y1), fill=rng.randint(0, 80), width=rng.randint(1, 3))
        x += glyph + rng.randint(1, 6)
    if height != 32:
        image = image.resize((width * height // 32, height), Image.BILINEAR)
    if noise:  # scanner/camera grain: makes PNG sizes (and decode cost) closer to real line crops
        grain = np.random.default_rng(rng.randrange(1 << 30)).normal(0, noise, (image.height, image.width))
        pixels = np.asarray(image, dtype=np.float32) + grain
        image = Image.fromarray(pixels.clip(0, 255).astype(np.uint8))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_dataset(folder: Path, count: int, noise: float, height: int = 32, seed: int = 0) -> list[Sample]:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    samples = []
    for i in range(count):
        path = folder / f"{i // 1000:03d}" / f"{i:06d}.png"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(line_image(rng, noise, height))
        label = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 12)))
        samples.append(Sample(path, label, f"gt.txt:{i + 1}"))
    return samples


def to_tensor(image: Image.Image) -> torch.Tensor:
    resized = image.convert("L").resize((128, 32), Image.BILINEAR)
    data = torch.frombuffer(bytearray(resized.tobytes()), dtype=torch.uint8).view(1, 32, 128)
    return data.float().div_(127.5).sub_(1.0)


def per_second(action: Callable[[], int]) -> float:
    """Items per second of one call of ``action`` (which returns the number of items handled)."""
    seconds, items = stopwatch(action)
    return items / seconds


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.data", description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--num-samples", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--noise", type=float, default=6.0, help="grain std-dev; 0 gives tiny clean PNGs")
    parser.add_argument("--height", type=int, default=32, help="line height in px (scans are often 64-128)")
    args = parser.parse_args()
    torch.set_num_threads(1)  # what a DataLoader worker gets; keeps the main process from fighting them
    work = Path(tempfile.mkdtemp(prefix="kocr-bench-data-"))
    try:
        made_in, samples = stopwatch(make_dataset, work / "images", args.num_samples, args.noise, args.height)
        payload = sum(s.image.stat().st_size for s in samples)
        print(
            f"{len(samples):,} synthetic lines, {payload / len(samples) / 1024:.1f} KiB/PNG on average "
            f"(made in {made_in:.1f} s); {os.cpu_count()} CPUs; "
            f"torch {torch.__version__}, Python {sys.version.split()[0]}"
        )
        in_memory = [(s.image.read_bytes(), s.label) for s in samples]

        def write_only() -> int:
            with LmdbWriter(work / "raw", overwrite=True) as writer:
                for data, label in in_memory:
                    writer.add(data, label)
            return len(in_memory)

        def build(workers: int, pool: str) -> Callable[[], int]:
            return lambda: (
                build_lmdb(samples, work / "db", workers=workers, overwrite=True, pool=pool).written
            )  # type: ignore[arg-type]

        def epoch(num_workers: int) -> Callable[[], int]:
            dataset = LmdbDataset(work / "db", transform=to_tensor, image_mode=None)
            loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=num_workers)
            return lambda: sum(len(labels) for _, labels in loader)

        write_cases: dict[str, Callable[[], int]] = {
            "LmdbWriter only (bytes in memory)": write_only,
            "build_lmdb, 1 worker": build(1, "thread"),
            "build_lmdb, 2 threads": build(2, "thread"),
            "build_lmdb, 2 processes": build(2, "process"),
        }
        results = alternate({name: partial(per_second, a) for name, a in write_cases.items()}, args.repeats)
        read_cases = {"DataLoader, 0 workers": epoch(0), "DataLoader, 2 workers": epoch(2)}
        results |= alternate({name: partial(per_second, a) for name, a in read_cases.items()}, args.repeats)
        print(f"\n{'case':<36} {'median/s':>10} {'min/s':>10} {'max/s':>10}   (rounds: {args.repeats})")
        for name, rates in results.items():
            unit = "samples" if name.startswith("DataLoader") else "images"
            median, low, high = statistics.median(rates), min(rates), max(rates)
            print(f"{name:<36} {median:>10,.0f} {low:>10,.0f} {high:>10,.0f}   {unit}/s")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
