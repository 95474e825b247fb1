"""Page layouts of running text, in paper pixels and reading order: prose, two columns, headings over
their sections, lists, and handwriting on ruled or squared notebook paper."""

from __future__ import annotations

import numpy as np

from kocr.data.synth.pages_layout import Layout, Pen, Rule, Sheet, fill_line, fit, justified, rgb, write


def paragraphs(
    sheet: Sheet,
    layout: Layout,
    pen: Pen,
    x0: float,
    width: float,
    top: float,
    bottom: float,
    style: dict[str, float],
) -> float:
    """Fill ``top``..``bottom`` with paragraphs; returns the next free y. ``style``: pitch (line
    spacing, px), indent (first-line indent, px), justify (0/1), gap (between paragraphs, in pitches)."""
    rng = sheet.rng
    y = top + pen.size
    while y <= bottom:
        count = 1 if rng.random() < 0.1 else int(rng.integers(2, 9))
        for i in range(count):
            last = i == count - 1
            indent = style["indent"] if i == 0 else 0.0
            room = width - indent
            text = fill_line(sheet, pen, room * (rng.uniform(0.15, 0.95) if last else 1.0))
            if not text:
                return y
            scale = justified(pen, text, room) if style["justify"] and not last else 1.0
            write(layout, pen, text, rng, x0 + indent, y, space_scale=scale)
            y += style["pitch"]
            if y > bottom:
                return y
        y += style["pitch"] * style["gap"] * rng.uniform(0.5, 1.5)
    return y


def _style(sheet: Sheet, pen: Pen) -> dict[str, float]:
    rng = sheet.rng
    return {
        "pitch": pen.size * rng.uniform(1.45, 1.95),
        "indent": pen.size * rng.choice((0.0, 1.0, 2.0)),
        "justify": float(not pen.hand and rng.random() < 0.6),
        "gap": rng.choice((0.0, 0.5, 1.0)),
    }


def _margins(sheet: Sheet) -> tuple[float, float, float, float]:
    """left, top, right, bottom edges of the text area."""
    w, h, rng = sheet.width, sheet.height, sheet.rng
    side = w * rng.uniform(0.07, 0.14)
    return (
        side,
        h * rng.uniform(0.05, 0.11),
        w - side * rng.uniform(0.85, 1.15),
        h * (1 - rng.uniform(0.06, 0.12)),
    )


def _title(sheet: Sheet, layout: Layout, x0: float, width: float, y: float, body: Pen) -> float:
    """A bigger, often bold, line centred (or left) at the top; returns the y below it."""
    rng = sheet.rng
    pen = (
        sheet.hand_pen(body.size * rng.uniform(1.2, 1.5))
        if body.hand
        else sheet.print_pen(
            body.size * rng.uniform(1.4, 2.1), other_face=rng.random() < 0.4, bold=rng.random() < 0.6
        )
    )
    text = fit(pen, sheet.stream.text(pen.coverage, int(rng.integers(6, 24))), width)
    write(
        layout,
        pen,
        text,
        rng,
        x0,
        y + pen.size,
        align="centre" if rng.random() < 0.6 else "left",
        width=width,
    )
    return y + pen.size * rng.uniform(2.0, 3.0)


def _page_number(sheet: Sheet, layout: Layout, pen: Pen, bottom: float) -> None:
    n = int(sheet.rng.integers(1, 300))
    text = str(sheet.rng.choice((f"- {n} -", str(n), f"{n}")))
    if pen.draws(text) and not pen.hand:
        y = bottom + (sheet.height - bottom) * 0.5
        write(layout, pen, text, sheet.rng, 0, y, align="centre", width=sheet.width)


def prose(sheet: Sheet) -> Layout:
    """One column of paragraphs, sometimes under a title, sometimes with a page number."""
    layout, rng = Layout("prose"), sheet.rng
    left, top, right, bottom = _margins(sheet)
    pen = sheet.body_pen()
    if rng.random() < 0.35:
        top = _title(sheet, layout, left, right - left, top, pen)
    if rng.random() < 0.25:  # the text ends part-way down the page
        bottom = top + (bottom - top) * rng.uniform(0.3, 0.9)
    paragraphs(sheet, layout, pen, left, right - left, top, bottom, _style(sheet, pen))
    if rng.random() < 0.3:
        _page_number(sheet, layout, pen, bottom)
    return layout


def columns(sheet: Sheet) -> Layout:
    """Two columns, read one after the other, under an optional title across both."""
    layout, rng = Layout("columns"), sheet.rng
    left, top, right, bottom = _margins(sheet)
    pen = sheet.hand_pen(sheet.px(26, 40)) if sheet.hand_page else sheet.print_pen(sheet.px(18, 26))
    if rng.random() < 0.5:
        top = _title(sheet, layout, left, right - left, top, pen)
    gutter = (right - left) * rng.uniform(0.04, 0.08)
    width = (right - left - gutter) / 2
    style = _style(sheet, pen)
    if rng.random() < 0.25:
        middle = left + width + gutter / 2
        layout.rules.append(Rule((middle, top), (middle, bottom), max(1, round(sheet.scale)), pen.colour))
    for column in range(2):
        end = bottom if column == 0 or rng.random() < 0.7 else top + (bottom - top) * rng.uniform(0.2, 0.9)
        paragraphs(sheet, layout, pen, left + column * (width + gutter), width, top, end, style)
    return layout


