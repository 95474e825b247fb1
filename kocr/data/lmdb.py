"""LMDB datasets in clovaai's layout: write them safely, read them from many workers, describe them.

The layout (shared by clovaai, PARSeq and EasyOCR-trainer users) is kept exactly: ``image-%09d`` holds
the original encoded file bytes, ``label-%09d`` the UTF-8 label, indices are 1-based and contiguous,
``num-samples`` is an ASCII decimal count. What kocr changes is how the files are handled:

- :class:`LmdbWriter` writes into a hidden sibling folder and renames it into place only on success,
  so an error or Ctrl-C never leaves a half-written LMDB under the final name (clovaai's re-runs also
  leave stale keys behind; here a replaced LMDB is replaced whole).
- Readers open each environment once per process (py-lmdb refuses a second open of the same files in
  one process, which is clovaai's ``--train_data X --valid_data X`` crash) and reopen after a fork, so
  DataLoader workers each get their own handle.
- Labels are normalised and filtered once, at construction, and what was dropped is logged once with
  counts per reason: reference tools drop Korean samples silently.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import random
import shutil
import statistics
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

import lmdb
import numpy as np
from PIL import Image, UnidentifiedImageError
from torch.utils.data import Dataset

from kocr.charsets import Charset, CoverageReport, coverage_report
from kocr.data.filtering import LabelFilter
from kocr.data.transforms import to_mode
from kocr.errors import InputFileError, KocrError
from kocr.iterutils import chunked
from kocr.text import normalize

logger = logging.getLogger(__name__)

NUM_SAMPLES_KEY = b"num-samples"
LMDB_FILES = frozenset({"data.mdb", "lock.mdb"})
# Files kocr or clovaai put next to the LMDB; a folder holding only these may be replaced.
REPLACEABLE_FILES = LMDB_FILES | {"skipped.txt", "error_image_log.txt"}

INITIAL_MAP_SIZE = 64 << 20
MAX_MAP_STEP = 8 << 30
MAX_PENDING_BYTES = 64 << 20


def image_key(index: int) -> bytes:
    return b"image-%09d" % index


def label_key(index: int) -> bytes:
    return b"label-%09d" % index


# --- writing -------------------------------------------------------------------------------------


class LmdbWriter:
    """Write an LMDB in clovaai's layout; use as a context manager.

    ``with LmdbWriter(path) as w: w.add(png_bytes, "라벨")`` — indices count from 1, ``num-samples`` is
    written on a clean exit, and only then does the folder appear under ``path``.

    Map size: LMDB needs a maximum size up front. clovaai asks for 1 TiB, which is sparse on Linux but
    fails on Windows and on filesystems or ulimits that refuse such a mapping. This writer starts at
    ``map_size`` (default 64 MiB) and, when LMDB reports the map full, aborts the pending transaction,
    grows the map (doubling, at most 8 GiB per step) and replays it. Samples are buffered and committed
    every ``commit_every`` samples or 64 MiB, whichever comes first, so the replay is bounded.
    Readers need nothing: LMDB stores the map size in the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        map_size: int | None = None,
        commit_every: int = 1000,
    ) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self.map_size = int(map_size or INITIAL_MAP_SIZE)
        self.commit_every = max(1, int(commit_every))
        self._env: lmdb.Environment | None = None
        self._temp: Path | None = None
        self._pending: list[tuple[bytes, bytes]] = []
        self._pending_bytes = 0
        self._count = 0

    @property
    def num_samples(self) -> int:
        """Samples added so far."""
        return self._count

    def __enter__(self) -> LmdbWriter:
        check_replaceable(self.path, self.overwrite)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._temp = self.path.parent / f".{self.path.name}.partial-{uuid.uuid4().hex[:12]}"
        try:
            self._env = lmdb.open(
                str(self._temp),
                map_size=self.map_size,
                subdir=True,
                sync=False,
                metasync=False,
                meminit=False,
            )
        except lmdb.Error as exc:
            shutil.rmtree(self._temp, ignore_errors=True)
            raise KocrError(f"{self.path}: cannot create an LMDB there ({exc})") from None
        return self

    def add(self, image_bytes: bytes, label: str) -> int:
        """Store one sample; returns its 1-based index."""
        if self._env is None:
            raise KocrError("LmdbWriter.add() called outside its `with` block")
        if not isinstance(image_bytes, (bytes, bytearray, memoryview)):
            raise TypeError(f"image_bytes must be bytes, not {type(image_bytes).__name__}")
        if not isinstance(label, str):
            raise TypeError(f"label must be str, not {type(label).__name__}")
        index = self._count + 1
        image = bytes(image_bytes)
        encoded = label.encode("utf-8")
        self._pending.append((image_key(index), image))
        self._pending.append((label_key(index), encoded))
        self._pending_bytes += len(image) + len(encoded)
        self._count = index
        if len(self._pending) >= 2 * self.commit_every or self._pending_bytes >= MAX_PENDING_BYTES:
            self._flush()
        return index

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        env, temp = self._env, self._temp
        self._env = self._temp = None
        if env is None or temp is None:
            return
        try:
            if exc_type is None:
                self._pending.append((NUM_SAMPLES_KEY, str(self._count).encode("ascii")))
                self._flush(env)
                env.sync(True)
        except BaseException:
            env.close()
            shutil.rmtree(temp, ignore_errors=True)
            raise
        env.close()
        if exc_type is not None:
            shutil.rmtree(temp, ignore_errors=True)
            return
        try:
            _move_into_place(temp, self.path, self.overwrite)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise

    def _flush(self, env: lmdb.Environment | None = None) -> None:
        env = env or self._env
        assert env is not None
        try:
            while not self._put_pending(env):
                self.map_size += min(self.map_size, MAX_MAP_STEP)
                env.set_mapsize(self.map_size)
        except lmdb.Error as exc:  # disk full, permissions, address space, ...
            raise KocrError(f"{self.path}: writing the LMDB failed ({exc})") from exc
        self._pending.clear()
        self._pending_bytes = 0

    def _put_pending(self, env: lmdb.Environment) -> bool:
        """Commit the buffered samples in one transaction; False (nothing written) if the map is full."""
        try:
            with env.begin(write=True) as txn:
                for key, value in self._pending:
                    txn.put(key, value)
        except lmdb.MapFullError:
            return False
        return True


