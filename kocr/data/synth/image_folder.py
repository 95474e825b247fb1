"""The ``--format images`` output of ``kocr data synth``: image files and a gt.txt, appearing whole."""

from __future__ import annotations

import io
import os
import shutil
import uuid
from pathlib import Path

from kocr.errors import KocrError, OutputExistsError
from kocr.fileio import make_folder, move_folder_into_place, writing


class ImageFolderWriter:
    """``OUT/images/000000001.png`` + ``OUT/gt.txt`` (``images/...<TAB>label``), written to a hidden
    temporary folder and renamed into place only when complete."""

    REPLACEABLE = frozenset({"gt.txt", "images", "preview.png"})

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self._temp: Path | None = None
        self._gt: io.TextIOWrapper | None = None
        self._count = 0

    def check(self) -> None:
        """Refuse an existing output without ``overwrite``, and any folder that is not ours."""
        if not self.path.exists():
            return
        if not self.overwrite:
            raise OutputExistsError(self.path)
        if not self.path.is_dir():
            raise KocrError(f"{self.path} exists and is not a folder; refusing to replace it")
        foreign = sorted(p.name for p in self.path.iterdir() if p.name not in self.REPLACEABLE)
        if foreign:
            raise KocrError(
                f"{self.path} holds files that are not from kocr data synth ({', '.join(foreign[:3])})"
            )

    def __enter__(self) -> ImageFolderWriter:
        self.check()
        make_folder(self.path.parent)
        self._temp = self.path.parent / f".{self.path.name}.partial-{uuid.uuid4().hex[:12]}"
        with writing(self.path):
            (self._temp / "images").mkdir(parents=True)
            self._gt = (self._temp / "gt.txt").open("w", encoding="utf-8", newline="\n")
        return self

    def add(self, image_bytes: bytes, label: str, ext: str = "png") -> int:
        assert self._temp is not None and self._gt is not None, "use ImageFolderWriter in a with block"
        self._count += 1
        name = f"images/{self._count:09d}.{ext}"
        with writing(self.path):
            (self._temp / name).write_bytes(image_bytes)
            self._gt.write(f"{name}\t{label}\n")
        return self._count

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        temp, gt = self._temp, self._gt
        self._temp = self._gt = None
        if temp is None or gt is None:
            return
        try:
            with writing(self.path):
                gt.close()  # its last buffered lines: a full disk may show only here
                if exc_type is not None:
                    return
                if self.path.exists():
                    self.check()
                move_folder_into_place(temp, self.path)
        finally:
            shutil.rmtree(temp, ignore_errors=True)  # gone once renamed; the partial folder otherwise
