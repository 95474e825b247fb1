"""Shared by the decoder scripts (tune_lm_decoder.py, bench_decoders.py): logits of labelled lines, CER,
timing, calibration.

Logits are computed once per split exactly as :class:`kocr.predict.Recognizer` batches lines (width-sorted
batches, each padded to its widest line plus the model's context margin, frames past a line's end made
certain blanks), so every decoder sees the same inputs and is timed on decoding
alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from kocr import metrics
from kocr.codecs import Decoded
from kocr.data.images import load_image
from kocr.data.labels.reader import read_label_file
from kocr.decoding.beam import blank_after
from kocr.predict import Recognizer, batch_groups
from kocr.text import normalize


@dataclass
class Split:
    name: str
    images: list[Path]
    truths: list[str]
    batches: list[tuple[list[int], torch.Tensor]]  # (line indices, logits [B, T, C])


def read_split(folder: Path) -> tuple[list[Path], list[str]]:
    parsed = read_label_file(folder / "gt.txt", "gt", strict=True)
    return [folder / r.image for r in parsed.records], [normalize(r.label) for r in parsed.records]  # type: ignore[operator]


@torch.inference_mode()
def split_logits(recognizer: Recognizer, folder: Path, batch_size: int = 64) -> Split:
    images, truths = read_split(folder)
    tensors = [recognizer.preprocess(load_image(path)) for path in images]
    batches = []
    widths = [t.shape[-1] for t in tensors]
    margin = recognizer.context_margin
    for group in batch_groups(widths, batch_size, variable_width=recognizer.variable_width):
        batch = recognizer.preprocess.pad_batch([tensors[i] for i in group], extra=margin)
        if not margin:
            batches.append((group, recognizer.model(batch).float()))
            continue
        # As the recogniser reads them (batch-invariant): each line's own frames, later ones certain blanks,
        # so decoders that take no lengths (flashlight-text, pyctcdecode) see the same lines too.
        own = torch.tensor([widths[i] for i in group], dtype=torch.long)
        logits = recognizer.model(batch, own).float()
        batches.append((group, blank_after(logits, recognizer.model.output_lengths(own))))
    return Split(folder.name, images, truths, batches)


@dataclass
class Result:
    texts: list[str]
    confidences: list[float]
    seconds: float  # CPU time of decoding (process time: steadier than wall time on a shared machine)
    wall: float  # wall time of decoding

    def cer(self, truths: Sequence[str]) -> float:
        return metrics.cer(list(truths), self.texts)

    def accuracy(self, truths: Sequence[str]) -> float:
        return metrics.accuracy(list(truths), self.texts)


def run_decoder(split: Split, decode: Callable[[torch.Tensor], Sequence[Decoded]]) -> Result:
    texts: list[str] = [""] * len(split.truths)
    confidences = [0.0] * len(split.truths)
    start, wall = time.process_time(), time.perf_counter()
    for group, logits in split.batches:
        for index, decoded in zip(group, decode(logits), strict=True):
            texts[index] = normalize(decoded.text)
            confidences[index] = decoded.confidence
    return Result(texts, confidences, time.process_time() - start, time.perf_counter() - wall)


def expected_calibration_error(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> float:
    """ECE over ``bins`` equal-width confidence bins: Σ (n_b / n) · |accuracy_b − mean confidence_b|."""
    conf = np.asarray(confidences, dtype=np.float64)
    hit = np.asarray(correct, dtype=np.float64)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() / len(conf) * abs(hit[mask].mean() - conf[mask].mean())
    return float(total)