def check_replaceable(path: str | os.PathLike[str], overwrite: bool) -> None:
    """Refuse an existing target unless ``overwrite``, and never replace a folder that is not an LMDB."""
    path = Path(path)
    if not path.exists():
        return
    if not overwrite:
        raise KocrError(f"{path} already exists; pass --overwrite (overwrite=True) to replace it")
    if not path.is_dir():
        raise KocrError(f"{path} exists and is not a folder; refusing to replace it with an LMDB")
    foreign = sorted(p.name for p in path.iterdir() if p.name not in REPLACEABLE_FILES)
    if foreign:
        shown = ", ".join(foreign[:3]) + (" …" if len(foreign) > 3 else "")
        raise KocrError(f"{path} holds files that are not part of an LMDB ({shown}); refusing to replace it")


def _move_into_place(temp: Path, final: Path, overwrite: bool) -> None:
    if not final.exists():
        os.rename(temp, final)
        return
    check_replaceable(final, overwrite)
    old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:12]}"
    os.rename(final, old)
    os.rename(temp, final)
    shutil.rmtree(old, ignore_errors=True)


# --- building from image files -------------------------------------------------------------------


@dataclass(frozen=True)
class SkippedSample:
    """An input sample that was not written, and why."""

    where: str
    image: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.image}: {self.reason}"


