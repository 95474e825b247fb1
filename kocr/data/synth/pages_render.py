"""Drawing a laid-out page and what a scanner or a phone camera does to it.

- paper: white, off-white, a pale tint (ruled and grid lines come from the layout), sometimes a light
  texture (blotches or fibre-like grain), made at low resolution and scaled up, so a 300 dpi page
  costs little more than a 150 dpi one;
- scan: a slight skew (at most a few degrees), uneven brightness, blur, noise, greyscale;
- photo: the page warped in perspective onto a desk (plain or mottled, with the page's soft shadow),
  a lighting gradient with a colour cast, blur, noise;
- turn: a quarter, half or three-quarter turn.

Every geometric step returns its matrix (:mod:`kocr.data.synth.pages_geometry`), which the caller
applies to the line boxes.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter

from kocr.data.synth.pages_config import PageDegradations
from kocr.data.synth.pages_geometry import Matrix, homography, rotation, turn_matrix, warp
from kocr.data.synth.pages_layout import Colour, Layout, Sheet, rgb

_A4 = 1.4142
_TINTS = np.array(
    [[250, 246, 205], [228, 238, 250], [230, 246, 230], [250, 232, 236], [232, 232, 232]], np.float32
)
_DESKS = np.array(
    [
        [120, 85, 55],
        [160, 120, 80],
        [70, 70, 75],
        [35, 35, 40],
        [210, 205, 195],
        [150, 155, 160],
        [90, 60, 45],
    ],
    np.float32,
)


def scan_size(rng: np.random.Generator) -> tuple[int, int]:
    """An A4 page scanned at 150, 200 or 300 dpi."""
    dpi = float(rng.choice((150, 200, 300), p=(0.5, 0.3, 0.2)))
    return round(8.27 * dpi), round(11.69 * dpi)


def frame_size(rng: np.random.Generator, fixed: tuple[int, int] | None) -> tuple[int, int]:
    """A phone photo's size: ``fixed``, or a 4:3 frame 1600 to 4000 px long, mostly portrait."""
    if fixed is not None:
        return fixed
    long = int(rng.uniform(1600, 4000))
    short = round(long * 0.75)
    return (short, long) if rng.random() < 0.75 else (long, short)


def _field(
    rng: np.random.Generator, size: tuple[int, int], cells: int, low: float, high: float
) -> Image.Image:
    """A smooth random L image between ``low`` and ``high``: a few random cells scaled up."""
    small = rng.uniform(low, high, (cells, cells)).astype(np.float32)
    return Image.fromarray(small, mode="F").resize(size, Image.Resampling.BICUBIC).convert("L")


def _paper(
    size: tuple[int, int], kind: str, rng: np.random.Generator, texture: bool
) -> tuple[Image.Image, Colour]:
    if kind == "tinted":
        base = _TINTS[int(rng.integers(len(_TINTS)))] + rng.normal(0, 4, 3)
    elif kind in ("off-white", "ruled", "grid"):
        base = np.array((248, 244, 232), np.float32) + rng.normal(0, 4, 3)
    else:
        base = np.full(3, rng.uniform(246, 255), np.float32)
    colour = rgb(base)
    paper = Image.new("RGB", size, colour)
    if texture:
        width, height = size
        if rng.random() < 0.5:
            shade = _field(rng, size, int(rng.integers(6, 24)), rng.uniform(225, 245), 255)
        else:  # grain: noise at a quarter of the resolution, so it looks like fibres, not sensor noise
            small = (max(2, width // 4), max(2, height // 4))
            grain = 250 - np.abs(rng.normal(0, rng.uniform(3, 8), (small[1], small[0])))
            shade = (
                Image.fromarray(grain.astype(np.float32), mode="F")
                .resize(size, Image.Resampling.BILINEAR)
                .convert("L")
            )
        paper = ImageChops.multiply(paper, Image.merge("RGB", (shade, shade, shade)))
    return paper, colour


def compose(
    layout: Layout, sheet: Sheet, rng: np.random.Generator, *, texture: bool
) -> tuple[Image.Image, Colour]:
    """The paper with the layout's fills, rules and lines; and the paper's colour."""
    page, colour = _paper((sheet.width, sheet.height), sheet.paper, rng, texture)
    draw = ImageDraw.Draw(page)
    for box, fill in layout.fills:
        draw.rectangle(box, fill=fill)
    for rule in layout.rules:
        draw.line([rule.start, rule.end], fill=rule.colour, width=rule.width)
    for line in layout.lines:
        page.paste(line.colour, (line.left, line.top), line.mask)
    return page, colour


def _multiply(image: Image.Image, shade: Image.Image) -> Image.Image:
    return ImageChops.multiply(
        image, Image.merge("RGB", (shade, shade, shade)) if shade.mode == "L" else shade
    )


def _noise(image: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    pixels = np.asarray(image, dtype=np.int16)
    grain = rng.standard_normal(pixels.shape[:2], dtype=np.float32) * sigma
    return Image.fromarray(np.clip(pixels + grain.astype(np.int16)[..., None], 0, 255).astype(np.uint8))


def scan(
    image: Image.Image, rng: np.random.Generator, deg: PageDegradations, paper: Colour
) -> tuple[Image.Image, Matrix, bool]:
    """A flatbed scan of the page: the image, its geometric map and whether it is stored grey."""
    matrix = np.eye(3)
    size = image.size
    if rng.random() < deg.skew:
        limit = deg.max_skew_deg
        angle = float(np.clip(rng.normal(0, limit / 2.5), -limit, limit))
        matrix = rotation(angle, (size[0] / 2, size[1] / 2))
        image = warp(image, matrix, size, fill=paper, resample=Image.Resampling.BICUBIC)
    if rng.random() < deg.uneven_light:
        image = _multiply(image, _field(rng, size, int(rng.integers(2, 5)), rng.uniform(205, 240), 255))
    if rng.random() < deg.blur:
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0) * max(1.0, size[0] / 1240)))
    if rng.random() < deg.noise:
        image = _noise(image, rng, float(rng.uniform(1.5, 6)))
    grey = rng.random() < deg.greyscale
    if grey:
        image = image.convert("L").convert("RGB")
    return image, matrix, grey


