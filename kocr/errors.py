"""User-facing errors.

Everything a user can cause (a bad file, a malformed line, an unknown charset name) raises a
``KocrError`` subclass. The CLI turns these into one clear message and a non-zero exit code instead
of a traceback; library users can catch them by type.
"""

from __future__ import annotations

from pathlib import Path


class KocrError(Exception):
    """Base class for errors caused by user input, not by a bug in kocr."""


class InputFileError(KocrError):
    """A problem in an input file, located as precisely as we can (file, and line when known)."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"


class CharsetError(KocrError):
    """An unknown preset, an unreadable charset file, or a symbol that does not fit a charset."""


class OutputExistsError(KocrError):
    """A file or folder kocr would write exists and replacing it was not asked for.

    ``str()`` speaks to Python callers (``overwrite=True``); :meth:`cli_message` to command-line users
    (``--overwrite``), and the CLI prints that one.
    """

    def __init__(self, path: str | Path, note: str = "") -> None:
        self.path = str(path)
        self.note = note
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path} already exists{self.note}; pass overwrite=True to replace it"

    def cli_message(self) -> str:
        return f"{self.path} already exists{self.note}; pass --overwrite to replace it"


class OutputWriteError(KocrError, OSError):
    """A file or folder kocr writes could not be written: the disk is full, the file system read-only,
    permission missing, a folder stands where a file goes (or a file where a folder goes).

    One kind for every write path (:mod:`kocr.fileio`), named after the output, never a traceback; the
    write leaves nothing half-written behind. It is an ``OSError`` too (``errno`` kept), so code that
    treats a failed write as one, such as a cache that may stay unwritten, still does.
    """

    def __init__(self, path: str | Path, reason: str | BaseException, errno: int | None = None) -> None:
        if isinstance(reason, OSError):
            errno = reason.errno if errno is None else errno
            text = reason.strerror or str(reason)
        else:
            text = str(reason)
        OSError.__init__(self, errno, text)
        self.path = str(path)
        self.reason = text

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.reason}"
