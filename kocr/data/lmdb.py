"""LMDB files in clovaai's layout: the key format, writing them safely, opening them from many workers.

The layout (shared by clovaai, PARSeq and EasyOCR-trainer users) is kept exactly: ``image-%09d`` holds
the original encoded file bytes, ``label-%09d`` the UTF-8 label, indices are 1-based and contiguous,
``num-samples`` is an ASCII decimal count. What kocr changes is how the files are handled:

- :class:`LmdbWriter` writes into a hidden sibling folder and renames it into place only on success,
  so an error or Ctrl-C never leaves a half-written LMDB under the final name (clovaai's re-runs also
  leave stale keys behind; here a replaced LMDB is replaced whole).
- Readers open each environment once per process (py-lmdb refuses a second open of the same files in
  one process, which is clovaai's ``--train_data X --valid_data X`` crash) and reopen after a fork, so
  DataLoader workers each get their own handle.

Built on this: :mod:`kocr.data.lmdb_build` (image files + labels -> LMDB, images checked first),
:mod:`kocr.data.lmdb_dataset` (the training dataset; labels normalised and filtered once, with what was
dropped logged per reason: reference tools drop Korean samples silently) and :mod:`kocr.data.lmdb_stats`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import lmdb
from PIL import UnidentifiedImageError

from kocr.errors import InputFileError, KocrError, OutputExistsError

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
        raise OutputExistsError(path)
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


def image_error(exc: Exception) -> str:
    """Why PIL could not decode an image, in words (for skip lists and dataset warnings)."""
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
