"""What a page's text is like before lines are made of it: its components with rules taken out,
which of them may be text, their syllables (pieces stacked back together), the text height and the
skew.

Why in this order: rules are found by their length in text heights, along the skew, so the text
height and skew come first (from the page as binarised: a rule is one long component, left out of
both); with the rules gone, text that touched them comes apart, so everything is measured again.
The skew comes from the rules when there are some (long straight runs give the angle far more
precisely than text), else from the syllables: the angle neighbours make, made precise by projection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kocr.pages.binarize import AnalysisPage
from kocr.pages.components import Components, connected_components, run_pixels
from kocr.pages.pairs import overlapping_pairs, ragged_arange
from kocr.pages.rules import RULE_LENGTH, RULE_THICKNESS, remove_rules
from kocr.pages.skew import MAX_SKEW, MIN_POINTS, estimate_skew, neighbour_angle
from kocr.pages.syllables import stack_pieces, syllable_boxes

HEIGHT_QUANTILE = 80  # the text height: this percentile of the syllables' heights
SOLID = 0.75  # a thick component filling this share of its box is a blob, not a glyph
BAR = 1.3  # text heights: a thin vertical stroke this tall is a rule's leftover, not a glyph
CELL_BAR = 1.7  # text heights: a stroke this tall (taller than brackets, shorter than a table row)
BAR_WIDTH = 0.25  # text heights: may be this thick (a table's cell border in a blurred photo),
BAR_LEAN = 0.1  # leaning at most this much (6 degrees: a skewed page)
MAX_HEIGHT = 6.0  # text heights: taller components are pictures, frames or drop shadows, not text
BIG_TEXT = 1.8  # text heights: a syllable this tall is big text (a heading), whose strokes are not rules
BIG_WIDTH = 2.0  # a big syllable is at most this many times as wide as tall (a frame or a row is wider)
STROKE_SHARE = 0.3  # of the big syllable's height: the shortest piece that is a stroke of it (not a
# rule's dash under a big handwritten word)
BIG_FILL = 0.12  # share of its box a big syllable's ink fills at least (a frame or a grid fills less)
TOUCHING = 1.0  # analysis pixels: a rule's piece this little out of a syllable's box is inside it
DASH = 1.5  # text heights: a piece of a rule this long and a pixel or two thin is no stroke of a glyph
WIRE = 0.04  # a component filling less of its box than this is a wire frame, if at least
WIRE_SIZE = 24  # analysis pixels each way
MAX_RULE_POINTS = 20_000  # points sampled along rules to measure their angle


@dataclass(frozen=True)
class Syllables:
    """Components stacked into syllables: each component's syllable (-1: not considered) and each
    syllable's box in analysis pixels."""

    of_component: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray

    @property
    def height(self) -> np.ndarray:
        return self.y1 - self.y0

    @property
    def width(self) -> np.ndarray:
        return self.x1 - self.x0


@dataclass(frozen=True)
class PageText:
    """The measured page: components (rules taken out), their syllables, the text height (analysis
    pixels), the skew (degrees, positive when lines fall to the right) and the rules' pixels."""

    components: Components
    syllables: Syllables
    text_height: float
    skew: float
    rules: np.ndarray | None = None  # the rules' pixels taken out of the mask (None: no rules)


def measure_text(page: AnalysisPage) -> tuple[Components, PageText | None]:
    """The page's components, and its text measured (``None`` when nothing on it looks like text)."""
    components = connected_components(page.mask)
    syllables = find_syllables(components, plausible(components, *page.size))
    text_height = syllables_height(syllables)
    if text_height is None:
        return components, None
    rule_skew = _rule_skew(components, text_height)
    skew = rule_skew if rule_skew is not None else _text_skew(syllables, text_height)
    cleaned = _without_rules(page.mask, components, text_height, skew)
    rules = None
    if cleaned is not None:
        rules = page.mask & ~cleaned
        strokes = strokes_of_big_text(rules, components, syllables, text_height)
        if strokes is not None:  # a heading's long strokes go back: they were never rules
            cleaned, rules = cleaned | strokes, rules & ~strokes
        components = connected_components(cleaned)
        syllables = find_syllables(components, plausible(components, *page.size))
        text_height = syllables_height(syllables)
        if text_height is None:
            return components, None
        skew = rule_skew if rule_skew is not None else _text_skew(syllables, text_height)
    text = text_like(components, text_height, *page.size)
    return components, PageText(components, restrict(syllables, components, text), text_height, skew, rules)


