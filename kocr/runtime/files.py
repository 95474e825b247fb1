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
photos. A file that cannot be read (not an image, truncated, over the pixel limit of
:func:`kocr.data.images.set_max_pixels`) or, alone, cannot be recognised is reported (to ``on_skip``,
else as a logged warning) and skipped; the others go on: one bad file never ends a run. Any
:class:`~kocr.runtime.base.LineRecognizer` works, and so does a :class:`kocr.pages.reader.PageReader`,
whose pages come back with their lines (``FilePrediction.page``).
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
            yield from _recognise(recognizer, chunk, images, on_skip)
            if on_chunk is not None:
                on_chunk(handled)
            chunk, images, handled, pixels = [], [], 0, 0
    if handled:
        yield from _recognise(recognizer, chunk, images, on_skip)
        if on_chunk is not None:
            on_chunk(handled)


def _recognise(
    recognizer: Any, names: list[str], images: list[Any], on_skip: Callable[[KocrError], None] | None
) -> Iterator[FilePrediction]:
    def failed(position: int, exc: Exception) -> None:
        error = KocrError(f"{names[position]}: could not be read ({type(exc).__name__}: {exc})")
        if on_skip is not None:
            on_skip(error)
        else:
            logger.warning("skipped: %s", error)

    for position, result in predict_or_skip(recognizer, images, failed):
        page = None if isinstance(result, Prediction) else result
        yield FilePrediction(names[position], result.text, result.confidence, page)


def predict_or_skip(
    recognizer: Any, images: list[Any], on_failure: Callable[[int, Exception], None]
) -> list[tuple[int, Any]]:
    """``(position, result)`` for ``images`` in one batch; should the batch fail, each image is read alone
    and one that fails alone goes to ``on_failure(position, error)`` and is left out, so one image no
    model or page reader can handle costs that image only. Ctrl-C is never caught."""
    if not images:
        return []
    try:
        return list(enumerate(recognizer.predict_images(images)))
    except Exception as exc:  # whatever failed, it is retried image by image below
        if len(images) == 1:
            on_failure(0, exc)
            return []
    done: list[tuple[int, Any]] = []
    for position, image in enumerate(images):
        try:
            done.append((position, recognizer.predict_images([image])[0]))
        except Exception as exc:  # this image alone fails: report it, keep the others
            on_failure(position, exc)
    return done
