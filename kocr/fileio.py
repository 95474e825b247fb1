"""Atomic file writes: a file appears whole under its name, or not at all.

Checkpoints, ONNX exports and gt.txt files are written to a temporary file in the same folder, flushed
to disk (``fsync``) and renamed over the target with ``os.replace``, so a crash or Ctrl-C never leaves a
truncated ``best.pt`` behind. ``tempfile.mkstemp`` creates its file with mode 0600; the finished file
gets the mode a plain ``open(path, "w")`` would give it (0666 minus the umask), so other users and
tools can read a checkpoint as they can any other file.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def atomic_write(path: str | os.PathLike[str], write: Callable[[Path], None]) -> Path:
    """Call ``write(temporary_path)``, then fsync, set the umask's mode and rename over ``path``.

    ``write`` gets the path of an empty temporary file beside ``path`` (so the rename stays on one
    filesystem) and fills it. On any error, Ctrl-C included, the temporary file is removed and ``path``
    is untouched. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(tmp_name)
    try:
        write(temporary)
        _fsync(temporary)
        os.chmod(temporary, 0o666 & ~current_umask())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda temporary: temporary.write_bytes(data))


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` with LF line ends (whatever the platform) to ``path`` atomically."""

    def write(temporary: Path) -> None:
        with temporary.open("w", encoding=encoding, newline="\n") as handle:
            handle.write(text)

    return atomic_write(path, write)


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