@dataclass
class BuildReport:
    """What :func:`build_lmdb` wrote and skipped."""

    output: Path
    written: int = 0
    skipped: list[SkippedSample] = field(default_factory=list)
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
    ``scripts/bench_data.py`` on a shared 2-core box (5,000 PNG lines of ~5 KiB): 1 worker, 2 threads
    and 2 processes all ran at 10-16 k images/s, processes ahead in one run and behind in the next, and
    all three equal on 50 KiB images. With no clear winner, threads are the default: no pickling of
    the bytes, no fork of a process that has threads (the progress bar), no re-import of torch per
    worker where processes spawn. ``progress(n)`` is called with the number of samples just handled.
    """
    output = Path(output)
    started = time.perf_counter()
    report = BuildReport(output=output)
    items = [(os.fspath(image), label, where) for image, label, where in samples]
    checked = _checked_images((image for image, _, _ in items), workers, pool)
    # closing(): on an error or Ctrl-C the pool is shut down at once, not when the traceback is freed
    with contextlib.closing(checked), LmdbWriter(output, overwrite=overwrite, map_size=map_size) as writer:
        for (image, label, where), (data, reason) in zip(items, checked, strict=True):
            if data is None:
                skipped = SkippedSample(where, image, reason or "unreadable")
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
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            width, height = image.size
    except Exception as exc:  # PIL raises many types for bad data
        return None, _image_error(exc)
    if width == 0 or height == 0:
        return None, f"image has no pixels ({width}x{height})"
    return data, None


def _check_batch(paths: list[str]) -> list[tuple[bytes | None, str | None]]:
    return [check_image(path) for path in paths]


def _checked_images(
    paths: Iterable[str], workers: int, pool: PoolKind
) -> Iterator[tuple[bytes | None, str | None]]:
    """``check_image`` over ``paths`` in order, ``workers`` at a time, with a bounded read-ahead."""
    if workers <= 1:
        yield from map(check_image, paths)
        return
    executor: Executor = ThreadPoolExecutor(workers) if pool == "thread" else ProcessPoolExecutor(workers)
    in_flight: deque[Any] = deque()
    try:
        for batch in chunked(paths, _BATCH):
            in_flight.append(executor.submit(_check_batch, batch))
            if len(in_flight) >= 4 * workers:
                yield from in_flight.popleft().result()
        while in_flight:
            yield from in_flight.popleft().result()
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _image_error(exc: Exception) -> str:
    if isinstance(exc, UnidentifiedImageError):  # its message names a BytesIO object, not the file
        return "not a readable image (unknown format or not an image)"
    return f"not a readable image ({_short(exc)})"


def _short(exc: BaseException, width: int = 120) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= width else text[: width - 1] + "…"


# --- reading: one environment per process --------------------------------------------------------

_envs: dict[str, lmdb.Environment] = {}
_envs_pid = os.getpid()
_envs_lock = threading.Lock()


def _forget_parent_envs() -> None:
    """After a fork the parent's handles must not be used, and py-lmdb still counts them as open."""
    global _envs_pid, _envs_lock
    for env in _envs.values():
        with contextlib.suppress(lmdb.Error):
            env.close()
    _envs.clear()
    _envs_pid = os.getpid()
    _envs_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parent_envs)


def open_lmdb(path: str | os.PathLike[str]) -> lmdb.Environment:
    """The read-only environment for ``path``, shared by every reader in this process.

    Keyed by real path; an LMDB replaced on disk since it was opened (a new data.mdb) is reopened.
    """
    if os.getpid() != _envs_pid:
        _forget_parent_envs()
    real = os.path.realpath(path)
    data_file = os.path.join(real, "data.mdb")
    try:
        inode = os.stat(data_file).st_ino
    except OSError:
        if not os.path.exists(real):
            raise InputFileError(path, "LMDB folder not found") from None
        raise InputFileError(path, "not an LMDB folder (no data.mdb inside)") from None
    key = f"{real}\0{inode}"
    with _envs_lock:
        env = _envs.get(key)
        if env is None:
            for stale in [k for k in _envs if k.split("\0", 1)[0] == real]:
                del _envs[stale]  # replaced on disk; readers still holding it keep it alive
            try:
                env = lmdb.open(
                    real, readonly=True, lock=False, readahead=False, meminit=False, max_readers=256
                )
            except lmdb.Error as exc:
                raise InputFileError(path, f"cannot open LMDB: {exc}") from None
            _envs[key] = env
        return env


