"""Where a page's lines were found and what was read there, as one picture (``--overlay DIR``).

The page on the left with each line's box tinted and numbered in reading order; on the right, a white
panel of the same size where each line's text is written into its box, along the line's own slant, in a
Korean font (:mod:`kocr.report.fonts`). Side by side, so the text never hides the ink it was read
from. A line image (no page) gets its text written under it instead. Pages larger than
``MAX_SIDE`` are drawn scaled down, so an overlay stays a picture, not a copy of a 48-megapixel photo.

Line colours say something when the caller knows it (``kocr eval``: read right, misread, not a truth
line); otherwise they cycle through a palette, so neighbouring lines are told apart.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kocr.errors import KocrError
from kocr.fileio import atomic_save_image
from kocr.report.fonts import pil_font

MAX_SIDE = 2000  # px: the longer side of the page as drawn
OVERLAY_SUFFIX = ".overlay.jpg"
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (23, 190, 207), (188, 189, 34))  # fmt: skip
STATUS_COLOURS = {"right": (44, 160, 44), "misread": (230, 120, 0), "extra": (214, 39, 40)}


def draw_page_overlay(image: Any, page: Any, statuses: Sequence[str] | None = None) -> Any:
    """The side-by-side picture of a read page (:class:`kocr.pages.types.PageResult`) over ``image``,
    the picture it was read from. ``statuses`` (one per line: right, misread, extra) colour the lines."""
    from PIL import Image, ImageDraw

    page_image = image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(page_image.size))
    if scale < 1.0:
        size = (max(1, round(page_image.width * scale)), max(1, round(page_image.height * scale)))
        page_image = page_image.resize(size, Image.Resampling.LANCZOS)
    sx, sy = page_image.width / max(1, page.width), page_image.height / max(1, page.height)
    width, height = page_image.size
    stroke = max(2, round(max(width, height) / 700))
    tint = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    tint_draw = ImageDraw.Draw(tint)
    panel = Image.new("RGB", (width, height), "white")
    panel_draw = ImageDraw.Draw(panel)
    quads = [[(x * sx, y * sy) for x, y in line.box] for line in page.lines]
    colours = [_colour(i, statuses) for i in range(len(page.lines))]
    for quad, colour in zip(quads, colours, strict=True):
        tint_draw.polygon(quad, fill=(*colour, 48), outline=(*colour, 255), width=stroke)
        panel_draw.polygon(quad, outline=colour, width=max(1, stroke // 2))
    composed = Image.alpha_composite(page_image.convert("RGBA"), tint).convert("RGB")
    for line, quad in zip(page.lines, quads, strict=True):
        _write_along(panel, quad, line.text)
    draw = ImageDraw.Draw(composed)
    for number, (quad, colour) in enumerate(zip(quads, colours, strict=True), start=1):
        for target in (draw, panel_draw):
            _number(target, quad, number, colour, stroke)
    canvas = Image.new("RGB", (width * 2 + stroke * 4, height), (200, 200, 200))
    canvas.paste(composed, (0, 0))
    canvas.paste(panel, (width + stroke * 4, 0))
    return canvas


def draw_line_overlay(image: Any, text: str) -> Any:
    """A line image with the text read from it written underneath."""
    from PIL import Image, ImageDraw

    line = image.convert("RGB")
    scale = min(1.0, MAX_SIDE / max(line.size))
    if scale < 1.0:
        line = line.resize((max(1, round(line.width * scale)), max(1, round(line.height * scale))))
    size = max(14, min(48, round(line.height * 0.8)))
    font = pil_font(size)
    width = max(line.width, round(font.getlength(text or " ")) + 16)
    canvas = Image.new("RGB", (width, line.height + size * 2), "white")
    canvas.paste(line, (0, 0))
    ImageDraw.Draw(canvas).text((8, line.height + size // 2), text, font=font, fill=(20, 20, 20))
    return canvas


def _colour(index: int, statuses: Sequence[str] | None) -> tuple[int, int, int]:
    if statuses is not None and index < len(statuses) and statuses[index] in STATUS_COLOURS:
        return STATUS_COLOURS[statuses[index]]
    return PALETTE[index % len(PALETTE)]


def _write_along(panel: Any, quad: Sequence[tuple[float, float]], text: str) -> None:
    """Write ``text`` into ``quad`` on ``panel``: along its top edge, as large as its box allows."""
    from PIL import Image, ImageDraw

    if not text:
        return
    (x0, y0), (x1, y1), _, (x3, y3) = quad
    length = math.hypot(x1 - x0, y1 - y0)
    thickness = math.hypot(x3 - x0, y3 - y0)
    if length < 4 or thickness < 4:
        return
    size = max(6, int(thickness * 0.75))
    font = pil_font(size)
    natural = font.getlength(text)
    if natural > length * 0.96:  # too long for the box at that height: shrink to its length
        size = max(6, int(size * length * 0.96 / natural))
        font = pil_font(size)
    strip = Image.new("RGBA", (math.ceil(length), math.ceil(thickness)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(strip)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    position = ((strip.width - (right - left)) / 2 - left, (strip.height - (bottom - top)) / 2 - top)
    draw.text(position, text, font=font, fill=(20, 20, 20, 255))
    angle = math.degrees(math.atan2(y1 - y0, x1 - x0))
    turned = strip.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
    centre_x = sum(x for x, _ in quad) / 4
    centre_y = sum(y for _, y in quad) / 4
    panel.paste(turned, (round(centre_x - turned.width / 2), round(centre_y - turned.height / 2)), turned)


def _number(draw: Any, quad: Sequence[tuple[float, float]], number: int, colour: tuple[int, int, int],
            stroke: int) -> None:  # fmt: skip
    """The line's place in reading order, in a disc just before the line's start."""
    radius = max(9, stroke * 5)
    font = pil_font(round(radius * 1.3))
    (x0, y0), (x1, y1), _, (x3, y3) = quad
    length = max(1e-6, math.hypot(x1 - x0, y1 - y0))
    ux, uy = (x1 - x0) / length, (y1 - y0) / length  # along the line
    x = x0 - ux * radius * 1.2 + (x3 - x0) / 2
    y = y0 - uy * radius * 1.2 + (y3 - y0) / 2
    x, y = max(radius, x), max(radius, y)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour, outline="white", width=1)
    draw.text((x, y), str(number), font=font, fill="white", anchor="mm")


def overlay_file_names(names: Sequence[str]) -> list[str]:
    """The file each image's overlay goes to, under the overlay folder: its name as shown with
    ``.overlay.jpg`` for its suffix (``scans/p1.png`` -> ``scans/p1.overlay.jpg``). Two images that would
    share one (``p1.png`` and ``p1.jpg``) are an error before anything is written."""
    from kocr.runtime.writers import output_file_names

    return output_file_names(names, OVERLAY_SUFFIX)


def save_overlay(path: str | os.PathLike[str], picture: Any, *, overwrite: bool = False) -> Path:
    """Write one overlay (JPEG, whole or not at all); an existing file needs ``overwrite``."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise KocrError(f"{path} exists; pass --overwrite to replace it")
    return atomic_save_image(path, picture, quality=88)


