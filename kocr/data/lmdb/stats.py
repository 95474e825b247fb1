"""What an LMDB holds: sample count, label lengths, characters and their charset coverage, image sizes
(sampled) — ``kocr data stats``."""

from __future__ import annotations

import io
import os
import random
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import lmdb
from PIL import Image

from kocr.charsets import Charset, CoverageReport, coverage_report
from kocr.data.lmdb.handles import open_lmdb
from kocr.data.lmdb.layout import iter_labels, lmdb_image_key, lmdb_label_key, read_num_samples
from kocr.text import normalize


@dataclass(frozen=True)
class SizeStats:
    min: int
    mean: float
    max: int

    @classmethod
    def of(cls, values: Sequence[int]) -> SizeStats:
        return cls(min(values), statistics.fmean(values), max(values))


@dataclass
class LmdbStats:
    """What :func:`lmdb_stats` found in one LMDB."""

    path: Path
    num_samples: int
    missing_labels: int = 0
    undecodable_labels: int = 0
    not_normalised: int = 0
    empty_labels: int = 0
    length_histogram: dict[int, int] = field(default_factory=dict)
    coverage: CoverageReport | None = None
    images_checked: int = 0
    unreadable_images: int = 0
    width: SizeStats | None = None
    height: SizeStats | None = None
    formats: dict[str, int] = field(default_factory=dict)

    @property
    def images_sampled(self) -> bool:
        return self.images_checked < self.num_samples


def lmdb_stats(
    path: str | os.PathLike[str],
    charset: Charset | str | None = None,
    *,
    max_images: int = 10_000,
    seed: int = 0,
) -> LmdbStats:
    """Count samples, label lengths (in charset symbols), charset coverage and image sizes.

    Image sizes come from the file headers (PIL's ``open`` without decoding), on at most
    ``max_images`` samples drawn with ``seed`` when the LMDB is larger.
    """
    charset = Charset.load(charset) if charset is not None else None
    env = open_lmdb(path)
    lengths: Counter[int] = Counter()
    covered: list[tuple[str, str | None]] = []
    with env.begin() as txn:
        stats = LmdbStats(path=Path(path), num_samples=read_num_samples(txn, path))
        for index, raw in iter_labels(txn, stats.num_samples):
            if raw is None:
                stats.missing_labels += 1
                continue
            try:
                label = raw.decode("utf-8")
            except UnicodeDecodeError:
                stats.undecodable_labels += 1
                continue
            clean = normalize(label)
            stats.not_normalised += clean != label
            stats.empty_labels += not clean
            lengths[len(charset.tokenize(clean)) if charset is not None else len(clean)] += 1
            if charset is not None:
                covered.append((clean, lmdb_label_key(index).decode()))
        _image_sizes(txn, stats, max_images, seed)
    stats.length_histogram = dict(sorted(lengths.items()))
    if charset is not None:
        stats.coverage = coverage_report(covered, charset)
    return stats


def _image_sizes(txn: lmdb.Transaction, stats: LmdbStats, max_images: int, seed: int) -> None:
    total = stats.num_samples
    if total <= max_images:
        indices: Iterable[int] = range(1, total + 1)
    else:
        indices = sorted(random.Random(seed).sample(range(1, total + 1), max_images))
    widths: list[int] = []
    heights: list[int] = []
    formats: Counter[str] = Counter()
    for index in indices:
        stats.images_checked += 1
        data = txn.get(lmdb_image_key(index))
        try:
            if data is None:
                raise KeyError(index)
            with Image.open(io.BytesIO(data)) as image:  # reads the header only
                width, height = image.size
                formats[image.format or "?"] += 1
        except Exception:
            stats.unreadable_images += 1
            continue
        widths.append(width)
        heights.append(height)
    if widths:
        stats.width, stats.height = SizeStats.of(widths), SizeStats.of(heights)
    stats.formats = dict(formats.most_common())