def read_num_samples(txn: lmdb.Transaction, path: str | os.PathLike[str]) -> int:
    raw = txn.get(NUM_SAMPLES_KEY)
    if raw is None:
        raise InputFileError(path, "LMDB has no 'num-samples' key; not a clovaai/PARSeq-style dataset")
    try:
        return int(bytes(raw).decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise InputFileError(path, f"'num-samples' is not a number: {bytes(raw)[:20]!r}") from None


def iter_labels(txn: lmdb.Transaction, num_samples: int) -> Iterator[tuple[int, bytes | None]]:
    """``(index, raw label bytes or None if missing)`` for indices 1..num_samples, in order.

    One cursor pass over the ``label-`` keys; keys above ``num_samples`` (stale leftovers of a clovaai
    re-run into the same folder) are ignored, as clovaai and PARSeq ignore them.
    """
    cursor = txn.cursor()
    expected = 1
    if cursor.set_range(b"label-"):
        for key, value in cursor:
            if not key.startswith(b"label-"):
                break
            try:
                index = int(key[6:])
            except ValueError:
                continue
            if index < expected:
                continue
            if index > num_samples:
                break
            while expected < index:
                yield expected, None
                expected += 1
            yield index, bytes(value)
            expected = index + 1
    while expected <= num_samples:
        yield expected, None
        expected += 1


def find_lmdbs(root: str | os.PathLike[str]) -> list[Path]:
    """Every folder under ``root`` (itself included) holding a ``data.mdb``, sorted.

    Like PARSeq's ``**/data.mdb`` glob, hidden folders are skipped — which also skips the temporary
    folders of a write in progress.
    """
    root = Path(root)
    if not root.exists():
        raise InputFileError(root, "folder not found")
    if root.is_file():
        return [root.parent] if root.name == "data.mdb" else []
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if "data.mdb" in files:
            found.append(Path(folder))
    return sorted(found)


# --- the dataset ---------------------------------------------------------------------------------


class _PackedLabels(Sequence[str]):
    """Labels as one UTF-8 buffer plus offsets.

    A list of a million str objects in a dataset is slowly copied into every forked DataLoader worker
    as reference counts touch its pages; one bytes object and a numpy array are not.
    """

    def __init__(self, labels: Iterable[str]) -> None:
        encoded = [label.encode("utf-8") for label in labels]
        self._offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=self._offsets[1:])
        self._blob = b"".join(encoded)

    def __len__(self) -> int:
        return len(self._offsets) - 1

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("label index out of range")
        start, end = self._offsets[index], self._offsets[index + 1]
        return self._blob[start:end].decode("utf-8")


MAX_SKIP = 100


