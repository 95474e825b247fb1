"""Images small enough to embed: a line crop or a page drawn into the report as a data URI."""

from __future__ import annotations

import base64
import io
from typing import Any


def thumbnail(image: Any, *, max_width: int, max_height: int) -> Any:
    """A copy of a PIL image scaled down (never up) to fit ``max_width`` × ``max_height``, in RGB or L."""
    from PIL import Image

    image = image.convert("RGB") if image.mode not in ("RGB", "L") else image.copy()
    image.thumbnail((max_width, max_height), Image.Resampling.LANCZOS)
    return image


def image_data_uri(image: Any, *, format: str = "PNG", quality: int = 82) -> str:
    """A PIL image as a ``data:`` URI: PNG for line crops (sharp, small when grey), JPEG for photos of
    pages (a tenth of the PNG)."""
    buffer = io.BytesIO()
    if format == "JPEG":
        image.convert("RGB").save(buffer, "JPEG", quality=quality, optimize=True)
        mime = "image/jpeg"
    else:
        _greyscale_if_grey(image).save(buffer, "PNG", optimize=True)
        mime = "image/png"
    return f"data:{mime};base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _greyscale_if_grey(image: Any) -> Any:
    if image.mode != "RGB":
        return image
    red, green, blue = image.split()
    if red.tobytes() == green.tobytes() == blue.tobytes():
        return red
    return image
