"""Synthetic Korean text lines: fonts × texts × degradations → an LMDB or images + gt.txt.

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

Determinism: texts and font choices are drawn sequentially in the main process from ``seed``; each
sample's rendering uses its own ``numpy`` generator seeded from ``(seed, index)``. So the same seed and
the same fonts give byte-identical output with any number of workers.
"""

from __future__ import annotations

import io
import math
import os
import random
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from kocr.data.corpus import TextConfig, TextGenerator, allowed_characters, corpus_chunks, read_corpus_lines
from kocr.data.fonts import FontCoverage, FontFace, discover_fonts, font_coverages, load_font
from kocr.errors import KocrError, OutputExistsError

OutputFormat = Literal["lmdb", "images"]
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Degradations:
    """Probabilities (per sample) and strengths of the variations; ``scaled(0)`` gives clean lines."""

    elastic_handwriting: float = 0.7
    elastic_print: float = 0.1
    rotate: float = 0.5
    max_rotate_deg: float = 2.5
    shear: float = 0.25
    perspective: float = 0.25
    stroke: float = 0.12
    pen_width: float = 0.15
    texture: float = 0.6
    invert: float = 0.04
    colour_ink: float = 0.3  # RGB only
    colour_paper: float = (
        0.0  # coloured ground (signs, labels, slides); off by default: seeds keep their lines
    )
    blur: float = 0.3
    noise: float = 0.3
    low_resolution: float = 0.15
    jpeg: float = 0.25

    def scaled(self, factor: float) -> Degradations:
        """All probabilities multiplied by ``factor`` (clipped to [0, 1]); strengths unchanged."""
        values = {
            name: (min(1.0, max(0.0, value * factor)) if name != "max_rotate_deg" else value)
            for name, value in self.__dict__.items()
        }
        return Degradations(**values)


@dataclass(frozen=True)
class SynthConfig:
    """Everything :func:`generate` needs besides the count and the output."""

    charset: str = "ko-2350"
    fonts: tuple[FontFace, ...] = ()  # empty: discover (fontconfig Korean fonts + packaged Noto)
    corpus: tuple[str, ...] = ()  # corpus files; their chunks are one text kind among others
    text: TextConfig = field(default_factory=TextConfig)
    seed: int = 0
    height: tuple[int, int] = (32, 64)  # output line height range, px
    font_size: tuple[int, int] = (36, 64)  # rendering size before resizing to the output height
    handwriting_ratio: float = 0.35  # share of lines drawn with a handwriting face when one can
    mode: Literal["L", "RGB"] = "L"
    degradations: Degradations = field(default_factory=Degradations)
    png_compress_level: int = 6

    def __post_init__(self) -> None:
        if self.mode not in ("L", "RGB"):
            raise KocrError(f"mode must be 'L' or 'RGB', not {self.mode!r}")
        if not 8 <= self.height[0] <= self.height[1]:
            raise KocrError(f"height range must be 8 <= low <= high, got {self.height}")
        if not 8 <= self.font_size[0] <= self.font_size[1]:
            raise KocrError(f"font size range must be 8 <= low <= high, got {self.font_size}")


# --- rendering -----------------------------------------------------------------------------------


def _chance(rng: np.random.Generator, p: float) -> bool:
    return p > 0 and rng.random() < p