class LmdbDataset(Dataset):
    """A map-style dataset over one clovaai/PARSeq-layout LMDB: items are ``(image, label)``.

    At construction every label is read once, normalised (:func:`kocr.text.normalize`, optionally
    case-folding Latin letters) and checked against ``charset`` and ``max_length`` (counted in charset
    symbols, so jamo charsets count jamo). Dropped samples are counted per reason and logged once, at
    WARNING, on the ``kocr.data.lmdb`` logger. ``keys`` (LMDB indices) and ``labels`` are the kept
    samples, for statistics.

    ``image`` is the PIL image as stored (``image_mode=None``, the default: a ``Preprocess`` transform
    does the colour handling), or converted to ``"L"``/``"RGB"`` with :func:`kocr.data.transforms.to_mode`
    (transparency composited on white, 16-bit scaled: a plain ``convert`` blackens transparent PNGs and
    whitens 16-bit scans); ``transform(image)`` is returned instead when a transform is given.

    An image that fails to decode at read time is logged once, remembered, and the next readable
    sample is returned instead (up to 100 tries). The batch keeps its size and the default collate
    function works; the cost is that one sample may appear twice in that epoch. ``num_unreadable``
    counts them (per process: each DataLoader worker keeps its own count).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        charset: Charset | str | None = None,
        max_length: int | None = None,
        case_fold: bool = False,
        normalize_labels: bool = True,
        image_mode: Literal["L", "RGB"] | None = None,
        transform: Callable[[Image.Image], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self.charset = Charset.load(charset) if charset is not None else None
        self.max_length = max_length
        if image_mode not in (None, "L", "RGB"):
            raise KocrError(f"image_mode must be 'L', 'RGB' or None, not {image_mode!r}")
        self.image_mode = image_mode
        self.transform = transform
        self._bad: set[int] = set()
        self._env: lmdb.Environment | None = None
        self._env_pid = -1
        index = self._read_index(case_fold, normalize_labels)
        self.total = index.total
        self.dropped = index.dropped
        self.normalised = index.normalised
        self._keys = np.asarray(index.keys, dtype=np.int64)
        self._labels = _PackedLabels(index.labels)

    # --- index ----------------------------------------------------------------------------

    def _read_index(self, case_fold: bool, normalize_labels: bool) -> _LabelIndex:
        index = _LabelIndex()
        checks = LabelFilter(self.charset, self.max_length, case_fold, normalize_labels, logger=logger)
        with self._environment().begin() as txn:
            index.total = read_num_samples(txn, self.path)
            for key, raw in iter_labels(txn, index.total):
                where = label_key(key).decode()
                if raw is None:
                    checks.drop("missing label", f"{where} (none)")
                    continue
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    checks.drop("label not UTF-8", f"{where} {raw[:30]!r}")
                    continue
                label, reason = checks.check(text)
                if reason is None:
                    index.keys.append(key)
                    index.labels.append(label)
                else:
                    checks.drop(reason, where, label)
        checks.log(self.path, len(index.keys))
        index.dropped, index.normalised = dict(checks.dropped.most_common()), checks.normalised
        return index

    @property
    def keys(self) -> np.ndarray:
        """LMDB indices (1-based) of the kept samples."""
        return self._keys

    @property
    def labels(self) -> Sequence[str]:
        """Normalised labels of the kept samples, aligned with :attr:`keys`."""
        return self._labels

    @property
    def num_unreadable(self) -> int:
        """Images found undecodable so far in this process."""
        return len(self._bad)

    # --- items ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def __getitem__(self, index: int) -> tuple[Any, str]:
        size = len(self._keys)
        if index < 0:
            index += size
        if not 0 <= index < size:
            raise IndexError(f"index {index} out of range for {size} samples")
        for step in range(min(MAX_SKIP, size)):
            position = (index + step) % size
            image = self._read_image(int(self._keys[position]))
            if image is not None:
                label = self._labels[position]
                return (self.transform(image) if self.transform is not None else image), label
        raise KocrError(f"{self.path}: no readable image in {min(MAX_SKIP, size)} samples from index {index}")

    def _read_image(self, key: int) -> Image.Image | None:
        if key in self._bad:
            return None
        with self._environment().begin() as txn:
            data = txn.get(image_key(key))
        if data is None:
            return self._mark_bad(key, "image key missing")
        try:
            image = Image.open(io.BytesIO(data))  # no file handle to close: the bytes are ours
            image.load()
            if self.image_mode is not None:
                image = to_mode(image, 1 if self.image_mode == "L" else 3)
        except Exception as exc:  # PIL raises many types for bad data
            return self._mark_bad(key, _image_error(exc))
        return image

    def _mark_bad(self, key: int, reason: str) -> None:
        self._bad.add(key)
        logger.warning(
            "%s: %s: %s; using the next readable sample instead", self.path, image_key(key).decode(), reason
        )
        return None

    def _environment(self) -> lmdb.Environment:
        pid = os.getpid()
        if self._env is None or self._env_pid != pid:
            self._env = open_lmdb(self.path)
            self._env_pid = pid
        return self._env

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_env"] = None  # handles do not cross processes; the worker opens its own
        state["_env_pid"] = -1
        return state

    def __repr__(self) -> str:
        return f"LmdbDataset({str(self.path)!r}, {len(self)} of {self.total} samples)"


@dataclass
class _LabelIndex:
    """Every label of an LMDB read once: the kept ones, and counts of the dropped ones by reason."""

    total: int = 0
    keys: list[int] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    normalised: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


# --- statistics ----------------------------------------------------------------------------------


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
                covered.append((clean, label_key(index).decode()))
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
        data = txn.get(image_key(index))
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
