"""Any supported label input → one :class:`~kocr.data.labels.samples.Conversion`: AI Hub JSON, clovaai
``gt.txt`` or ``labels.txt``; the input of ``kocr data convert``, ``split`` and ``lmdb``.

Conversion never stops at a bad entry: every defect is a :class:`~kocr.data.labels.problems.Problem`
naming the file and line, and the caller reports them or, with ``--strict``, raises the first.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from kocr.data.labels.aihub import read_aihub
from kocr.data.labels.cleaning import clean_label
from kocr.data.labels.duplicates import drop_duplicates
from kocr.data.labels.problems import Kind, Problem
from kocr.data.labels.reader import read_label_file
from kocr.data.labels.samples import Conversion, Sample
from kocr.errors import InputFileError, KocrError
from kocr.names import listed_file

InputFormat = Literal["auto", "aihub", "gt", "labels"]
INPUT_FORMATS: tuple[str, ...] = ("auto", "aihub", "gt", "labels")


def read_label_samples(
    path: str | Path,
    *,
    fmt: Literal["auto", "gt", "labels"] = "auto",
    image_root: str | Path | None = None,
    check_images: bool = True,
    keep_jamo: bool = False,
) -> Conversion:
    """Samples from a gt.txt or labels.txt; image paths resolve against ``image_root`` (default: its folder).

    With ``check_images`` a missing file is reported here; ``build_lmdb`` passes False because it
    reads every file anyway and reports missing ones itself.
    """
    path = Path(path)
    parsed = read_label_file(path, fmt)
    if parsed.format == "lines":
        raise InputFileError(
            path, "has no image column: expected gt.txt (path<TAB>label) or labels.txt (name label)"
        )
    root = Path(image_root) if image_root is not None else path.parent
    result = Conversion(source=path, format=parsed.format)
    result.problems.extend(parsed.problems)  # unusable lines
    for record in parsed.records:
        label, problems = clean_label(
            record.label, source=record.source, line=record.line, keep_jamo=keep_jamo
        )
        result.problems.extend(problems)
        if label is None or record.image is None:
            continue
        image = listed_file(root, record.image)
        if check_images and not image.is_file():
            result.problems.append(
                Problem(
                    Kind.MISSING_IMAGE,
                    record.source,
                    f"image {record.image} not found in {root}",
                    record.line,
                )
            )
            continue
        result.samples.append(Sample(image, label, record.where))
    return result


def convert(
    path: str | Path,
    *,
    fmt: InputFormat = "auto",
    image_root: str | Path | None = None,
    types: Iterable[str] | None = None,
    keep_jamo: bool = False,
    check_images: bool = True,
    regions: bool = False,
) -> Conversion:
    """Read any supported input; ``auto`` treats ``.json`` as AI Hub and sniffs label files.
    ``regions``: collect Text-in-the-wild boxes to crop (AI Hub only). An image listed twice keeps its
    first line, the others are reported (:func:`~kocr.data.labels.duplicates.drop_duplicates`)."""
    path = Path(path)
    if fmt not in INPUT_FORMATS:
        raise KocrError(f"unknown input format {fmt!r}; choose one of {', '.join(INPUT_FORMATS)}")
    if fmt == "aihub" or (fmt == "auto" and path.suffix.lower() == ".json"):
        result = read_aihub(path, image_root=image_root, types=types, keep_jamo=keep_jamo, regions=regions)
        return drop_duplicates(result)
    if types:
        raise KocrError("--type only applies to AI Hub JSON input")
    if regions:
        raise KocrError("--crop-dir only applies to AI Hub JSON input (Text in the wild)")
    result = read_label_samples(
        path, fmt=fmt, image_root=image_root, check_images=check_images, keep_jamo=keep_jamo
    )
    return drop_duplicates(result)
