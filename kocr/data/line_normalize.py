"""Input normalisation for line images: loose crops trimmed to the text, any polarity or colour turned
into dark-on-light, contrast stretched.

Why: kocr's models learn from the renderer's crops — dark ink on light paper, a margin of a fraction of
the text height. Crops from a detector or drawn by hand are looser, and signs are often light on dark
or coloured; the bundled model read text in the middle quarter of a 4× canvas at CER 99.7 %, white on a
red sign at 36.5 % (5.4 % as rendered). Normalising before the model makes such crops look like
training crops. :class:`kocr.data.transforms.Preprocess` runs it (``normalize=True``), so training,
which preprocesses in DataLoader workers with the same object, sees exactly what prediction sees.

How established pipelines do it, and why kocr differs:

- Tesseract's LSTM line recogniser stretches contrast between black and white points taken from the
  local minima and maxima of the line's middle row, and handles polarity by recognising a line again
  inverted when its mean confidence is low (below 0.5 in ``LSTMRecognizer::RecognizeLine``), keeping
  the better read. It finds the text inside a crop with its own layout analysis (Otsu binarisation,
  connected components).
- PaddleOCR leaves polarity to training (``RecAug``: 40 % of crops inverted) and margins to its
  detector: DB boxes are grown by ``unclip_ratio`` 1.5, a margin that scales with the text height.

kocr recognises crops from anywhere, with no detector of its own and small models, so it decides once,
before the model, and the same way in training: no second forward pass, nothing the model must learn.

The steps (numpy + PIL; about 0.5 ms of CPU for a 32×300 line and 3 ms for a 400×2000 photo crop,
``python -m benchmarks.normalize``):

1. **Paper and ink**: the paper colour is the median of the border ring, refined to the median of
   every pixel not classed as ink (or of the other class when "ink" is the majority: a border of ink,
   a bold tight crop). A pixel's ink strength is its colour distance from the paper (the largest
   channel difference), smoothed 3×3 so specks and noise fade; Otsu's threshold on it separates ink,
   for any ink colour and either polarity alike. Rows and columns that are nearly all "ink" (a sign's
   dark surroundings, a frame) are set aside. A crop whose ink differs from its paper by less than
   ``MIN_CONTRAST`` grey levels counts as blank and is only turned grey.
2. **Trim**: the text band is the shortest run of rows holding 70 % of the ink, grown over neighbouring
   inked rows (ascenders, descenders, brackets) across gaps of at most 15 % of its height; horizontally,
   inked columns are grouped across gaps of up to ``GAP`` text heights and the heaviest group kept
   (with any other group at least half as heavy). A stray dot or a speck further away is left out, a
   final full stop is not. The band is recomputed over the kept columns and the box shrunk by the
   smoothing's halo. Big crops are analysed box-reduced first, then the text's surroundings again at
   full resolution (sampled when still big): averaging thins ink colours and coarsens edges.
3. **Ink colour**: the median colour of the tenth of the text's ink furthest from the paper (stroke
   cores, measured unsmoothed so broad blotches of textured paper do not outweigh thin strokes).
4. **Dark on light**: the box plus a margin in proportion to the text height (``MARGIN_Y``,
   ``MARGIN_X``: the middle of the renderer's random margins) is cut out and every pixel projected
   onto the paper→ink colour axis, so the paper becomes white, the typical ink black and anti-aliasing
   stays graded, whatever the colours were. Margin beyond the input's edge is white.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from kocr.errors import KocrError

MARGIN_Y = 0.15  # of the text height, above and below: kocr.data.synth.render leaves 0.04–0.25
MARGIN_X = 0.3  # left and right: the renderer leaves 0.05–0.6
GAP = 1.5  # ink further than this many text heights from the line is not part of it
MIN_CONTRAST = 20.0  # grey levels between paper and ink below which a crop counts as blank
CORE_MASS = 0.7  # the text band's core: the fewest rows holding this share of the ink
ANALYSIS_HEIGHT = 64  # taller inputs are analysed box-reduced to about this height
ANALYSIS_MAX_WIDTH = 3000
REGION_PIXELS = 40_000  # the text's surroundings are re-analysed at full resolution up to this size,
REGION_ROWS = 32  # or bigger while that keeps fewer rows of text than this
_GREY_SPREAD = 6  # an RGB image whose channels never differ by more than this is analysed as grey

Box = tuple[int, int, int, int]
DESCRIPTION = (
    "on: trimmed to the text plus a margin, light-on-dark and coloured text turned dark-on-light, "
    "contrast stretched"
)


@dataclass(frozen=True)
class LineLayout:
    """What :func:`analyse_line` found: where the text is and its colours (input pixel units)."""

    box: Box  # the text's ink box (x0, y0, x1, y1), end exclusive
    background: tuple[float, ...]  # paper colour (1 value for grey input, 3 for colour)
    ink: tuple[float, ...]  # typical ink colour

    @property
    def light_on_dark(self) -> bool:
        """Whether the ink is lighter than the paper (inverted text)."""
        return float(np.mean(self.ink)) > float(np.mean(self.background))

    @property
    def text_height(self) -> int:
        return self.box[3] - self.box[1]


def normalize_line(image: Image.Image) -> Image.Image:
    """``image`` (``L`` or ``RGB``) as dark text on white, trimmed to the text plus a margin, in ``L``.

    A crop with no text that stands out (blank, flat, too faint) comes back as it was, in grey.
    """
    _check_mode(image)
    layout = analyse_line(image)
    if layout is None or len(layout.background) == 1:
        image = image if image.mode == "L" else image.convert("L")
    return image if layout is None else _render(image, layout)


def analyse_line(image: Image.Image) -> LineLayout | None:
    """Background, ink colour and text box of a line image, or ``None`` when it shows no text.

    Colours have one value when the image is grey (an ``RGB`` image of grey content counts as grey).
    Big images are analysed box-reduced first; the text's surroundings are then analysed again at full
    resolution (every ``step``-th pixel when still big), because averaging thins ink colours and
    coarsens edges.
    """
    _check_mode(image)
    width, height = image.size
    if width < 2 or height < 2:
        return None
    factor = _analysis_factor(width, height)
    planes = _planes(image.reduce(factor) if factor > 1 else image)
    if len(planes) == 3 and _spread(planes) <= _GREY_SPREAD:
        image = image.convert("L")
        planes = _planes(image.reduce(factor) if factor > 1 else image)
    coarse = _analyse(planes, factor, (0, 0), image.size, MIN_CONTRAST / factor)
    if coarse is None or factor == 1:
        return coarse
    x0, y0, x1, y1 = coarse.box
    pad_y = round(MARGIN_Y * (y1 - y0)) + factor
    pad_x = round(MARGIN_X * (y1 - y0)) + factor
    region = (max(0, x0 - pad_x), max(0, y0 - pad_y), min(width, x1 + pad_x), min(height, y1 + pad_y))
    crop = image.crop(region)
    # Sampled when big, but keeping at least REGION_ROWS rows of text so the box stays within a few %.
    step = min(math.ceil(math.sqrt(crop.width * crop.height / REGION_PIXELS)), (y1 - y0) // REGION_ROWS)
    step = max(1, step)
    if step > 1:  # every step-th pixel: sharp values, where averaging would thin the ink
        size = (math.ceil(crop.width / step), math.ceil(crop.height / step))
        crop = crop.resize(size, Image.Resampling.NEAREST)
    return _analyse(_planes(crop), step, region[:2], image.size, MIN_CONTRAST)


# --- analysis --------------------------------------------------------------------------------------


def _analyse(
    planes: list[np.ndarray], scale: int, offset: tuple[int, int], size: tuple[int, int], min_contrast: float
) -> LineLayout | None:
    """:class:`LineLayout` of ``planes``, a sampled part of an image of ``size`` (every ``scale``-th
    pixel from ``offset``), in that image's coordinates; ``None`` if paper and ink differ by less than
    ``min_contrast`` (box-reducing by ``f`` divides a thin stroke's contrast by up to ``f``)."""
    separated = _separate(planes, min_contrast)
    if separated is None:
        return None
    background, raw, distance, threshold = separated
    mask = distance > threshold
    _drop_solid_lines(mask)
    box = _text_box(mask)
    if box is None:
        return None
    x0, y0, x1, y1 = box = _tighten(box, raw > threshold)
    # The ink colour: the median of the text's tenth furthest from the paper (stroke cores; unsmoothed,
    # where smoothing would favour broad blotches of textured paper over thin strokes).
    inside = [plane[y0:y1, x0:x1] for plane in planes]
    ink = (raw[y0:y1, x0:x1] > threshold) & mask[y0:y1, x0:x1]
    if not ink.any():
        return None
    far = raw[y0:y1, x0:x1]
    strong = ink & (far >= _quantile(_histogram(far[ink]), 0.9))
    ink_colour = _median_colour([plane[strong] for plane in inside])
    if float(np.abs(ink_colour - background).max()) < min_contrast:
        return None
    left, top = offset
    full = (
        min(size[0], left + x0 * scale),
        min(size[1], top + y0 * scale),
        min(size[0], left + x1 * scale),
        min(size[1], top + y1 * scale),
    )
    return LineLayout(full, tuple(float(v) for v in background), tuple(float(v) for v in ink_colour))


def _check_mode(image: Image.Image) -> None:
    if image.mode not in ("L", "RGB"):
        raise KocrError(f"line normalisation needs an L or RGB image, not mode {image.mode!r}")


def _analysis_factor(width: int, height: int) -> int:
    """Integer box-reduction factor: big crops are analysed at about ``ANALYSIS_HEIGHT`` rows."""
    factor = 1 if height <= 1.5 * ANALYSIS_HEIGHT else math.ceil(height / ANALYSIS_HEIGHT)
    return max(factor, math.ceil(width / ANALYSIS_MAX_WIDTH), 1)


def _planes(image: Image.Image) -> list[np.ndarray]:
    """The image's channels as 2-D uint8 arrays (one for ``L``, three for ``RGB``)."""
    return [np.asarray(image)] if image.mode == "L" else [np.asarray(band) for band in image.split()]


def _spread(planes: list[np.ndarray]) -> int:
    """The largest difference between the channels of any pixel (0 for grey content)."""
    red, green, blue = planes
    high = np.maximum(np.maximum(red, green), blue)
    low = np.minimum(np.minimum(red, green), blue)
    return int((high - low).max())


def _border(plane: np.ndarray) -> np.ndarray:
    return np.concatenate([plane[0], plane[-1], plane[1:-1, 0], plane[1:-1, -1]])


def _distance(planes: list[np.ndarray], colour: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour distance from ``colour`` (the largest channel difference) as uint8: as it is, and
    smoothed 3×3 so specks and noise fade."""
    levels = np.arange(256, dtype=np.int16)
    raw = np.abs(levels - round(float(colour[0]))).astype(np.uint8)[planes[0]]
    for plane, value in zip(planes[1:], colour[1:], strict=True):
        np.maximum(raw, np.abs(levels - round(float(value))).astype(np.uint8)[plane], out=raw)
    return raw, np.asarray(Image.fromarray(raw).filter(ImageFilter.BoxBlur(1)))


def _histogram(values: np.ndarray) -> np.ndarray:
    return np.bincount(values.ravel(), minlength=256)


def _quantile(histogram: np.ndarray, share: float) -> int:
    """The lowest level at or below which ``share`` of a 256-bin histogram lies."""
    cumulative = np.cumsum(histogram)
    return int(np.searchsorted(cumulative, share * cumulative[-1]))


def _median_colour(channels: list[np.ndarray]) -> np.ndarray:
    """Per-channel median of uint8 values, from histograms."""
    return np.array([_quantile(_histogram(values), 0.5) for values in channels], np.float32)


def _otsu(histogram: np.ndarray) -> tuple[int, float, float, float]:
    """(threshold, mean at or below, mean above, share above) of a 256-bin histogram (Otsu's method)."""
    hist = histogram.astype(np.float64)
    total = hist.sum()
    weight = np.cumsum(hist)
    mass = np.cumsum(hist * np.arange(256))
    low_w, high_w = weight[:-1], total - weight[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        low_mean = mass[:-1] / low_w
        high_mean = (mass[-1] - mass[:-1]) / high_w
        between = low_w * high_w * (low_mean - high_mean) ** 2
    between[~np.isfinite(between)] = -1.0
    threshold = int(np.argmax(between))
    if between[threshold] <= 0:
        return 255, float(mass[-1] / total), 0.0, 0.0
    share = float(high_w[threshold] / total)
    return threshold, float(low_mean[threshold]), float(high_mean[threshold]), share


def _separate(
    planes: list[np.ndarray], min_contrast: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """(paper colour, raw distance, smoothed distance, Otsu threshold), or ``None`` without contrast."""
    first_guess = _median_colour([_border(plane) for plane in planes])
    raw, distance = _distance(planes, first_guess)
    threshold, near, far, share = _otsu(_histogram(distance))
    # Refine the paper colour from every non-ink pixel; if "ink" is the majority, the border was ink
    # (a frame, a bold tight crop) and the paper is the other class.
    paper = distance <= threshold if share <= 0.6 else distance > threshold
    if not paper.any():
        return None
    background = _median_colour([plane[paper] for plane in planes])
    if np.abs(background - first_guess).max() > 2:
        raw, distance = _distance(planes, background)
        threshold, near, far, share = _otsu(_histogram(distance))
    else:
        background = first_guess
    if far - near < min_contrast / 2 or share <= 0:  # smoothing halves thin strokes' contrast
        return None
    return background, raw, distance, threshold


def _drop_solid_lines(mask: np.ndarray) -> None:
    """Clear rows and columns that are almost all "ink": no text fills a whole row or column of a
    crop, but dark surroundings of a sign (or a frame) do."""
    height, width = mask.shape
    if height > 2 and width > 2:
        rows, columns = mask.sum(axis=1) > 0.9 * width, mask.sum(axis=0) > 0.9 * height
        mask[rows] = False
        mask[:, columns] = False


def _tighten(box: Box, ink: np.ndarray) -> Box:
    """Shrink ``box`` by the smoothing's halo: edge rows and columns with no unsmoothed ink (2 at most)."""
    x0, y0, x1, y1 = box
    for _ in range(2):
        if y1 - y0 > 1 and not ink[y0, x0:x1].any():
            y0 += 1
        if y1 - y0 > 1 and not ink[y1 - 1, x0:x1].any():
            y1 -= 1
        if x1 - x0 > 1 and not ink[y0:y1, x0].any():
            x0 += 1
        if x1 - x0 > 1 and not ink[y0:y1, x1 - 1].any():
            x1 -= 1
    return x0, y0, x1, y1


def _core(profile: np.ndarray, share: float) -> tuple[int, int]:
    """The shortest run [start, end) of ``profile`` holding ``share`` of its total."""
    cumulative = np.concatenate([[0.0], np.cumsum(profile, dtype=np.float64)])
    need = cumulative[:-1] + share * cumulative[-1]
    ends = np.searchsorted(cumulative, need - 1e-9)
    starts = np.arange(len(profile))
    lengths = np.where(ends <= len(profile), ends - starts, len(profile) + 1)
    start = int(np.argmin(lengths))
    return start, max(start + 1, int(min(ends[start], len(profile))))


def _grow(profile: np.ndarray, start: int, end: int, minimum: float, tolerance: int) -> tuple[int, int]:
    """Extend [start, end) over entries >= ``minimum``, bridging gaps of up to ``tolerance``."""
    on = profile >= minimum
    low = start
    gap = 0
    for index in range(start - 1, -1, -1):
        if on[index]:
            low, gap = index, 0
        else:
            gap += 1
            if gap > tolerance:
                break
    high = end
    gap = 0
    for index in range(end, len(profile)):
        if on[index]:
            high, gap = index + 1, 0
        else:
            gap += 1
            if gap > tolerance:
                break
    return low, high


def _band(mask: np.ndarray) -> tuple[int, int] | None:
    """Rows [y0, y1) of the text line in ``mask`` (ink = True)."""
    profile = mask.sum(axis=1).astype(np.float64)
    if profile.sum() <= 0:
        return None
    start, end = _core(profile, CORE_MASS)
    peak = float(profile[start:end].max())
    tolerance = max(1, round(0.15 * (end - start)))
    return _grow(profile, start, end, max(1.0, 0.05 * peak), tolerance)


def _columns(mask: np.ndarray, height: int) -> tuple[int, int] | None:
    """Columns [x0, x1) of the line: inked columns grouped across gaps of up to ``GAP`` heights, the
    heaviest group kept with any other group at least half as heavy."""
    profile = mask.sum(axis=0)
    inked = np.flatnonzero(profile >= max(1.0, 0.05 * height))
    if inked.size == 0:
        return None
    splits = np.flatnonzero(np.diff(inked) - 1 > GAP * height) + 1
    groups = np.split(inked, splits)
    masses = np.array([profile[group].sum() for group in groups], dtype=np.float64)
    kept = [group for group, mass in zip(groups, masses, strict=True) if mass >= 0.5 * masses.max()]
    return int(min(g[0] for g in kept)), int(max(g[-1] for g in kept)) + 1


def _text_box(mask: np.ndarray) -> Box | None:
    band = _band(mask)
    if band is None:
        return None
    columns = _columns(mask[band[0] : band[1]], band[1] - band[0])
    if columns is None:
        return None
    x0, x1 = columns
    band = _band(mask[:, x0:x1]) or band  # again over the line's own columns only
    return x0, band[0], x1, band[1]


# --- output ----------------------------------------------------------------------------------------


def _render(image: Image.Image, layout: LineLayout) -> Image.Image:
    """The text box plus margins, paper → white and ink → black along the paper→ink colour axis."""
    width, height = image.size
    x0, y0, x1, y1 = layout.box
    text_height = max(1, y1 - y0)
    margin_y, margin_x = round(MARGIN_Y * text_height), round(MARGIN_X * text_height)
    left, top, right, bottom = x0 - margin_x, y0 - margin_y, x1 + margin_x, y1 + margin_y
    crop = image.crop((max(0, left), max(0, top), min(width, right), min(height, bottom)))
    background = np.asarray(layout.background, np.float64)
    axis = np.asarray(layout.ink, np.float64) - background
    weights = axis / float(axis @ axis)  # ink strength = weights · (pixel - background): 0 paper, 1 ink
    if crop.mode == "L":
        strength = (np.arange(256) - background[0]) * weights[0]
        lut = (255.0 - np.clip(strength, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
        grey = Image.fromarray(lut[np.asarray(crop)])
    else:  # grey = 255 - 255 · strength, clipped, in one pass of PIL's matrix conversion
        grey = crop.convert("L", (*(-255.0 * weights), 255.0 + 255.0 * float(weights @ background)))
    canvas = Image.new("L", (right - left, bottom - top), 255)
    canvas.paste(grey, (max(0, -left), max(0, -top)))
    return canvas


def analysis_channels(mode: str) -> int:
    """Channels to analyse an image of PIL ``mode`` in: 1 for grey modes, 3 for anything with colour."""
    return 1 if mode in ("1", "L", "LA", "La", "F") or mode.startswith("I") else 3
