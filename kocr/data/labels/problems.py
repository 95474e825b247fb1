"""What was wrong with an input: one :class:`Problem` type for every step that reads labelled data.

Reading a label file, converting AI Hub JSON, cropping regions and building an LMDB each meet bad lines,
missing images and undecodable files. None of them stops at one: each records a :class:`Problem`
naming the file and line (or the AI Hub image/annotation id), and the caller reports them, writes them
to ``skipped.txt``, or raises the first with ``--strict`` (:meth:`Problem.to_error`).
"""

from __future__ import annotations

from dataclasses import dataclass

from kocr.errors import InputFileError


class Kind:
    """Problem kinds; reports count problems by these names."""

    MISSING_IMAGE = "missing image"
    AMBIGUOUS_IMAGE = "ambiguous image"
    NO_IMAGE_ENTRY = "annotation without image entry"
    NO_ANNOTATION = "image without annotation"
    EXTRA_ANNOTATION = "several annotations for one image"
    REGION = "region annotation (needs cropping)"
    IGNORED_REGION = "ignored region (no text)"
    BAD_BOX = "unusable bbox"
    UNREADABLE_IMAGE = "unreadable image"
    EMPTY_TEXT = "empty text"
    STRAY_JAMO = "stray jamo"
    DUPLICATE = "image listed twice"
    CONFLICT = "image with two labels"
    NORMALISED = "label normalised"
    UNKNOWN_TYPE = "unknown type"
    MALFORMED = "malformed entry"
    BAD_LINE = "unusable line"


@dataclass(frozen=True)
class Problem:
    """One defect in the input. ``dropped`` says whether a sample was lost because of it; ``image`` names
    the image file when the problem is that file (an LMDB build's unreadable image)."""

    kind: str
    source: str
    message: str
    line: int | None = None
    ref: str | None = None
    dropped: bool = True
    image: str | None = None

    @classmethod
    def at(
        cls, kind: str, where: str, message: str, *, dropped: bool = True, image: str | None = None
    ) -> Problem:
        """A problem of the sample found at ``where`` (a sample's ``"gt.txt:12"``, or an AI Hub
        ``"file [image 7]"``, which stays whole)."""
        source, _, line = where.rpartition(":")
        if source and line.isdigit():
            return cls(kind, source, message, int(line), dropped=dropped, image=image)
        return cls(kind, where, message, dropped=dropped, image=image)

    @property
    def where(self) -> str:
        if self.line is not None:
            return f"{self.source}:{self.line}"
        return f"{self.source} [{self.ref}]" if self.ref else self.source

    def __str__(self) -> str:
        if self.image is not None:
            return f"{self.where}: {self.image}: {self.message}"
        return f"{self.where}: {self.message}"

    def to_error(self) -> InputFileError:
        message = f"{self.ref}: {self.message}" if self.ref and self.line is None else self.message
        if self.image is not None:
            message = f"{self.image}: {message}"
        return InputFileError(self.source, message, self.line)
