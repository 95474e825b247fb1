"""Reading whole pages: :class:`PageReader` finds the lines, orders them, straightens each one and reads
them all with a line recogniser in one batched call.

>>> import kocr
>>> from kocr.pages.reader import PageReader
>>> reader = PageReader(kocr.load_recognizer("default"))
>>> page = reader.read("scan.jpg")              # PageResult: lines with boxes, text, confidence
>>> print(page.text)
>>> for page in reader.read_all(sorted(Path("scans").glob("*.jpg"))):  # two at a time, lazily
...     print(page.text)

``layout`` says what an image is: ``line`` (a text-line crop, read as it is, exactly as
:meth:`~kocr.runtime.base.LineRecognizer.predict_images` reads it), ``page`` (find the lines first), or
``auto`` (the default): an image shaped like a line crop (at most ``LINE_MAX_HEIGHT`` px tall, or at
least ``LINE_MIN_ASPECT`` times as wide as tall) is a line, anything else a page. A page on which the
finder sees one line filling most of the image is read as that line crop too, so a crop given as a
page reads as it always has.

Which finder: by default the classical finder, and a page whose lines then read unsurely is found again
by kocr's detector and read again, keeping the surer reading (:mod:`kocr.pages.second_look`); a finder
given to the reader is its only one, unless ``second_finder`` names another.

Turned pages: :func:`kocr.pages.orientation.detect_rotation` says whether the lines run across or down,
and a page whose lines run down is turned a quarter before its lines are found. Which way up is
content: text read upside down reads with low confidence per character (about 0.85 on the dev pages,
where upright pages read at 0.9 to 1.0). So on a quarter-turned page, and on a page read with a
per-character confidence under ``SURE_PER_CHARACTER``, the ``FLIP_SAMPLE`` longest line crops are read
turned 180 degrees too; only when they read surer turned is the rest read turned, and the page is turned
when the whole of it reads surer that way (a sample of badly cut lines can read poorly either way). The
lines need not be found again, and an upright page costs a few lines' reading, not a second reading.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from PIL import Image

from kocr.data.images import ImageInput, load_image
from kocr.errors import KocrError
from kocr.iterutils import ordered_map
from kocr.pages.find import ClassicalLineFinder
from kocr.pages.order import reading_order
from kocr.pages.orientation import detect_rotation, detect_rotation_from, flip_quad, quad_to_original, turn
from kocr.pages.rectify import RuleMask, crop_lines
from kocr.pages.second_look import better_reading, sureness, wants_second_look
from kocr.pages.types import LineRegion, PageLine, PageResult, Quad, quad_bounds, quad_from_box
from kocr.runtime.base import LineRecognizer, Prediction

LAYOUTS = ("auto", "page", "line")
LINE_MAX_HEIGHT = 100  # px: no page is this short, most line crops are (data/samples: 40-48 px)
LINE_MIN_ASPECT = 4.0  # width / height: a photographed line crop; no page is this long
WHOLE_LINE_SHARE = 0.5  # one found line at least this share of the image's height: the image is a line
SURE_PER_CHARACTER = 0.95  # a page read this surely per character is upright: no turn is tried
FLIP_SAMPLE = 5  # the longest lines, read turned to see which way up a page is
FLIP_MARGIN = 0.03  # how much surer per character the turned sample must read to turn an upright page
SMALL_TEXT = 10  # px: a page whose text is shorter than this (the classical finder's measure) gets a note
PAGES_AT_ONCE = 2  # pages read at the same time, each in its own thread (a laptop's two cores)
_HALF_TURN = Image.Transpose.ROTATE_180

T = TypeVar("T")
R = TypeVar("R")


class LineFinder(Protocol):
    """What the page reader asks of a line finder (:mod:`kocr.pages.finders` lists them)."""

    name: str

    def find(self, image: Image.Image) -> list[LineRegion]: ...


def looks_like_line(width: int, height: int) -> bool:
    """Whether an image of this size is a text-line crop rather than a page (``layout auto``)."""
    return height <= LINE_MAX_HEIGHT or width >= LINE_MIN_ASPECT * height


@dataclass
class PageReader:
    """A line recogniser with a line finder in front of it."""

    recognizer: LineRecognizer
    finder: LineFinder | None = None  # None: the default finders (below), made when a page needs them
    layout: str = "auto"
    #: Finds again the lines of a page the first finder's lines read unsurely (:mod:`kocr.pages.second_look`).
    #: With ``finder`` None as well, the default pair: the classical finder first, kocr's detector second.
    second_finder: LineFinder | None = None
    #: Pages read at the same time when there are several (:meth:`each_page`); 1 reads one after another.
    pages_at_once: int = PAGES_AT_ONCE
    _making: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.layout not in LAYOUTS:
            raise KocrError(f"layout must be one of {', '.join(LAYOUTS)}, not {self.layout!r}")
        if self.pages_at_once < 1:
            raise KocrError(f"pages_at_once must be at least 1, not {self.pages_at_once}")
        self._default_second = self.finder is None and self.second_finder is None

    def is_page(self, image: Image.Image) -> bool:
        """Whether ``image`` is read as a page under this reader's layout."""
        if self.layout == "auto":
            return not looks_like_line(*image.size)
        return self.layout == "page"

    def read(self, image: ImageInput) -> PageResult | Prediction:
        """One image (a path, bytes, PIL, numpy or tensor): a :class:`PageResult` for a page, a
        :class:`Prediction` for a line, as ``layout`` decides."""
        return self.predict_images([load_image(image)])[0]

    def read_all(self, images: Iterable[ImageInput]) -> Iterator[PageResult | Prediction]:
        """Each image read as :meth:`read` reads it, in order, lazily: ``pages_at_once`` images are
        loaded and read at the same time, so a folder of photos holds only those in memory. An image
        that cannot be loaded raises its :class:`~kocr.errors.KocrError` when its turn comes."""
        return self.each_page(self.read, images)

    def predict_images(self, images: Sequence[Image.Image]) -> list[PageResult | Prediction]:
        """Loaded images, each read as its layout says, in input order. Line crops go to the recogniser
        together, as they would without a page reader; each page's lines are read in one batch."""
        results: list[PageResult | Prediction | None] = [None] * len(images)
        lines = [i for i, image in enumerate(images) if not self.is_page(image)]
        if lines:
            read = self.recognizer.predict_images([images[i] for i in lines])
            for index, prediction in zip(lines, read, strict=True):
                results[index] = prediction
        pages = [images[i] for i in range(len(images)) if results[i] is None]
        pages_read = self.each_page(self.read_page, pages)
        return [result if result is not None else next(pages_read) for result in results]

    def each_page(self, read: Callable[[T], R], pages: Iterable[T]) -> Iterator[R]:
        """``map(read, pages)`` in order, with ``pages_at_once`` pages read at the same time in threads.
        A page's finding, cutting and reading is mostly numpy, PIL and onnxruntime work that runs without
        the GIL, but one page's steps, one after another, kept 1.3 of a laptop's two cores busy; two
        pages at once keep 1.6 busy (``kocr eval --layout page``: 1.3x the pages per second on the dev
        forms)."""
        if self.pages_at_once == 1:
            return map(read, pages)
        pool = ThreadPoolExecutor(self.pages_at_once, thread_name_prefix="kocr-page")
        return ordered_map(pool, read, pages, read_ahead=self.pages_at_once)

    def read_page(self, image: Image.Image) -> PageResult:
        """A loaded image read as a page, whatever its shape. An image that holds one line filling most
        of it (a line crop) is read whole, exactly as the line recogniser reads a crop."""
        return self.read_laid_out(image, self.layout_page(image))

    def layout_page(self, image: Image.Image) -> LaidOutPage:
        """What reading a page needs before the recogniser: its lines found, ordered and cut out."""
        return self._lay_out(image, self.find_lines(image))

    def _lay_out(self, image: Image.Image, found: FoundLines) -> LaidOutPage:
        regions = reading_order(found.regions, *found.upright.size)
        whole = len(regions) == 1 and found.rotation == 0 and _fills_image(regions[0].quad, image.height)
        crops = [] if whole else crop_lines(found.upright, [region.quad for region in regions], found.rules)
        return LaidOutPage(found, regions, crops, whole)

    def read_laid_out(self, image: Image.Image, laid_out: LaidOutPage) -> PageResult:
        """A page whose lines :meth:`layout_page` found, read; found and read again by the second
        finder when it read unsurely, keeping the better reading; with a note if its text is small."""
        return _with_notes(self._best_reading(image, laid_out), laid_out.found)

    def _best_reading(self, image: Image.Image, laid_out: LaidOutPage) -> PageResult:
        first = self._read_lines(image, laid_out)
        if laid_out.whole or not wants_second_look(first):
            return first
        second_finder = self._second_finder()
        if second_finder is None:
            return first
        found = laid_out.found
        again = FoundLines(found.rotation, found.upright, second_finder.find(found.upright))
        # Which way up the page is was settled by the first reading: the second reads its lines that way.
        turned = first.rotation != found.rotation
        return better_reading(first, self._read_lines(image, self._lay_out(image, again), turned))

    def _second_finder(self) -> LineFinder | None:
        with self._making:  # two pages at once must not both load the detector
            if self._default_second and self.second_finder is None:
                from kocr.pages.finders import SECOND_FINDER, make_finder

                self.second_finder = make_finder(SECOND_FINDER)
        return self.second_finder

    def _read_lines(
        self, image: Image.Image, laid_out: LaidOutPage, turned: bool | None = None
    ) -> PageResult:
        """The page's lines read, in reading order. ``turned``: whether the page is upside down (of
        ``found.upright``), when already known; None: found out here, as the module docs say."""
        width, height = image.size
        found, regions, crops = laid_out.found, laid_out.regions, laid_out.crops
        rotation, upright = found.rotation, found.upright
        if not regions:
            return PageResult([], width, height, rotation)
        if laid_out.whole:
            whole = self.recognizer.predict_images([image])[0]
            lines = [PageLine(quad_from_box(0, 0, width, height), whole.text, whole.confidence)]
            return PageResult(lines if whole.text.strip() else [], width, height)
        quads = [region.quad for region in regions]
        if turned:
            read = self.recognizer.predict_images([c.transpose(_HALF_TURN) for c in crops])
        else:
            read = self.recognizer.predict_images(crops)
            # Upside down reads with low confidence; a quarter turn may be either way: try a few lines turned.
            if turned is None and (rotation or _per_character(read) < SURE_PER_CHARACTER):
                read_turned = self._read_turned(crops, read, FLIP_MARGIN if rotation == 0 else 0.0)
                turned = read_turned is not None
                if read_turned is not None:
                    read = read_turned
        turned_back = 0
        if turned:
            # The same lines read from their other end, and in the reverse order.
            read, quads = read[::-1], [flip_quad(quad) for quad in quads[::-1]]
            turned_back = 180
        page_lines = [
            PageLine(quad_to_original(quad, rotation, upright.size), result.text, result.confidence)
            for quad, result in zip(quads, read, strict=True)
            if result.text.strip()
        ]
        return PageResult(page_lines, width, height, (rotation + turned_back) % 360)

    def _read_turned(
        self, crops: Sequence[Image.Image], read: Sequence[Prediction], margin: float
    ) -> list[Prediction] | None:
        """Every crop read turned 180 degrees when the longest few read surer per character that way
        (by more than ``margin``) and then the whole page does too, else None; the sample's turned
        readings are kept, not read again."""
        sample = sorted(range(len(crops)), key=lambda i: -crops[i].width)[:FLIP_SAMPLE]
        tried = self.recognizer.predict_images([crops[i].transpose(_HALF_TURN) for i in sample])
        if _per_character(tried) <= _per_character([read[i] for i in sample]) + margin:
            return None
        rest = [i for i in range(len(crops)) if i not in sample]
        again = self.recognizer.predict_images([crops[i].transpose(_HALF_TURN) for i in rest])
        by_line = dict(zip(sample + rest, tried + again, strict=True))
        turned = [by_line[i] for i in range(len(crops))]
        # The whole page decides: a sample of badly cut lines can read as poorly either way.
        return turned if _per_character(turned) > _per_character(read) + margin else None

    def find_lines(self, image: Image.Image) -> FoundLines:
        """The page's lines, in no particular order, on the page turned upright (the lines ran down:
        turned a quarter). The classical finder's analysis of the page as given says both which way
        the lines run and where they are, so a page whose lines run across is binarised and measured
        once; it also says where the page's rules are, for the crops."""
        with self._making:
            if self.finder is None:
                from kocr.pages.finders import default_finder

                self.finder = default_finder()
        if not isinstance(self.finder, ClassicalLineFinder):
            rotation, _ = detect_rotation(image)
            upright = turn(image, rotation)
            return FoundLines(rotation, upright, self.finder.find(upright))
        layout = self.finder.layout(image)
        rotation, _ = detect_rotation_from(layout)
        upright = turn(image, rotation)
        if rotation:
            layout = self.finder.layout(upright)
        rules = layout.text.rules if layout.text is not None else None
        page = layout.page
        mask = None if rules is None else RuleMask(rules, page.mask & ~rules, page.scale_x, page.scale_y)
        height = layout.text_height * page.scale_y if layout.text is not None else None
        return FoundLines(rotation, upright, layout.regions, mask, height)


