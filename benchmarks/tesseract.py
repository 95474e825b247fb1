"""Tesseract 5 on text lines, run the way a user runs it: one ``tesseract IMG stdout -l kor --psm 7``
process per line, ``jobs`` at a time so every core is busy (``OMP_THREAD_LIMIT=1`` each).

Nothing here installs it: ``apt-get install tesseract-ocr tesseract-ocr-kor``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from kocr.text import normalize

INSTALL = "apt-get install tesseract-ocr tesseract-ocr-kor"
DEFAULT_JOBS = os.cpu_count() or 2


def available() -> bool:
    return shutil.which("tesseract") is not None


def version() -> str:
    """``5.3.0``, from the first line of ``tesseract --version``: printed next to Tesseract's figures."""
    result = subprocess.run(["tesseract", "--version"], capture_output=True, text=True, check=False)
    return (result.stdout or result.stderr).split("\n", 1)[0].split()[-1]


def read_lines(images: list[Path], jobs: int = DEFAULT_JOBS) -> list[str]:
    """Tesseract's reading of each image, normalised as kocr's texts are (NFC, collapsed whitespace)."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")

    def one(image: Path) -> str:
        result = subprocess.run(
            ["tesseract", str(image), "stdout", "-l", "kor", "--psm", "7"],
            capture_output=True, text=True, env=env, check=False,
        )  # fmt: skip
        return normalize(result.stdout)

    with ThreadPoolExecutor(jobs) as pool:
        return list(pool.map(one, images))