def strokes_of_big_text(
    rules: np.ndarray, components: Components, syllables: Syllables, text_height: float
) -> np.ndarray | None:
    """The pieces of ``rules`` that are strokes of big text (a heading three times the body's size), as
    a mask, or ``None`` when there are none. Rules are found against the body's text height, and a big
    heading's ㅡ, ㅣ or the foot of its ㄴ is as long as a rule of the body's; taken out, the heading
    reads with strokes missing (문 as 모, 내 as L-) and its stroke ends part it as an answer line's
    end would. ``syllables`` are those of the page with its rules still in (taken out, a heading's
    syllable may be left as small pieces). A piece is a stroke when it lies inside a syllable at least
    :data:`BIG_TEXT` text heights tall (at most :data:`MAX_HEIGHT`, no wider than :data:`BIG_WIDTH`
    times its height and filling :data:`BIG_FILL` of its box: not a table or a frame) and is shorter
    than :data:`RULE_LENGTH` of its heights but at least :data:`STROKE_SHARE` of one; a table's
    border or an underline beside normal text is measured against that text, and stays a rule."""
    height, width = syllables.height, syllables.width
    member = syllables.of_component >= 0
    ink = np.bincount(syllables.of_component[member], weights=components.area[member], minlength=height.size)
    big = (height >= BIG_TEXT * text_height) & (height <= MAX_HEIGHT * text_height)
    big &= (width <= BIG_WIDTH * height) & (ink >= BIG_FILL * width * height)
    big = np.flatnonzero(big)
    if big.size == 0:
        return None
    pieces = connected_components(rules)
    if pieces.count == 0:
        return None
    # Pieces inside big syllables' boxes (a pixel of slack): pairs over both sets at once.
    top = np.r_[pieces.y0, syllables.y0[big]].astype(np.float64)
    bottom = np.r_[pieces.y1, syllables.y1[big]].astype(np.float64)
    left = np.r_[pieces.x0, syllables.x0[big]].astype(np.float64)
    right = np.r_[pieces.x1, syllables.x1[big]].astype(np.float64)
    tallest = np.zeros(pieces.count)
    for a, b in overlapping_pairs(top, bottom, TOUCHING):
        piece, syllable = np.minimum(a, b), np.maximum(a, b)
        mixed = (piece < pieces.count) & (syllable >= pieces.count)
        # Inside the syllable's box: a rule's piece between two strokes crossing it reaches out of it.
        mixed &= (left[piece] >= left[syllable] - TOUCHING) & (right[piece] <= right[syllable] + TOUCHING)
        mixed &= (top[piece] >= top[syllable] - TOUCHING) & (bottom[piece] <= bottom[syllable] + TOUCHING)
        piece, syllable = piece[mixed], syllable[mixed]
        np.maximum.at(tallest, piece, bottom[syllable] - top[syllable])
    length = np.maximum(pieces.width, pieces.height)
    stroke = (tallest > 0) & (length < RULE_LENGTH * tallest) & (length >= STROKE_SHARE * tallest)
    if not stroke.any():
        return None
    mask = np.zeros(rules.size, dtype=bool)
    mask[run_pixels(pieces.runs.subset(stroke[pieces.label]), rules.shape[1])] = True
    return mask.reshape(rules.shape)


def estimate_text_height(components: Components, width: int, height: int) -> float | None:
    """The typical height of a text line in a page's components (analysis pixels), or ``None`` when
    nothing looks like text."""
    return syllables_height(find_syllables(components, plausible(components, width, height)))


def plausible(components: Components, width: int, height: int) -> np.ndarray:
    """Components that could be text on a page of ``width`` × ``height``: not single pixels, not
    page-sized (a frame, a picture) in both directions (a single line's crop is mostly text), not
    wire frames (pieces of a faint grid or table, crossed lines a pixel or two thick: glyphs fill far
    more of their box)."""
    h, w = components.height, components.width
    wire = (components.area < WIRE * h * w) & (np.minimum(h, w) >= WIRE_SIZE)
    return (components.area >= 3) & ~((h > height / 3) & (w > width / 3)) & ~wire


def find_syllables(components: Components, chosen: np.ndarray) -> Syllables:
    """The ``chosen`` components (a mask) stacked into syllables."""
    index = np.flatnonzero(chosen)
    boxes = [getattr(components, name)[index].astype(np.float64) for name in ("x0", "y0", "x1", "y1")]
    syllable = stack_pieces(*boxes)
    of_component = np.full(components.count, -1, np.int64)
    of_component[index] = syllable
    return Syllables(of_component, *syllable_boxes(syllable, *boxes))


def restrict(syllables: Syllables, components: Components, chosen: np.ndarray) -> Syllables:
    """``syllables`` made of the ``chosen`` components only (renumbered, boxes around those)."""
    keep = chosen & (syllables.of_component >= 0)
    index = np.flatnonzero(keep)
    _, syllable = np.unique(syllables.of_component[index], return_inverse=True)
    of_component = np.full(components.count, -1, np.int64)
    of_component[index] = syllable
    boxes = [getattr(components, name)[index].astype(np.float64) for name in ("x0", "y0", "x1", "y1")]
    return Syllables(of_component, *syllable_boxes(syllable.astype(np.int64), *boxes))


