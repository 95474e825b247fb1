"""Pages drawn with PIL and Debian's Korean fonts, with every line's ink box known: what the page
finder's benchmark times and its tests check against (tests/test_pages_find.py).

A page is paper (white, shaded, tinted, ruled or dark) with text blocks: one column, two columns, a
heading, a form. Each drawn line's box is the glyphs' box from ``ImageDraw.textbbox``, in the page's
pixels; turning a page turns the boxes into quads with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kocr.data.synth.fonts import FontFace, system_fonts
from kocr.pages.types import Quad, quad_from_box

SENTENCES = (
    "오늘은 날씨가 맑고 바람이 시원하게 불어서 산책하기에 좋은 날입니다.",
    "우리는 도서관에서 한국어 문법책을 빌려 함께 공부하기로 했습니다.",
    "회의는 다음 주 화요일 오후 세 시에 본관 이층 회의실에서 열립니다.",
    "이 제품은 가볍고 튼튼해서 여행을 다닐 때 들고 다니기 편합니다.",
    "할머니께서 보내 주신 김치를 맛있게 먹었다고 꼭 전해 드리세요.",
    "시험 결과는 이번 달 말에 학교 누리집을 통해 발표될 예정입니다.",
    "작은 가게였지만 주인 아저씨의 친절함 덕분에 손님이 끊이지 않았다.",
    "봄이 오면 강가를 따라 벚꽃이 피고 사람들이 모여 사진을 찍는다.",
)
FACES = {
    "gothic": "NanumGothic.ttf",
    "myeongjo": "NanumMyeongjo.ttf",
    "pen": "NanumPen.ttf",
    "brush": "NanumBrush.ttf",
    "batang": "UnBatang.ttf",
}


@dataclass(frozen=True)
class DrawnLine:
    """One drawn line: its text and its glyphs' box (left, top, right, bottom) or turned quad."""

    text: str
    quad: Quad

    @property
    def box(self) -> tuple[float, float, float, float]:
        xs = [x for x, _ in self.quad]
        ys = [y for _, y in self.quad]
        return min(xs), min(ys), max(xs), max(ys)


@dataclass
class DrawnPage:
    """A drawn page and its lines, in reading order."""

    image: Image.Image
    lines: list[DrawnLine] = field(default_factory=list)


@cache
def face(name: str = "gothic") -> FontFace:
    """A Debian Korean face by short name (:data:`FACES`)."""
    wanted = FACES[name]
    for found in system_fonts():
        if found.path.name == wanted:
            return found
    raise LookupError(f"font {wanted} is not installed (Debian: fonts-nanum, fonts-unfonts-core)")


def blank(width: int, height: int, paper: int | tuple[int, int, int] = 255) -> DrawnPage:
    """An empty page of one colour (grey level or RGB)."""
    mode = "L" if isinstance(paper, int) else "RGB"
    return DrawnPage(Image.new(mode, (width, height), paper))


def shade(page: DrawnPage, darkest: float = 0.6) -> None:
    """Uneven lighting: the page darkened towards its bottom-right corner (multiplied by a ramp from 1
    down to ``darkest``), as a photo taken under a lamp."""
    width, height = page.image.size
    ys, xs = np.mgrid[0:height, 0:width]
    light = 1.0 - (1.0 - darkest) * (xs / width + ys / height) / 2
    pixels = np.asarray(page.image, dtype=np.float64)
    if pixels.ndim == 3:
        light = light[:, :, None]
    page.image = Image.fromarray(np.clip(pixels * light, 0, 255).astype(np.uint8))


def rule(
    page: DrawnPage, top: int, spacing: int, colour: int | tuple[int, int, int] = 170, width: int = 1
) -> None:
    """Notebook rules: horizontal lines every ``spacing`` pixels from ``top`` across the page."""
    draw = ImageDraw.Draw(page.image)
    for y in range(top, page.image.height, spacing):
        draw.line([(0, y), (page.image.width, y)], fill=colour, width=width)