@dataclass(frozen=True)
class FoundLines:
    """What :meth:`PageReader.find_lines` found: the turn undone (0 or 90), the page upright, its lines
    on it (in no particular order), and its rules and text height, if the finder says."""

    rotation: int
    upright: Image.Image
    regions: list[LineRegion]
    rules: RuleMask | None = None
    text_height: float | None = None  # the text's height in the page's pixels, if the finder measures it


@dataclass(frozen=True)
class LaidOutPage:
    """A page ready for the recogniser: its lines found, in reading order, and cut out (no crops when
    the page is one line filling the image: it is read whole)."""

    found: FoundLines
    regions: list[LineRegion]
    crops: list[Image.Image]
    whole: bool


def _with_notes(page: PageResult, found: FoundLines) -> PageResult:
    """``page`` with a note when its text is too small to read well, so a user learns why a page read
    as scraps (a sheet photographed from afar: 6 px handwriting read at 0.35 CER on the dev pages, where
    text 13 px tall and more reads at 0.02 to 0.1). The text's height is the classical finder's measure
    (the detectors' boxes carry margins of their own); other finders give no note."""
    if page.lines and found.text_height is not None and found.text_height < SMALL_TEXT:
        page.notes.append(
            f"its text is about {found.text_height:.0f} px tall, and text under {SMALL_TEXT} px reads "
            "poorly: scan or photograph the page at a higher resolution"
        )
    return page


def _fills_image(quad: Quad, height: int) -> bool:
    _, top, _, bottom = quad_bounds(quad)
    return bottom - top >= WHOLE_LINE_SHARE * height


def _per_character(predictions: Sequence[Prediction]) -> float:
    """How surely the lines were read, per character (a line's confidence is a product over its
    characters, so long lines read well still have low confidences)."""
    return sureness(predictions).per_character
