"""Recognise image files in bulk and write the results: the work behind ``kocr predict``, for Python too.

>>> from kocr import Recognizer
>>> from kocr.data.images import iter_image_files
>>> from kocr.predict_files import predict_files, write_predictions
>>> files = iter_image_files(["scans/"], recursive=True)  # (path, name to show) pairs
>>> rows = list(predict_files(Recognizer.load("default"), files))
>>> write_predictions("preds.jsonl", rows)  # .tsv, .csv, .json or .jsonl

Images are loaded and recognised ``CHUNK`` at a time, so memory stays flat on huge folders. A file that
cannot be read is reported (to ``on_skip``, else as a logged warning) and skipped; the others go on.
Any recogniser with ``predict_images`` works: :class:`kocr.Recognizer` or an ONNX one.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kocr.data.images import load_image
from kocr.errors import KocrError
from kocr.fileio import atomic_write_text

logger = logging.getLogger(__name__)

CHUNK = 256  # images loaded and recognised at a time: memory stays flat on huge folders
OUTPUT_FORMATS = (".tsv", ".csv", ".json", ".jsonl")


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


def write_predictions(
    path: str | os.PathLike[str],
    rows: Sequence[tuple[str, str, float]],
    *,
    metadata: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Write ``(name, text, confidence)`` rows as TSV, CSV, JSON or JSONL, chosen by ``path``'s suffix
    (fields ``path``, ``text``, ``confidence``, rounded to 6 digits); UTF-8, LF line ends.

    With ``metadata`` (``kocr predict``: the model, its input normalisation, the decoder and its
    settings), a ``.json`` file is ``{"metadata": ..., "predictions": [...]}`` instead of the bare list.
    ``.jsonl`` records carry ``fields`` (``kocr predict``: ``normalize`` and ``decoder``), keys readers of
    the three-key records can ignore. TSV and CSV hold the three columns only."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise KocrError(f"{path}: predictions are written as {', '.join(OUTPUT_FORMATS)}, not {suffix!r}")
    records = [
        {"path": name, "text": text, "confidence": round(confidence, 6)} for name, text, confidence in rows
    ]
    if suffix == ".json":
        document: Any = records if metadata is None else {"metadata": dict(metadata), "predictions": records}
        content = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    elif suffix == ".jsonl":
        content = "".join(json.dumps({**r, **(fields or {})}, ensure_ascii=False) + "\n" for r in records)
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if suffix == ".tsv" else ",", lineterminator="\n")
        writer.writerow(["path", "text", "confidence"])
        writer.writerows([r["path"], r["text"], f"{r['confidence']:.6f}"] for r in records)
        content = buffer.getvalue()
    atomic_write_text(path, content)
