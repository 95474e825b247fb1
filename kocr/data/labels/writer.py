"""Write clovaai's ``gt.txt`` (``path<TAB>label``, UTF-8, NFC), the input of ``kocr data lmdb`` and of
clovaai's ``create_lmdb_dataset.py``.

**Paths in gt.txt are relative to the gt file's folder** (POSIX ``/``) when the image lies inside that
folder, so a dataset folder with its gt.txt stays movable; images elsewhere get absolute paths rather
than fragile ``../../`` chains. clovaai's ``create_lmdb_dataset.py --inputPath <gt folder>`` reads
both, since it ``os.path.join``-s the two, and so does ``kocr data lmdb``. A path's bytes that are not
UTF-8 (CP949 file names) are written ``\\xNN`` (:mod:`kocr.names`), which kocr's readers map back.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kocr.data.labels.cleaning import label_defect
from kocr.data.labels.samples import Sample
from kocr.errors import KocrError, OutputExistsError
from kocr.fileio import atomic_write_text
from kocr.names import printable_name


def write_gt(
    path: str | Path, samples: Iterable[Sample | tuple[Any, str, str]], *, overwrite: bool = False
) -> int:
    """Write ``path<TAB>label`` lines (UTF-8, LF); return how many.

    Image paths are relative to the gt file's folder when inside it, else absolute (see the module
    docstring). A label or path with a tab or line break is refused before anything is written, since
    it would silently shift every following sample; the file appears atomically, so a failure leaves
    no partial file.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise OutputExistsError(path)
    folder = path.parent if str(path.parent) else Path(".")
    lines: list[str] = []
    for sample in samples:
        image, label, where = sample[0], sample[1], sample[2]
        shown = printable_name(_gt_path(Path(image), folder))
        for what, text in (("label", label), ("image path", shown)):
            defect = label_defect(text)
            if defect:
                raise KocrError(f"{where}: {what} {text!r} {defect}; gt.txt cannot hold it")
        lines.append(f"{shown}\t{label}\n")
    atomic_write_text(path, "".join(lines))
    return len(lines)


def _gt_path(image: Path, folder: Path) -> str:
    absolute = Path(os.path.abspath(image))
    base = Path(os.path.abspath(folder))
    if absolute.is_relative_to(base):
        return absolute.relative_to(base).as_posix()
    return absolute.as_posix()
