"""Recognise image files in bulk: the work behind ``kocr predict``, for Python too.

>>> from kocr import load_recognizer
>>> from kocr.data.images import iter_image_files
>>> from kocr.runtime.files import predict_files
>>> from kocr.runtime.writers import write_predictions
>>> files = iter_image_files(["scans/"], recursive=True)  # (path, name to show) pairs
>>> rows = list(predict_files(load_recognizer("default"), files))
>>> write_predictions("preds.jsonl", rows)  # .tsv, .csv, .json or .jsonl

Images are loaded and recognised ``CHUNK`` at a time, so memory stays flat on huge folders. A file that
cannot be read is reported (to ``on_skip``, else as a logged warning) and skipped; the others go on.
Any :class:`~kocr.runtime.base.LineRecognizer` works.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from kocr.data.images import load_image
from kocr.errors import KocrError

logger = logging.getLogger(__name__)

CHUNK = 256  # images loaded and recognised at a time: memory stays flat on huge folders


class FilePrediction(NamedTuple):
    """One recognised file: the name it is shown under, its text and confidence."""

    path: str
    text: str
    confidence: float


def predict_files(
    recognizer: Any,
    files: Sequence[tuple[str | os.PathLike[str], str]],
    *,
    chunk_size: int = CHUNK,
    on_skip: Callable[[KocrError], None] | None = None,
    on_chunk: Callable[[int], None] | None = None,
) -> Iterator[FilePrediction]:
    """Predictions for ``(file, name)`` pairs (as :func:`kocr.data.images.iter_image_files` lists them), in
    order, unreadable files left out. ``on_chunk(n)`` follows progress: ``n`` files were handled."""
    for start in range(0, len(files), chunk_size):
        part = files[start : start + chunk_size]
        chunk, images = [], []
        for path, name in part:
            try:
                images.append(load_image(path))
                chunk.append(name)
            except KocrError as exc:
                if on_skip is not None:
                    on_skip(exc)
                else:
                    logger.warning("skipped: %s", exc)
        for name, result in zip(chunk, recognizer.predict_images(images) if images else [], strict=True):
            yield FilePrediction(name, result.text, result.confidence)
        if on_chunk is not None:
            on_chunk(len(part))
