"""Whole pages read end to end with the bundled model: drawn pages (Debian Korean fonts) read in reading
order, turned pages turned back, blank pages empty, line crops untouched, and the CLI's page output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO_ROOT, run_kocr
from PIL import Image

from benchmarks import page_fixtures as pf
from kocr.errors import KocrError
from kocr.load import load_recognizer
from kocr.pages.metrics import score_page
from kocr.pages.reader import PageReader
from kocr.runtime.base import Prediction

try:
    pf.face("gothic")
except LookupError as missing:  # pragma: no cover - Debian's fonts-nanum is a test dependency
    pytest.skip(str(missing), allow_module_level=True)

SAMPLES = sorted((REPO_ROOT / "data" / "samples").glob("0*.*"))


@pytest.fixture(scope="module")
def reader() -> PageReader:
    return PageReader(load_recognizer("default", device="cpu"), layout="page")


@pytest.fixture(scope="module")
def two_columns() -> pf.DrawnPage:
    return pf.text_page(900, 900, columns=2, heading="안내 말씀", lines=4, size=26)


def _texts(page: pf.DrawnPage) -> list[str]:
    return [line.text for line in page.lines]


def test_a_two_column_page_reads_in_reading_order(reader: PageReader, two_columns: pf.DrawnPage) -> None:
    result = reader.read_page(two_columns.image)
    score = score_page(_texts(two_columns), [line.text for line in result.lines])
    assert score.cer <= 0.05, result.text
    assert score.found == score.lines
    assert result.lines[0].text == "안내 말씀"  # the heading first, then the left column, then the right
    assert result.rotation == 0
    left, top, right, bottom = two_columns.lines[1].box
    (x0, y0), _, (x1, y1), _ = result.lines[1].box
    assert abs(x0 - left) < 15 and abs(y0 - top) < 15 and abs(x1 - right) < 15 and abs(y1 - bottom) < 15


@pytest.mark.parametrize("degrees", [90, 180, 270])
def test_a_turned_page_is_turned_back(reader: PageReader, two_columns: pf.DrawnPage, degrees: int) -> None:
    turned = two_columns.image.rotate(-degrees, expand=True, fillcolor=255)  # clockwise
    result = reader.read_page(turned)
    assert result.rotation == degrees
    assert score_page(_texts(two_columns), [line.text for line in result.lines]).cer <= 0.05
    assert (result.width, result.height) == turned.size
    xs = [x for line in result.lines for x, _ in line.box]
    ys = [y for line in result.lines for _, y in line.box]
    assert min(xs) >= 0 and max(xs) <= turned.width and min(ys) >= 0 and max(ys) <= turned.height


def test_a_blank_page_is_an_empty_page(reader: PageReader) -> None:
    for paper in (255, 200, (240, 230, 200)):
        result = reader.read_page(pf.blank(800, 1000, paper).image)
        assert result.text == "" and result.lines == []


def test_line_crops_read_exactly_as_before(reader: PageReader) -> None:
    images = [Image.open(path) for path in SAMPLES]
    direct = reader.recognizer.predict_images(images)
    auto = PageReader(reader.recognizer, layout="auto").predict_images(images)
    assert all(isinstance(result, Prediction) for result in auto)
    assert auto == direct
    as_page = reader.read_page(images[2])  # a crop given as a page: one line, the same reading
    assert [line.text for line in as_page.lines] == [direct[2].text]
    assert as_page.lines[0].confidence == direct[2].confidence


def test_a_large_photo_is_found_small_and_read_at_full_size(reader: PageReader) -> None:
    page = pf.text_page(6000, 8000, lines=3, size=150, margin=400)  # 48 megapixels
    result = reader.read_page(page.image)
    assert score_page(_texts(page), [line.text for line in result.lines]).cer <= 0.05


def test_predict_cli_writes_pages_with_their_lines(tmp_path: Path, two_columns: pf.DrawnPage) -> None:
    two_columns.image.save(tmp_path / "page.png")
    Image.open(SAMPLES[2]).save(tmp_path / "line.png")
    out = tmp_path / "out.jsonl"
    result = run_kocr("predict", tmp_path, "-o", out, "--txt-dir", tmp_path / "texts")
    assert result.returncode == 0, result.stderr
    records = {r["path"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    page = records["page.png"]
    assert page["layout"] == "page" and page["text"].split("\n")[0] == "안내 말씀"
    assert len(page["lines"]) == len(two_columns.lines) and len(page["lines"][0]["box"]) == 4
    assert "layout" not in records["line.png"]  # a line crop's record is as it always was
    assert (tmp_path / "texts" / "page.txt").read_text("utf-8") == page["text"] + "\n"
    again = run_kocr("predict", tmp_path, "--txt-dir", tmp_path / "texts")
    assert again.returncode != 0 and "exists; pass --overwrite" in again.stderr
    table = run_kocr("predict", tmp_path / "page.png", "--layout", "page")
    assert table.returncode == 0 and "9 lines" in table.stdout and "안내 말씀" in table.stdout


@pytest.mark.parametrize(("times", "face"), [(3.0, "gothic"), (3.0, "myeongjo"), (4.0, "gothic")])
def test_a_title_several_times_the_body_size_keeps_its_strokes(
    reader: PageReader, times: float, face: str
) -> None:
    # Its ㅡ, ㅓ's bar and ㄴ's foot are as long as rules of the body text: erased as rules, 문서 read 모사.
    page = pf.headed_page(times, face)
    result = reader.read_page(page.image)
    assert result.lines[0].text == "한국어 문서 읽기 안내"
    assert score_page(_texts(page), [line.text for line in result.lines]).cer <= 0.02


def test_a_page_whose_text_is_too_small_to_read_well_says_so(tmp_path: Path) -> None:
    # Text 7 px tall reads as scraps: the page's record and the terminal say why; 13 px text reads well.
    pf.text_page(500, 300, lines=5, size=8, margin=30).image.save(tmp_path / "tiny.png")
    pf.text_page(700, 400, lines=5, size=14, margin=30).image.save(tmp_path / "fine.png")
    out = tmp_path / "out.jsonl"
    result = run_kocr("predict", tmp_path, "--layout", "page", "-o", out)
    assert result.returncode == 0, result.stderr
    records = {r["path"]: r for r in map(json.loads, out.read_text("utf-8").splitlines())}
    (note,) = records["tiny.png"]["notes"]
    assert "about 7 px tall" in note and "higher resolution" in note
    assert "notes" not in records["fine.png"]
    assert "warning: tiny.png: its text is about 7 px tall" in result.stderr
    assert "fine.png" not in result.stderr


def test_predict_writes_the_same_pages_one_or_two_at_a_time(
    tmp_path: Path, two_columns: pf.DrawnPage
) -> None:
    two_columns.image.save(tmp_path / "a.png")
    pf.text_page(700, 400, lines=4, size=20, margin=30).image.save(tmp_path / "b.png")
    two_columns.image.rotate(180).save(tmp_path / "c.png")
    Image.open(SAMPLES[1]).save(tmp_path / "d.png")
    outputs = []
    for at_once in ("1", "2"):
        out = tmp_path / f"{at_once}.jsonl"
        result = run_kocr("predict", tmp_path, "--pages-at-once", at_once, "-o", out)
        assert result.returncode == 0, result.stderr
        outputs.append(out.read_text("utf-8"))
    assert outputs[0] == outputs[1]
    assert [json.loads(r)["path"] for r in outputs[1].splitlines()] == ["a.png", "b.png", "c.png", "d.png"]


def test_eval_layout_page_scores_pages(tmp_path: Path, two_columns: pf.DrawnPage) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    two_columns.image.save(pages / "p1.png")
    (pages / "p1.gt.txt").write_text("\n".join(_texts(two_columns)) + "\n", encoding="utf-8")
    log, summary = tmp_path / "log.txt", tmp_path / "summary.json"
    result = run_kocr("eval", "--layout", "page", pages, "--log-file", log, "--summary-json", summary)
    assert result.returncode == 0, result.stderr
    figures = json.loads(summary.read_text("utf-8"))["combined"]
    assert figures["pages"] == 1 and figures["page_cer"] <= 0.05 and figures["lines_found"] == 1.0
    rows = log.read_text("utf-8").splitlines()
    assert len(rows) == 2 and rows[1].startswith("p1.png\t안내 말씀\\n")
    refused = run_kocr("eval", "--layout", "page", pages, "--confusions", "--log-file", tmp_path / "x.txt")
    assert refused.returncode == 2 and "--layout page contradicts --confusions" in refused.stderr


def test_eval_layout_page_reports_an_unreadable_page_and_scores_the_rest_in_order(
    tmp_path: Path, two_columns: pf.DrawnPage
) -> None:
    # Pages are laid out a page ahead in a second thread: a page that fails there is still reported in
    # its place, and the pages around it are scored and logged in order.
    pages = tmp_path / "pages"
    pages.mkdir()
    text = "\n".join(_texts(two_columns)) + "\n"
    for name in ("a.png", "c.png"):
        two_columns.image.save(pages / name)
        (pages / name).with_suffix(".gt.txt").write_text(text, encoding="utf-8")
    (pages / "b.png").write_bytes(b"\x89PNG\r\n\x1a\n not a picture")
    (pages / "b.gt.txt").write_text(text, encoding="utf-8")
    log, summary = tmp_path / "log.txt", tmp_path / "summary.json"
    result = run_kocr("eval", "--layout", "page", pages, "--log-file", log, "--summary-json", summary)
    assert result.returncode == 0, result.stderr
    assert "b.png" in result.stderr and "not scored" in result.stderr and "Traceback" not in result.stderr
    figures = json.loads(summary.read_text("utf-8"))["combined"]
    assert (figures["pages"], figures["unreadable"]) == (2, 1) and figures["page_cer"] <= 0.05
    assert [row.split("\t")[0] for row in log.read_text("utf-8").splitlines()[1:]] == ["a.png", "c.png"]


class _Fixed:
    """A stand-in recogniser: every line reads as the same text, surely."""

    def predict_images(self, images: list[Image.Image]) -> list[Prediction]:
        return [Prediction("가나다", 0.99) for _ in images]


def test_a_page_whose_lines_run_across_is_analysed_once(
    monkeypatch: pytest.MonkeyPatch, two_columns: pf.DrawnPage
) -> None:
    import kocr.pages.find as find
    import kocr.pages.orientation as orientation

    calls = []
    analyse = find.analyse_page

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return analyse(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(find, "analyse_page", counted)
    monkeypatch.setattr(orientation, "analyse_page", counted)
    reader = PageReader(_Fixed(), layout="page")  # type: ignore[arg-type]
    page = reader.read_page(two_columns.image)
    assert (len(page.lines), page.rotation, len(calls)) == (len(two_columns.lines), 0, 1)
    calls.clear()
    turned = reader.read_page(two_columns.image.transpose(Image.Transpose.ROTATE_270))
    assert (len(turned.lines), turned.rotation % 180, len(calls)) == (len(two_columns.lines), 90, 2)


def test_pages_read_at_once_come_back_in_order_and_as_read_alone(
    reader: PageReader, two_columns: pf.DrawnPage
) -> None:
    """Two pages at a time (threads) give each page exactly what reading it alone gives, in input
    order, line crops among them kept in place."""
    crop = Image.open(SAMPLES[0])
    images = [
        two_columns.image,
        pf.blank(800, 1000, 230).image,
        crop,
        two_columns.image.rotate(-90, expand=True, fillcolor=255),
        pf.text_page(700, 500, columns=1, lines=3, size=24).image,
    ]
    auto = PageReader(reader.recognizer, layout="auto", pages_at_once=1)
    alone = auto.predict_images(images)
    together = PageReader(reader.recognizer, layout="auto", pages_at_once=2).predict_images(images)
    assert together == alone
    assert isinstance(together[2], Prediction) and together[1].text == ""
    assert together[3].rotation == 90 and together[0].text == together[3].text


def test_pages_at_once_is_at_least_one(reader: PageReader) -> None:
    with pytest.raises(KocrError, match="pages_at_once must be at least 1"):
        PageReader(reader.recognizer, pages_at_once=0)


def test_a_way_up_already_settled_is_read_that_way(reader: PageReader, two_columns: pf.DrawnPage) -> None:
    """The second look reads its lines the way up the first reading settled, without trying again."""
    upside_down = two_columns.image.rotate(180, fillcolor=255)
    laid_out = reader.layout_page(upside_down)
    found_out = reader._read_lines(upside_down, laid_out)
    assert found_out.rotation == 180
    assert reader._read_lines(upside_down, laid_out, turned=True) == found_out
    as_is = reader._read_lines(upside_down, laid_out, turned=False)
    assert as_is.rotation == 0 and score_page(_texts(two_columns), [ln.text for ln in as_is.lines]).cer > 0.5


def test_read_all_reads_files_lazily_in_order(
    reader: PageReader, two_columns: pf.DrawnPage, tmp_path: Path
) -> None:
    two_columns.image.save(tmp_path / "page.png")
    Image.open(SAMPLES[0]).save(tmp_path / "line.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")
    paths = [tmp_path / "page.png", tmp_path / "line.png", tmp_path / "broken.png"]
    auto = PageReader(reader.recognizer, layout="auto")
    results = auto.read_all(p for p in paths)  # a generator: nothing is loaded up front
    page, line = next(results), next(results)
    assert page == reader.read_page(two_columns.image)
    assert line == reader.recognizer.predict_images([Image.open(SAMPLES[0])])[0]
    with pytest.raises(KocrError, match=r"broken\.png"):
        next(results)
