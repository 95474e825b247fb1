"""The synthetic line renderer: a text in a font, drawn and degraded into one line image.

How a line is made (:func:`render_line`):

1. the text is drawn character by character into an ink mask at 36–64 px font size, with random
   letter and word spacing; handwriting faces also get per-character baseline, size and rotation
   jitter; sometimes a heavier stroke (PIL ``stroke_width``) or a thinner/thicker pen (Min/MaxFilter);
2. geometry on the mask: elastic warp (mostly handwriting; a PIL ``MESH`` transform), shear, small
   rotation, a perspective-like quad warp; the mask is then cropped to the ink plus random padding;
3. the mask is resized to the output height (32–64 px by default, width as the text needs, with a
   slight horizontal stretch) and laid over a paper background (flat, gradient, blotchy, grainy,
   ruled) in an ink colour (pens are sometimes blue/red in RGB; sometimes light text on dark;
   with ``colour_paper``, signs and labels: light text on a saturated red, blue, green or dark ground,
   or dark text on a yellow or orange one, seen in greyscale as the recogniser sees it);
4. photometric degradations: blur, noise, low resolution (down-up sampling), JPEG.

Storage: a sample that drew the JPEG degradation is stored as that JPEG (quality 30–90): the
artefacts are part of the augmentation and re-encoding it as PNG would only cost space; every other
sample is stored as PNG (lossless). Images are greyscale (``L``) unless ``SynthConfig.mode='RGB'``.

Determinism: each sample's rendering uses its own ``numpy`` generator seeded from ``(seed, index)``
(:func:`sample_rng`), so a sample depends only on its text, font, index and configuration, whichever
process renders it.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from kocr.data.synth.config import SynthConfig
from kocr.data.synth.fonts import FontFace, load_font
from kocr.errors import KocrError


def _chance(rng: np.random.Generator, p: float) -> bool:
    return p > 0 and rng.random() < p


def _draw_mask(text: str, face: FontFace, rng: np.random.Generator, config: SynthConfig) -> Image.Image:
    """The text's ink as an L mask (255 = ink), drawn one character at a time."""
    size = int(rng.integers(config.font_size[0], config.font_size[1] + 1))
    deg = config.degradations
    stroke = int(rng.integers(1, max(2, size // 24) + 1)) if _chance(rng, deg.stroke) else 0
    tracking = rng.uniform(-0.04, 0.12) * size
    space_scale = rng.uniform(0.6, 1.5)
    mask = text_ink(text, face, size, rng, stroke=stroke, tracking=tracking, space_scale=space_scale).mask
    if _chance(rng, deg.pen_width):
        if rng.random() < 0.5:
            mask = mask.filter(ImageFilter.MaxFilter(3))
        else:  # a thinner pen, unless the face is so light that thinning would erase it
            thinner = mask.filter(ImageFilter.MinFilter(3))
            if _ink(thinner) > 0.6 * _ink(mask):
                mask = thinner
    return mask


@dataclass(frozen=True)
class TextInk:
    """A line's ink as an L mask (255 = ink) with a little room around it, and where its baseline is."""

    mask: Image.Image
    baseline: float  # y of the baseline in the mask's pixels


def text_ink(
    text: str,
    face: FontFace,
    size: int,
    rng: np.random.Generator,
    *,
    stroke: int = 0,
    tracking: float = 0.0,
    space_scale: float = 1.0,
) -> TextInk:
    """Draw ``text`` at ``size`` px one character at a time; handwriting faces get per-character
    baseline, size and rotation jitter. Shared by the line renderer and the page renderer, so a page's
    handwriting looks like the lines the recogniser trains on."""
    font = load_font(face.path, face.index, size)
    hand = face.handwriting
    ascent, descent = font.getmetrics()
    margin = size // 2 + stroke
    advances = [font.getlength(ch) for ch in text]
    width = int(sum(advances) * 1.3 + abs(tracking) * len(text) + size * 1.5 + 2 * margin)
    height = int((ascent + descent) * 1.6 + 2 * margin)
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    baseline = margin + ascent * 1.2
    x = float(margin)
    for ch, advance in zip(text, advances, strict=True):
        if ch == " ":
            x += advance * space_scale + tracking
            continue
        if hand:
            scale = rng.uniform(0.9, 1.1)
            glyph_font = load_font(face.path, face.index, max(8, round(size * scale))) if scale != 1 else font
            dy = rng.normal(0, 0.035 * size)
            angle = rng.normal(0, 3.0)
            _paste_rotated_char(mask, ch, glyph_font, (x, baseline + dy), angle, stroke)
            x += glyph_font.getlength(ch) + tracking + rng.normal(0, 0.03 * size)
        else:
            draw.text(
                (x, baseline), ch, font=font, fill=255, anchor="ls", stroke_width=stroke, stroke_fill=255
            )
            x += advance + tracking
    box = mask.getbbox()
    if box is not None:
        room = size // 3  # keep the canvas small (geometry costs scale with it) but leave room to warp
        mask = mask.crop((box[0] - room, box[1] - room, box[2] + room, box[3] + room))
        baseline -= box[1] - room
    return TextInk(mask, baseline)


def _ink(mask: Image.Image) -> float:
    return float(np.asarray(mask, dtype=np.float32).sum())


def _paste_rotated_char(
    mask: Image.Image,
    ch: str,
    font: ImageFont.FreeTypeFont,
    origin: tuple[float, float],
    angle: float,
    stroke: int,
) -> None:
    """Draw one glyph turned by ``angle`` degrees around its centre, at baseline point ``origin``."""
    core, (dx, dy) = font.getmask2(ch, anchor="ls", stroke_width=stroke)
    if core.size[0] == 0 or core.size[1] == 0:
        return
    glyph = Image.Image()._new(core)
    margin = max(2, font.size // 6)
    padded = Image.new("L", (glyph.width + 2 * margin, glyph.height + 2 * margin), 0)
    padded.paste(glyph, (margin, margin))
    if abs(angle) > 0.3:
        padded = padded.rotate(angle, resample=Image.Resampling.BILINEAR)
    left, top = round(origin[0] + dx - margin), round(origin[1] + dy - margin)
    region = (left, top, left + padded.width, top + padded.height)
    mask.paste(ImageChops.lighter(mask.crop(region), padded), region)


def _elastic(mask: Image.Image, rng: np.random.Generator, strength: float) -> Image.Image:
    """Smooth random warp: a grid of cells whose source quads have jittered corners."""
    width, height = mask.size
    cell = max(8, int(height / 3))
    cols, rows = math.ceil(width / cell), math.ceil(height / cell)
    jitter = rng.normal(0, strength, size=(rows + 1, cols + 1, 2))
    jitter[0, :, :] = jitter[-1, :, :] = 0  # keep the frame still so nothing leaves the canvas
    jitter[:, 0, :] = jitter[:, -1, :] = 0
    mesh = []
    for r in range(rows):
        for c in range(cols):
            x0, y0, x1, y1 = c * cell, r * cell, min(width, (c + 1) * cell), min(height, (r + 1) * cell)

            def corner(rr: int, cc: int, x: int, y: int) -> tuple[float, float]:
                return x + jitter[rr, cc, 0], y + jitter[rr, cc, 1]

            quad = (
                *corner(r, c, x0, y0),
                *corner(r + 1, c, x0, y1),
                *corner(r + 1, c + 1, x1, y1),
                *corner(r, c + 1, x1, y0),
            )
            mesh.append(((x0, y0, x1, y1), quad))
    return mask.transform(mask.size, Image.Transform.MESH, mesh, resample=Image.Resampling.BILINEAR)


def _geometry(
    mask: Image.Image, rng: np.random.Generator, handwriting: bool, config: SynthConfig
) -> Image.Image:
    deg = config.degradations
    box = mask.getbbox()
    if box is None:
        return mask
    ink_height = box[3] - box[1]
    if _chance(rng, deg.elastic_handwriting if handwriting else deg.elastic_print):
        mask = _elastic(mask, rng, strength=ink_height * (0.05 if handwriting else 0.025))
    if _chance(rng, deg.shear):
        shear = rng.uniform(-0.3, 0.3) if handwriting else rng.uniform(-0.18, 0.18)
        width, height = mask.size
        extra = int(abs(shear) * height)
        offset = -shear * height / 2 - extra / 2
        mask = mask.transform(
            (width + extra, height),
            Image.Transform.AFFINE,
            (1, shear, offset, 0, 1, 0),
            resample=Image.Resampling.BILINEAR,
        )
    if _chance(rng, deg.rotate):
        angle = float(np.clip(rng.normal(0, deg.max_rotate_deg / 2), -deg.max_rotate_deg, deg.max_rotate_deg))
        mask = mask.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=0)
    if _chance(rng, deg.perspective):
        width, height = mask.size
        d = ink_height * 0.12
        quad = tuple(
            float(v) for v in (np.array([0, 0, 0, height, width, height, width, 0]) + rng.uniform(-d, d, 8))
        )
        mask = mask.transform(mask.size, Image.Transform.QUAD, quad, resample=Image.Resampling.BILINEAR)
    return mask


def _crop_and_resize(mask: Image.Image, rng: np.random.Generator, config: SynthConfig) -> Image.Image:
    box = mask.getbbox()
    if box is None:
        raise KocrError("rendered line has no ink")
    ink_h = box[3] - box[1]
    top, bottom = (rng.uniform(0.04, 0.25, 2) * ink_h).astype(int)
    left, right = (rng.uniform(0.05, 0.6, 2) * ink_h).astype(int)
    mask = mask.crop((box[0] - left, box[1] - top, box[2] + right, box[3] + bottom))
    out_h = int(rng.integers(config.height[0], config.height[1] + 1))
    stretch = rng.uniform(0.85, 1.15)
    out_w = max(out_h // 2, round(mask.width * out_h / mask.height * stretch))
    mask = mask.resize((out_w, out_h), Image.Resampling.LANCZOS)
    # Hairline faces (UltraLight) shrink to sub-pixel strokes that come out pale grey; stretch the
    # mask so the strongest strokes are full ink again, or noise would make such lines illegible.
    pixels = np.asarray(mask, dtype=np.float32)
    inked = pixels[pixels > 8]
    strong = float(np.percentile(inked, 98)) if inked.size else 255.0
    if strong < 230:
        mask = Image.fromarray(np.clip(pixels * (255.0 / max(strong, 32.0)), 0, 255).astype(np.uint8))
    return mask


def _background(
    size: tuple[int, int], level: np.ndarray, rng: np.random.Generator, config: SynthConfig
) -> np.ndarray:
    """Paper as float32 [H, W, C]: a base colour plus one texture."""
    width, height = size
    channels = level.shape[0]
    paper = np.broadcast_to(level, (height, width, channels)).astype(np.float32).copy()
    if not _chance(rng, config.degradations.texture):
        return paper
    kind = rng.choice(("gradient", "blotches", "grain", "ruled"))
    if kind == "gradient":
        angle = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        ramp = (xx * np.cos(angle) + yy * np.sin(angle)) / max(width, height)
        paper += (ramp - ramp.mean())[..., None] * rng.uniform(10, 60)
    elif kind == "blotches":
        small = rng.normal(0, 1, (max(2, height // 12), max(2, width // 12))).astype(np.float32)
        blur = Image.fromarray(small, mode="F").resize((width, height), Image.Resampling.BICUBIC)
        paper += np.asarray(blur)[..., None] * rng.uniform(4, 18)
    elif kind == "grain":
        paper += rng.normal(0, rng.uniform(2, 7), (height, width, 1)).astype(np.float32)
    else:  # faint ruled lines, as on notebook paper or a form
        step = int(rng.integers(max(6, height // 2), height + 2))
        rows = np.arange(int(rng.integers(0, step)), height, step)
        paper[rows] -= rng.uniform(20, 60)
    return paper


# Grounds of signs, labels and slides, each with the ink it carries: light on saturated or dark colours,
# dark on bright ones. RGB, converted to grey with PIL's weights in "L" mode, as prediction does.
_COLOUR_GROUNDS = np.array(
    [
        [[200, 35, 40], [250, 250, 250]],  # white on red
        [[25, 60, 160], [250, 250, 250]],  # white on blue
        [[20, 120, 60], [250, 250, 250]],  # white on green
        [[30, 35, 45], [235, 235, 235]],  # light on dark
        [[90, 40, 120], [250, 240, 120]],  # yellow on purple
        [[245, 200, 30], [25, 25, 25]],  # black on yellow
        [[240, 130, 30], [20, 20, 30]],  # black on orange
        [[120, 190, 230], [15, 30, 80]],  # navy on light blue
    ],
    np.float32,
)
#: Coloured pens (RGB): blue, navy, red, green, violet; lines and pages draw handwriting in them.
PEN_COLOURS = np.array([[20, 40, 150], [30, 30, 110], [150, 20, 25], [20, 90, 40], [60, 40, 90]], np.float32)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def _colour_ground(rng: np.random.Generator, rgb: bool) -> tuple[np.ndarray, np.ndarray]:
    paper, ink = _COLOUR_GROUNDS[rng.integers(len(_COLOUR_GROUNDS))]
    paper = np.clip(paper + rng.normal(0, 15, 3), 0, 255)
    ink = np.clip(ink + rng.normal(0, 8, 3), 0, 255)
    if not rgb:
        paper, ink = np.array([paper @ _LUMA]), np.array([ink @ _LUMA])
    return ink.astype(np.float32), paper.astype(np.float32)


def _ink_and_paper(rng: np.random.Generator, config: SynthConfig) -> tuple[np.ndarray, np.ndarray]:
    """Ink and paper colours with enough contrast; occasionally light text on a dark ground."""
    rgb = config.mode == "RGB"
    if _chance(rng, config.degradations.colour_paper):
        return _colour_ground(rng, rgb)
    paper_level = float(np.clip(255 - abs(rng.normal(0, 35)), 165, 255))  # mostly white, some grey
    ink_level = rng.uniform(0, min(90, paper_level - 85))
    if rgb:
        paper = np.clip(paper_level + rng.normal(0, 8, 3), 0, 255)
        if _chance(rng, config.degradations.colour_ink):
            ink = np.clip(PEN_COLOURS[rng.integers(len(PEN_COLOURS))] + rng.normal(0, 12, 3), 0, 255)
        else:
            ink = np.clip(ink_level + rng.normal(0, 6, 3), 0, 255)
    else:
        paper, ink = np.array([paper_level]), np.array([ink_level])
    if _chance(rng, config.degradations.invert):
        paper, ink = 255 - paper, 255 - ink
    return ink.astype(np.float32), paper.astype(np.float32)


def _compose(mask: Image.Image, rng: np.random.Generator, config: SynthConfig) -> Image.Image:
    ink, paper = _ink_and_paper(rng, config)
    alpha = np.asarray(mask, dtype=np.float32)[..., None] / 255.0
    alpha *= rng.uniform(0.8, 1.0)
    background = _background(mask.size, paper, rng, config)
    image = background * (1 - alpha) + ink * alpha
    image = np.clip(image + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(image[..., 0] if config.mode == "L" else image, mode=config.mode)


def _photometric(
    image: Image.Image, rng: np.random.Generator, config: SynthConfig
) -> tuple[Image.Image, int | None]:
    """Blur, noise, low resolution; returns the image and a JPEG quality when JPEG was drawn."""
    deg = config.degradations
    if _chance(rng, deg.blur):
        image = image.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.1)))
    if _chance(rng, deg.low_resolution):
        factor = rng.uniform(0.45, 0.8)
        small = (max(4, round(image.width * factor)), max(4, round(image.height * factor)))
        image = image.resize(small, Image.Resampling.BILINEAR).resize(image.size, Image.Resampling.BILINEAR)
    if _chance(rng, deg.noise):
        pixels = np.asarray(image, dtype=np.float32)
        pixels = pixels + rng.normal(0, rng.uniform(2, 12), pixels.shape)
        image = Image.fromarray(np.clip(pixels + 0.5, 0, 255).astype(np.uint8), mode=image.mode)
    quality = int(rng.integers(30, 91)) if _chance(rng, deg.jpeg) else None
    return image, quality


def _render(
    text: str, face: FontFace, rng: np.random.Generator, config: SynthConfig
) -> tuple[Image.Image, int | None]:
    mask = _draw_mask(text, face, rng, config)
    mask = _geometry(mask, rng, face.handwriting, config)
    mask = _crop_and_resize(mask, rng, config)
    image = _compose(mask, rng, config)
    return _photometric(image, rng, config)


def render_line(text: str, font: FontFace, rng: np.random.Generator, config: SynthConfig) -> Image.Image:
    """One synthetic line image (JPEG degradation applied by encoding and decoding)."""
    image, quality = _render(text, font, rng, config)
    if quality is None:
        return image
    return Image.open(io.BytesIO(_encode(image, quality, config))).convert(image.mode)


def _encode(image: Image.Image, quality: int | None, config: SynthConfig) -> bytes:
    buffer = io.BytesIO()
    if quality is None:
        image.save(buffer, format="PNG", compress_level=config.png_compress_level)
    else:
        image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def sample_rng(seed: int, index: int) -> np.random.Generator:
    """The generator for sample ``index`` (1-based) of a run seeded with ``seed``."""
    return np.random.default_rng([seed & 0xFFFF_FFFF_FFFF_FFFF, index])


def render_sample(text: str, font: FontFace, index: int, config: SynthConfig) -> tuple[bytes, str]:
    """Encoded bytes and extension ('png' or 'jpg') of sample ``index``; depends only on its inputs."""
    image, quality = _render(text, font, sample_rng(config.seed, index), config)
    return _encode(image, quality, config), ("png" if quality is None else "jpg")
