"""Dev lines as crops arrive from elsewhere, made deterministically from the rendered lines.

``plain`` the images as they are; ``loose`` each line centred in a canvas 4× its height and 3 heights
wider, filled with the median of the line's border (text in the middle quarter, as a detector or a hand
crop gives); ``inverted`` 255 − every pixel; ``red`` white text on a red sign (the line's paper →
(200, 35, 40), its ink → (245, 245, 245), anti-aliasing kept); ``blue`` and ``green`` the same on a blue
(30, 70, 160) and a green (20, 120, 60) sign. ``photo_crop`` is a red line as a phone
photo frames it (100 px high in a 400 × 2000 px canvas).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from kocr.data.images import load_image

VARIANTS = ("plain", "loose", "inverted", "red", "blue", "green")
SIGN_RED = np.array([200, 35, 40], np.float32)
SIGN_BLUE = np.array([30, 70, 160], np.float32)
SIGN_GREEN = np.array([20, 120, 60], np.float32)
SIGN_WHITE = np.array([245, 245, 245], np.float32)


def _border_median(grey: np.ndarray) -> float:
    return float(np.median(np.concatenate([grey[0], grey[-1], grey[1:-1, 0], grey[1:-1, -1]])))


def loose(image: Image.Image) -> Image.Image:
    """The line in the middle quarter of a canvas 4× its height (1.5 heights of margin all round)."""
    grey = np.asarray(image.convert("L"))
    height, width = grey.shape
    margin = round(1.5 * height)
    canvas = np.full((height + 2 * margin, width + 2 * margin), round(_border_median(grey)), np.uint8)
    canvas[margin : margin + height, margin : margin + width] = grey
    return Image.fromarray(canvas)


def inverted(image: Image.Image) -> Image.Image:
    return Image.fromarray(255 - np.asarray(image.convert("L")))


def red(image: Image.Image) -> Image.Image:
    """White text on a red sign: paper (the border median) → red, ink (the far 1st/99th percentile) →
    white, linearly in between so anti-aliasing stays."""
    return on_sign(image, SIGN_RED)


def blue(image: Image.Image) -> Image.Image:
    return on_sign(image, SIGN_BLUE)


def green(image: Image.Image) -> Image.Image:
    return on_sign(image, SIGN_GREEN)


def on_sign(image: Image.Image, ground: np.ndarray) -> Image.Image:
    """White text on a sign of colour ``ground``, as :func:`red` explains."""
    grey = np.asarray(image.convert("L")).astype(np.float32)
    paper = _border_median(grey)
    ink = float(np.percentile(grey, 1 if paper >= 128 else 99))
    strength = np.clip((grey - paper) / (ink - paper if abs(ink - paper) >= 1 else 1.0), 0, 1)[..., None]
    colour = (1 - strength) * ground + strength * SIGN_WHITE
    return Image.fromarray((colour + 0.5).astype(np.uint8), mode="RGB")


def photo_crop(image: Image.Image) -> Image.Image:
    """The line 100 px high, white on red, centred in a 400 × 2000 canvas of the same red."""
    line = red(image)
    line = line.resize((max(1, round(line.width * 100 / line.height)), 100), Image.Resampling.BICUBIC)
    line = line.crop((0, 0, min(line.width, 1900), 100))
    canvas = Image.new("RGB", (2000, 400), tuple(int(v) for v in SIGN_RED))
    canvas.paste(line, ((2000 - line.width) // 2, 150))
    return canvas


MAKERS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "loose": loose,
    "inverted": inverted,
    "red": red,
    "blue": blue,
    "green": green,
}


def variant_images(images: list[Path], variant: str, folder: Path) -> list[Path]:
    """``images`` as ``variant`` (PNG files under ``folder``, so every engine reads the same files);
    ``plain`` is the files themselves."""
    if variant == "plain":
        return images
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for number, path in enumerate(images):
        target = folder / f"{number:05d}.png"
        MAKERS[variant](load_image(path)).save(target)
        made.append(target)
    return made