def syllables_height(syllables: Syllables) -> float | None:
    """A high percentile of the syllables' heights, so punctuation and the odd loose piece do not pull
    it down; ``None`` with fewer than two syllables that are neither specks nor thin bars."""
    h, w = syllables.height, syllables.width
    sized = (h >= 4) & (w >= 2) & (h <= 8 * w)
    if int(sized.sum()) < 2:
        return None
    return float(np.percentile(h[sized], HEIGHT_QUANTILE))


def text_like(components: Components, text_height: float, width: int, height: int) -> np.ndarray:
    """Components that may be text on a page of ``width`` × ``height``: not specks, not pictures, not
    leftovers of rules (and of faint rules, in pieces), not the strip of background along an edge of
    a photographed page."""
    h, w, area = components.height, components.width, components.area
    long = RULE_LENGTH * text_height
    on_edge = ((components.y0 == 0) | (components.y1 == height)) & (w >= long)
    on_edge |= ((components.x0 == 0) | (components.x1 == width)) & (h >= long)
    speck = (area < max(3.0, 0.012 * text_height**2)) | (np.maximum(h, w) < 2)
    huge = h > MAX_HEIGHT * text_height
    rule_piece = (w >= 0.8 * RULE_LENGTH * text_height) & (h <= RULE_THICKNESS * text_height * 1.2)
    rule_piece |= (h >= BAR * text_height) & (w <= np.maximum(2, 0.12 * text_height))  # ㅣ is shorter
    # A cell's border one row tall, a few pixels thick (a photo blurs it) and on a skewed page
    # leaning: thin across (its area over its height) and straight (its box no wider than its lean).
    thickness = area / np.maximum(h, 1)
    rule_piece |= (
        (h >= CELL_BAR * text_height)
        & (thickness <= BAR_WIDTH * text_height)
        & (w <= thickness + BAR_LEAN * h + 2)
    )
    # Dashes of a faint rule or grid that binarised in pieces: thinner than any stroke that long (ㅡ
    # is shorter), and wire frames where such pieces cross.
    rule_piece |= (w >= DASH * text_height) & (h <= np.maximum(2, 0.06 * text_height))
    rule_piece |= (area < WIRE * h * w) & (np.minimum(h, w) >= WIRE_SIZE)
    # Filled blobs as big as a syllable (a picture's texture, a bullet); strokes like ㅣ are thin, and
    # in text a few pixels tall every piece is a blob.
    solid = (area >= SOLID * w * h) & (np.minimum(w, h) >= 0.6 * text_height) & (text_height >= 12)
    return ~(speck | huge | rule_piece | solid | on_edge)


def _rule_skew(components: Components, text_height: float) -> float | None:
    """The angle of the page's rules from points along their long runs, or ``None`` without rules."""
    runs = components.runs
    width, height = components.width, components.height
    # A rule (an underline, with text touching it or not) is long and flat; a table's grid is wide; a
    # big heading's syllable is neither.
    ruled = (width >= RULE_LENGTH * text_height) & (width >= 4 * height)
    ruled |= width >= 2 * RULE_LENGTH * text_height
    long = ruled[components.label] & (runs.end - runs.start >= max(4.0, text_height / 2))
    lengths = (runs.end - runs.start)[long].astype(np.int64)
    if int(lengths.sum()) < 2 * RULE_LENGTH * text_height:
        return None
    step = max(1, int(lengths.sum()) // MAX_RULE_POINTS + 1)  # points every `step` pixels along runs
    counts = (lengths + step - 1) // step
    offsets = ragged_arange(counts) * step
    x = np.repeat(runs.start[long], counts) + offsets + 0.5
    y = np.repeat(runs.row[long], counts) + 0.5
    return estimate_skew(x.astype(np.float64), y.astype(np.float64), 2.0)


def _text_skew(syllables: Syllables, text_height: float) -> float:
    """The skew from syllable-sized syllables: the angle neighbours make (level when it is within two
    standard errors of level), made precise by projection near it when there are enough of them."""
    h = syllables.height
    sized = (h >= 0.6 * text_height) & (h <= 1.5 * text_height) & (syllables.width <= 2 * text_height)
    x0, y0 = syllables.x0[sized], syllables.y0[sized]
    x1, y1 = syllables.x1[sized], syllables.y1[sized]
    neighbours = neighbour_angle(x0, y0, x1, y1, text_height)
    if neighbours is None:
        return 0.0
    angle, error = neighbours
    if abs(angle) < 2 * error:  # not told apart from level: a sparse page, or a level one
        angle = 0.0
    if x0.size < MIN_POINTS:
        return angle
    span = min(max(1.0, 3 * error), MAX_SKEW)
    return estimate_skew((x0 + x1) / 2, (y0 + y1) / 2, text_height / 4, around=angle, span=span)


def _without_rules(
    mask: np.ndarray, components: Components, text_height: float, skew: float
) -> np.ndarray | None:
    """The mask with rules removed, or ``None`` when no component is long enough to hold one."""
    length = RULE_LENGTH * text_height
    if not bool(((components.width >= length) | (components.height >= length)).any()):
        return None
    cleaned = remove_rules(mask, text_height, skew)
    return None if cleaned is mask else cleaned
