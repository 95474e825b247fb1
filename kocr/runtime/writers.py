"""Predictions written as TSV, CSV, JSON or JSONL (``kocr predict -o``), whole or not at all."""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kocr.errors import KocrError
from kocr.fileio import atomic_write_text

OUTPUT_FORMATS = (".tsv", ".csv", ".json", ".jsonl")


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
