"""Evaluate a recogniser on labelled data: ``test_log.txt`` plus summary figures.

The log has one row per image, tab-separated UTF-8 with a header — ``Image Name``, ``Real Text``,
``Predicted Text``, ``Confidence``, ``CER`` — so it opens in a spreadsheet and ``cut -f`` reads it. It is
plain TSV, never CSV-quoted: a backslash, tab, newline or carriage return inside a field is written as
``\\``, ``\t``, ``\n`` or ``\r`` (:func:`escape_field`; :func:`read_test_log` undoes it). Texts are logged
as they are: the label normalised (NFC, collapsed whitespace) as every kocr tool reads labels, the
prediction as the model gave it. Scoring is case-sensitive by default; ``case_sensitive=False``
(``kocr eval --ignore-case``) folds Latin letters for scoring only. The CER column is
:func:`kocr.metrics.sample_cer` of the two texts as scored (case folded and spaces ignored when asked),
so every figure of the summary can be recomputed from the log.

With one dataset, ``Image Name`` is the image path relative to its label file (or the LMDB key,
``image-000000001``), as clovaai logs it; with several, a path that names the dataset too: the image
file as found (``data/test/images/1.png``) or ``LMDB:key``.

A dataset of which no sample can be scored (every image unreadable, every line unusable) is an error,
never "100 % accuracy over 0 samples". An image a label file lists twice is scored once, by its first
line; the repeats are reported as ``kocr data convert`` reports them (a conflict when the labels differ)
and counted in the summary's ``duplicates``. The log is written whole at the end (:mod:`kocr.fileio`),
so a failed evaluation leaves no partial ``test_log.txt``.

Everything streams: samples are read, recognised and written in chunks, and only running sums (plus
the N worst rows and the substitution counts) stay in memory, whatever the dataset size. ``on_sample``
sees every scored sample as it goes (a :class:`ScoredSample`, with a way back to its image), which is
how :mod:`kocr.report` builds its HTML report in the same single pass.
"""

from __future__ import annotations

import functools
import heapq
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, TextIO

from kocr.data.labels.duplicates import DuplicateFinder
from kocr.errors import InputFileError, KocrError
from kocr.fileio import atomic_open
from kocr.iterutils import chunked
from kocr.metrics import RunningMetrics, sample_cer, substitutions
from kocr.runtime.files import predict_or_skip
from kocr.text import escape_field, fold_latin_case, unescape_field

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


@dataclass(frozen=True)
class ScoredSample:
    """One scored sample as :func:`evaluate` hands it to ``on_sample``: its log row, the texts as scored
    (case folded when scoring ignores case), the dataset it came from, the folder within that dataset
    (:attr:`kocr.data.sources.LabelledSample.group`) and ``load``, which reads its image again (encoded
    bytes), so a report can show the few images it keeps without holding all of them."""

    row: EvalRow
    truth: str
    predicted: str
    dataset: str
    group: str
    load: Callable[[], bytes]

    @property
    def exact(self) -> bool:
        return self.truth == self.predicted

    @cached_property
    def substitutions(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """Misread (syllable pairs, jamo pairs): :func:`kocr.metrics.substitutions`, computed once."""
        return substitutions(self.truth, self.predicted)


@dataclass
class DatasetSummary:
    """Running figures for one dataset (or all of them combined)."""

    name: str
    metrics: RunningMetrics = field(default_factory=RunningMetrics)
    confidence_sum: float = 0.0
    label_length_sum: int = 0
    unreadable: int = 0
    duplicates: int = 0  # repeated lines of an image already scored (reported as data convert does)

    def add(self, truth: str, predicted: str, confidence: float) -> None:
        """Count one scored sample (texts as scored: case folded when scoring ignores case)."""
        self.metrics.update(truth, predicted)
        self.confidence_sum += confidence
        self.label_length_sum += len(truth)

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
        figures["duplicates"] = self.duplicates
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
    case_sensitive: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "datasets": {d.name: d.figures(self.ignore_space) for d in self.datasets},
            "combined": self.combined.figures(self.ignore_space),
            "ignore_space": self.ignore_space,
            "case_sensitive": self.case_sensitive,
            "log_file": str(self.log_path),
        }


class TestLogWriter:
    """Writes ``test_log.txt`` rows as they come: plain TSV, fields escaped by :func:`escape_field`."""

    def __init__(self, handle: TextIO) -> None:
        self.handle = handle
        handle.write("\t".join(LOG_HEADER) + "\n")

    def write(self, row: EvalRow) -> None:
        fields = [escape_field(row.image), escape_field(row.truth), escape_field(row.predicted)]
        self.handle.write("\t".join([*fields, f"{row.confidence:.4f}", f"{row.cer:.4f}"]) + "\n")


def read_test_log(path: str | Path) -> list[EvalRow]:
    """Parse a ``test_log.txt`` back into rows (for checks and further analysis)."""
    with open(path, encoding="utf-8", newline="") as handle:
        lines = handle.read().split("\n")
    header = tuple(lines[0].split("\t"))
    if header != LOG_HEADER:
        raise KocrError(f"{path}: not a kocr test log (header {list(header)})")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not line:
            continue
        fields = line.split("\t")
        if len(fields) != len(LOG_HEADER):
            raise InputFileError(path, f"expected {len(LOG_HEADER)} tab-separated fields", number)
        image, truth, predicted = (unescape_field(f) for f in fields[:3])
        rows.append(EvalRow(image, truth, predicted, float(fields[3]), float(fields[4])))
    return rows


