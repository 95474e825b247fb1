"""A contact sheet of synthetic lines and their labels, for eyeballing a set (``kocr data synth
--preview``)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from kocr.data.synth.fonts import FontFace


def contact_sheet(
    samples: Sequence[tuple[bytes | Image.Image, str]],
    label_font: FontFace | None = None,
    *,
    max_width: int = 1100,
    label_size: int = 18,
) -> Image.Image:
    """A white sheet with each sample image above its label, for eyeballing a synthetic set."""
    rows: list[tuple[Image.Image, str]] = []
    for data, label in samples:
        image = data if isinstance(data, Image.Image) else Image.open(io.BytesIO(data))
        image = image.convert("RGB")
        if image.width > max_width - 20:
            image = image.resize(
                (max_width - 20, max(1, round(image.height * (max_width - 20) / image.width)))
            )
        rows.append((image, label))
    font = label_font.load(label_size) if label_font else ImageFont.load_default(label_size)
    row_heights = [img.height + label_size + 16 for img, _ in rows]
    sheet = Image.new("RGB", (max_width, sum(row_heights) + 10), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    y = 6
    for (image, label), row_height in zip(rows, row_heights, strict=True):
        sheet.paste(image, (10, y))
        draw.rectangle((9, y - 1, 10 + image.width, y + image.height), outline=(200, 60, 60))
        draw.text((10, y + image.height + 3), label, font=font, fill=(0, 0, 160))
        y += row_height
    return sheet
