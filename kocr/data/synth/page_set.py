"""A folder of synthetic pages with their lines (``kocr data synth --pages``), appearing whole.

Layout of a page set::

    OUT/page-000001.png          the page (.jpg for photos and scans that drew JPEG)
    OUT/page-000001.gt.txt       its lines in reading order, one per line (UTF-8, NFC)
    OUT/page-000001.lines.json   {"width": W, "height": H, "rotation": R,
                                  "lines": [{"box": [[x, y] x 4], "text": "..."}, ...]}
    OUT/manifest.json            seed, count, config, fonts; written last

Boxes are four corners (top left, top right, bottom right, bottom left of the text as it reads) in the
image's pixels, rounded to 0.1 px; ``rotation`` is the clockwise turn the page was given (0, 90, 180,
270). Everything is written into a hidden folder beside OUT that is renamed into place when complete.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from kocr.data.synth.pages import PageConfig, PagePlan, SyntheticPage, plan_pages, render_page
from kocr.errors import KocrError, OutputExistsError
from kocr.fileio import atomic_write_bytes, atomic_write_text, make_folder, move_folder_into_place, writing
from kocr.names import json_text

PAGE_FILE = re.compile(r"page-\d{6,}\.(png|jpg|gt\.txt|lines\.json)")
FORMAT_VERSION = 1
Progress = Callable[[int, int], None]


def page_lines_json(page: SyntheticPage) -> dict[str, Any]:
    """The ``lines.json`` content of a page."""
    width, height = page.image.size
    return {
        "width": width,
        "height": height,
        "rotation": page.rotation,
        "lines": [
            {"box": [[round(x, 1), round(y, 1)] for x, y in line.quad], "text": line.text}
            for line in page.lines
        ],
    }


def read_page_lines(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A ``page-*.lines.json`` file, checked for the fields a reader relies on."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data["width"], int) and isinstance(data["height"], int)
        assert data["rotation"] in (0, 90, 180, 270)
        for line in data["lines"]:
            assert len(line["box"]) == 4 and all(len(p) == 2 for p in line["box"])
            assert isinstance(line["text"], str)
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as exc:
        raise KocrError(f"{path}: not a page lines file ({type(exc).__name__}: {exc})") from None
    return data


def _ours(name: str) -> bool:
    return name == "manifest.json" or PAGE_FILE.fullmatch(name) is not None


class PageSetWriter:
    """Pages written into a hidden temporary folder, renamed to ``path`` once the manifest is in."""

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.path = Path(path)
        self.overwrite = overwrite
        self._temp: Path | None = None
        self.count = 0

    def check(self) -> None:
        """Refuse an existing output without ``overwrite``, and any folder that is not a page set."""
        if not self.path.exists():
            return
        if not self.overwrite:
            raise OutputExistsError(self.path)
        if not self.path.is_dir():
            raise KocrError(f"{self.path} exists and is not a folder; refusing to replace it")
        foreign = sorted(p.name for p in self.path.iterdir() if not _ours(p.name))
        if foreign:
            shown = ", ".join(foreign[:3])
            raise KocrError(f"{self.path} holds files that are not from a page set ({shown})")

    def __enter__(self) -> PageSetWriter:
        self.check()
        make_folder(self.path.parent)
        self._temp = self.path.parent / f".{self.path.name}.partial-{uuid.uuid4().hex[:12]}"
        with writing(self.path):
            self._temp.mkdir()
        return self

    def add(self, data: bytes, ext: str, lines: dict[str, Any]) -> str:
        """Write one page (encoded image, its lines.json content); returns its file stem."""
        assert self._temp is not None, "use PageSetWriter in a with block"
        self.count += 1
        stem = f"page-{self.count:06d}"
        atomic_write_bytes(self._temp / f"{stem}.{ext}", data)
        texts = "".join(f"{line['text']}\n" for line in lines["lines"])
        atomic_write_text(self._temp / f"{stem}.gt.txt", texts)
        atomic_write_text(self._temp / f"{stem}.lines.json", json_text(lines) + "\n")
        return stem

    def finish(self, manifest: dict[str, Any]) -> None:
        """Write the manifest, the last file, marking the set complete."""
        assert self._temp is not None, "use PageSetWriter in a with block"
        text = json_text(manifest, indent=2) + "\n"
        atomic_write_text(self._temp / "manifest.json", text)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        temp, self._temp = self._temp, None
        if temp is None:
            return
        if exc_type is not None or not (temp / "manifest.json").is_file():
            shutil.rmtree(temp, ignore_errors=True)
            return
        try:
            with writing(self.path):
                if self.path.exists():
                    self.check()
                move_folder_into_place(temp, self.path)
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise


@dataclass
class PageSetReport:
    """What :func:`write_page_set` wrote."""

    output: Path
    pages: int = 0
    lines: int = 0
    layouts: Counter[str] = field(default_factory=Counter)
    media: Counter[str] = field(default_factory=Counter)
    fonts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0


def config_summary(config: PageConfig) -> dict[str, Any]:
    """The config as JSON: fonts by name and file, long label lists by count."""
    summary = asdict(config)
    summary["fonts"] = [f"{face.name} ({face.path.name})" for face in config.fonts]
    if len(config.form_labels) > 50:
        summary["form_labels"] = f"{len(config.form_labels)} labels"
    return summary


_WORKER: dict[str, Any] = {}


def _init_worker(config: PageConfig, the_plan: PagePlan) -> None:
    _WORKER["config"], _WORKER["plan"] = config, the_plan


def _render_job(index: int) -> tuple[bytes, str, dict[str, Any], str, str, dict[str, int]]:
    page = render_page(index, _WORKER["config"], _WORKER["plan"])
    data, ext = page.encoded()
    return data, ext, page_lines_json(page), page.layout, page.medium, page.fonts


def write_page_set(
    config: PageConfig,
    count: int,
    output: str | os.PathLike[str],
    *,
    the_plan: PagePlan | None = None,
    workers: int = 1,
    overwrite: bool = False,
    progress: Progress | None = None,
    manifest_extra: dict[str, Any] | None = None,
) -> PageSetReport:
    """Render pages 1..``count`` of ``config`` into the page set ``output`` (see the module docstring);
    ``workers`` > 1 renders in that many processes, with the same pages as one."""
    if count < 1:
        raise KocrError("a page set needs at least one page")
    started = time.perf_counter()
    writer = PageSetWriter(output, overwrite=overwrite)
    writer.check()
    the_plan = the_plan or plan_pages(config, workers=workers)
    report = PageSetReport(Path(output))
    with writer:
        for data, ext, lines, layout, medium, fonts in _rendered(config, the_plan, count, workers):
            writer.add(data, ext, lines)
            report.pages += 1
            report.lines += len(lines["lines"])
            report.layouts[layout] += 1
            report.media[medium] += 1
            report.fonts.update(fonts)
            if progress is not None:
                progress(report.pages, count)
        manifest = {
            "kind": "kocr page set",
            "version": FORMAT_VERSION,
            "seed": config.seed,
            "count": report.pages,
            "lines": report.lines,
            "layouts": dict(report.layouts),
            "media": dict(report.media),
            "fonts": dict(sorted(report.fonts.items())),
            "config": config_summary(config),
            **(manifest_extra or {}),
        }
        writer.finish(manifest)
    report.seconds = time.perf_counter() - started
    return report


def _rendered(
    config: PageConfig, the_plan: PagePlan, count: int, workers: int
) -> Iterator[tuple[bytes, str, dict[str, Any], str, str, dict[str, int]]]:
    indices = range(1, count + 1)
    if workers > 1 and count > 1:
        context = get_context("spawn")
        with context.Pool(workers, initializer=_init_worker, initargs=(config, the_plan)) as pool:
            yield from pool.imap(_render_job, indices)
    else:
        _init_worker(config, the_plan)
        yield from map(_render_job, indices)
