"""Synthetic whole pages (kocr.data.synth.pages): real renders with Debian's Nanum fonts on small pages.

The line boxes are checked against the pixels themselves: each box holds ink, the ink of a clean page
lies inside the boxes, and a turned page's boxes are its straight twin's boxes turned.
"""

from __future__ import annotations

import json
import os
import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import NANUM_FONTS, assert_no_traceback, needs_nanum, run_kocr
from PIL import Image, ImageDraw

from kocr.data.synth.fonts import FontFace
from kocr.data.synth.page_set import read_page_lines, write_page_set
from kocr.data.synth.pages import (
    PageConfig,
    PagePlan,
    PageTruth,
    SyntheticPage,
    clean_config,
    plan_pages,
    render_page,
)
from kocr.data.synth.pages_geometry import apply, turn_matrix
from kocr.errors import KocrError, OutputExistsError

SIZE = (600, 800)
TRANSPOSE = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_90}
PRINT_LAYOUTS = {"prose": 1.0, "columns": 1.0, "sections": 1.0, "list": 1.0}

pytestmark = [needs_nanum, pytest.mark.usefixtures("module_cache")]


@pytest.fixture(scope="module")
def config(nanum_faces: tuple[FontFace, ...]) -> PageConfig:
    return PageConfig(fonts=nanum_faces, seed=7, page_size=SIZE)


@pytest.fixture(scope="module")
def the_plan(config: PageConfig) -> PagePlan:
    return plan_pages(config)


def _luma(page: SyntheticPage) -> np.ndarray:
    return np.asarray(page.image.convert("L"), dtype=np.float32)


def _box_mask(size: tuple[int, int], lines: list[PageTruth], grow: int) -> np.ndarray:
    """True inside any line's quad, grown by ``grow`` px."""
    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    for line in lines:
        draw.polygon(line.quad, fill=255, outline=255, width=1 + 2 * grow)
    return np.asarray(mask) > 0


def _ink_outside(page: SyntheticPage, dark: np.ndarray, grow: int) -> np.ndarray:
    """Dark pixels outside every box, rules aside: a column or row of the page that is dark for a fifth
    of its length is a printed rule (a column divider, a table line), not text."""
    outside = dark & ~_box_mask(page.image.size, page.lines, grow)
    height, width = outside.shape
    outside[:, outside.sum(axis=0) > height / 5] = False
    outside[outside.sum(axis=1) > width / 5, :] = False
    return outside


def _assert_boxes_hold_ink(page: SyntheticPage) -> None:
    """Every quad lies on the page and holds pixels clearly darker than its own paper."""
    width, height = page.image.size
    luma = _luma(page)
    for line in page.lines:
        assert all(0 <= x <= width and 0 <= y <= height for x, y in line.quad), line
        inside = luma[_box_mask(page.image.size, [line], 0)]
        assert inside.size, line
        assert inside.min() < 0.8 * np.percentile(inside, 95), f"no ink in the box of {line.text!r}"


def _assert_tight(line: PageTruth, ink: np.ndarray) -> None:
    """The ink reaches within 3 px of each side of the quad, measured along the line's own axes (a
    handwritten line is turned a little)."""
    ys, xs = np.nonzero(ink)
    if not xs.size:
        return
    corners = np.array(line.quad)
    along, across = corners[1] - corners[0], corners[3] - corners[0]
    length, height = np.linalg.norm(along), np.linalg.norm(across)
    points = np.stack([xs + 0.5, ys + 0.5], axis=1) - corners[0]
    u, v = points @ (along / length), points @ (across / height)
    assert u.min() <= 3 and v.min() <= 3 and u.max() >= length - 3 and v.max() >= height - 3, line


def test_pages_are_deterministic_per_seed_and_index(config: PageConfig, the_plan: PagePlan) -> None:
    first = render_page(3, config, the_plan)
    render_page(1, config, the_plan)  # another page in between changes nothing
    again = render_page(3, config, the_plan)
    assert first.encoded() == again.encoded() and first.lines == again.lines
    other_seed = render_page(3, replace(config, seed=8), the_plan)
    assert other_seed.encoded() != first.encoded()
    assert first.lines and all(line.text == unicodedata.normalize("NFC", line.text) for line in first.lines)


def test_clean_pages_have_their_ink_inside_the_boxes(config: PageConfig, the_plan: PagePlan) -> None:
    """On plain white paper without rules, no ink lies outside the boxes, and each box is tight."""
    clean = replace(clean_config(config), layouts=PRINT_LAYOUTS, handwriting_ratio=0.5)
    for index in range(1, 5):
        page = render_page(index, clean, the_plan)
        assert page.rotation == 0 and page.medium == "scan" and page.image.size == SIZE
        _assert_boxes_hold_ink(page)
        dark = _luma(page) < 128
        outside = _ink_outside(page, dark, 1)
        assert outside.sum() <= 0.002 * dark.sum(), (page.layout, int(outside.sum()), int(dark.sum()))
        inked = _luma(page) < 225  # clean white paper (246-255): any visible ink, antialiasing included
        for line in page.lines:
            _assert_tight(line, inked & _box_mask(SIZE, [line], 1))