def sections(sheet: Sheet) -> Layout:
    """Headings, each in a bigger (often bold) face, over their paragraphs."""
    layout, rng = Layout("sections"), sheet.rng
    left, top, right, bottom = _margins(sheet)
    body = sheet.body_pen()
    style = _style(sheet, body)
    heading = (
        sheet.hand_pen(body.size * rng.uniform(1.15, 1.4))
        if body.hand
        else sheet.print_pen(
            body.size * rng.uniform(1.2, 1.7), other_face=rng.random() < 0.4, bold=rng.random() < 0.7
        )
    )
    numbering = str(rng.choice(("{n}.", "{n})", "제{n}장", "제{n}절", "", "")))
    y, n = top, int(rng.integers(1, 4))
    while y < bottom - 3 * style["pitch"]:
        mark = numbering.format(n=n)
        words = sheet.stream.text(heading.coverage, int(rng.integers(4, 20)))
        text = fit(heading, f"{mark} {words}" if mark and heading.draws(mark) else words, right - left)
        write(layout, heading, text, rng, left, y + heading.size)
        y += heading.size * rng.uniform(1.8, 2.4)
        end = min(bottom, y + style["pitch"] * rng.integers(2, 12))
        y = paragraphs(sheet, layout, body, left, right - left, y, end, style) + style["pitch"] * rng.uniform(
            0.3, 1.0
        )
        n += 1
    return layout


def listing(sheet: Sheet) -> Layout:
    """Items of very different lengths with bullets or numbers, some indented, some wrapped: a memo, a
    to-do list, a notice; dates, numbers and Latin come with the texts."""
    layout, rng = Layout("list"), sheet.rng
    left, top, right, bottom = _margins(sheet)
    pen = sheet.body_pen()
    if rng.random() < 0.5:
        top = _title(sheet, layout, left, right - left, top, pen)
    marks = [
        m
        for m in ("{n}.", "{n})", "({n})", "-", "•", "·", "○", "※", "{k}.", "")
        if pen.draws(m.format(n=1, k="가")) or not m
    ]
    mark = str(rng.choice(marks))
    pitch = pen.size * rng.uniform(1.5, 2.3)
    y, n = top + pen.size, 1
    while y <= bottom:
        indent = pen.size * 2 * (rng.random() < 0.2)
        bullet = mark.format(n=n, k="가나다라마바사아자차카타파하"[(n - 1) % 14])
        text = sheet.stream.text(pen.coverage, int(rng.integers(3, 60)))
        if not text:
            break
        hang = pen.width(bullet + " ") if bullet else 0.0
        room = right - left - indent
        item = f"{bullet} {text}" if bullet else text
        line = fit(pen, item, room)
        write(layout, pen, line, rng, left + indent, y)
        rest = item[len(line) :].strip()
        while rest and y + pitch <= bottom:  # wrapped under the text, past the bullet
            y += pitch
            line = fit(pen, rest, room - hang)
            if not line:
                break
            write(layout, pen, line, rng, left + indent + hang, y)
            rest = rest[len(line) :].strip()
        y += pitch * (1.6 if rng.random() < 0.15 else 1.0)
        n += 1
        if rng.random() < 0.02:
            break
    if rng.random() < 0.3 and y + pitch <= bottom:
        write(
            layout,
            pen,
            sheet.stream.text(pen.coverage, 14),
            rng,
            left,
            y + pitch,
            align="right",
            width=right - left,
        )
    return layout


def notebook(sheet: Sheet) -> Layout:
    """Handwriting on ruled (or squared) paper, each line sitting on a rule."""
    layout, rng = Layout("notebook"), sheet.rng
    w, h = sheet.width, sheet.height
    pen = sheet.hand_pen(sheet.px(28, 46))
    grid = sheet.paper == "grid" or (sheet.paper != "ruled" and rng.random() < 0.15)
    pitch = pen.size * (rng.uniform(1.25, 1.6) if grid else rng.uniform(1.45, 2.0))
    colour = rgb(np.array((160, 190, 225)) + rng.normal(0, 15, 3))
    thin = max(1, round(sheet.scale * rng.uniform(0.8, 1.6)))
    first = h * rng.uniform(0.07, 0.13)
    rows = np.arange(first, h * (1 - rng.uniform(0.02, 0.06)), pitch)
    for y in rows:
        layout.rules.append(Rule((0, y), (w, y), thin, colour))
    if grid:
        for x in np.arange(pitch * rng.uniform(0, 1), w, pitch):
            layout.rules.append(Rule((x, 0), (x, h), thin, colour))
    margin = w * rng.uniform(0.08, 0.15)
    if not grid and rng.random() < 0.6:
        layout.rules.append(Rule((margin, 0), (margin, h), thin, (220, 120, 125)))
    left, right = margin + pen.size * rng.uniform(0.2, 0.6), w * (1 - rng.uniform(0.04, 0.1))
    stop = int(len(rows) * rng.uniform(0.4, 1.0))
    new_paragraph = True
    for y in rows[1:stop]:
        if rng.random() < 0.08:
            new_paragraph = True
            continue
        indent = pen.size * rng.uniform(0.8, 2.0) if new_paragraph and rng.random() < 0.5 else 0.0
        ends = rng.random() < 0.22
        text = fill_line(sheet, pen, (right - left - indent) * (rng.uniform(0.25, 0.9) if ends else 1.0))
        if not text:
            break
        write(
            layout,
            pen,
            text,
            rng,
            left + indent + rng.normal(0, 0.1 * pen.size),
            y - pen.size * rng.uniform(0.06, 0.2),
        )
        new_paragraph = ends
    return layout
