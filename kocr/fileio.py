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
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from kocr.names import NAME_ERRORS


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then fsync, set the umask's mode and rename over ``path``.

    ``write`` gets the path of an empty temporary file beside ``path`` (so the rename stays on one
    filesystem) and fills it. On any error, Ctrl-C included, the temporary file is removed and ``path``
    is untouched. Returns ``path``.
    """
    path = Path(path)
    with _temporary_beside(path) as temporary:
        write(temporary)
    return path


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it (fsync'd, umask mode) when the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(tmp_name)
    try:
        yield temporary
        _fsync(temporary)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


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
    with _temporary_beside(Path(path)) as temporary, temporary.open(mode, **options) as handle:
        yield handle


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