def _draw_mask(text: str, face: FontFace, rng: np.random.Generator, config: SynthConfig) -> Image.Image:
    """The text's ink as an L mask (255 = ink), drawn one character at a time."""
    size = int(rng.integers(config.font_size[0], config.font_size[1] + 1))
    font = load_font(face.path, face.index, size)
    deg = config.degradations
    stroke = int(rng.integers(1, max(2, size // 24) + 1)) if _chance(rng, deg.stroke) else 0
    tracking = rng.uniform(-0.04, 0.12) * size
    space_scale = rng.uniform(0.6, 1.5)
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
    if _chance(rng, deg.pen_width):
        if rng.random() < 0.5:
            mask = mask.filter(ImageFilter.MaxFilter(3))
        else:  # a thinner pen, unless the face is so light that thinning would erase it
            thinner = mask.filter(ImageFilter.MinFilter(3))
            if _ink(thinner) > 0.6 * _ink(mask):
                mask = thinner
    return mask


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
            pens = np.array(
                [[20, 40, 150], [30, 30, 110], [150, 20, 25], [20, 90, 40], [60, 40, 90]], np.float32
            )
            ink = np.clip(pens[rng.integers(len(pens))] + rng.normal(0, 12, 3), 0, 255)
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


# --- planning: texts and fonts (sequential, main process) ---------------------------------------


@dataclass
class SynthReport:
    """What a :func:`generate` run did."""

    output: Path
    format: str
    written: int = 0
    skipped_no_font: int = 0
    font_counts: Counter[str] = field(default_factory=Counter)
    kind_counts: dict[str, int] = field(default_factory=dict)
    unusable_fonts: list[tuple[str, int, int]] = field(default_factory=list)  # name, drawable, requested
    undrawable: list[str] = field(default_factory=list)  # allowed characters no usable face draws
    corpus_rejected: int = 0
    seconds: float = 0.0

    @property
    def lines_per_second(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Plan:
    """The usable faces with their coverage, and the text generator built on them."""

    faces: tuple[FontFace, ...]
    coverages: tuple[FontCoverage, ...]
    texts: TextGenerator
    unusable: tuple[FontCoverage, ...]
    undrawable: tuple[str, ...]


def plan(config: SynthConfig, *, workers: int = 1) -> Plan:
    """Resolve fonts and their coverage of the charset, and set up the text stream."""
    from kocr.charsets import Charset

    charset = Charset.load(config.charset)
    allowed = allowed_characters(charset.symbols, charset.covers)
    faces = list(config.fonts) or discover_fonts()
    if not faces:
        raise KocrError(
            "no fonts found: pass --fonts DIR or --font FILE, install Korean fonts (fonts-nanum, "
            "fonts-noto-cjk), or `pip install kocr-hangul[fonts]` for Noto Sans/Serif KR"
        )
    coverages = font_coverages(faces, allowed, workers=workers)
    needed = max(1, min(len(allowed) // 2, 1000))
    usable = [c for c in coverages if len(c.drawable) >= needed]
    unusable = [c for c in coverages if len(c.drawable) < needed]
    if not usable:
        raise KocrError(
            f"none of the {len(faces)} fonts draws at least {needed} of the {len(allowed)} characters of "
            f"charset {config.charset!r}"
        )
    drawable = frozenset().union(*(c.drawable for c in usable))
    undrawable = tuple(ch for ch in allowed if ch not in drawable)
    paragraphs = [line for path in config.corpus for line in read_corpus_lines(path)]
    corpus = corpus_chunks(paragraphs, config.text.min_chars, config.text.max_chars)
    texts = TextGenerator(
        [ch for ch in allowed if ch in drawable],
        config.text,
        corpus=corpus,
        paragraphs=paragraphs,
        seed=config.seed,
    )
    return Plan(tuple(c.face for c in usable), tuple(usable), texts, tuple(unusable), undrawable)


def _jobs(
    the_plan: Plan, num: int, seed: int, report: SynthReport, handwriting_ratio: float
) -> Iterator[tuple[int, str, int]]:
    """(index, text, face number) for each sample, skipping texts no face draws (counted)."""
    pick = random.Random(seed ^ 0x5EED_F0)
    coverages = the_plan.coverages
    index = 0
    skipped = 0
    while index < num:
        text = the_plan.texts.next_text()
        face_number = pick_face(text, coverages, pick, handwriting_ratio)
        if face_number is None:
            skipped += 1
            report.skipped_no_font = skipped
            if skipped > 20 * num + 100:
                raise KocrError(
                    "almost no generated line can be drawn by any one font; check --fonts/--charset"
                )
            continue
        index += 1
        yield index, text, face_number


def pick_face(
    text: str, coverages: Sequence[FontCoverage], pick: random.Random, handwriting_ratio: float
) -> int | None:
    """A face that draws every character of ``text``: a handwriting one with ``handwriting_ratio``
    when both kinds can; None when no face can."""
    candidates = [i for i, c in enumerate(coverages) if c.draws(text)]
    if not candidates:
        return None
    hand = [i for i in candidates if coverages[i].face.handwriting]
    printed = [i for i in candidates if not coverages[i].face.handwriting]
    use_hand = hand and (not printed or pick.random() < handwriting_ratio)
    return pick.choice(hand if use_hand else printed)


# --- workers -------------------------------------------------------------------------------------

_WORKER: dict[str, object] = {}


def _init_worker(faces: tuple[FontFace, ...], config: SynthConfig) -> None:
    _WORKER["faces"] = faces
    _WORKER["config"] = config


def _render_job(job: tuple[int, str, int]) -> tuple[int, str, int, bytes, str]:
    index, text, face_number = job
    faces: tuple[FontFace, ...] = _WORKER["faces"]  # type: ignore[assignment]
    config: SynthConfig = _WORKER["config"]  # type: ignore[assignment]
    data, ext = render_sample(text, faces[face_number], index, config)
    return index, text, face_number, data, ext


# --- output --------------------------------------------------------------------------------------


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._temp = self.path.parent / f".{self.path.name}.partial-{uuid.uuid4().hex[:12]}"
        (self._temp / "images").mkdir(parents=True)
        self._gt = (self._temp / "gt.txt").open("w", encoding="utf-8", newline="\n")
        return self

    def add(self, image_bytes: bytes, label: str, ext: str = "png") -> int:
        assert self._temp is not None and self._gt is not None, "use ImageFolderWriter in a with block"
        self._count += 1
        name = f"images/{self._count:09d}.{ext}"
        (self._temp / name).write_bytes(image_bytes)
        self._gt.write(f"{name}\t{label}\n")
        return self._count

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        temp, gt = self._temp, self._gt
        self._temp = self._gt = None
        if temp is None or gt is None:
            return
        gt.close()
        if exc_type is not None:
            shutil.rmtree(temp, ignore_errors=True)
            return
        if self.path.exists():
            self.check()
            old = self.path.parent / f".{self.path.name}.old-{uuid.uuid4().hex[:12]}"
            os.rename(self.path, old)
            os.rename(temp, self.path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(temp, self.path)


def _writer(output: Path, fmt: OutputFormat, overwrite: bool) -> ImageFolderWriter | object:
    if fmt == "images":
        return ImageFolderWriter(output, overwrite=overwrite)
    if fmt == "lmdb":
        from kocr.data.lmdb import LmdbWriter

        return LmdbWriter(output, overwrite=overwrite)
    raise KocrError(f"unknown output format {fmt!r}; choose lmdb or images")


def generate(
    config: SynthConfig,
    num: int,
    output: str | os.PathLike[str],
    *,
    format: OutputFormat = "lmdb",
    workers: int = 1,
    progress: Progress | None = None,
    overwrite: bool = False,
    keep_first: int = 0,
    the_plan: Plan | None = None,
) -> tuple[SynthReport, list[tuple[bytes, str]]]:
    """Render ``num`` lines into ``output``; returns the report and the first ``keep_first`` samples
    (encoded bytes, label) for a preview. ``workers`` > 1 renders in that many processes."""
    if num < 1:
        raise KocrError("--num must be at least 1")
    started = time.perf_counter()
    output = Path(output)
    report = SynthReport(output=output, format=format)
    writer = _writer(output, format, overwrite)
    if isinstance(writer, ImageFolderWriter):
        writer.check()
    else:
        from kocr.data.lmdb import check_replaceable

        check_replaceable(output, overwrite)
    the_plan = the_plan or plan(config, workers=workers)
    report.unusable_fonts = [(c.face.name, len(c.drawable), c.requested) for c in the_plan.unusable]
    report.undrawable = list(the_plan.undrawable)
    report.corpus_rejected = the_plan.texts.corpus_rejected
    jobs = _jobs(the_plan, num, config.seed, report, config.handwriting_ratio)
    kept: list[tuple[bytes, str]] = []
    with writer as sink:  # type: ignore[attr-defined]
        if workers > 1:
            context = get_context("spawn")
            with context.Pool(workers, initializer=_init_worker, initargs=(the_plan.faces, config)) as pool:
                _consume(
                    pool.imap(_render_job, jobs, chunksize=8),
                    sink,
                    the_plan,
                    report,
                    kept,
                    keep_first,
                    num,
                    progress,
                )
        else:
            _init_worker(the_plan.faces, config)
            _consume(map(_render_job, jobs), sink, the_plan, report, kept, keep_first, num, progress)
    report.kind_counts = dict(the_plan.texts.kind_counts)
    report.seconds = time.perf_counter() - started
    return report, kept


def _consume(
    results: Iterator[tuple[int, str, int, bytes, str]],
    sink: object,
    the_plan: Plan,
    report: SynthReport,
    kept: list[tuple[bytes, str]],
    keep_first: int,
    num: int,
    progress: Progress | None,
) -> None:
    images = isinstance(sink, ImageFolderWriter)
    for _index, text, face_number, data, ext in results:
        if images:
            sink.add(data, text, ext)  # type: ignore[union-attr]
        else:
            sink.add(data, text)  # type: ignore[attr-defined]
        report.written += 1
        report.font_counts[the_plan.faces[face_number].name] += 1
        if len(kept) < keep_first:
            kept.append((data, text))
        if progress is not None:
            progress(report.written, num)


# --- preview -------------------------------------------------------------------------------------


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
