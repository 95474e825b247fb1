"""Ground truth for pages, as ``kocr eval --layout page`` reads it.

Two ways to give it:

- a folder of page images, each with its lines in reading order beside it in ``NAME.gt.txt`` (for
  ``NAME.png``; ``NAME.png.gt.txt`` works too, as Tesseract's training tools write it): UTF-8, one line
  of text per line, blank lines ignored. ``kocr data synth --pages`` writes pages this way.
- a label file (``gt.txt``: ``image<TAB>text``) whose texts hold the page's line breaks as ``\\n``, the
  escape ``test_log.txt`` uses (:func:`kocr.text.escape_field`).

A page image without its text is reported and not scored, never scored against an empty page.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kocr.data.images import IMAGE_SUFFIXES
from kocr.data.labels.reader import read_label_file
from kocr.data.sources import LABEL_FILE_NAMES
from kocr.errors import InputFileError
from kocr.names import listed_file
from kocr.text import unescape_field

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageSample:
    """One page to score: the image, its name in the log, and its lines in reading order."""

    name: str
    image: Path
    lines: list[str]
    where: str  # the file (and line) the text came from, for messages


def iter_page_samples(dataset: str | os.PathLike[str]) -> Iterator[PageSample]:
    """The pages of a dataset (a folder of images with ``.gt.txt`` texts, or a label file), in order."""
    path = Path(dataset)
    if not path.exists():
        raise InputFileError(path, "no such page dataset (expected a folder of pages or a gt.txt)")
    if path.is_file():
        yield from _label_file_pages(path)
        return
    for name in LABEL_FILE_NAMES:
        if (path / name).is_file():
            yield from _label_file_pages(path / name)
            return
    images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not images:
        raise InputFileError(path, "holds no page images (and no gt.txt)")
    missing = 0
    for image in images:
        text_file = truth_file(image)
        if text_file is None:
            missing += 1
            logger.warning("%s: no %s.gt.txt beside it; not scored", image, image.stem)
            continue
        yield PageSample(image.name, image, read_truth_lines(text_file), str(text_file))
    if missing == len(images):
        raise InputFileError(path, f"none of its {len(images):,} images has a NAME.gt.txt with its text")


def truth_file(image: Path) -> Path | None:
    """The ``.gt.txt`` beside a page image, if there is one."""
    for candidate in (image.with_suffix(".gt.txt"), image.with_name(image.name + ".gt.txt")):
        if candidate.is_file():
            return candidate
    return None


def read_truth_lines(path: Path) -> list[str]:
    """A page's lines from its ``.gt.txt``: UTF-8 (a BOM is fine), blank lines dropped."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputFileError(
            path, "is not UTF-8 (saved as CP949/EUC-KR? re-save it as UTF-8)", line=line
        ) from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _label_file_pages(label_file: Path) -> Iterator[PageSample]:
    parsed = read_label_file(label_file, "gt")
    for problem in parsed.problems:
        logger.warning("%s: skipped", problem)
    for record in parsed.records:
        lines = [line.strip() for line in unescape_field(record.label).split("\n") if line.strip()]
        image = listed_file(label_file.parent, record.image or "")
        yield PageSample(record.image or "", image, lines, record.where)
