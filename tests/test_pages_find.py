"""The classical line finder on real drawn pages (Debian Korean fonts, PIL): every drawn line found
exactly once and nothing else, reading order, rules, skew, polarity, quarter turns, line crops."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from benchmarks import page_fixtures as pf
from kocr import load_recognizer
from kocr.pages.binarize import analyse_page
from kocr.pages.components import connected_components, grown
from kocr.pages.field import SlopeField, fit_field
from kocr.pages.find import MARGIN_X, MARGIN_Y, ClassicalLineFinder
from kocr.pages.order import level_boxes, reading_order
from kocr.pages.orientation import (
    alignment_cue,
    choose_orientation,
    detect_rotation,
    detect_rotation_from,
    flip_quad,
    orientation_candidates,
    quad_to_original,
    turn,
)
from kocr.pages.rectify import crop_line, crop_lines, quad_angle
from kocr.pages.types import LineRegion, quad_bounds, quad_from_box

try:
    pf.face("gothic")
    pf.face("pen")
except LookupError as missing:  # pragma: no cover - Debian's fonts-nanum is a test dependency
    pytest.skip(str(missing), allow_module_level=True)

FINDER = ClassicalLineFinder()


def _padded(box: Sequence[float]) -> tuple[float, float, float, float]:
    """A drawn line's box with the margins the finder adds around a line's ink."""
    height = box[3] - box[1]
    return (
        box[0] - MARGIN_X * height,
        box[1] - MARGIN_Y * height,
        box[2] + MARGIN_X * height,
        box[3] + MARGIN_Y * height,
    )


def _along(quad: Sequence[tuple[float, float]], angle: float) -> tuple[float, float, float, float]:
    """The box around a quad in the frame of lines at ``angle`` degrees."""
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return quad_bounds([(x * cos + y * sin, -x * sin + y * cos) for x, y in quad])


def _matches(
    page: pf.DrawnPage, regions: Sequence[LineRegion], strays: bool = False, along: bool = False
) -> list[int]:
    """For each drawn line, the one region that covers it (IoU ≥ 0.5; ``along``: of boxes in the line's
    own frame, for lines at angles far apart); fails if a line is found never or twice, or a region
    covers no line (``strays``: unless it is a lone mark, scored 1/3)."""
    matched = []
    for line in page.lines:
        angle = quad_angle(line.quad) if along else 0.0
        found = [_along(region.quad, angle) for region in regions]
        drawn = _padded(_along(line.quad, angle))
        hits = [i for i, box in enumerate(found) if pf.boxes_iou(drawn, box) >= 0.5]
        assert len(hits) == 1, f"{line.text!r} found {len(hits)} times"
        matched.append(hits[0])
    extra = [region for number, region in enumerate(regions) if number not in matched]
    assert len(set(matched)) == len(matched)
    assert not extra or (strays and all(region.score <= 1 / 3 for region in extra)), (
        f"{len(extra)} extra regions"
    )
    return matched


def _in_order(
    page: pf.DrawnPage, regions: Sequence[LineRegion], strays: bool = False, along: bool = False
) -> None:
    ordered = reading_order(regions, *page.image.size)
    matched = _matches(page, ordered, strays, along)
    assert sorted(matched) == matched, "lines out of reading order"


def test_one_column_every_line_once() -> None:
    page = pf.text_page(lines=10)
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("face", ["myeongjo", "pen", "brush"])
def test_other_faces_and_handwriting(face: str) -> None:
    page = pf.text_page(lines=8, size=28, face_name=face)
    _in_order(page, FINDER.find(page.image))


def test_two_columns_under_a_heading_in_reading_order() -> None:
    page = pf.text_page(columns=2, heading="한국어 문서 읽기", lines=8, gutter=1.8)
    regions = FINDER.find(page.image)
    _in_order(page, regions)  # the heading, the left column top to bottom, then the right column
    middle = (max(line.box[2] for line in page.lines[1:9]) + min(line.box[0] for line in page.lines[9:])) / 2
    heading = regions[_matches(page, regions)[0]]
    for region in regions:  # no line of the columns reaches over the gutter
        left, _, right, _ = quad_bounds(region.quad)
        assert region is heading or not left < middle < right


def test_ruled_paper_rules_are_not_lines_and_merge_nothing() -> None:
    page = pf.blank(800, 800)
    pf.rule(page, 100, 60, colour=120, width=2)
    for number in range(10):  # handwriting sitting on the rules, touching them
        pf.write(page, 50, 100 + number * 60 - 27, pf.SENTENCES[number % 8][:24], 30, "pen")
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("slant", [0.0, 3.0, -2.0])
def test_form_table_borders_and_underlines_go_and_rows_read_label_then_answer(slant: float) -> None:
    page = pf.photographed(pf.form_page(), slant, 0.05)
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("slant", [0.0, 3.0])
def test_labels_and_answers_close_together_are_parted_by_the_forms_rules(slant: float) -> None:
    # Narrow label cells and answer lines starting just after their labels: the gaps are word spaces
    # of the handwriting, only the border or the answer line's start parts label from answer.
    page = pf.photographed(pf.tight_form(), slant, 0.05)
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("slant", [0.0, 3.0])
def test_an_answer_line_starting_at_the_colon_parts_label_from_answer(slant: float) -> None:
    # Beside the gap are the colon's lower dot and a piece of a handwritten syllable: the row's foot,
    # where the answer line starts, is measured in text heights, not in those two specks' heights.
    page = pf.colon_form()
    page = pf.photographed(page, slant, 0.05) if slant else page
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("slant", [0.0, 3.0])
def test_a_tables_cell_borders_one_row_tall_part_its_cells(slant: float) -> None:
    # Borders too short to be rules, a photo's few pixels thick and leaning on a skewed page, are not
    # glyphs: each cell is a line of its own.
    page = pf.cell_table()
    page = pf.photographed(page, slant, 0.05) if slant else page
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize(("times", "face"), [(3.0, "gothic"), (3.5, "gothic"), (3.5, "myeongjo")])
def test_a_title_several_times_the_body_size_is_one_line(times: float, face: str) -> None:
    # Its long strokes are as long as rules of the body text: taken out as rules, their ends parted it.
    page = pf.headed_page(times, face)
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize(("pitch", "every"), [(26, 3), (80, 1)])
def test_graph_paper_lines_are_not_cut_at_its_grid(pitch: int, every: int) -> None:
    # Small cells cross most syllables; big ones (a cell two syllables wide) only some.
    page = pf.graph_paper(pitch=pitch, every=every)
    _in_order(page, FINDER.find(page.image))


def test_faint_notebook_rules_on_a_skewed_scan_cut_no_line() -> None:
    # Thin grey rules a little off level binarise as a staircase of dashes: their gaps are no rule ends.
    page = pf.blank(900, 700)
    pf.rule(page, 100, 60, colour=185, width=1)
    for number in range(8):
        pf.write(page, 50, 100 + number * 60 - 30, pf.SENTENCES[number][:24], 30, "pen")
    _in_order(pf.turned(page, 0.4), FINDER.find(pf.turned(page, 0.4).image))


def test_leaning_columns_are_read_one_after_the_other() -> None:
    # Two columns of paragraphs whose breaks line up, leaning as on a page photographed off its middle:
    # over the page the gutter drifts by more than it is wide, so no straight gap runs through it.
    regions, expected = [], []
    for column in range(2):
        y = 100.0
        for line in range(16):
            if line and line % 4 == 0:
                y += 30  # a paragraph break, at the same height in both columns
            left = 60 + column * 330 + 0.12 * y
            right = left + (300 if line % 4 != 3 else 180)
            regions.append(LineRegion(quad_from_box(left, y, right, y + 20), 1.0))
            expected.append(len(expected))
            y += 30
    shuffled = list(reversed(regions))
    ordered = reading_order(shuffled, 1000, 800)
    assert [regions.index(region) for region in ordered] == expected


def test_skewed_page_quads_follow_the_skew() -> None:
    page = pf.turned(pf.text_page(lines=8), 3)  # counter-clockwise: lines rise to the right
    regions = FINDER.find(page.image)
    _in_order(page, regions)
    long = [region for region in regions if quad_bounds(region.quad)[2] - quad_bounds(region.quad)[0] > 300]
    assert long
    for region in long:
        assert quad_angle(region.quad) == pytest.approx(-3.0, abs=0.5)


def test_photographed_at_a_slant() -> None:
    page = pf.warped(pf.turned(pf.text_page(lines=8), -2), 0.06)
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("paper", [255, (250, 235, 160), 40])
def test_blank_pages_have_no_lines(paper: int | tuple[int, int, int]) -> None:
    page = pf.blank(800, 1000, paper)
    noisy = np.asarray(page.image).astype(np.float64)
    noisy += np.random.default_rng(0).normal(0, 6, noisy.shape)
    assert FINDER.find(Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))) == []


def test_photographed_page_on_a_dark_table() -> None:
    page = pf.text_page(
        columns=2, heading="사진으로 찍은 문서", lines=8, paper=(235, 228, 210), ink=(40, 35, 30)
    )
    pf.shade(page, 0.5)
    page = pf.photographed(page, 2.5, 0.04, fill=(90, 90, 90))
    pixels = np.asarray(page.image, float) + np.random.default_rng(1).normal(
        0, 8, (*page.image.size[::-1], 3)
    )
    page.image = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.8)
    )
    encoded = io.BytesIO()
    page.image.save(encoded, "JPEG", quality=50)
    page.image = Image.open(encoded)
    _in_order(page, FINDER.find(page.image), strays=True)  # a speck of the table's edge may stay


def test_light_text_on_dark_paper() -> None:
    page = pf.text_page(lines=8, paper=(30, 40, 60), ink=(230, 230, 200))
    _in_order(page, FINDER.find(page.image))


def test_shaded_tinted_paper() -> None:
    page = pf.text_page(lines=8, paper=(250, 235, 160), ink=(20, 40, 140))
    pf.shade(page, 0.45)
    _in_order(page, FINDER.find(page.image))


def test_single_line_crop_is_one_region_covering_it() -> None:
    page = pf.blank(300, 32)
    line = pf.write(page, 8, 4, "안녕하세요 반갑습니다", 20)
    regions = FINDER.find(page.image)
    assert len(regions) == 1
    left, top, right, bottom = quad_bounds(regions[0].quad)
    x0, y0, x1, y1 = line.box
    assert left <= x0 + 1 and top <= y0 + 1 and right >= x1 - 1 and bottom >= y1 - 1


def test_quarter_turns_are_detected_and_quads_map_back() -> None:
    page = pf.text_page(lines=8)
    assert detect_rotation(page.image)[0] == 0
    given = page.image.transpose(Image.Transpose.ROTATE_270)  # the page turned a quarter clockwise
    rotation, sure = detect_rotation(given)
    assert (rotation, sure > 0.3) == (90, True)
    assert orientation_candidates(given)[:2] == [90, 270]
    upright = turn(given, 90)
    assert np.array_equal(np.asarray(upright), np.asarray(page.image))
    regions = FINDER.find(upright)
    back = [quad_to_original(region.quad, 90, upright.size) for region in regions]
    for quad in back:  # on the given page the lines run down, their top edges on the right
        (x0, y0), (x1, y1), _, (x3, _) = quad
        assert y1 - y0 > 100 and abs(x1 - x0) < 0.05 * (y1 - y0) and x0 > x3
    on_given = [crop_line(given, quad) for quad in back]
    on_upright = [crop_line(upright, region.quad) for region in regions]
    for a, b in zip(on_given, on_upright, strict=True):
        assert a.size == b.size and np.abs(np.asarray(a, float) - np.asarray(b, float)).mean() < 1


def test_upside_down_is_tried_first_when_the_left_edges_say_so() -> None:
    page = pf.text_page(lines=10)  # ragged right: left edges line up
    regions = FINDER.find(page.image)
    assert alignment_cue(regions, *page.image.size) > 0
    assert orientation_candidates(page.image.transpose(Image.Transpose.ROTATE_180)) == [180, 0]
    line = regions[0].quad
    assert flip_quad(flip_quad(line)) == line
    upside = crop_line(page.image, flip_quad(line))
    assert np.array_equal(np.asarray(upside), np.asarray(crop_line(page.image, line).rotate(180)))


def test_crop_line_of_an_axis_aligned_quad_is_the_plain_crop() -> None:
    pixels = np.random.default_rng(1).integers(0, 256, (120, 200, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    crop = crop_line(image, quad_from_box(10, 20, 150, 52))
    assert np.array_equal(np.asarray(crop), pixels[20:52, 10:150])
    assert crop_line(image, quad_from_box(10, 20, 150, 52), height=16).size == (70, 16)


def test_crop_line_straightens_a_slanted_line() -> None:
    page = pf.blank(500, 120)
    line = pf.write(page, 40, 40, "기울어진 줄을 곧게", 32)
    x0, y0, x1, y1 = _padded(line.box)
    straight = crop_line(page.image, quad_from_box(x0, y0, x1, y1))
    turned = pf.turned(pf.DrawnPage(page.image, [pf.DrawnLine("", quad_from_box(x0, y0, x1, y1))]), 5)
    slanted = crop_line(turned.image, turned.lines[0].quad)
    assert slanted.size == straight.size
    difference = np.abs(np.asarray(slanted, float) - np.asarray(straight, float))
    assert difference.mean() < 12  # resampling blurs edges; a misaligned crop differs by ~60


def test_reading_order_reads_prose_columns_down_and_form_rows_across() -> None:
    def box(left: float, top: float, right: float) -> LineRegion:
        return LineRegion(quad_from_box(left, top, right, top + 30))

    prose = [box(50, 50 + 50 * row, 380) for row in range(4)] + [
        box(420, 50 + 50 * row, 760) for row in range(4)
    ]
    assert reading_order(prose[::-1], 800, 400) == prose
    form = [box(x, 50 + 50 * row, x + 100) for row in range(4) for x in (50, 400)]
    assert reading_order(form[::-1], 800, 400) == form


@pytest.mark.parametrize("shape", [(37, 53), (1, 9), (9, 1), (1, 1)])
def test_grown_is_a_three_by_three_maximum(shape: tuple[int, int]) -> None:
    mask = np.random.default_rng(5).random(shape) < 0.08
    mask[0, 0] = mask[-1, -1] = True  # the edges too
    filtered = Image.fromarray(mask.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))
    assert np.array_equal(grown(mask), np.asarray(filtered) > 0)
    assert not grown(np.zeros(shape, bool)).any()


def test_components_match_a_flood_fill() -> None:
    mask = np.random.default_rng(2).random((40, 50)) < 0.45
    found = connected_components(mask)
    labels = np.zeros(mask.shape, int)
    count = 0
    for start in zip(*np.nonzero(mask), strict=True):
        if labels[start]:
            continue
        count += 1
        stack = [start]
        labels[start] = count
        while stack:
            y, x = stack.pop()
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = y + dy, x + dx
                    if 0 <= ny < 40 and 0 <= nx < 50 and mask[ny, nx] and not labels[ny, nx]:
                        labels[ny, nx] = count
                        stack.append((ny, nx))
    assert found.count == count
    assert sorted(found.area.tolist()) == sorted(np.bincount(labels.ravel())[1:].tolist())


def test_underlined_lines_stay_apart() -> None:
    page = pf.text_page(lines=8, leading=1.6)
    draw = ImageDraw.Draw(page.image)
    for line in page.lines[::2]:
        left, _, right, bottom = line.box
        draw.line([(left, bottom + 2), (right, bottom + 2)], fill=0, width=2)
    regions = FINDER.find(page.image)
    _in_order(page, regions)
    assert all(math.isfinite(region.score) and 0 < region.score <= 1 for region in regions)


def test_choose_orientation_reads_sample_lines_both_ways() -> None:
    recognizer = load_recognizer("default", device="cpu", decoder="greedy", engine="torch")

    def confidences(lines: list[Image.Image]) -> list[float]:
        return [prediction.confidence for prediction in recognizer.predict(lines)]

    page = pf.text_page(lines=6)
    assert choose_orientation(page.image, confidences, lines=2)[0] == 0
    upside_down = page.image.transpose(Image.Transpose.ROTATE_180)
    assert choose_orientation(upside_down, confidences, lines=2)[0] == 180


@pytest.mark.parametrize("face", ["gothic", "pen"])
def test_syllables_in_pieces_make_one_line(face: str) -> None:
    page = pf.blank(800, 560)
    words = ("생년월일", "을", "흙을 읽음", "몫을 얻음", "늘 젊음", "흘렸을", "읊을 글")
    for number, word in enumerate(words):  # every syllable three components or more
        pf.write(page, 60 + number % 2 * 300, 40 + number * 70, word, 32, face)
    _matches(page, FINDER.find(page.image))


def test_small_print_and_tight_lines_stay_apart() -> None:
    page = pf.text_page(lines=12, leading=1.3)
    y = 760.0
    for number in range(4):  # footnotes at less than half the body's size
        pf.write(page, 60, y, pf.SENTENCES[number] + " " + pf.SENTENCES[number + 1][:20], 10)
        y += 10 * 1.35
    _in_order(page, FINDER.find(page.image))


@pytest.mark.parametrize("photographed", [False, True])
def test_justified_columns_with_wide_word_spaces_one_region_per_line_in_column_order(
    photographed: bool,
) -> None:
    # Word spaces up to 1.6 text sizes, the gutter 2.4: a line must not come apart at its spaces (nor at
    # spaces that happen to line up down the column), and no line may reach over the gutter.
    page = pf.photographed(pf.justified_columns(), -2 if photographed else 0, 0.06)
    _in_order(page, FINDER.find(page.image))


def test_lines_converging_on_a_photographed_page_each_found_once() -> None:
    # The left edge 16 % shorter than the right: the lines' angles differ by several degrees from the
    # top of the page to the bottom, more than one angle for the page can take.
    page = pf.warped(pf.text_page(1000, 1100, lines=20, leading=1.45, size=20), 0.16, edge="left")
    regions = FINDER.find(page.image)
    _in_order(page, regions, along=True)
    top, bottom = (regions[_matches(page, regions, along=True)[index]] for index in (0, -1))
    assert quad_angle(bottom.quad) - quad_angle(top.quad) > 4  # the top line rises, the last falls less


@pytest.mark.parametrize("slant", [0.0, 3.0])
def test_title_over_a_narrower_form_first_then_rows_label_then_answer(slant: float) -> None:
    # The title does not reach over the gutter between labels and answers, and two rows have no label.
    page = pf.photographed(pf.titled_form(), slant, 0.1)
    _in_order(page, FINDER.find(page.image))


def test_text_inside_a_framed_table_is_found() -> None:
    page = pf.framed_table()  # the frame is smaller than a third of the page: it may hold syllables
    _in_order(page, FINDER.find(page.image))


def test_sparse_sheet_on_a_dark_desk_is_dark_on_light() -> None:
    page = pf.sheet_on_desk()
    assert not analyse_page(page.image).light_on_dark
    _in_order(page, FINDER.find(page.image))


def test_slope_field_fits_converging_lines_and_follows_them() -> None:
    rng = np.random.default_rng(3)
    u, v = rng.uniform(-500, 500, 400), rng.uniform(-700, 700, 400)
    truth = SlopeField(0.01, 0.0, 4e-5)  # the slope grows down the page
    observed = truth.slope(u, v) + rng.laplace(0, 0.05, u.size)  # neighbours' slopes scatter widely
    field = fit_field(u, v, observed, np.ones(u.size), spread=100, minimum=20)
    assert field.a == pytest.approx(0.01, abs=0.005) and field.c == pytest.approx(4e-5, abs=1e-5)
    assert field.b == 0.0  # not significant: left out
    # Points along one of the field's lines are given one level.
    line_u = np.linspace(-500, 500, 11)
    line_v = np.empty_like(line_u)
    line_v[5] = 300.0
    for k in range(6, 11):
        line_v[k] = line_v[k - 1] + float(truth.slope(line_u[k - 1], line_v[k - 1])) * 100
    for k in range(4, -1, -1):
        line_v[k] = line_v[k + 1] - float(truth.slope(line_u[k + 1], line_v[k + 1])) * 100
    assert np.ptp(truth.level(line_u, line_v)) < 1.0
    flat = fit_field(u, v, rng.laplace(0, 0.05, u.size), np.ones(u.size), spread=100, minimum=20)
    assert flat == SlopeField()


def test_level_boxes_keep_a_slanted_form_row_together() -> None:
    # A label at the left and its answer at the right of a page photographed at a slant: the page's
    # lines fall 3 degrees more at the bottom than at the top; the row falls by 36 px across the page.
    slope = np.tan(np.radians(np.linspace(0.5, 3.5, 8)))
    regions = []
    for row, s in enumerate(slope):
        y = 100 + 90 * row
        for x0, x1 in ((50, 650), (50, 150), (550, 650)) if row in (5, 6) else ((50, 650),):
            left_y, right_y = y + s * (x0 - 50), y + s * (x1 - 50)
            regions.append(LineRegion(((x0, left_y), (x1, right_y), (x1, right_y + 30), (x0, left_y + 30))))
    boxes = level_boxes(regions, 700, 900)
    label, answer = boxes[6], boxes[7]  # row 5's label and answer
    assert abs(label[1] - answer[1]) < 5
    assert reading_order(regions[::-1], 700, 900) == regions


def test_rotation_from_the_finders_layout_is_detect_rotation() -> None:
    page = pf.text_page(lines=8)
    for image in (page.image, page.image.transpose(Image.Transpose.ROTATE_270)):
        assert detect_rotation_from(FINDER.layout(image)) == detect_rotation(image)
    assert detect_rotation_from(FINDER.layout(pf.blank(400, 400).image)) == (0, 0.0)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "P"])
def test_crop_lines_cuts_each_line_as_crop_line(mode: str) -> None:
    page = pf.turned(pf.text_page(columns=2, lines=12), 2)
    image = page.image.convert(mode)
    quads = [region.quad for region in FINDER.find(page.image)]
    assert len(quads) >= 16  # enough for threads
    crops = crop_lines(image, quads)
    for quad, crop in zip(quads, crops, strict=True):
        assert np.array_equal(np.asarray(crop), np.asarray(crop_line(image, quad)))


def test_rules_clear_of_the_text_are_erased_from_crops_and_the_text_is_not() -> None:
    from kocr.pages.rectify import RuleMask

    page = pf.blank(700, 300)
    draw = ImageDraw.Draw(page.image)
    cell = pf.write(page, 60, 52, "서울시 종로구", 30)  # a table's cell: borders above and below, clear
    for y in (40, 100):
        draw.line([(20, y), (680, y)], fill=0, width=2)
    sat = pf.write(page, 60, 180, "공책 줄 위의 글씨", 30, "pen")  # handwriting sitting on a rule
    draw.line([(20, sat.box[3]), (680, sat.box[3])], fill=0, width=2)
    layout = FINDER.layout(page.image)
    assert layout.text is not None and layout.text.rules is not None
    rules = RuleMask(
        layout.text.rules, layout.page.mask & ~layout.text.rules, layout.page.scale_x, layout.page.scale_y
    )
    regions = sorted(layout.regions, key=lambda region: quad_bounds(region.quad)[1])
    assert len(regions) == 2
    quads = [region.quad for region in regions]
    plain, erased = crop_lines(page.image, quads), crop_lines(page.image, quads, rules)
    top = np.asarray(erased[0].convert("L"), float)
    assert top[:3].min() > 200 and top[-3:].min() > 200  # the cell's borders are gone
    assert np.abs(np.asarray(plain[0].convert("L"), float) - top)[5:-5].max() < 1  # the text is not
    # Handwriting sitting on a rule keeps every stroke (its rule may go where it is clear of them).
    kept, drawn = (np.asarray(crop.convert("L")) < 128 for crop in (erased[1], plain[1]))
    row = int(np.argmax(drawn.sum(axis=1)))  # the rule's row: the darkest
    strokes = drawn.copy()
    strokes[row - 2 : row + 3] = False
    assert (kept | ~strokes).all()
    assert cell.text and sat.text
