"""Synthetic forms: printed labels in a ruled table (or before underlines) with handwritten answers
beside or inside them. Reading order is row by row: a label, then its answer.

Labels and titles are the built-in ones below, or the page config's own labels (the dev page set uses
held-out texts), titles then coming from the text source.
"""

from __future__ import annotations

from kocr.data.synth.pages_layout import Layout, Pen, Rule, Sheet, fit, rgb, write

LABELS: tuple[str, ...] = (
    "성명", "이름", "생년월일", "주소", "연락처", "전화번호", "휴대전화", "이메일", "소속", "부서", "직위",
    "학교", "학년", "반", "번호", "성별", "나이", "국적", "신청일", "날짜", "기간", "목적", "내용", "비고",
    "금액", "수량", "품명", "단가", "합계", "담당자", "확인자", "서명", "보호자", "관계", "긴급 연락처",
    "우편번호", "직업", "회사명", "계좌번호", "은행명", "예금주", "신청 사유", "참가 인원", "방문 일시",
    "희망 시간", "차량 번호", "작성일", "주요 경력", "자격증", "취미", "특기", "건의 사항", "세대주",
    "접수 번호", "처리 기한", "제출 서류", "사업장", "근무지", "성명(한글)", "성명(영문)", "E-mail",
)  # fmt: skip
TITLES: tuple[str, ...] = (
    "신청서", "참가 신청서", "회원 가입 신청서", "방문 신청서", "개인정보 수집·이용 동의서", "입사 지원서",
    "출장 보고서", "물품 구매 요청서", "휴가 신청서", "설문지", "재직 증명서 발급 신청서", "민원 접수증",
    "수강 신청서", "봉사활동 확인서", "견적 요청서", "행사 참가 확인서", "이력서", "변경 신고서",
)  # fmt: skip


def _label(sheet: Sheet, pen: Pen, width: float) -> str:
    """A label the face draws that fits ``width``."""
    rng = sheet.rng
    pool = list(sheet.labels) or list(LABELS)
    for _ in range(20):
        text = pool[int(rng.integers(len(pool)))]
        if pen.draws(text) and pen.width(text) <= width:
            return text
    return fit(pen, sheet.stream.text(pen.coverage, 8), width)


def _answer(sheet: Sheet, pen: Pen, width: float) -> str:
    return fit(pen, sheet.stream.text(pen.coverage, int(sheet.rng.integers(2, 30))), width)


def form(sheet: Sheet) -> Layout:
    layout, rng = Layout("form"), sheet.rng
    w, h = sheet.width, sheet.height
    left = w * rng.uniform(0.06, 0.11)
    right = w - left * rng.uniform(0.9, 1.1)
    bottom = h * (1 - rng.uniform(0.06, 0.12))
    label = sheet.print_pen(sheet.px(19, 27))
    hand = sheet.hand_pen(sheet.px(30, 46))
    title = sheet.print_pen(label.size * rng.uniform(1.5, 2.2), bold=rng.random() < 0.7)
    title_text = (
        fit(title, sheet.stream.text(title.coverage, 16), right - left)
        if sheet.labels
        else _label_from(sheet, title, TITLES, right - left)
    )
    y = h * rng.uniform(0.05, 0.1)
    write(layout, title, title_text, rng, left, y + title.size, align="centre", width=right - left)
    y += title.size * rng.uniform(2.0, 3.0)
    if rng.random() < 0.6:
        y = _table(sheet, layout, label, hand, left, right, y, bottom)
    else:
        y = _underlines(sheet, layout, label, hand, left, right, y, bottom)
    if rng.random() < 0.5 and y + 3 * label.size < bottom:  # a closing sentence, a date or name by hand
        y += label.size * rng.uniform(1.5, 3.0)
        write(
            layout,
            label,
            fit(label, sheet.stream.text(label.coverage, 40), right - left),
            rng,
            left,
            y + label.size,
        )
        y += label.size * 2.5
        write(
            layout,
            hand,
            _answer(sheet, hand, (right - left) / 2),
            rng,
            left,
            y + hand.size,
            align="right",
            width=right - left,
        )
    return layout


def _label_from(sheet: Sheet, pen: Pen, pool: tuple[str, ...], width: float) -> str:
    candidates = [t for t in pool if pen.draws(t) and pen.width(t) <= width]
    return candidates[int(sheet.rng.integers(len(candidates)))] if candidates else ""


