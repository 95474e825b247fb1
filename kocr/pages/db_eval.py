"""How well a line finder's boxes match a page set's own: precision, recall and F1 of lines matched one to
one at box IoU >= ``MATCH_IOU`` (the ICDAR detection protocol, on the boxes' axis-aligned extents, which
for the near-level lines of a page is close to the rotated boxes' IoU). Detector training validates with
it; ``kocr detector eval`` prints it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from kocr.pages.db_data import ScaledPage

MATCH_IOU = 0.5


@dataclass(frozen=True)
class DetectionScore:
    precision: float
    recall: float
    f1: float
    pages: int
    lines: int
    found: int


def box_extents(quads: np.ndarray) -> np.ndarray:
    """(N, 4, 2) corners → (N, 4) x0, y0, x1, y1."""
    if len(quads) == 0:
        return np.zeros((0, 4))
    return np.concatenate([quads.min(axis=1), quads.max(axis=1)], axis=1)


def matched_lines(truth: np.ndarray, found: np.ndarray, threshold: float = MATCH_IOU) -> int:
    """How many truth boxes (N, 4) are matched one to one by found boxes (M, 4) at IoU >= threshold."""
    return int(truth_matched(truth, found, threshold).sum())


def truth_matched(truth: np.ndarray, found: np.ndarray, threshold: float = MATCH_IOU) -> np.ndarray:
    """(N,) bool: which truth boxes (N, 4: x0, y0, x1, y1) a found box (M, 4) matches one to one at
    IoU >= threshold, best pairs first (greedily), each box used once."""
    hit = np.zeros(len(truth), dtype=bool)
    if len(truth) == 0 or len(found) == 0:
        return hit
    x0 = np.maximum(truth[:, None, 0], found[None, :, 0])
    y0 = np.maximum(truth[:, None, 1], found[None, :, 1])
    x1 = np.minimum(truth[:, None, 2], found[None, :, 2])
    y1 = np.minimum(truth[:, None, 3], found[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = lambda b: (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])  # noqa: E731
    iou = inter / np.maximum(area(truth)[:, None] + area(found)[None, :] - inter, 1e-9)
    pairs = np.argwhere(iou >= threshold)
    order = np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")
    used_found: set[int] = set()
    for t, f in pairs[order]:
        if not hit[t] and int(f) not in used_found:
            hit[t] = True
            used_found.add(int(f))
    return hit


def score_pages(finder: Any, pages: Sequence[ScaledPage]) -> DetectionScore:
    """``finder`` (anything with ``find(image) -> [LineRegion]``) over ``pages``, scored against their
    own line boxes (the finder's crop margins should be off: boxes are compared tight)."""
    lines = found = matched = 0
    for page in pages:
        regions = finder.find(Image.fromarray(page.pixels))
        boxes = box_extents(np.array([r.quad for r in regions], dtype=np.float64).reshape(-1, 4, 2))
        truth = box_extents(page.quads)
        lines += len(truth)
        found += len(boxes)
        matched += matched_lines(truth, boxes)
    precision = matched / found if found else 0.0
    recall = matched / lines if lines else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return DetectionScore(precision, recall, f1, len(pages), lines, found)
