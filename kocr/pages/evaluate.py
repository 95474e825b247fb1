"""Scoring whole pages (``kocr eval --layout page``): page CER and lines found per dataset, and
``test_log.txt`` with one row per page (its lines joined by ``\\n``, escaped as the log escapes it).

Pages are read in order; the next one is loaded and its lines found in a second thread while this one is
read (as ``kocr predict`` does), so memory is two pages however large the dataset is. ``on_page`` sees
each read page with its image (a :class:`ReadPage`): how ``--overlay`` and ``--report`` draw them. A page
that cannot be read (or that the reader fails on) is reported and not scored, and a page a gt.txt lists
twice is scored once, as line evaluation does (:mod:`kocr.evaluate`).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from PIL import Image

from kocr.data.images import load_image
from kocr.data.labels.duplicates import DuplicateFinder
from kocr.errors import KocrError
from kocr.evaluate import EvalRow, TestLogWriter
from kocr.fileio import atomic_open
from kocr.pages.metrics import PageScore, score_page
from kocr.pages.reader import PageReader
from kocr.pages.truth import PageSample, iter_page_samples
from kocr.pages.types import PageResult

logger = logging.getLogger(__name__)


@dataclass
class PageSummary:
    """Running figures for the pages of one dataset (or all of them)."""

    name: str
    pages: int = 0
    distance: int = 0
    length: int = 0
    lines: int = 0
    found: int = 0
    seconds: float = 0.0  # wall time loading, finding and reading the pages (overlapped as they run)
    unreadable: int = 0
    duplicates: int = 0

    def add(self, score: PageScore) -> None:
        self.pages += 1
        self.distance += score.distance
        self.length += score.length
        self.lines += score.lines
        self.found += score.found

    def figures(self) -> dict[str, float]:
        return {
            "pages": self.pages,
            "page_cer": self.distance / self.length if self.length else 0.0,
            "lines": self.lines,
            "lines_found": self.found / self.lines if self.lines else 1.0,
            "pages_per_second": self.pages / self.seconds if self.seconds else 0.0,
            "unreadable": self.unreadable,
            "duplicates": self.duplicates,
        }


@dataclass(frozen=True)
class ReadPage:
    """One scored page as ``evaluate_pages`` hands it to ``on_page``: the sample, the image it was read
    from, what was read, its log row and score, and the dataset it came from."""

    sample: PageSample
    image: Any
    result: PageResult
    row: EvalRow
    score: PageScore
    dataset: str


@dataclass
class PageEvalReport:
    datasets: list[PageSummary]
    combined: PageSummary
    log_path: Path
    worst: list[EvalRow] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "layout": "page",
            "datasets": {d.name: d.figures() for d in self.datasets},
            "combined": self.combined.figures(),
            "log_file": str(self.log_path),
        }


def evaluate_pages(
    reader: PageReader,
    datasets: Sequence[str | os.PathLike[str]],
    log_path: str | os.PathLike[str],
    *,
    worst: int = 0,
    progress: Callable[[int], None] | None = None,
    on_page: Callable[[ReadPage], None] | None = None,
) -> PageEvalReport:
    """Read every page of ``datasets`` as a page and score it; writes ``log_path`` whole or not at all.
    A dataset of which no page can be scored raises :class:`KocrError`. ``on_page`` is called with
    every scored page, in order (:class:`ReadPage`)."""
    log_path = Path(log_path)
    summaries = [PageSummary(str(d)) for d in datasets]
    combined = PageSummary("all")
    rows: list[EvalRow] = []

    def pages_of(dataset: str | os.PathLike[str], summary: PageSummary) -> Iterator[PageSample]:
        repeats = DuplicateFinder(drop=True)
        for sample in iter_page_samples(dataset):
            repeated = repeats.check(sample.image, "\n".join(sample.lines), sample.where)
            if repeated is not None:  # a gt.txt listing a page twice: scored once, as eval does lines
                summary.duplicates += 1
                combined.duplicates += 1
                logger.warning("%s: %s", repeated.kind, repeated)
                continue
            yield sample

    def unreadable(summary: PageSummary, sample: PageSample, exc: Exception) -> None:
        summary.unreadable += 1
        combined.unreadable += 1
        reason = (
            str(exc)
            if isinstance(exc, KocrError)
            else f"{sample.where}: could not be read ({type(exc).__name__}: {exc})"
        )
        logger.warning("%s; not scored", reason)

    with atomic_open(log_path) as handle:
        log = TestLogWriter(handle)
        for dataset, summary in zip(datasets, summaries, strict=True):
            samples = list(pages_of(dataset, summary))
            pages_read = reader.each_page(partial(_read, reader), samples)
            started, observing = time.perf_counter(), 0.0  # the observers' time is not reading time
            for sample, read in zip(samples, pages_read, strict=True):
                if isinstance(read, Exception):  # unreadable, too many pixels, the finder or model failed
                    unreadable(summary, sample, read)
                    continue
                result = read.result
                for note in result.notes:
                    logger.warning("%s: %s", sample.where, note)
                predicted = [line.text for line in result.lines]
                score = score_page(sample.lines, predicted)
                summary.add(score)
                combined.add(score)
                row = EvalRow(sample.name, "\n".join(sample.lines), result.text, result.confidence, score.cer)
                log.write(row)
                rows.append(row)
                if on_page is not None:
                    observed = time.perf_counter()
                    on_page(ReadPage(sample, read.image, result, row, score, summary.name))
                    observing += time.perf_counter() - observed
                if progress:
                    progress(1)
            summary.seconds = time.perf_counter() - started - observing
            combined.seconds += summary.seconds
            if summary.pages == 0:
                why = f" ({summary.unreadable:,} unreadable: see the warnings)" if summary.unreadable else ""
                raise KocrError(f"{dataset}: no page could be scored{why}; {log_path} not written")
    ranked = sorted(rows, key=lambda row: -row.cer)[:worst] if worst else []
    return PageEvalReport(summaries, combined, log_path, ranked)


@dataclass(frozen=True)
class _Read:
    """A page loaded and read."""

    image: Image.Image
    result: PageResult


def _read(reader: PageReader, sample: PageSample) -> _Read | Exception:
    """``sample`` loaded and read by ``reader``, or why it could not be (reported in order)."""
    try:
        image = load_image(sample.image)
        return _Read(image, reader.read_page(image))
    except Exception as exc:  # handed back to the reading loop, which reports it in order
        return exc
