"""Render the README demo images in data/samples (committed; rerun to regenerate).

    python scripts/make_samples.py [-o data/samples]

Eight everyday Korean lines written for kocr, each in one print or handwriting face (held-out faces
included), lightly degraded by kocr's renderer, plus a gt.txt so `kocr eval --data data/samples` works.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fontsplit import font_files

from kocr.data.synth.config import Degradations, SynthConfig
from kocr.data.synth.fonts import faces_in_file, mark_handwriting
from kocr.data.synth.render import render_sample

LINES = (
    ("안녕하세요 반갑습니다", "NanumGothic.ttf"),
    ("한국어 손글씨 인식", "NanumPen.ttf"),
    ("서울특별시 종로구 세종대로 175", "NanumMyeongjo.ttf"),
    ("2026년 11월 21일 토요일", "UnBatang.ttf"),
    ("회의는 오후 3시에 시작합니다", "NanumBarunpenR.ttf"),
    ("가격: 12,000원", "NanumSquareR.ttf"),
    ("오늘 날씨가 맑습니다", "UnPilgi.ttf"),
    ("전화 010-1234-5678", "NanumBarunGothic.ttf"),
)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("data/samples"))
    args = parser.parse_args()
    files = {path.name: path for path in font_files()}
    config = SynthConfig(seed=7, height=(40, 48), degradations=Degradations().scaled(0.5))
    args.output.mkdir(parents=True, exist_ok=True)
    rows = []
    for number, (text, font_name) in enumerate(LINES, start=1):
        if font_name not in files:
            raise SystemExit(
                f"font {font_name} not found: install fonts-nanum fonts-nanum-extra fonts-unfonts-core"
            )
        face = mark_handwriting(
            faces_in_file(files[font_name])[0], ("NanumPen*", "NanumBarunpen*", "UnPilgi*")
        )
        data, extension = render_sample(text, face, number, config)
        name = f"{number:02d}.{extension}"
        (args.output / name).write_bytes(data)
        rows.append(f"{name}\t{text}")
    (args.output / "gt.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {len(rows)} images and gt.txt to {args.output}")


if __name__ == "__main__":
    main()
