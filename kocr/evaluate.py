"""Evaluate a recogniser on labelled data: ``test_log.txt`` plus summary figures.

The log has one row per image, tab-separated UTF-8 with a header — ``Image Name``, ``Real Text``,
``Predicted Text``, ``Confidence``, ``CER`` — so it opens in a spreadsheet. Texts are written as they
were compared: normalised (NFC, collapsed whitespace) and, unless ``case_sensitive``, with Latin
letters lower-cased; the CER column is :func:`kocr.metrics.sample_cer` of those two columns (ignoring
spaces when asked), so every figure of the summary can be recomputed from the log.

Everything streams: samples are read, recognised and written in chunks, and only running sums (plus
the N worst rows and the substitution counts) stay in memory, whatever the dataset size.
"""

from __future__ import annotations

import csv
import heapq
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from kocr.charsets.hangul import decompose
from kocr.errors import KocrError
from kocr.iterutils import chunked
from kocr.metrics import RunningMetrics, align, sample_cer
from kocr.text import fold_latin_case

logger = logging.getLogger(__name__)

LOG_HEADER = ("Image Name", "Real Text", "Predicted Text", "Confidence", "CER")
CHUNK = 256


@dataclass(frozen=True)
class EvalRow:
    image: str
    truth: str
    predicted: str
    confidence: float
    cer: float


@dataclass
class DatasetSummary:
    """Running figures for one dataset (or all of them combined)."""

    name: str
    metrics: RunningMetrics = field(default_factory=RunningMetrics)
    confidence_sum: float = 0.0
    label_length_sum: int = 0
    unreadable: int = 0

    def add(self, row: EvalRow) -> None:
        self.metrics.update(row.truth, row.predicted)
        self.confidence_sum += row.confidence
        self.label_length_sum += len(row.truth)

    def figures(self, ignore_space: bool = False) -> dict[str, float]:
        """The summary: with ``ignore_space`` accuracy and CER ignore spaces (the plain ones stay too)."""
        n = self.metrics.samples
        figures: dict[str, float] = dict(self.metrics.summary())
        if ignore_space:
            figures["accuracy"], figures["cer"] = (
                figures["accuracy_ignore_space"],
                figures["cer_ignore_space"],
            )
        figures["mean_confidence"] = self.confidence_sum / n if n else 0.0
        figures["mean_label_length"] = self.label_length_sum / n if n else 0.0
        figures["unreadable"] = self.unreadable
        return figures


@dataclass
class EvalReport:
    datasets: list[DatasetSummary]
    combined: DatasetSummary
    ignore_space: bool
    worst: list[EvalRow]
    confusions: Counter[tuple[str, str]]
    jamo_confusions: Counter[tuple[str, str]]
    log_path: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": {d.name: d.figures(self.ignore_space) for d in self.datasets},
            "combined": self.combined.figures(self.ignore_space),
            "ignore_space": self.ignore_space,
            "log_file": str(self.log_path),
        }


class TestLogWriter:
    """Writes ``test_log.txt`` rows as they come (flushed per chunk, so a crash keeps what was done)."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        self.writer = csv.writer(handle, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        self.writer.writerow(LOG_HEADER)

    def write(self, row: EvalRow) -> None:
        self.writer.writerow([row.image, row.truth, row.predicted, f"{row.confidence:.4f}", f"{row.cer:.4f}"])


def read_test_log(path: str | Path) -> list[EvalRow]:
    """Parse a ``test_log.txt`` back into rows (for checks and further analysis)."""
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter="\t")
        header = next(reader)
        if tuple(header) != LOG_HEADER:
            raise KocrError(f"{path}: not a kocr test log (header {header})")
        return [EvalRow(r[0], r[1], r[2], float(r[3]), float(r[4])) for r in reader]


def evaluate(
    recognizer: Any,
    datasets: Sequence[str | Path],
    log_path: str | Path,
    *,
    ignore_space: bool = False,
    case_sensitive: bool = False,
    image_root: str | Path | None = None,
    worst: int = 0,
    confusions: bool = False,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
) -> EvalReport:
    """Recognise every labelled image of ``datasets`` and write ``log_path``; returns the summary."""
    from kocr.data.sources import iter_labelled_samples

    log_path = Path(log_path)
    prefix_names = len(datasets) > 1
    summaries = [DatasetSummary(str(d)) for d in datasets]
    combined = DatasetSummary("all")
    worst_heap: list[tuple[float, int, EvalRow]] = []
    syllable_pairs: Counter[tuple[str, str]] = Counter()
    jamo_pairs: Counter[tuple[str, str]] = Counter()
    counter = 0
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # Image decoding (PIL releases the GIL) runs in threads next to the model.
    with (
        ThreadPoolExecutor(max(1, workers)) as pool,
        log_path.open("w", encoding="utf-8", newline="") as handle,
    ):
        log = TestLogWriter(handle)
        for dataset, summary in zip(datasets, summaries, strict=True):
            samples = iter_labelled_samples(dataset, image_root=image_root)
            for chunk in chunked(samples, CHUNK):
                names, truths, images = [], [], []
                for sample, image in zip(chunk, pool.map(_load, chunk), strict=True):
                    if isinstance(image, KocrError):
                        summary.unreadable += 1
                        combined.unreadable += 1
                        logger.warning("%s: %s; not scored", sample.where, image)
                        continue
                    images.append(image)
                    names.append(f"{dataset}/{sample.name}" if prefix_names else sample.name)
                    truths.append(sample.label)
                for name, truth, result in zip(names, truths, recognizer.predict_images(images), strict=True):
                    predicted = result.text
                    if not case_sensitive:
                        truth, predicted = fold_latin_case(truth), fold_latin_case(predicted)
                    row = EvalRow(name, truth, predicted, result.confidence,
                                  sample_cer(truth, predicted, ignore_space=ignore_space))  # fmt: skip
                    log.write(row)
                    summary.add(row)
                    combined.add(row)
                    counter += 1
                    if worst:
                        _keep_worst(worst_heap, worst, row, counter)
                    if confusions and truth != predicted:
                        _count_substitutions(syllable_pairs, jamo_pairs, truth, predicted)
                handle.flush()
                if progress:
                    progress(len(chunk))
    ranked = [row for _, _, row in sorted(worst_heap, key=lambda item: (-item[0], item[1]))]
    return EvalReport(summaries, combined, ignore_space, ranked, syllable_pairs, jamo_pairs, log_path)


def _load(sample: Any) -> Any:
    """The decoded image of a sample, or the error that says why it cannot be read."""
    from kocr.data.images import decode_image

    try:
        return decode_image(sample.load(), sample.where)
    except KocrError as exc:
        return exc


def _keep_worst(heap: list[tuple[float, int, EvalRow]], limit: int, row: EvalRow, order: int) -> None:
    """Keep the ``limit`` rows with the highest CER (lowest confidence breaking ties) in a min-heap."""
    key = row.cer - row.confidence * 1e-6
    item = (key, -order, row)
    if len(heap) < limit:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _count_substitutions(
    syllables: Counter[tuple[str, str]], jamo: Counter[tuple[str, str]], truth: str, predicted: str
) -> None:
    for ref, hyp in align(truth, predicted):
        if ref and hyp and ref != hyp:
            syllables[(ref, hyp)] += 1
    for ref, hyp in align(decompose(truth), decompose(predicted)):
        if ref and hyp and ref != hyp:
            jamo[(ref, hyp)] += 1
