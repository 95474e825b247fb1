"""The report of a line evaluation (``kocr eval --report``): what it shows is gathered while evaluation
streams, then drawn once.

>>> from kocr.evaluate import evaluate
>>> from kocr.report.lines import LineReportCollector, write_line_report
>>> collector = LineReportCollector(worst=50)
>>> result = evaluate(recognizer, ["data/test"], "test_log.txt", on_sample=collector.add)
>>> write_line_report("report.html", result, collector)

Memory and output are bounded whatever the number of lines: running sums per dataset and folder, binned
confidences and CERs, the ``worst`` lines and, per shown confusion, ``examples`` sampled lines (with a
fixed seed) — references to their images, read again only for the few that are shown.
"""

from __future__ import annotations

import heapq
import io
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kocr.evaluate import DatasetSummary, EvalReport, EvalRow, ScoredSample
from kocr.report.confusions import ConfusionSampler
from kocr.report.diff import SUBSTITUTED, Segment, diff_line, jamo_label
from kocr.report.html import figure_rows, render_report, setup_rows
from kocr.report.images import image_data_uri, thumbnail
from kocr.report.plots import CerHistogram, ReliabilityBins, cer_histogram, reliability_plot

logger = logging.getLogger(__name__)

DEFAULT_WORST = 50
DEFAULT_TOP = 15
#: Per-folder figures are kept for this many folders; later ones are counted under OTHER_GROUPS.
MAX_GROUPS = 200
OTHER_GROUPS = "(other folders)"
LINE_THUMBNAIL = (900, 64)  # max width, max height in px


@dataclass(frozen=True)
class KeptLine:
    """A line the report may show: its log row and a way to read its image again."""

    row: EvalRow
    dataset: str
    load: Callable[[], bytes]


class LineReportCollector:
    """Everything a line report shows, gathered one :class:`~kocr.evaluate.ScoredSample` at a time
    (pass :meth:`add` as ``evaluate(..., on_sample=...)``)."""

    def __init__(
        self, *, worst: int = DEFAULT_WORST, top: int = DEFAULT_TOP, examples: int = 3, seed: int = 0
    ) -> None:
        self.worst_limit = worst
        self.top = top
        self.reliability = ReliabilityBins()
        self.histogram = CerHistogram()
        self.groups: dict[tuple[str, str], DatasetSummary] = {}
        self.syllables: ConfusionSampler[KeptLine] = ConfusionSampler(examples=examples, seed=seed)
        self.jamo: ConfusionSampler[KeptLine] = ConfusionSampler(examples=examples, seed=seed + 1)
        self._worst: list[tuple[float, int, KeptLine]] = []
        self._count = 0

    def add(self, sample: ScoredSample) -> None:
        row = sample.row
        self._count += 1
        exact = row.cer == 0  # the row's CER follows --ignore-space, as accuracy does
        self.reliability.add(row.confidence, exact)
        self.histogram.add(row.cer)
        self._group(sample.dataset, sample.group).add(sample.truth, sample.predicted, row.confidence)
        kept = None
        if self.worst_limit and row.cer > 0:
            kept = KeptLine(row, sample.dataset, sample.load)
            item = (row.cer - row.confidence * 1e-6, -self._count, kept)
            if len(self._worst) < self.worst_limit:
                heapq.heappush(self._worst, item)
            elif item > self._worst[0]:
                heapq.heapreplace(self._worst, item)
        if not sample.exact:
            kept = kept or KeptLine(row, sample.dataset, sample.load)
            syllables, jamo = sample.substitutions
            for sampler, pairs in ((self.syllables, syllables), (self.jamo, jamo)):
                for pair, times in _tally(pairs).items():
                    sampler.add(pair, kept, times)

    def _group(self, dataset: str, group: str) -> DatasetSummary:
        key = (dataset, group)
        summary = self.groups.get(key)
        if summary is None:
            if len(self.groups) >= MAX_GROUPS:
                key = (dataset, OTHER_GROUPS)
                summary = self.groups.get(key)
            if summary is None:
                summary = self.groups[key] = DatasetSummary(group or "(top folder)")
        return summary

    @property
    def samples(self) -> int:
        return self._count

    def worst(self) -> list[KeptLine]:
        """The worst lines, highest CER first (lowest confidence breaking ties, then the first seen)."""
        return [kept for _, _, kept in sorted(self._worst, key=lambda item: (-item[0], -item[1]))]


