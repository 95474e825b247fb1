"""Writing an LMDB in clovaai's layout (:mod:`kocr.data.lmdb.layout`) safely.

:class:`LmdbWriter` writes into a hidden sibling folder and renames it into place only on success, so an
error or Ctrl-C never leaves a half-written LMDB under the final name (clovaai's re-runs also leave
stale keys behind; here a replaced LMDB is replaced whole). The folder and its files get the modes a
plain ``mkdir`` and ``open`` give under the process umask, like every other file kocr writes.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import lmdb

from kocr.data.lmdb.layout import NUM_SAMPLES_KEY, REPLACEABLE_FILES, lmdb_image_key, lmdb_label_key
from kocr.errors import KocrError, OutputExistsError, OutputWriteError
from kocr.fileio import make_folder, move_folder_into_place, writing

INITIAL_MAP_SIZE = 64 << 20
MAX_MAP_STEP = 8 << 30
MAX_PENDING_BYTES = 64 << 20
FOLDER_MODE = 0o777  # less the umask, as os.mkdir gives it
FILE_MODE = 0o666  # less the umask, as open() gives it: data.mdb, lock.mdb


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
        make_folder(self.path.parent)
        self._temp = self.path.parent / f".{self.path.name}.partial-{uuid.uuid4().hex[:12]}"
        try:
            # Modes as a plain mkdir / open would give (the umask applies), like every file kocr
            # makes (kocr.fileio): py-lmdb's own default is 0755 for the folder and both files.
            os.mkdir(self._temp, FOLDER_MODE)
            self._env = lmdb.open(
                os.fsencode(self._temp),  # bytes: py-lmdb encodes a str path strictly as UTF-8
                map_size=self.map_size,
                subdir=True,
                sync=False,
                metasync=False,
                meminit=False,
                mode=FILE_MODE,
            )
        except (lmdb.Error, OSError) as exc:
            shutil.rmtree(self._temp, ignore_errors=True)
            raise OutputWriteError(self.path, f"cannot create an LMDB there ({exc})") from None
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
        self._pending.append((lmdb_image_key(index), image))
        self._pending.append((lmdb_label_key(index), encoded))
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
            with writing(self.path):
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
            raise OutputWriteError(self.path, f"writing the LMDB failed ({exc})") from exc
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
    if final.exists():
        check_replaceable(final, overwrite)
    move_folder_into_place(temp, final)