def write(
    page: DrawnPage,
    x: float,
    y: float,
    text: str,
    size: int = 24,
    face_name: str = "gothic",
    ink: int | tuple[int, int, int] = 0,
) -> DrawnLine:
    """``text`` drawn with its top-left at (x, y); its line recorded on the page."""
    font = face(face_name).load(size)
    draw = ImageDraw.Draw(page.image)
    draw.text((x, y), text, font=font, fill=ink)
    left, top, right, bottom = draw.textbbox((x, y), text, font=font)
    line = DrawnLine(text, quad_from_box(left, top, right, bottom))
    page.lines.append(line)
    return line


def wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """``text`` split at spaces into lines no wider than ``width`` pixels."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if current and font.getlength(candidate) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def column(
    page: DrawnPage,
    x: float,
    y: float,
    width: float,
    lines: int,
    size: int = 24,
    leading: float = 1.8,
    face_name: str = "gothic",
    ink: int | tuple[int, int, int] = 0,
    first: int = 0,
) -> float:
    """``lines`` lines of prose wrapped into a column ``width`` wide from (x, y); the y below it."""
    font = face(face_name).load(size)
    texts: list[str] = []
    sentence = first
    while len(texts) < lines:
        texts.extend(wrap(SENTENCES[sentence % len(SENTENCES)], font, width))
        sentence += 1
    for text in texts[:lines]:
        write(page, x, y, text, size, face_name, ink)
        y += size * leading
    return y


def text_page(
    width: int = 800,
    height: int = 1000,
    *,
    columns: int = 1,
    heading: str | None = None,
    lines: int = 10,
    size: int = 24,
    leading: float = 1.8,
    face_name: str = "gothic",
    paper: int | tuple[int, int, int] = 255,
    ink: int | tuple[int, int, int] = 0,
    margin: int = 60,
    gutter: float = 2.5,
) -> DrawnPage:
    """A page of prose: an optional heading across the page, then ``columns`` columns of ``lines``
    lines each, ``gutter`` text heights apart."""
    page = blank(width, height, paper)
    y = float(margin)
    if heading is not None:
        write(page, margin, y, heading, round(size * 1.6), face_name, ink)
        y += size * 1.6 * 2
    column_width = (width - 2 * margin - (columns - 1) * gutter * size) / columns
    for number in range(columns):
        column(
            page,
            margin + number * (column_width + gutter * size),
            y,
            column_width,
            lines,
            size,
            leading,
            face_name,
            ink,
            first=number * 3,
        )
    return page


def headed_page(times: float, face_name: str = "gothic", size: int = 24) -> DrawnPage:
    """A title ``times`` the body's size over four lines of body text: a title's ㅡ and ㄴ are then
    as long as a rule is against the body's text height."""
    page = blank(1400, 800)
    write(page, 60, 40, "한국어 문서 읽기 안내", round(size * times), face_name)
    column(page, 60, 60 + size * times * 1.8, 880, 4, size, 1.8, "gothic", 0)
    return page


def turned(page: DrawnPage, degrees: float, fill: int | tuple[int, int, int] = 255) -> DrawnPage:
    """The page turned ``degrees`` counter-clockwise about its centre (the canvas grown to hold it),
    its lines' quads turned with it."""
    image = page.image
    out = image.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=fill)
    cx, cy = image.width / 2, image.height / 2
    ox, oy = out.width / 2, out.height / 2
    cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))

    def turn(point: tuple[float, float]) -> tuple[float, float]:
        dx, dy = point[0] - cx, point[1] - cy
        return (ox + dx * cos + dy * sin, oy - dx * sin + dy * cos)

    lines = [DrawnLine(line.text, _quad([turn(p) for p in line.quad])) for line in page.lines]
    return DrawnPage(out, lines)


