"""Read label files: clovaai ``gt.txt``, ``labels.txt`` and plain one-label-per-line text.

Formats:

- ``gt``: ``path<TAB>label`` (clovaai's ``create_lmdb_dataset.py`` input); split at the first tab.
- ``labels``: ``name label``, split at the FIRST space, so labels keep their inner spaces
  (``0001.png 안녕 하세요`` → ``안녕 하세요``).
- ``lines``: every non-empty line is a label with no image (a text corpus, a list of words).

The reader never stops at a bad line and never drops one silently: a line that cannot be used becomes
a :class:`~kocr.data.labels.problems.Problem` (kind ``unusable line``) naming the file and line, and
the caller decides (report, or ``--strict`` fail). A UTF-8 BOM, CRLF line ends and trailing blanks are
handled; a line that is not UTF-8 is reported with a hint, because Korean files saved as CP949/EUC-KR
are common.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kocr.data.labels.problems import Kind, Problem
from kocr.errors import InputFileError

LabelFormat = Literal["auto", "gt", "labels", "lines"]
LABEL_FORMATS: tuple[str, ...] = ("auto", "gt", "labels", "lines")
_SNIFF_LINES = 50


@dataclass(frozen=True)
class LabelRecord:
    """One usable label line."""

    label: str
    image: str | None
    source: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class LabelFile:
    """The parsed contents of a label file."""

    path: Path
    format: str
    records: list[LabelRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # unusable lines


def read_label_file(path: str | Path, fmt: LabelFormat = "auto", *, strict: bool = False) -> LabelFile:
    """Parse a label file; with ``strict`` the first problem raises :class:`InputFileError`."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(path, "label file not found")
    if path.is_dir():
        raise InputFileError(path, "is a folder; give the label file inside it (gt.txt, labels.txt, ...)")
    if fmt not in LABEL_FORMATS:
        raise InputFileError(path, f"unknown label format {fmt!r}; choose one of {', '.join(LABEL_FORMATS)}")
    lines = list(_decoded_lines(path))
    if fmt == "auto":
        readable = [text for _, text, error in lines if error is None and text.strip()]
        undecodable = [(number, error) for number, _, error in lines if error is not None]
        if undecodable and len(undecodable) >= len(readable):
            # The format cannot be told from the lines that decode: name the encoding, not the format.
            number, error = undecodable[0]
            raise InputFileError(
                path, f"{error} ({len(undecodable):,} of {len(undecodable) + len(readable):,} lines)", number
            )
        resolved = _sniff_format(readable)
    else:
        resolved = fmt
    result = LabelFile(path=path, format=resolved)
    source = str(path)
    for line_number, text, decode_error in lines:
        problem: str | None = decode_error
        if problem is None and text.strip():
            record_or_problem = _parse_line(text, resolved, source, line_number)
            if isinstance(record_or_problem, LabelRecord):
                result.records.append(record_or_problem)
                continue
            problem = record_or_problem
        if problem is None:
            continue  # blank line
        if strict:
            raise InputFileError(path, problem, line_number)
        result.problems.append(Problem(Kind.BAD_LINE, source, problem, line_number))
    return result


def _decoded_lines(path: Path) -> Iterator[tuple[int, str, str | None]]:
    """(line number, text without its line end, decode error or None)."""
    with path.open("rb") as handle:
        for line_number, raw in enumerate(handle, start=1):
            raw = raw.rstrip(b"\r\n")
            if line_number == 1:
                raw = raw.removeprefix(b"\xef\xbb\xbf")
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield line_number, "", describe_decode_error(raw, exc)
                continue
            yield line_number, text, None


ICONV_HINT = "convert the file with `iconv -f cp949 -t utf-8`"


def describe_decode_error(
    raw: bytes, exc: UnicodeDecodeError, *, unit: str = "the line", hint: str = ICONV_HINT
) -> str:
    """ "not valid UTF-8 (byte ... at ...)", plus ``hint`` when the bytes read as CP949/EUC-KR."""
    message = f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} of {unit})"
    try:
        raw.decode("cp949")
    except UnicodeDecodeError:
        return message
    return f"{message}; it looks like CP949/EUC-KR: {hint}"


def _sniff_format(texts: list[str]) -> str:
    # Imported here: kocr.data.images loads numpy and PIL, and `kocr --help` imports this module.
    from kocr.data.images import IMAGE_SUFFIXES

    sample = texts[:_SNIFF_LINES]
    if not sample:
        return "lines"
    if sum("\t" in t for t in sample) * 2 > len(sample):
        return "gt"
    if sum(t.split(" ", 1)[0].lower().endswith(IMAGE_SUFFIXES) for t in sample) * 2 > len(sample):
        return "labels"
    return "lines"


def _parse_line(text: str, fmt: str, source: str, line_number: int) -> LabelRecord | str:
    """A record, or the reason the line is unusable."""
    if fmt == "lines":
        return LabelRecord(text.strip(), None, source, line_number)
    if fmt == "gt":
        separator, name, shape = "\t", "tab", "image<TAB>label"
    else:
        separator, name, shape = " ", "space", "name label"
        text = text.strip()
    image, found, label = text.partition(separator)
    if not found:
        return f"expected '{shape}' ({fmt} format) but the line has no {name}: {_clip(text)!r}"
    if not image:
        return "empty image path"
    if fmt == "gt" and "\t" in label:
        return "more than one tab (labels cannot contain tabs)"
    label = label.strip()
    if not label:
        return f"empty label for {image!r}"
    return LabelRecord(label, image, source, line_number)


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
