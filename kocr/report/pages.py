"""The report of a page evaluation (``kocr eval --layout page --report``): the figures per dataset, the
page CER histogram, how sure the model was of the lines it read right and wrong, and the worst pages
drawn as overlays (:mod:`kocr.report.overlay`) beside their lines, each read line next to the truth line
it was matched with (:func:`kocr.pages.metrics.match_lines`) and the differences marked.

Only the ``worst`` pages are kept (their file, what was read, their truth lines), and their images are
read again when the report is drawn.
"""

from __future__ import annotations

import heapq
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kocr.pages.evaluate import PageEvalReport, PageSummary, ReadPage
from kocr.pages.metrics import match_lines
from kocr.pages.types import PageResult
from kocr.report.diff import diff_line
from kocr.report.html import render_report, setup_rows
from kocr.report.images import image_data_uri, thumbnail
from kocr.report.overlay import draw_page_overlay
from kocr.report.plots import CerHistogram, ReliabilityBins, cer_histogram, reliability_plot

logger = logging.getLogger(__name__)

DEFAULT_WORST_PAGES = 10
PAGE_THUMBNAIL = (1400, 1000)  # the overlay (page and text side by side) at most this big, in px


@dataclass(frozen=True)
class KeptPage:
    """A page the report may show: its name, file, truth lines, what was read, its CER and dataset."""

    name: str
    image: Path
    truth: list[str]
    result: PageResult
    cer: float
    dataset: str


def line_statuses(truth: Sequence[str], result: PageResult) -> tuple[list[str], list[tuple[int, int, float]]]:
    """Each read line's status (right, misread, extra: matched to no truth line) and the matches."""
    predicted = [line.text for line in result.lines]
    matches = match_lines(truth, predicted)
    statuses = ["extra"] * len(predicted)
    for _, j, error in matches:
        statuses[j] = "right" if error == 0 else "misread"
    return statuses, matches


class PageReportCollector:
    """Everything a page report shows, gathered one read page at a time (pass :meth:`add` as
    ``evaluate_pages(..., on_page=...)``)."""

    def __init__(self, *, worst: int = DEFAULT_WORST_PAGES) -> None:
        self.worst_limit = worst
        self.histogram = CerHistogram()
        self.reliability = ReliabilityBins()
        self._worst: list[tuple[float, int, KeptPage]] = []
        self._count = 0

    def add(self, page: ReadPage) -> None:
        self._count += 1
        self.histogram.add(page.row.cer)
        statuses, _ = line_statuses(page.sample.lines, page.result)
        for line, status in zip(page.result.lines, statuses, strict=True):
            self.reliability.add(line.confidence, status == "right")
        if not self.worst_limit:
            return
        kept = KeptPage(page.row.image, page.sample.image, list(page.sample.lines), page.result, page.row.cer,
                        page.dataset)  # fmt: skip
        item = (page.row.cer, -self._count, kept)
        if len(self._worst) < self.worst_limit:
            heapq.heappush(self._worst, item)
        elif item > self._worst[0]:
            heapq.heapreplace(self._worst, item)

    def worst(self) -> list[KeptPage]:
        """The kept pages, highest page CER first (the first read among equals)."""
        return [kept for _, _, kept in sorted(self._worst, key=lambda item: (-item[0], -item[1]))]


def page_report_context(
    result: PageEvalReport, collector: PageReportCollector, setup: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the page template shows: plain values, overlays already data URIs."""
    combined = result.combined.figures()
    cards = [
        ("pages", f"{int(combined['pages']):,}"),
        ("page CER", f"{combined['page_cer']:.4f}"),
        ("lines", f"{int(combined['lines']):,}"),
        ("lines found", f"{combined['lines_found']:.2%}"),
        ("pages / s", f"{combined['pages_per_second']:.2f}"),
    ]
    datasets = result.datasets + ([result.combined] if len(result.datasets) > 1 else [])
    plots = [
        {"title": "CER histogram", "uri": cer_histogram(collector.histogram, unit="pages"),
         "caption": "Pages by their page CER (whitespace runs as one space)."},
        {"title": "reliability", "uri": reliability_plot(collector.reliability),
         "caption": "Read lines by confidence: the share read exactly right (matched to a truth line "
                    "with no error). Below: how many lines fall in each bin."},
    ]  # fmt: skip
    return {
        "kind": "pages",
        "title": "kocr page evaluation",
        "setup": setup_rows({**(setup or {}), "log": str(result.log_path)}),
        "cards": cards,
        "datasets": [_dataset_row(d) for d in datasets],
        "plots": plots,
        "pages": [_page_entry(kept, rank) for rank, kept in enumerate(collector.worst(), start=1)],
        "worst_limit": collector.worst_limit,
    }


def _dataset_row(summary: PageSummary) -> dict[str, str]:
    f = summary.figures()
    return {
        "name": summary.name,
        "pages": f"{int(f['pages']):,}",
        "cer": f"{f['page_cer']:.4f}",
        "lines": f"{int(f['lines']):,}",
        "found": f"{f['lines_found']:.2%}",
        "speed": f"{f['pages_per_second']:.2f}",
        "unreadable": f"{int(f['unreadable']):,}",
    }


def _page_entry(kept: KeptPage, rank: int) -> dict[str, Any]:
    statuses, matches = line_statuses(kept.truth, kept.result)
    truth_of = {j: (i, error) for i, j, error in matches}
    lines = []
    for j, (line, status) in enumerate(zip(kept.result.lines, statuses, strict=True)):
        i, error = truth_of.get(j, (None, None))
        truth = kept.truth[i] if i is not None else ""
        lines.append({
            "number": j + 1,
            "status": status,
            "segments": diff_line(truth, line.text),
            "truth": truth,
            "truth_note": "(matches no truth line)",
            "predicted": line.text,
            "confidence": f"{line.confidence:.3f}",
            "cer": f"{error:.3f}" if error is not None else "—",
        })  # fmt: skip
    found = {i for i, _, _ in matches}
    missed = [text for i, text in enumerate(kept.truth) if i not in found]
    return {
        "rank": rank,
        "name": kept.name,
        "dataset": kept.dataset,
        "cer": f"{kept.cer:.3f}",
        "overlay": _overlay_uri(kept, statuses),
        "lines": lines,
        "missed": missed,
        "rotation": kept.result.rotation,
    }


def _overlay_uri(kept: KeptPage, statuses: list[str]) -> str | None:
    from kocr.data.images import load_image

    try:
        picture = draw_page_overlay(load_image(kept.image), kept.result, statuses)
    except Exception as exc:  # the file changed since it was read: the report goes on without it
        logger.warning("%s: cannot show it in the report (%s)", kept.image, exc)
        return None
    width, height = PAGE_THUMBNAIL
    return image_data_uri(thumbnail(picture, max_width=width, max_height=height), format="JPEG")


def write_page_report(
    path: str | os.PathLike[str],
    result: PageEvalReport,
    collector: PageReportCollector,
    *,
    setup: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the HTML report of a page evaluation (one self-contained file); returns its path."""
    context = page_report_context(result, collector, setup)
    return render_report(path, "pages.html", context, overwrite=overwrite)