def _desk(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    desk = Image.new("RGB", size, rgb(_DESKS[int(rng.integers(len(_DESKS)))] + rng.normal(0, 10, 3)))
    return _multiply(desk, _field(rng, size, int(rng.integers(4, 16)), rng.uniform(170, 230), 255))


def photograph(
    page: Image.Image, rng: np.random.Generator, deg: PageDegradations, frame: tuple[int, int]
) -> tuple[Image.Image, Matrix]:
    """The page photographed on a desk: perspective, shadow, lighting, blur, noise."""
    fw, fh = frame
    pw, ph = page.size
    corners = ((0.0, 0.0), (float(pw), 0.0), (float(pw), float(ph)), (0.0, float(ph)))
    for _ in range(20):  # a pose whose corners stay inside the frame
        angle = np.radians(rng.normal(0, 4))
        centre = np.array((fw / 2, fh / 2)) + rng.normal(0, 0.03, 2) * (fw, fh)
        jitter = rng.uniform(-0.06, 0.06, (4, 2)) * pw
        cos, sin = np.cos(angle), np.sin(angle)
        target = [
            tuple(
                centre
                + np.array((cos * (x - pw / 2) - sin * (y - ph / 2), sin * (x - pw / 2) + cos * (y - ph / 2)))
                + j
            )
            for (x, y), j in zip(corners, jitter, strict=True)
        ]
        margin = 0.01 * min(fw, fh)
        if all(margin <= x <= fw - margin and margin <= y <= fh - margin for x, y in target):
            break
    else:
        target = [(x + (fw - pw) / 2, y + (fh - ph) / 2) for x, y in corners]
    matrix = homography(corners, target)
    warped = warp(page, matrix, frame, resample=Image.Resampling.BICUBIC)
    alpha = warp(Image.new("L", page.size, 255), matrix, frame)
    desk = _desk(frame, rng)
    shadow = alpha.filter(ImageFilter.GaussianBlur(min(fw, fh) * rng.uniform(0.005, 0.02)))
    offset = tuple(int(v) for v in rng.normal(0, 0.006, 2) * min(fw, fh))
    shadow = ImageChops.offset(shadow, *offset).point(lambda v: 255 - round(v * 0.45))
    image = _multiply(desk, shadow)
    image.paste(warped, (0, 0), alpha)
    light = _field(rng, frame, 3, rng.uniform(150, 215), 255)
    cast = np.clip(1 + rng.normal(0, 0.04, 3), 0.85, 1.0)
    image = _multiply(image, Image.merge("RGB", [light.point(lambda v, c=c: round(v * c)) for c in cast]))
    if rng.random() < min(1.0, 2 * deg.blur):  # a phone's optics: nearly always a little soft
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.2) * max(1.0, min(fw, fh) / 1500)))
    if rng.random() < deg.noise:
        image = _noise(image, rng, float(rng.uniform(1.5, 5)))
    return image, matrix


def turn(image: Image.Image, rotation_cw: int) -> tuple[Image.Image, Matrix]:
    """The image turned ``rotation_cw`` degrees clockwise (90, 180 or 270)."""
    ops = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
    return image.transpose(ops[rotation_cw]), turn_matrix(rotation_cw, image.size)