def test_two_columns_are_read_one_after_the_other(config: PageConfig, the_plan: PagePlan) -> None:
    columns = replace(clean_config(config), layouts={"columns": 1.0}, handwriting_ratio=0.0)
    page = render_page(2, columns, the_plan)
    middle = SIZE[0] / 2
    sides = []
    for line in page.lines:
        xs = [x for x, _ in line.quad]
        if max(xs) < middle:
            sides.append(0)
        elif min(xs) > middle:
            sides.append(1)
    assert sides.count(0) >= 3 and sides.count(1) >= 1, sides
    assert sides == sorted(sides), "a right-column line came before a left-column one"


def test_forms_mix_print_labels_and_handwritten_answers_row_by_row(
    config: PageConfig, the_plan: PagePlan
) -> None:
    forms = replace(clean_config(config), layouts={"form": 1.0})
    page = render_page(1, forms, the_plan)
    _assert_boxes_hold_ink(page)
    assert set(page.fonts) == {face.name for face in config.fonts}, page.fonts
    tops = [min(y for _, y in line.quad) for line in page.lines]
    bottoms = [max(y for _, y in line.quad) for line in page.lines]
    for k in range(1, len(page.lines)):  # each line starts below the top of the one before: row order
        assert tops[k] >= tops[k - 1] - (bottoms[k - 1] - tops[k - 1]), page.lines[k - 1 : k + 1]


def test_turned_pages_are_their_straight_twins_turned(config: PageConfig, the_plan: PagePlan) -> None:
    straight = replace(config, degradations=replace(config.degradations, turn=0.0, jpeg=0.0), photo_ratio=0.0)
    turned = replace(straight, degradations=replace(straight.degradations, turn=1.0))
    rotations = set()
    for index in range(1, 4):
        plain, page = render_page(index, straight, the_plan), render_page(index, turned, the_plan)
        rotations.add(page.rotation)
        assert page.rotation in (90, 180, 270) and plain.rotation == 0
        assert page.image.tobytes() == plain.image.transpose(TRANSPOSE[page.rotation]).tobytes()
        matrix = turn_matrix(page.rotation, plain.image.size)
        for a, b in zip(plain.lines, page.lines, strict=True):
            assert np.allclose(apply(matrix, a.quad), b.quad) and a.text == b.text
        _assert_boxes_hold_ink(page)
        dark = _luma(page) < 110
        outside = _ink_outside(page, dark, 3)
        if page.layout in ("prose", "columns", "sections", "list") and plain.grey is False:
            assert outside.sum() <= 0.01 * dark.sum(), (page.layout, int(outside.sum()), int(dark.sum()))
    assert len(rotations) >= 2


def test_photographed_pages_keep_their_boxes_on_the_ink(config: PageConfig, the_plan: PagePlan) -> None:
    photos = replace(config, photo_ratio=1.0)
    for index in range(1, 3):
        page = render_page(index, photos, the_plan)
        assert page.medium == "photo" and page.jpeg is not None
        _assert_boxes_hold_ink(page)


def test_page_set_files_parse_and_agree(config: PageConfig, the_plan: PagePlan, tmp_path: Path) -> None:
    out = tmp_path / "pages"
    report = write_page_set(config, 2, out, the_plan=the_plan)
    assert report.pages == 2 and report.lines > 0
    names = sorted(p.name for p in out.iterdir())
    assert "manifest.json" in names and not any(n.startswith(".") for n in tmp_path.iterdir() if n != out)
    for k in (1, 2):
        stem = f"page-{k:06d}"
        image_file = next(out / n for n in names if n.startswith(stem) and n.endswith((".png", ".jpg")))
        lines = read_page_lines(out / f"{stem}.lines.json")
        with Image.open(image_file) as image:
            assert image.size == (lines["width"], lines["height"])
        gt = (out / f"{stem}.gt.txt").read_text(encoding="utf-8").splitlines()
        assert gt == [line["text"] for line in lines["lines"]] and gt
        assert all(unicodedata.is_normalized("NFC", text) for text in gt)
        box = lines["lines"][0]["box"]
        assert all(round(v, 1) == v for point in box for v in point)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["count"] == 2 and manifest["seed"] == config.seed and manifest["fonts"]
    with pytest.raises(OutputExistsError):
        write_page_set(config, 1, out, the_plan=the_plan)
    write_page_set(config, 1, out, the_plan=the_plan, overwrite=True)
    assert not (out / "page-000002.gt.txt").exists()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(KocrError, match="not from a page set"):
        write_page_set(config, 1, out, the_plan=the_plan, overwrite=True)


def test_cli_writes_a_page_set_and_refuses_to_overwrite(tmp_path: Path) -> None:
    fonts = [arg for f in NANUM_FONTS for arg in ("--font", f)]
    args = ["data", "synth", "--pages", "2", "--page-size", "600x800", "-o", "tmp", *fonts, "-j", "1"]
    result = run_kocr(*args, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "tmp"
    assert (out / "manifest.json").is_file() and (out / "page-000002.gt.txt").is_file()
    assert "wrote 2 pages" in result.stdout
    lines = read_page_lines(out / "page-000001.lines.json")
    assert {lines["width"], lines["height"]} == {600, 800}
    again = run_kocr(*args, cwd=tmp_path, timeout=120)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_no_traceback(again)
    assert run_kocr(*args, "--overwrite", cwd=tmp_path, timeout=120).returncode == 0
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".")]