def _table(
    sheet: Sheet, layout: Layout, label: Pen, hand: Pen, left: float, right: float, y: float, bottom: float
) -> float:
    """Rows of label and answer cells (some rows hold two pairs, the last may be a tall answer box)."""
    rng = sheet.rng
    width = right - left
    row = label.size * rng.uniform(2.1, 3.0)
    hand.size = max(10, min(hand.size, round(row * rng.uniform(0.5, 0.65))))
    label_share = rng.uniform(0.18, 0.28)
    colour = rgb(rng.uniform(30, 100, 3)) if rng.random() < 0.3 else (60, 60, 60)
    thin = max(1, round(sheet.scale * rng.uniform(1.0, 2.2)))
    shade = rng.random() < 0.4
    centred = rng.random() < 0.4
    rows = int(rng.integers(5, 15))
    top = y
    pad = label.size * 0.4
    for index in range(rows):
        tall = index == rows - 1 and rng.random() < 0.35
        height = row * (rng.integers(2, 4) if tall else 1)
        if y + height > bottom:
            break
        pairs = 2 if not tall and rng.random() < 0.3 else 1
        span = width / pairs
        for pair in range(pairs):
            x = left + pair * span
            label_width = width * label_share / (1.25 if pair else 1)  # the first column lines up
            if shade:
                layout.fills.append(((x, y, x + label_width, y + height), (232, 232, 228)))
            text = _label(sheet, label, label_width - 2 * pad)
            label_y = (y + height / 2 if not tall else y + row / 2) + label.size * 0.38
            write(
                layout,
                label,
                text,
                rng,
                x + pad,
                label_y,
                align="centre" if centred else "left",
                width=label_width - 2 * pad if centred else 0,
            )
            _answers(sheet, layout, hand, x + label_width + pad, x + span - pad, y, height, row, tall)
            layout.rules.append(Rule((x + label_width, y), (x + label_width, y + height), thin, colour))
            if pair:
                layout.rules.append(Rule((x, y), (x, y + height), thin, colour))
        y += height
        layout.rules.append(Rule((left, y), (right, y), thin, colour))
    frame = max(thin, round(thin * rng.uniform(1, 2)))
    for start, end in (((left, top), (right, top)), ((left, top), (left, y)), ((right, top), (right, y))):
        layout.rules.append(Rule(start, end, frame, colour))
    return y


def _answers(
    sheet: Sheet,
    layout: Layout,
    hand: Pen,
    x0: float,
    x1: float,
    top: float,
    height: float,
    row: float,
    tall: bool,
) -> None:
    """Handwriting in an answer cell: one line (sometimes none), or a few in a tall cell."""
    rng = sheet.rng
    if rng.random() < 0.1:
        return
    lines = max(1, int(height / (hand.size * 1.7))) if tall else 1
    pitch = height / (lines + 0.5) if tall else 0
    for k in range(lines):
        baseline = top + (pitch * (k + 1) if tall else row / 2) + hand.size * (0.35 + rng.normal(0, 0.04))
        start = x0 + hand.size * rng.uniform(0, 0.8)
        write(layout, hand, _answer(sheet, hand, x1 - start), rng, start, baseline)


def _underlines(
    sheet: Sheet, layout: Layout, label: Pen, hand: Pen, left: float, right: float, y: float, bottom: float
) -> float:
    """``label: ________`` rows (one or two per row) with the answer written over the line."""
    rng = sheet.rng
    pitch = max(label.size, hand.size) * rng.uniform(2.0, 2.8)
    colon = ":" if rng.random() < 0.5 and label.draws(":") else ""
    thin = max(1, round(sheet.scale * rng.uniform(0.8, 1.8)))
    rows = int(rng.integers(5, 16))
    for _ in range(rows):
        if y + pitch > bottom:
            break
        baseline = y + pitch * 0.7
        pairs = 2 if rng.random() < 0.3 else 1
        span = (right - left) / pairs
        for pair in range(pairs):
            x = left + pair * span
            text = _label(sheet, label, span * 0.4)
            placed = write(layout, label, f"{text}{colon}" if text else "", rng, x, baseline)
            start = (max(p[0] for p in placed.quad) if placed else x) + label.size * 0.4
            end = x + span - label.size * (0.8 if pairs == 2 else 0)
            layout.rules.append(
                Rule((start, baseline + thin + 2), (end, baseline + thin + 2), thin, (70, 70, 70))
            )
            if rng.random() < 0.9:
                lift = hand.size * rng.uniform(0.1, 0.3)
                begin = start + hand.size * rng.uniform(0.2, 1.2)
                write(layout, hand, _answer(sheet, hand, end - begin), rng, begin, baseline - lift)
        y += pitch
    return y
