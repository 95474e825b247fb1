"""Predictions written as TSV, CSV, JSON or JSONL (``kocr predict -o``), or one ``.txt`` per image
(``--txt-dir``), whole or not at all.

A page (a row whose ``page`` is a :class:`kocr.pages.types.PageResult`) is one record: in JSON its
``text`` is its lines in reading order joined by ``\n``, with ``layout: "page"`` and ``lines`` (each
line's ``box``: four ``[x, y]`` corners in the page's pixels, ``text``, ``confidence``).

TSV and CSV hold one row per image, each by its own convention. ``.tsv`` is kocr's one TSV, the one of
``test_log.txt``: plain, never quoted (``cut -f2`` works), a backslash, tab, newline or carriage return in
a field written ``\\``, ``\t``, ``\n``, ``\r`` (:func:`kocr.text.escape_field`, undone by
:func:`kocr.text.unescape_field`), so a page's lines stay in one row. ``.csv`` is RFC 4180: a field holding
a comma, quote or line break is quoted (``"그는 ""좋다""고 했다"``), a page's text keeps its line breaks
inside its quotes. File names that are not UTF-8 follow :mod:`kocr.names` in both.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from kocr.errors import KocrError
from kocr.fileio import atomic_write_text
from kocr.names import json_text, printable_name
from kocr.text import escape_field

OUTPUT_FORMATS = (".tsv", ".csv", ".json", ".jsonl")
COLUMNS = ("path", "text", "confidence")


def write_predictions(
    path: str | os.PathLike[str],
    rows: Sequence[tuple[Any, ...]],
    *,
    metadata: Mapping[str, Any] | None = None,
    fields: Mapping[str, Any] | None = None,
) -> None:
    """Write ``(name, text, confidence[, page])`` rows (:class:`kocr.runtime.files.FilePrediction`) as
    TSV, CSV, JSON or JSONL, chosen by ``path``'s suffix (fields ``path``, ``text``, ``confidence``,
    rounded to 6 digits, and a page's lines as the module docs say); UTF-8, LF line ends.

    With ``metadata`` (``kocr predict``: the model, its input normalisation, the decoder and its
    settings), a ``.json`` file is ``{"metadata": ..., "predictions": [...]}`` instead of the bare list.
    ``.jsonl`` records carry ``fields`` (``kocr predict``: ``normalize`` and ``decoder``), keys readers of
    the three-key records can ignore. TSV and CSV hold the three columns only."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_FORMATS:
        raise KocrError(f"{path}: predictions are written as {', '.join(OUTPUT_FORMATS)}, not {suffix!r}")
    records = [_record(row) for row in rows]
    if suffix == ".json":
        document: Any = records if metadata is None else {"metadata": dict(metadata), "predictions": records}
        content = json_text(document, indent=2) + "\n"
    elif suffix == ".jsonl":
        content = "".join(json_text({**r, **(fields or {})}) + "\n" for r in records)
    elif suffix == ".tsv":
        rows_text = [
            [escape_field(r["path"]), escape_field(r["text"]), f"{r['confidence']:.6f}"] for r in records
        ]
        content = "".join("\t".join(row) + "\n" for row in [list(COLUMNS), *rows_text])
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")  # RFC 4180 quoting, LF line ends
        writer.writerow(COLUMNS)
        writer.writerows([printable_name(r["path"]), r["text"], f"{r['confidence']:.6f}"] for r in records)
        content = buffer.getvalue()
    atomic_write_text(path, content)


def _record(row: tuple[Any, ...]) -> dict[str, Any]:
    name, text, confidence = row[:3]
    page = row[3] if len(row) > 3 else None
    if page is not None:
        return {"path": name, **page.to_record()}
    return {"path": name, "text": text, "confidence": round(confidence, 6)}


def text_file_names(names: Sequence[str]) -> list[str]:
    """The ``.txt`` file each image's text goes to under ``--txt-dir``: the image's name as shown, with
    ``.txt`` for its suffix (``scans/p1.png`` -> ``scans/p1.txt``). Two images that would share a file
    (``p1.png`` and ``p1.jpg``) are an error, before anything is written."""
    return output_file_names(names, ".txt")


def output_file_names(names: Sequence[str], suffix: str) -> list[str]:
    """The file each image's output goes to, relative to an output folder: the image's name as shown
    with ``suffix`` for its own, kept inside the folder; two images that would share one are an error."""
    targets = [str(_inside(Path(name)).with_suffix(suffix)) for name in names]
    seen: dict[str, str] = {}
    for name, target in zip(names, targets, strict=True):
        if target in seen:
            raise KocrError(f"{seen[target]} and {name} would both be written to {target}; read them apart")
        seen[target] = name
    return targets


def _inside(name: Path) -> Path:
    """A shown name as a path that stays inside the output folder (no root, drive or ``..``)."""
    parts = [part for part in name.parts if part not in ("..", ".") and part != name.anchor]
    return Path(*parts) if parts else Path("image")


def write_text_files(
    folder: str | os.PathLike[str], rows: Sequence[tuple[Any, ...]], *, overwrite: bool = False
) -> list[Path]:
    """One UTF-8 ``.txt`` per image in ``folder`` (:func:`text_file_names`): a page's lines in reading
    order, one per line, or a line's text; each file ends with a newline (an empty page: an empty file).
    Existing files are an error naming the first one, unless ``overwrite``."""
    folder = Path(folder)
    targets = [folder / name for name in text_file_names([row[0] for row in rows])]
    if not overwrite:
        existing = [target for target in targets if target.exists()]
        if existing:
            more = f" (and {len(existing) - 1:,} more)" if len(existing) > 1 else ""
            raise KocrError(f"{existing[0]} exists{more}; pass --overwrite to replace it")
    for target, row in zip(targets, rows, strict=True):
        text = row[1]
        atomic_write_text(target, text + "\n" if text else "")
    return targets
