"""Recognise image files in bulk: the work behind ``kocr predict``, for Python too.

>>> from kocr import load_recognizer
>>> from kocr.data.images import iter_image_files
>>> from kocr.runtime.files import predict_files
>>> from kocr.runtime.writers import write_predictions
>>> files = iter_image_files(["scans/"], recursive=True)  # (path, name to show) pairs
>>> rows = list(predict_files(load_recognizer("default"), files))
>>> write_predictions("preds.jsonl", rows)  # .tsv, .csv, .json or .jsonl

Images are loaded and recognised ``CHUNK`` at a time (fewer when they are large: at most
``CHUNK_PIXELS`` pixels are held at once), so memory stays flat on huge folders and on folders of page
photos. A file that cannot be read is reported (to ``on_skip``, else as a logged warning) and skipped;
the others go on. Any :class:`~kocr.runtime.base.LineRecognizer` works, and so does a
:class:`kocr.pages.reader.PageReader`, whose pages come back with their lines (``FilePrediction.page``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NamedTuple

from kocr.data.images import load_image
from kocr.errors import KocrError
from kocr.runtime.base import Prediction

logger = logging.getLogger(__name__)

CHUNK = 256  # images loaded and recognised at a time: memory stays flat on huge folders
CHUNK_PIXELS = (
    48_000_000  # ... and no more pixels than this (four 12-megapixel photos; 256 line crops are ~3 M)
)


class FilePrediction(NamedTuple):
    """One recognised file: the name it is shown under, its text and confidence, and for a page read as
    one (:class:`kocr.pages.types.PageResult`) its lines; None for a line."""

    path: str
    text: str
    confidence: float
    page: Any = None


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
    chunk: list[str] = []
    images: list[Any] = []
    handled = pixels = 0
    for path, name in files:
        handled += 1
        try:
            image = load_image(path)
            images.append(image)
            chunk.append(name)
            pixels += image.width * image.height
        except KocrError as exc:
            if on_skip is not None:
                on_skip(exc)
            else:
                logger.warning("skipped: %s", exc)
        if handled == chunk_size or pixels >= CHUNK_PIXELS:
            yield from _recognise(recognizer, chunk, images)
            if on_chunk is not None:
                on_chunk(handled)
            chunk, images, handled, pixels = [], [], 0, 0
    if handled:
        yield from _recognise(recognizer, chunk, images)
        if on_chunk is not None:
            on_chunk(handled)


def _recognise(recognizer: Any, names: list[str], images: list[Any]) -> Iterator[FilePrediction]:
    for name, result in zip(names, recognizer.predict_images(images) if images else [], strict=True):
        page = None if isinstance(result, Prediction) else result
        yield FilePrediction(name, result.text, result.confidence, page)
