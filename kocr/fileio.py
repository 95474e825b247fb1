"""Atomic file writes: a file appears whole under its name, or not at all.

Every file kocr makes goes through here: checkpoints, ONNX exports, gt.txt files, ``test_log.txt`` and
``summary.json``, prediction files, previews, ``skipped.txt``, charset files, a run's ``config.json``. It is
written to a temporary file in the same folder, flushed to disk (``fsync``) and renamed over the target
with ``os.replace``, so a crash or Ctrl-C never leaves a truncated ``best.pt`` or a half log behind.
``tempfile.mkstemp`` creates its file with mode 0600; the finished file gets the mode a plain
``open(path, "w")`` would give it (0666 minus the umask), so other users and tools can read it as they
can any other file.

Files written as they go (``test_log.txt``, row by row) use :func:`atomic_open`: the rows go to the
temporary file, which takes the real name when the writing ends without an error. Exceptions, each
made with ``open()`` and so with the umask's mode too: ``log.csv``, a training run's log, is appended
to in place (a resumed run continues it); folders of many small files (``data synth --format images``,
``data convert --crop-dir`` crops) are written file by file, the synth folder renamed into place whole;
LMDBs are written by the lmdb library into a folder renamed into place (:mod:`kocr.data.lmdb.writer`).

A write that fails (disk full, read-only file system, no permission, a folder where the file goes) is one
:class:`~kocr.errors.OutputWriteError` naming the output, for atomic writes here and, through
:func:`writing`, for the files written in place; the temporary file is gone and the old file untouched.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from kocr.errors import OutputWriteError
from kocr.names import NAME_ERRORS


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then fsync, set the umask's mode and rename over ``path``.

    ``write`` gets the path of an empty temporary file beside ``path`` (so the rename stays on one
    filesystem) and fills it. On any error, Ctrl-C included, the temporary file is removed and ``path``
    is untouched. Returns ``path``.
    """
    path = Path(path)
    with _temporary_beside(path) as temporary, writing(path):
        write(temporary)
    return path


@contextlib.contextmanager
def writing(path: str | os.PathLike[str]) -> Iterator[None]:
    """``with writing(path):`` an ``OSError`` in the block (disk full, read-only, no permission) becomes
    one :class:`~kocr.errors.OutputWriteError` naming ``path``: for files kocr writes in place."""
    try:
        yield
    except OutputWriteError:
        raise
    except (FileExistsError, NotADirectoryError) as exc:  # mkdir: a file where a folder goes
        raise OutputWriteError(
            path, f"{exc.filename} is in the way: a file where a folder goes", exc.errno
        ) from exc
    except OSError as exc:
        raise OutputWriteError(path, exc) from exc


def make_folder(path: str | os.PathLike[str]) -> Path:
    """``path`` and its parents created (as ``mkdir -p``), failures an :class:`OutputWriteError`."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputWriteError(path, "a file is there, not a folder", errno.ENOTDIR)
    with writing(path):
        path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it (fsync'd, umask mode) when the block succeeds."""
    if path.is_dir():
        raise OutputWriteError(path, "it is a folder; give a file name", errno.EISDIR)
    make_folder(path.parent)
    with writing(path):
        handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(handle)
    temporary = Path(tmp_name)
    try:
        yield temporary
        with writing(path):
            _fsync(temporary)
            os.chmod(temporary, 0o666 & ~current_umask())
            os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def move_folder_into_place(temp: str | os.PathLike[str], final: str | os.PathLike[str]) -> None:
    """Rename a finished folder ``temp`` to ``final``. An existing ``final`` (the caller has checked it
    may be replaced) is renamed aside first and removed after, so ``final`` is never half-written."""
    temp, final = Path(temp), Path(final)
    if not final.exists():
        os.rename(temp, final)
        return
    old = final.parent / f".{final.name}.old-{uuid.uuid4().hex[:12]}"
    os.rename(final, old)
    os.rename(temp, final)
    shutil.rmtree(old, ignore_errors=True)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda temporary: temporary.write_bytes(data))


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` with LF line ends (whatever the platform) to ``path`` atomically; a file name's
    undecodable bytes in it are written ``\\xNN`` (:mod:`kocr.names`)."""

    def write(temporary: Path) -> None:
        with temporary.open("w", encoding=encoding, errors=NAME_ERRORS, newline="\n") as handle:
            handle.write(text)

    return atomic_write(path, write)


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str],
    mode: str = "w",
    *,
    encoding: str | None = "utf-8",
    newline: str | None = "\n",
) -> Iterator[IO[Any]]:
    """``with atomic_open(path) as handle:`` a file written bit by bit that appears under ``path`` only
    when the block ends without an error (see :func:`atomic_write`); ``mode`` is ``"w"`` or ``"wb"``."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes new files: mode 'w' or 'wb', not {mode!r}")
    options: dict[str, Any] = {}
    if mode == "w":
        options = {"encoding": encoding, "errors": NAME_ERRORS, "newline": newline}
    with _temporary_beside(Path(path)) as temporary:
        with writing(path):
            handle = temporary.open(mode, **options)
        try:
            yield _Output(handle, path)
        except BaseException:
            with contextlib.suppress(OSError):
                handle.close()
            raise
        with writing(path):
            handle.close()  # the last buffered bytes: a full disk may show only here


class _Output:
    """A file being written whose failures (``write``, ``flush``, ``seek``: whatever touches the disk)
    are :class:`OutputWriteError` naming the output, never an ``OSError`` the block around it might
    mistake for one of its own."""

    def __init__(self, handle: IO[Any], path: str | os.PathLike[str]) -> None:
        self._handle = handle
        self._path = path

    def write(self, data: Any) -> int:
        with writing(self._path):
            return self._handle.write(data)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._handle, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with writing(self._path):
                return value(*args, **kwargs)

        return call


def atomic_save_image(path: str | os.PathLike[str], image: Any, **options: Any) -> Path:
    """``image.save`` (PIL) atomically; the format follows ``path``'s suffix, which must be one PIL
    knows (checked before anything is drawn by :func:`check_image_suffix`)."""
    path = Path(path)
    image_format = check_image_suffix(path)
    return atomic_write(path, lambda temporary: image.save(temporary, format=image_format, **options))


def check_image_suffix(path: str | os.PathLike[str]) -> str:
    """The PIL format name for ``path``'s suffix (``.png`` → PNG), or a ValueError saying which to use."""
    from PIL import Image

    Image.init()
    suffix = Path(path).suffix.lower()
    image_format = Image.registered_extensions().get(suffix)
    if image_format is None or image_format not in Image.SAVE:
        shown = f"{suffix!r}" if suffix else "no suffix"
        raise ValueError(f"{path}: cannot tell the image format from {shown}; name it .png or .jpg")
    return image_format


def current_umask() -> int:
    """The process umask. Linux reports it in /proc; elsewhere it is read by setting and restoring it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync(path: Path) -> None:
    """Flush the data to disk before the rename makes it visible (O_RDWR: Windows needs write access)."""
    descriptor = os.open(path, os.O_RDWR)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
