"""Page sets as training and validation data for kocr's line detector.

A page set is what ``kocr data synth --pages`` writes (:mod:`kocr.data.synth.page_set`): page images
with ``NAME.lines.json`` (each line's four corners). Pages are held in memory already scaled to the
network's size (a few hundred pages are a few hundred MB of grey pixels), so a training step costs a
crop and a resize, not a page decode. Pages that were turned (``rotation``) are left out: the reader
turns a page upright before it looks for lines.

Training crops are a function of (seed, step) alone, so a resumed run draws the batches an
uninterrupted one would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from kocr.data.images import load_image, to_mode
from kocr.data.synth.page_set import read_page_lines
from kocr.errors import InputFileError
from kocr.pages.db_targets import kernel_map
from kocr.pages.dbnet import page_scale

SCALE_JITTER = (0.7, 1.3)  # a crop is drawn at this range of the network's own scale


@dataclass(frozen=True)
class ScaledPage:
    """A page at the network's scale: grey pixels, its lines' corners in those pixels, its file."""

    pixels: np.ndarray  # (H, W) uint8
    quads: np.ndarray  # (lines, 4, 2) float64
    path: Path


def page_files(folder: str | os.PathLike[str]) -> list[tuple[Path, Path]]:
    """(image, lines.json) pairs of a page set, in name order; a folder without any is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(folder, "page set folder not found" if not folder.exists() else "not a folder")
    pairs = []
    for lines in sorted(folder.glob("*.lines.json")):
        stem = lines.name[: -len(".lines.json")]
        images = [p for p in folder.glob(f"{stem}.*") if p.suffix.lower() in (".png", ".jpg", ".jpeg")]
        if images:
            pairs.append((images[0], lines))
    if not pairs:
        raise InputFileError(
            folder,
            "holds no pages with line boxes (NAME.png + NAME.lines.json, as kocr data synth --pages writes)",
        )
    return pairs


def iter_scaled_pages(folder: str | os.PathLike[str], long_side: int) -> Iterator[ScaledPage]:
    """The upright pages of a page set, each scaled so its long side is about ``long_side``."""
    for image_path, lines_path in page_files(folder):
        record = read_page_lines(lines_path)
        if int(record.get("rotation", 0)) % 360:
            continue
        image = load_image(image_path)
        scale = page_scale(*image.size, long_side)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        grey = to_mode(image, 1).resize(size, Image.Resampling.BILINEAR, reducing_gap=3.0)
        quads = np.array([line["box"] for line in record["lines"]], dtype=np.float64).reshape(-1, 4, 2)
        yield ScaledPage(np.asarray(grey), quads * (size[0] / image.width), image_path)


def training_batch(
    pages: list[ScaledPage], seed: int, step: int, batch: int, crop: int, shrink: float
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs ``[B, 1, crop, crop]`` in [-1, 1] and kernel targets ``[B, 1, crop/2, crop/2]`` for one
    step: random pages, scales and places (white beyond a page's edge)."""
    rng = np.random.default_rng([seed, step])
    inputs = np.ones((batch, 1, crop, crop), dtype=np.float32)
    targets = np.zeros((batch, 1, crop // 2, crop // 2), dtype=np.float32)
    for b in range(batch):
        page = pages[int(rng.integers(len(pages)))]
        zoom = float(rng.uniform(*SCALE_JITTER))
        height, width = page.pixels.shape
        span = crop / zoom  # page pixels the crop covers
        x0 = float(rng.uniform(min(0.0, width - span), max(0.0, width - span)))
        y0 = float(rng.uniform(min(0.0, height - span), max(0.0, height - span)))
        image = Image.fromarray(page.pixels)
        window = image.transform(
            (crop, crop),
            Image.Transform.EXTENT,
            (x0, y0, x0 + span, y0 + span),
            Image.Resampling.BILINEAR,
            fillcolor=255,
        )
        pixels = np.asarray(window, dtype=np.float32) / 127.5 - 1.0
        if rng.random() < 0.15:  # light text on dark ground now and then (slides, screens)
            pixels = -pixels
        inputs[b, 0] = pixels
        quads = (page.quads - np.array([x0, y0])) * zoom
        targets[b, 0] = kernel_map(list(quads), (crop // 2, crop // 2), 0.5, shrink)
    return inputs, targets
