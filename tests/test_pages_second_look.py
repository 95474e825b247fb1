"""The default finders' second look: a page that reads unsurely with the classical finder's lines is found
again by kocr's detector and the reading that reads more of the page more surely is kept."""

from __future__ import annotations

import math

import pytest

from benchmarks import page_fixtures as pf
from kocr.load import load_recognizer
from kocr.pages.find import ClassicalLineFinder
from kocr.pages.metrics import score_page
from kocr.pages.reader import PageReader
from kocr.pages.second_look import (
    SECOND_LOOK_BELOW,
    better_reading,
    reading_score,
    sureness,
    wants_second_look,
)
from kocr.pages.types import PageLine, PageResult, quad_from_box

try:
    pf.face("pen")
except LookupError as missing:  # pragma: no cover - Debian's fonts-nanum-extra is a test dependency
    pytest.skip(str(missing), allow_module_level=True)


def _page(*lines: tuple[str, float]) -> PageResult:
    """A read page of ``(text, confidence per character)`` lines."""
    return PageResult(
        [PageLine(quad_from_box(0, 40 * i, 500, 40 * i + 30), text, sure ** len(text)) for i, (text, sure) in
         enumerate(lines)],
        600,
        800,
    )  # fmt: skip


def test_sureness_spreads_each_lines_confidence_over_its_characters() -> None:
    page = _page(("가나다라", 0.9), ("마바", 0.8))
    measured = sureness(page.lines)
    assert measured.characters == 6
    assert measured.per_character == pytest.approx(math.exp((4 * math.log(0.9) + 2 * math.log(0.8)) / 6))
    assert sureness([]) == type(measured)(1.0, 0)


def test_only_a_page_read_unsurely_gets_a_second_look() -> None:
    assert not wants_second_look(_page())  # a blank page stays blank
    assert not wants_second_look(_page(("가나다", 0.99)))
    assert wants_second_look(_page(("가나다", SECOND_LOOK_BELOW - 0.01)))


def test_the_reading_kept_reads_more_of_the_page_more_surely() -> None:
    whole = _page(("오늘은 날씨가 맑고", 0.96), ("바람이 시원하게 불어서", 0.93))
    skipped = _page(("오늘은 날씨가 맑고", 0.99))  # surer, but a hard line was never read
    assert better_reading(skipped, whole) is whole
    grid_as_text = _page(("오|늘|은 날|씨가 맑고|", 0.7), ("바|람이 시|원하게 불|어서", 0.7))
    assert better_reading(whole, grid_as_text) is whole  # more characters, but read far less surely
    assert better_reading(whole, whole) is whole  # a tie keeps the first finder's reading
    a, b = sureness(whole.lines), sureness(skipped.lines)
    assert reading_score(b, a) == pytest.approx(b.per_character * b.characters / a.characters)


@pytest.fixture(scope="module")
def recognizer():
    return load_recognizer("default", device="cpu")


def test_handwriting_on_squared_paper_reads_well_with_the_default_finders(recognizer) -> None:
    # The grid runs through every handwritten line: the classical finder's lines read unsurely, the
    # detector's far better.
    page = pf.squared_notebook()
    truth = [line.text for line in page.lines]
    classical = PageReader(recognizer, ClassicalLineFinder(), layout="page")
    alone = score_page(truth, [line.text for line in classical.read_page(page.image).lines])
    assert classical.second_finder is None  # a finder the caller chose is the only one
    default = PageReader(recognizer, layout="page")
    result = default.read_page(page.image)
    score = score_page(truth, [line.text for line in result.lines])
    assert default.second_finder is not None and default.second_finder.name == "db"
    assert score.cer <= min(0.08, alone.cer) and score.found == score.lines
    assert result.width == page.image.width and result.rotation == 0


def test_a_printed_page_read_surely_is_found_once(recognizer) -> None:
    page = pf.text_page(900, 700, lines=5, size=26)
    default = PageReader(recognizer, layout="page")
    result = default.read_page(page.image)
    assert score_page([line.text for line in page.lines], [line.text for line in result.lines]).cer <= 0.05
    assert default.second_finder is None  # never needed, never made