def boxes_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (left, top, right, bottom)."""
    width = min(a[2], b[2]) - max(a[0], b[0])
    height = min(a[3], b[3]) - max(a[1], b[1])
    if width <= 0 or height <= 0:
        return 0.0
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def write_wavy(
    page: DrawnPage,
    x: float,
    y: float,
    text: str,
    size: int = 28,
    face_name: str = "pen",
    amplitude: float = 0.15,
    period: float = 12.0,
    ink: int | tuple[int, int, int] = 0,
) -> DrawnLine:
    """Handwriting-like: ``text`` drawn syllable by syllable, its baseline waving by ``amplitude`` text
    heights over ``period`` syllables and each syllable's size varying a little."""
    draw = ImageDraw.Draw(page.image)
    left, top, right, bottom = math.inf, math.inf, -math.inf, -math.inf
    cursor = x
    for index, character in enumerate(text):
        offset = amplitude * size * math.sin(2 * math.pi * index / period)
        glyph_font = face(face_name).load(round(size * (1 + 0.08 * math.sin(index * 1.7))))
        draw.text((cursor, y + offset), character, font=glyph_font, fill=ink)
        box = draw.textbbox((cursor, y + offset), character, font=glyph_font)
        if character.strip():
            left, top = min(left, box[0]), min(top, box[1])
            right, bottom = max(right, box[2]), max(bottom, box[3])
        cursor += glyph_font.getlength(character)
    line = DrawnLine(text, quad_from_box(left, top, right, bottom))
    page.lines.append(line)
    return line


def form_page(width: int = 800, height: int = 1000, size: int = 24) -> DrawnPage:
    """A form: a table of label | answer rows with borders, then fill-in answers on underlines."""
    page = blank(width, height)
    draw = ImageDraw.Draw(page.image)
    labels = ("성명", "생년월일", "주소", "전화번호")
    answers = ("홍길동", "1990년 3월 1일", "서울시 종로구 세종대로 1", "010-1234-5678")
    top, row, left, split, right = 80, 60, 60, 260, width - 60
    for number in range(len(labels) + 1):
        draw.line([(left, top + number * row), (right, top + number * row)], fill=0, width=2)
    for x in (left, split, right):
        draw.line([(x, top), (x, top + len(labels) * row)], fill=0, width=2)
    for number, (label, answer) in enumerate(zip(labels, answers, strict=True)):
        y = top + number * row + (row - size) / 2 - 2
        write(page, left + 20, y, label, size)
        write(page, split + 20, y, answer, size, "pen")
    y = top + len(labels) * row + 80
    for label, answer in (("직업:", "회사원"), ("취미:", "등산과 독서")):
        write(page, left, y, label, size)
        write(page, left + 120, y - 4, answer, size, "pen")
        draw.line([(left + 110, y + size + 4), (right, y + size + 4)], fill=0, width=1)
        y += size * 3
    return page


def tight_form(width: int = 1000, height: int = 900, size: int = 22) -> DrawnPage:
    """A form whose answers follow their labels closely, as printed forms have them: a table with
    narrow label cells (the answer starts a word space after the border), then ``label: ____`` rows,
    two to a row, each answer written over its line a little after the line starts. The gaps are
    narrower than a word space of the handwriting: only the rules part label from answer."""
    page = blank(width, height)
    draw = ImageDraw.Draw(page.image)
    rows = (("성명", "홍길동"), ("소속", "한국대학교 국문과"), ("연락처", "010-2345-6789"))
    top, row, left, right = 60, 56, 60, width - 60
    split = left + round(size * 3.6)
    for number in range(len(rows) + 1):
        draw.line([(left, top + number * row), (right, top + number * row)], fill=0, width=2)
    for x in (left, split, right):
        draw.line([(x, top), (x, top + len(rows) * row)], fill=0, width=2)
    for number, (label, answer) in enumerate(rows):
        y = top + number * row + (row - size) / 2 - 2
        write(page, left + 8, y, label, size)
        write(page, split + 8, y - 4, answer, round(size * 1.3), "pen")
    y = top + len(rows) * row + 70
    pairs = ((("직업:", "회사원"), ("취미:", "등산")), (("주소:", "서울시 종로구"), ("날짜:", "삼월 일일")))
    for row_pairs in pairs:
        for pair, (label, answer) in enumerate(row_pairs):
            x = left + pair * (right - left) / 2
            drawn = write(page, x, y, label, size)
            start = drawn.box[2] + size * 0.4
            end = x + (right - left) / 2 - size * (0.8 if pair == 0 else 0)
            draw.line([(start, y + size + 3), (end, y + size + 3)], fill=0, width=2)
            write(page, start + size * 0.3, y - 8, answer, round(size * 1.3), "pen")
        y += size * 3
    return page


