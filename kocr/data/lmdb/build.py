"""Build an LMDB from image files and labels: every image fully decoded first, in parallel, and each
unreadable one listed with its reason instead of being written (clovaai's script stores whatever bytes it
finds, and training crashes on them hours later)."""

from __future__ import annotations

import contextlib
import errno
import functools
import io
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kocr.data.images import image_error, max_pixels, set_max_pixels, verify_image
from kocr.data.labels.problems import Kind, Problem
from kocr.data.lmdb.writer import LmdbWriter
from kocr.errors import KocrError, OutputWriteError
from kocr.iterutils import chunked, ordered_map


@dataclass
class BuildReport:
    """What :func:`build_lmdb` wrote and skipped."""

    output: Path
    written: int = 0
    skipped: list[Problem] = field(default_factory=list)  # unreadable images, with ``image`` set
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.written + len(self.skipped)


PoolKind = Literal["thread", "process"]
_BATCH = 32


def build_lmdb(
    samples: Iterable[tuple[str | os.PathLike[str], str, str]],
    output: str | os.PathLike[str],
    *,
    workers: int = 2,
    overwrite: bool = False,
    strict: bool = False,
    map_size: int | None = None,
    pool: PoolKind = "thread",
    progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Write ``(image path, label, where)`` samples into an LMDB at ``output``, in input order.

    Every image is read once and decoded with PIL before it is written (the stored bytes are the file's
    bytes, never re-encoded). Missing, empty or undecodable files are skipped and listed with ``where``
    (the gt file and line); with ``strict`` the first one raises and nothing is written.

    Checking runs on ``workers`` threads by default (``pool="process"`` is the alternative). Measured with
    ``python -m benchmarks.data`` on a shared 2-core box (5,000 PNG lines of ~5 KiB): 1 worker, 2 threads
    and 2 processes all ran at 10-16 k images/s, processes ahead in one run and behind in the next, and
    all three equal on 50 KiB images. With no clear winner, threads are the default: no pickling of
    the bytes, no fork of a process that has threads (the progress bar), no re-import of torch per
    worker where processes spawn. ``progress(n)`` is called with the number of samples just handled.
    """
    output = Path(output)
    started = time.perf_counter()
    report = BuildReport(output=output)
    items = [(os.fspath(image), label, where) for image, label, where in samples]
    check_space(output, (image for image, _, _ in items))
    checked = _checked_images((image for image, _, _ in items), workers, pool)
    # closing(): on an error or Ctrl-C the pool is shut down at once, not when the traceback is freed
    with contextlib.closing(checked), LmdbWriter(output, overwrite=overwrite, map_size=map_size) as writer:
        for (image, label, where), (data, reason) in zip(items, checked, strict=True):
            if data is None:
                skipped = Problem.at(Kind.UNREADABLE_IMAGE, where, reason or "unreadable", image=image)
                if strict:
                    raise KocrError(f"{skipped} (nothing written: --strict)")
                report.skipped.append(skipped)
            else:
                writer.add(data, label)
            if progress is not None:
                progress(1)
        if writer.num_samples == 0:
            raise KocrError(f"no readable images among {len(items)} samples; {output} not written")
        report.written = writer.num_samples
    report.seconds = time.perf_counter() - started
    return report


def check_space(output: Path, images: Iterable[str]) -> None:
    """An :class:`OutputWriteError` before any work when the disk cannot hold even the images' bytes: an
    LMDB is memory-mapped, and a disk that fills under a map ends the process (SIGBUS on tmpfs) rather
    than failing one write."""
    needed = sum(os.path.getsize(image) for image in images if os.path.isfile(image))
    folder = output.absolute().parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if free < needed:
        raise OutputWriteError(
            output, f"not enough space ({free:,} bytes free; the images alone take {needed:,})", errno.ENOSPC
        )


def check_image(path: str) -> tuple[bytes | None, str | None]:
    """The file's bytes if PIL can fully decode them, else ``(None, reason)``."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, "file not found"
    except IsADirectoryError:
        return None, "is a folder, not an image"
    except OSError as exc:
        return None, f"cannot read file ({exc.strerror or exc})"
    if not data:
        return None, "empty file"
    try:
        width, height = verify_image(io.BytesIO(data))
    except Exception as exc:  # PIL raises many types for bad data
        return None, image_error(exc)
    if width == 0 or height == 0:
        return None, f"image has no pixels ({width}x{height})"
    return data, None


def _check_batch(paths: list[str], limit: int | None) -> list[tuple[bytes | None, str | None]]:
    if limit != max_pixels():  # a spawned worker starts with the default pixel limit
        set_max_pixels(limit)
    return [check_image(path) for path in paths]


def _checked_images(
    paths: Iterable[str], workers: int, pool: PoolKind
) -> Iterator[tuple[bytes | None, str | None]]:
    """``check_image`` over ``paths`` in order, ``workers`` at a time, with a bounded read-ahead."""
    if workers <= 1:
        yield from map(check_image, paths)
        return
    executor: Executor = ThreadPoolExecutor(workers) if pool == "thread" else ProcessPoolExecutor(workers)
    check = functools.partial(_check_batch, limit=max_pixels())
    for checked in ordered_map(executor, check, chunked(paths, _BATCH), read_ahead=4 * workers):
        yield from checked