def evaluate(
    recognizer: Any,
    datasets: Sequence[str | Path],
    log_path: str | Path,
    *,
    ignore_space: bool = False,
    case_sensitive: bool = True,
    image_root: str | Path | None = None,
    worst: int = 0,
    confusions: bool = False,
    workers: int = 2,
    progress: Callable[[int], None] | None = None,
    on_sample: Callable[[ScoredSample], None] | None = None,
) -> EvalReport:
    """Recognise every labelled image of ``datasets`` and write ``log_path``; returns the summary.

    ``case_sensitive=False`` folds Latin case for scoring only (the log keeps the texts as they are). A
    dataset with no sample that can be scored raises :class:`KocrError` and writes no log.
    ``on_sample`` is called with every scored sample, in order (:class:`ScoredSample`)."""
    from kocr.data.sources import iter_labelled_samples

    log_path = Path(log_path)
    full_names = len(datasets) > 1
    summaries = [DatasetSummary(str(d)) for d in datasets]
    combined = DatasetSummary("all")
    worst_heap: list[tuple[float, int, EvalRow]] = []
    syllable_pairs: Counter[tuple[str, str]] = Counter()
    jamo_pairs: Counter[tuple[str, str]] = Counter()
    counter = 0
    # Image decoding (PIL releases the GIL) runs in threads next to the model.
    with ThreadPoolExecutor(max(1, workers)) as pool, atomic_open(log_path) as handle:
        log = TestLogWriter(handle)
        for dataset, summary in zip(datasets, summaries, strict=True):
            samples = iter_labelled_samples(dataset, image_root=image_root)
            repeats = DuplicateFinder(drop=True)
            for listed in chunked(samples, CHUNK):
                chunk = [sample for sample in listed if not _repeated(sample, repeats, (summary, combined))]
                readable, images = [], []
                for sample, image in zip(chunk, pool.map(_load, chunk), strict=True):
                    if isinstance(image, str):
                        summary.unreadable += 1
                        combined.unreadable += 1
                        logger.warning("%s: %s; not scored", sample.where, image)
                        continue
                    images.append(image)
                    readable.append(sample)
                wheres = [sample.where for sample in readable]
                failed = functools.partial(_not_recognised, wheres, (summary, combined))
                for position, result in predict_or_skip(recognizer, images, failed):
                    sample = readable[position]
                    truth, predicted = sample.label, result.text
                    scored = (truth, predicted)
                    if not case_sensitive:
                        scored = (fold_latin_case(truth), fold_latin_case(predicted))
                    name = sample.path if full_names else sample.name
                    row = EvalRow(name, truth, predicted, result.confidence,
                                  sample_cer(*scored, ignore_space=ignore_space))  # fmt: skip
                    log.write(row)
                    summary.add(*scored, result.confidence)
                    combined.add(*scored, result.confidence)
                    counter += 1
                    if worst:
                        _keep_worst(worst_heap, worst, row, counter)
                    if not confusions and on_sample is None:
                        continue
                    scored_sample = ScoredSample(row, *scored, summary.name, sample.group, sample.load)
                    if confusions and not scored_sample.exact:
                        syllables, jamo = scored_sample.substitutions
                        syllable_pairs.update(syllables)
                        jamo_pairs.update(jamo)
                    if on_sample is not None:
                        on_sample(scored_sample)
                if progress:
                    progress(len(listed))
            if summary.metrics.samples == 0:
                why = f" ({summary.unreadable:,} not scored: see the warnings)" if summary.unreadable else ""
                raise KocrError(f"{dataset}: no sample could be scored{why}; {log_path} not written")
    ranked = [row for _, _, row in sorted(worst_heap, key=lambda item: (-item[0], item[1]))]
    return EvalReport(
        summaries, combined, ignore_space, ranked, syllable_pairs, jamo_pairs, log_path, case_sensitive
    )


def _repeated(sample: Any, repeats: DuplicateFinder, summaries: tuple[DatasetSummary, ...]) -> bool:
    """Whether ``sample`` lists an image its label file listed before: then it is counted, reported as
    ``kocr data convert`` reports it (conflicting labels named), and not scored."""
    if not sample.listed:
        return False
    problem = repeats.check(sample.path, sample.label, sample.where)
    if problem is None:
        return False
    for summary in summaries:
        summary.duplicates += 1
    logger.warning("%s: %s", problem.kind, problem)
    return True


def _not_recognised(
    wheres: list[str], summaries: tuple[DatasetSummary, ...], position: int, exc: Exception
) -> None:
    """An image the recogniser failed on alone: counted as unreadable, logged, not scored."""
    for summary in summaries:
        summary.unreadable += 1
    logger.warning("%s: could not be read (%s: %s); not scored", wheres[position], type(exc).__name__, exc)


def _load(sample: Any) -> Any:
    """The decoded image of a sample, or a string saying why it cannot be scored (naming the image
    unless the sample's location already does)."""
    from kocr.data.images import decode_image

    if sample.problem is not None:
        return sample.problem
    try:
        return decode_image(sample.load(), sample.name)
    except InputFileError as exc:
        reason = exc.message
    except KocrError as exc:
        reason = str(exc)
    return reason if sample.name in sample.where else f"image {sample.name}: {reason}"


def _keep_worst(heap: list[tuple[float, int, EvalRow]], limit: int, row: EvalRow, order: int) -> None:
    """Keep the ``limit`` rows with the highest CER (lowest confidence breaking ties) in a min-heap."""
    key = row.cer - row.confidence * 1e-6
    item = (key, -order, row)
    if len(heap) < limit:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)