class OverlayWriter:
    """Writes overlays into ``folder`` under :func:`overlay_file_names`, as pages are read.

    Without ``overwrite`` an existing overlay is never replaced: :meth:`check_names` refuses names known
    beforehand (``kocr predict``), :meth:`check_folder` a folder that holds overlays already when the
    names come only as pages stream in (``kocr eval``)."""

    def __init__(self, folder: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.folder = Path(folder)
        self.overwrite = overwrite
        self.written: list[Path] = []
        self._taken: set[Path] = set()
        if self.folder.exists() and not self.folder.is_dir():
            raise KocrError(f"{self.folder} is a file; --overlay names a folder")

    def check_names(self, names: Sequence[str]) -> None:
        """Refuse, before any work, overlays of ``names`` that exist (unless ``overwrite``)."""
        targets = [self.folder / name for name in overlay_file_names(names)]
        existing = [target for target in targets if target.exists()]
        if existing and not self.overwrite:
            more = f" (and {len(existing) - 1:,} more)" if len(existing) > 1 else ""
            raise KocrError(f"{existing[0]} exists{more}; pass --overwrite to replace overlays")

    def check_folder(self) -> None:
        """Refuse, before any work, a folder that holds overlays already (unless ``overwrite``)."""
        if self.overwrite or not self.folder.is_dir():
            return
        existing = next(self.folder.rglob(f"*{OVERLAY_SUFFIX}"), None)
        if existing is not None:
            raise KocrError(f"{self.folder} holds overlays already ({existing.name}); pass --overwrite to "
                            "replace them, or choose another --overlay folder")  # fmt: skip

    def page(self, name: str, image: Any, page: Any, statuses: Sequence[str] | None = None) -> Path:
        """Draw and write the overlay of a read page shown as ``name``."""
        return self._save(name, draw_page_overlay(image, page, statuses))

    def line(self, name: str, image: Any, text: str) -> Path:
        """Draw and write the overlay of a line image shown as ``name``."""
        return self._save(name, draw_line_overlay(image, text))

    def _save(self, name: str, picture: Any) -> Path:
        (target,) = overlay_file_names([name])
        path = self.folder / target
        number = 1
        while path in self._taken:  # two pages streamed in with one name (p1.png, p1.jpg): keep both
            number += 1
            path = self.folder / target.replace(OVERLAY_SUFFIX, f"-{number}{OVERLAY_SUFFIX}")
        self._taken.add(path)
        path = save_overlay(path, picture, overwrite=self.overwrite)
        self.written.append(path)
        return path