def colon_form(width: int = 900, height: int = 700, size: int = 22) -> DrawnPage:
    """``label: ____`` rows as a printed form has them, the answer line starting right after the colon
    at the label's foot and a smaller handwritten answer on it: beside the gap are the colon's lower
    dot and the first piece of a handwritten syllable, far shorter than a line."""
    page = blank(width, height)
    draw = ImageDraw.Draw(page.image)
    rows = (
        ("정렬규칙:", "사용자 권한을"),
        ("압축오프셋:", "이름 없음"),
        ("출력 형식 옵션:", "부적절한 탐색 방향"),
        ("아이콘셋:", "옵션은 끝"),
        ("시퀀스이름:", "잘못된 수치 설정 값"),
    )
    y, left, right = 60, 60, width - 60
    for label, answer in rows:
        drawn = write(page, left, y, label, size)
        foot = drawn.box[3] + 1
        start = drawn.box[2] + 2
        draw.line([(start, foot), (right, foot)], fill=0, width=2)
        write(page, start + size * 0.9, foot - round(size * 1.1), answer, size, "pen")
        y += size * 4
    return page


def graph_paper(
    width: int = 900, height: int = 700, pitch: int = 26, size: int = 30, every: int = 3
) -> DrawnPage:
    """Handwriting on graph paper: dark grid lines every ``pitch`` pixels both ways, running through the
    text, a line of text every ``every`` rows of cells; every line of text one line (the grid's lines
    part nothing)."""
    page = blank(width, height)
    draw = ImageDraw.Draw(page.image)
    for x in range(pitch // 2, width, pitch):
        draw.line([(x, 0), (x, height)], fill=110, width=1)
    for y in range(pitch // 2, height, pitch):
        draw.line([(0, y), (width, y)], fill=110, width=1)
    for number in range(6):
        write(page, 50, 60 + number * pitch * every, SENTENCES[number][:22], size, "pen")
    return page


def squared_notebook(width: int = 1000, height: int = 800, pitch: int = 26, size: int = 22) -> DrawnPage:
    """A squared exercise book: a light blue grid of ``pitch`` pixel cells and a handwritten line in
    every row of cells, so the grid runs through and between the lines (dev pages' worst hand scans)."""
    page = blank(width, height)
    page.image = page.image.convert("RGB")
    draw = ImageDraw.Draw(page.image)
    for x in range(pitch // 2, width, pitch):
        draw.line([(x, 0), (x, height)], fill=(150, 185, 235), width=1)
    for y in range(pitch // 2, height, pitch):
        draw.line([(0, y), (width, y)], fill=(150, 185, 235), width=1)
    for number in range(8):
        write(
            page,
            40,
            pitch // 2 + 4 + number * pitch,
            SENTENCES[number % len(SENTENCES)][:26],
            size,
            "pen",
            (40, 40, 60),
        )
    return page


def write_words(
    page: DrawnPage,
    x: float,
    y: float,
    words: Sequence[str],
    width: float,
    size: int = 24,
    face_name: str = "gothic",
    widest: float | None = None,
) -> DrawnLine:
    """``words`` drawn one by one from (x, y) and spread to fill ``width`` (justified: the spare room
    shared between the gaps, each at most ``widest`` pixels when given); the line recorded with the
    union of the words' boxes."""
    font = face(face_name).load(size)
    draw = ImageDraw.Draw(page.image)
    spare = width - sum(font.getlength(word) for word in words)
    gap = spare / max(1, len(words) - 1)
    if widest is not None:
        gap = min(gap, widest)
    boxes = []
    cursor = x
    for word in words:
        draw.text((cursor, y), word, font=font, fill=0)
        boxes.append(draw.textbbox((cursor, y), word, font=font))
        cursor += font.getlength(word) + gap
    left, top = min(b[0] for b in boxes), min(b[1] for b in boxes)
    right, bottom = max(b[2] for b in boxes), max(b[3] for b in boxes)
    line = DrawnLine(" ".join(words), quad_from_box(left, top, right, bottom))
    page.lines.append(line)
    return line


def justified_columns(
    width: int = 900,
    height: int = 1000,
    *,
    lines: int = 12,
    size: int = 22,
    gutter: float = 2.4,
    gaps: tuple[float, float] = (0.9, 1.6),
    seed: int = 0,
) -> DrawnPage:
    """Two columns of justified text whose word spaces are wide (``gaps``: from and to, in text sizes,
    drawn per line), ``gutter`` text sizes apart, under a heading across both: the page that breaks
    lines into words when word spaces are taken for gutters."""
    rng = np.random.default_rng(seed)
    page = blank(width, height)
    margin = 50
    write(page, margin, margin, "두 단으로 짠 양쪽 맞춤 문서", round(size * 1.5))
    top = margin + size * 3.2
    column = (width - 2 * margin - gutter * size) / 2
    font = face("gothic").load(size)
    words = " ".join(SENTENCES).split()
    position = 0
    for number in range(2):
        x = margin + number * (column + gutter * size)
        y = top
        for _ in range(lines):
            wanted = rng.uniform(*gaps) * size
            chosen: list[str] = []
            while True:
                word = words[position % len(words)]
                trial = [*chosen, word]
                room = column - sum(font.getlength(w) for w in trial)
                if chosen and room < wanted * (len(trial) - 1):
                    break
                chosen = trial
                position += 1
            write_words(page, x, y, chosen, column, size, widest=gaps[1] * size)
            y += size * 1.7
    return page


def titled_form(
    width: int = 900, height: int = 800, size: int = 22, missing: Sequence[int] = (1, 3)
) -> DrawnPage:
    """A title centred over rows of short labels and longer handwritten answers, the answers starting
    at the same x; the rows in ``missing`` have no label (an answer running on). The title does not
    reach over the gutter between labels and answers, which a reading order must not read first."""
    page = blank(width, height)
    write(page, width / 2 - 2.5 * size, 60, "참가 신청서", round(size * 1.6))
    labels = ("성명", "소속", "연락처", "주소", "신청 사유", "비고")
    answers = (
        "홍길동",
        "한국대학교 국어국문학과 삼학년",
        "010-2345-6789",
        "서울시 종로구 세종대로 이길",
        "우리말 글쓰기를 더 배우고 싶어서",
        "없음",
    )
    y = 60 + size * 4
    for number, (label, answer) in enumerate(zip(labels, answers, strict=True)):
        if number not in missing:
            write(page, 60, y, label, size)
        write(page, width * 0.36, y - 3, answer, round(size * 1.2), "pen")
        y += size * 2.4
    return page


def cell_table(width: int = 1000, height: int = 700, size: int = 22, border: int = 4) -> DrawnPage:
    """A table of short rows split into cells at other places in each row, the text close to the cell
    borders, the borders ``border`` pixels wide (a thin border blurred in a photo): a border between
    two cells is one row tall, under three text heights, too short to be a rule."""
    page = blank(width, height)
    draw = ImageDraw.Draw(page.image)
    rows = (
        ("페이지 순서", "최소 비트레이트", "벨리즈 달러", "심볼릭 링크"),
        ("작업 플래그", "정렬한 과 를", "텍스트 열", "이름 없음"),
        ("휘발성", "단계 크기는", "포르투갈어 사전"),
    )
    top, row, left, right = 60, round(size * 2.3), 60, width - 60
    for number in range(len(rows) + 1):
        draw.line([(left, top + number * row), (right, top + number * row)], fill=0, width=2)
    for number, cells in enumerate(rows):
        y0 = top + number * row
        step = (right - left) / len(cells)
        splits = [left] + [left + round(i * step + (number - 1) * size) for i in range(1, len(cells))]
        for x in (*splits, right):
            draw.line([(x, y0), (x, y0 + row)], fill=0, width=border)
        face_name = "pen" if number % 2 else "gothic"
        for x, text in zip(splits, cells, strict=True):
            write(page, x + border + 4, y0 + (row - size) / 2 - 2, text, size, face_name)
    return page


def framed_table(width: int = 900, height: int = 1200, size: int = 22) -> DrawnPage:
    """A title over a table with a thick frame, label | answer cells and nothing else on the page: the
    frame holds every line inside it, which must not be stacked into it as one syllable."""
    page = blank(width, height)
    draw = ImageDraw.Draw(page.image)
    write(page, width / 2 - 2.5 * size, 50, "회원 가입 신청서", round(size * 1.4))
    labels = ("이름", "생년월일", "주소", "전화번호", "직업")
    answers = ("김민수", "1988년 5월 2일", "부산시 해운대구 우동", "010-9876-5432", "교사")
    top, row, left, split, right = 140, 64, 60, 250, width - 60
    for number in range(len(labels) + 1):
        draw.line([(left, top + number * row), (right, top + number * row)], fill=40, width=2)
    for x in (left, split, right):
        draw.line([(x, top), (x, top + len(labels) * row)], fill=40, width=2)
    draw.rectangle([left - 3, top - 3, right + 3, top + len(labels) * row + 3], outline=40, width=4)
    for number, (label, answer) in enumerate(zip(labels, answers, strict=True)):
        y = top + number * row + (row - size) / 2 - 2
        write(page, left + 18, y, label, size)
        write(page, split + 18, y - 4, answer, round(size * 1.2), "pen")
    return page


def sheet_on_desk(width: int = 1400, height: int = 1000, desk: int = 35) -> DrawnPage:
    """A sparse sheet (a title and a few short lines) photographed on a dark desk that fills more of
    the picture than the sheet: the sheet's long bright edges outnumber its ink."""
    sheet = blank(600, 820, 235)
    write(sheet, 200, 60, "방문 신청서", 30)
    for number, text in enumerate(("성명  김영희", "날짜  오월 삼일", "목적  견학")):
        write(sheet, 60, 160 + number * 60, text, 22)
    page = blank(width, height, desk)
    offset = ((width - 600) // 2, (height - 820) // 2)
    page.image.paste(sheet.image, offset)
    page.lines = [
        DrawnLine(line.text, _quad([(x + offset[0], y + offset[1]) for x, y in line.quad]))
        for line in sheet.lines
    ]
    return page


def homography(source: Sequence[tuple[float, float]], target: Sequence[tuple[float, float]]) -> np.ndarray:
    """The 3×3 projective map taking four ``source`` points to four ``target`` points."""
    rows, values = [], []
    for (x, y), (u, v) in zip(source, target, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        values.extend([u, v])
    solution = np.linalg.solve(np.array(rows, float), np.array(values, float))
    return np.append(solution, 1.0).reshape(3, 3)


def warped(
    page: DrawnPage, squeeze: float = 0.08, fill: int | tuple[int, int, int] = 255, edge: str = "top"
) -> DrawnPage:
    """The page as photographed at a slant: its top edge ``squeeze`` of the width narrower on each side
    than its bottom (a perspective warp), its lines' quads mapped with it; ``edge="left"``: its left
    edge that much of the height shorter than its right, so the text lines converge to the left."""
    width, height = page.image.size
    corners = [(0, 0), (width, 0), (width, height), (0, height)]
    if edge == "left":
        inset = squeeze * height
        target = [(0, inset), (width, 0), (width, height), (0, height - inset)]
    else:
        inset = squeeze * width
        target = [(inset, 0), (width - inset, 0), (width, height), (0, height)]
    backward = homography(target, corners)  # output pixel → page pixel, what PIL wants
    forward = homography(corners, target)
    image = page.image.transform(
        (width, height),
        Image.Transform.PERSPECTIVE,
        tuple(backward.ravel()[:8]),
        Image.Resampling.BICUBIC,
        fillcolor=fill,
    )

    def move(point: tuple[float, float]) -> tuple[float, float]:
        u, v, w = forward @ np.array([point[0], point[1], 1.0])
        return (u / w, v / w)

    lines = [DrawnLine(line.text, _quad([move(p) for p in line.quad])) for line in page.lines]
    return DrawnPage(image, lines)


def photographed(
    page: DrawnPage, degrees: float, squeeze: float, fill: int | tuple[int, int, int] = 255
) -> DrawnPage:
    """The page as photographed: :func:`turned` by ``degrees``, then :func:`warped` by ``squeeze`` (its
    far edge narrower), the uncovered corners ``fill``; the page itself when ``degrees`` is 0."""
    if not degrees:
        return page
    return warped(turned(page, degrees, fill=fill), squeeze, fill=fill)


def _quad(points: list[tuple[float, float]]) -> Quad:
    return (points[0], points[1], points[2], points[3])
