"""Synthetic Korean text lines: fonts × texts × degradations → an LMDB or images + gt.txt (``kocr data
synth``).

Determinism: texts and font choices are drawn sequentially in the main process from ``seed``; each
sample's rendering uses its own ``numpy`` generator seeded from ``(seed, index)``
(:func:`kocr.data.synth.render.sample_rng`). So the same seed and the same fonts give byte-identical
output with any number of workers.
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

from kocr.data.synth.config import SynthConfig
from kocr.data.synth.fonts import FontFace
from kocr.data.synth.image_folder import ImageFolderWriter
from kocr.data.synth.plan import Plan, pick_face, plan
from kocr.data.synth.render import render_sample
from kocr.errors import KocrError

OutputFormat = Literal["lmdb", "images"]
Progress = Callable[[int, int], None]


@dataclass
class SynthReport:
    """What a :func:`generate` run did."""

    output: Path
    format: str
    written: int = 0
    skipped_no_font: int = 0
    font_counts: Counter[str] = field(default_factory=Counter)
    kind_counts: dict[str, int] = field(default_factory=dict)
    unusable_fonts: list[tuple[str, int, int]] = field(default_factory=list)  # name, drawable, requested
    undrawable: list[str] = field(default_factory=list)  # allowed characters no usable face draws
    corpus_rejected: int = 0
    seconds: float = 0.0

    @property
    def lines_per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


def _jobs(
    the_plan: Plan, num: int, seed: int, report: SynthReport, handwriting_ratio: float
) -> Iterator[tuple[int, str, int]]:
    """(index, text, face number) for each sample, skipping texts no face draws (counted)."""
    pick = random.Random(seed ^ 0x5EED_F0)
    coverages = the_plan.coverages
    index = 0
    skipped = 0
    while index < num:
        text = the_plan.texts.next_text()
        face_number = pick_face(text, coverages, pick, handwriting_ratio)
        if face_number is None:
            skipped += 1
            report.skipped_no_font = skipped
            if skipped > 20 * num + 100:
                raise KocrError(
                    "almost no generated line can be drawn by any one font; check --fonts/--charset"
                )
            continue
        index += 1
        yield index, text, face_number


# --- workers -------------------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(faces: tuple[FontFace, ...], config: SynthConfig) -> None:
    _WORKER["faces"] = faces
    _WORKER["config"] = config


def _render_job(job: tuple[int, str, int]) -> tuple[int, str, int, bytes, str]:
    index, text, face_number = job
    faces: tuple[FontFace, ...] = _WORKER["faces"]  # type: ignore[assignment]
    config: SynthConfig = _WORKER["config"]  # type: ignore[assignment]
    data, ext = render_sample(text, faces[face_number], index, config)
    return index, text, face_number, data, ext


# --- output --------------------------------------------------------------------------------------


def _writer(output: Path, fmt: OutputFormat, overwrite: bool) -> ImageFolderWriter | object:
    if fmt == "images":
        return ImageFolderWriter(output, overwrite=overwrite)
    if fmt == "lmdb":
        from kocr.data.lmdb.writer import LmdbWriter

        return LmdbWriter(output, overwrite=overwrite)
    raise KocrError(f"unknown output format {fmt!r}; choose lmdb or images")


def generate(
    config: SynthConfig,
    num: int,
    output: str | os.PathLike[str],
    *,
    format: OutputFormat = "lmdb",
    workers: int = 1,
    progress: Progress | None = None,
    overwrite: bool = False,
    keep_first: int = 0,
    the_plan: Plan | None = None,
) -> tuple[SynthReport, list[tuple[bytes, str]]]:
    """Render ``num`` lines into ``output``; returns the report and the first ``keep_first`` samples
    (encoded bytes, label) for a preview. ``workers`` > 1 renders in that many processes."""
    if num < 1:
        raise KocrError("--num must be at least 1")
    started = time.perf_counter()
    output = Path(output)
    report = SynthReport(output=output, format=format)
    writer = _writer(output, format, overwrite)
    if isinstance(writer, ImageFolderWriter):
        writer.check()
    else:
        from kocr.data.lmdb.writer import check_replaceable

        check_replaceable(output, overwrite)
    the_plan = the_plan or plan(config, workers=workers)
    report.unusable_fonts = [(c.face.name, len(c.drawable), c.requested) for c in the_plan.unusable]
    report.undrawable = list(the_plan.undrawable)
    report.corpus_rejected = the_plan.texts.corpus_rejected
    jobs = _jobs(the_plan, num, config.seed, report, config.handwriting_ratio)
    kept: list[tuple[bytes, str]] = []
    with writer as sink:  # type: ignore[attr-defined]
        if workers > 1:
            context = get_context("spawn")
            with context.Pool(workers, initializer=_init_worker, initargs=(the_plan.faces, config)) as pool:
                _consume(
                    pool.imap(_render_job, jobs, chunksize=8),
                    sink,
                    the_plan,
                    report,
                    kept,
                    keep_first,
                    num,
                    progress,
                )
        else:
            _init_worker(the_plan.faces, config)
            _consume(map(_render_job, jobs), sink, the_plan, report, kept, keep_first, num, progress)
    report.kind_counts = dict(the_plan.texts.kind_counts)
    report.seconds = time.perf_counter() - started
    return report, kept


def _consume(
    results: Iterator[tuple[int, str, int, bytes, str]],
    sink: object,
    the_plan: Plan,
    report: SynthReport,
    kept: list[tuple[bytes, str]],
    keep_first: int,
    num: int,
    progress: Progress | None,
) -> None:
    images = isinstance(sink, ImageFolderWriter)
    for _index, text, face_number, data, ext in results:
        if images:
            sink.add(data, text, ext)  # type: ignore[union-attr]
        else:
            sink.add(data, text)  # type: ignore[attr-defined]
        report.written += 1
        report.font_counts[the_plan.faces[face_number].name] += 1
        if len(kept) < keep_first:
            kept.append((data, text))
        if progress is not None:
            progress(report.written, num)