def _tally(pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = {}
    for pair in pairs:
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def line_report_context(
    result: EvalReport, collector: LineReportCollector, setup: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """What the template shows: plain dicts and strings, images already data URIs."""
    ignore_space = result.ignore_space
    combined = result.combined.figures(ignore_space)
    cards = [
        ("lines", f"{int(combined['samples']):,}"),
        ("accuracy", f"{combined['accuracy']:.2%}"),
        ("CER", f"{combined['cer']:.4f}"),
        ("jamo error rate", f"{combined['jamo_error_rate']:.4f}"),
        ("1 − NED", f"{combined['one_minus_ned']:.4f}"),
        ("mean confidence", f"{combined['mean_confidence']:.3f}"),
    ]
    datasets = result.datasets + ([result.combined] if len(result.datasets) > 1 else [])
    subsets = []
    several = len(result.datasets) > 1
    if len(collector.groups) > 1:
        for (dataset, _), summary in sorted(collector.groups.items(), key=lambda item: item[0]):
            subsets.append(
                {
                    "dataset": dataset if several else "",
                    "name": summary.name,
                    **_figures(summary, ignore_space),
                }
            )
    images = _ImageCache()
    worst = [_line_entry(kept, images, rank) for rank, kept in enumerate(collector.worst(), start=1)]
    confusions = []
    for title, sampler, is_jamo in (
        ("syllables and other characters", collector.syllables, False),
        ("jamo inside misread syllables", collector.jamo, True),
    ):
        rows = []
        for confusion in sampler.most_common(collector.top):
            label = jamo_label if is_jamo else str
            truth, predicted = label(confusion.truth), label(confusion.predicted)
            examples = []
            for kept in confusion.examples:
                entry = _line_entry(kept, images)
                examples.append(
                    {"entry": entry, "focus": _focus(entry["segments"], truth, predicted, is_jamo)}
                )
            rows.append({"truth": truth, "predicted": predicted, "count": f"{confusion.count:,}",
                         "examples": examples})  # fmt: skip
        confusions.append({"title": title, "rows": rows, "total": sum(sampler.counts.values())})
    plots = [
        {"title": "reliability", "uri": reliability_plot(collector.reliability),
         "caption": "Accuracy of the lines in each confidence bin; bars under the diagonal are "
                    "over-confident. Below: how many lines fall in each bin."},
        {"title": "CER histogram", "uri": cer_histogram(collector.histogram),
         "caption": "Lines by their own CER: exact lines on the left."},
    ]  # fmt: skip
    scoring = ("case-sensitive" if result.case_sensitive else "Latin case ignored") + (
        "; spaces ignored" if ignore_space else "; spaces count"
    )
    return {
        "kind": "lines",
        "title": "kocr evaluation",
        "setup": setup_rows({**(setup or {}), "scoring": scoring, "log": str(result.log_path)}),
        "cards": cards,
        "datasets": [{"name": d.name, **_figures(d, ignore_space)} for d in datasets],
        "subsets": subsets,
        "plots": plots,
        "confusions": confusions,
        "worst": worst,
        "worst_limit": collector.worst_limit,
    }


def _focus(segments: list[Segment], truth: str, predicted: str, is_jamo: bool) -> list[int]:
    """The substitutions of a line where the confusion it illustrates happened (for jamo: a misread
    syllable whose jamo went from ``truth`` to ``predicted``, compatibility forms)."""
    found = []
    for index, segment in enumerate(segments):
        if segment.op != SUBSTITUTED:
            continue
        if not is_jamo:
            hit = (segment.truth, segment.predicted) == (truth, predicted)
        else:
            lost = {j.text for j in segment.truth_jamo if j.changed}
            gained = {j.text for j in segment.predicted_jamo if j.changed}
            hit = truth in lost and predicted in gained
        if hit:
            found.append(index)
    return found


def _figures(summary: DatasetSummary, ignore_space: bool) -> dict[str, str]:
    return figure_rows(summary.figures(ignore_space))


def _line_entry(kept: KeptLine, images: _ImageCache, rank: int | None = None) -> dict[str, Any]:
    row = kept.row
    return {
        "rank": rank,
        "name": row.image,
        "dataset": kept.dataset,
        "image": images.uri(kept),
        "segments": diff_line(row.truth, row.predicted),
        "truth": row.truth,
        "predicted": row.predicted,
        "confidence": f"{row.confidence:.3f}",
        "cer": f"{row.cer:.3f}",
    }


class _ImageCache:
    """Each shown line's image read, shrunk and encoded once, however many sections show it."""

    def __init__(self) -> None:
        self._uris: dict[int, str | None] = {}

    def uri(self, kept: KeptLine) -> str | None:
        key = id(kept)
        if key not in self._uris:
            self._uris[key] = self._encode(kept)
        return self._uris[key]

    @staticmethod
    def _encode(kept: KeptLine) -> str | None:
        from PIL import Image

        try:
            with Image.open(io.BytesIO(kept.load())) as image:
                image.load()
                width, height = LINE_THUMBNAIL
                return image_data_uri(thumbnail(image, max_width=width, max_height=height))
        except Exception as exc:  # the file changed since it was scored: the report goes on without it
            logger.warning("%s: cannot show its image in the report (%s)", kept.row.image, exc)
            return None


def write_line_report(
    path: str | os.PathLike[str],
    result: EvalReport,
    collector: LineReportCollector,
    *,
    setup: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Path:
    """Write the HTML report of a line evaluation (one self-contained file); returns its path."""
    context = line_report_context(result, collector, setup)
    return render_report(path, "lines.html", context, overwrite=overwrite)
