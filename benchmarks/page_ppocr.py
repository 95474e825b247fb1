"""The ``ppocr`` line finder (PP-OCRv4's text detector) on whole pages: seconds per page, peak memory, and
how many drawn Korean lines it finds, for each page size and network input limit.

    python -m benchmarks.page_ppocr [--sizes 1240x1754 2480x3508 4000x3000 8192x6144]
                                    [--limits 960 1280 1536] [--repeats 2] [--threads N]

Pages: white RGB pages of the given sizes (A4 at 150 and 300 dpi, a 12-megapixel photo, a 50-megapixel
one), filled top to bottom with lines of Korean words from kocr's word list, seeded, in Korean system
fonts (a gothic and a myeongjo where Debian has them, else Noto Sans KR from the dev extra). Text
heights run from 0.5 % to 2.4 % of the page's long side (about 4 to 20 pt on an A4 page, or 10 pt text
in a phone photo of a page that fills 70 % of the frame, for the smallest); every
sixth line is turned by ±3°. Each page is the same layout scaled, so the limits compare alike.

Columns: the network's input size; seconds per page (``find``: resize, network, post-processing;
best of ``--repeats`` after a warm-up) on ``--threads`` onnxruntime threads; the process's peak RSS in
MB before ``find`` (Python, the libraries, the session and the page) and after it, and the page image's
own size; the lines found (a found quad's bounding box with IoU ≥ 0.5 to a drawn line's ink box, one
to one), the loose ones among the rest (best IoU 0.3–0.5: found, in a box much taller than the ink), the
regions matching no line, the median over drawn lines of the best IoU, and the smallest text height
(em, px on the page) found and not found. Each (size, limit) runs in a fresh process, so its peak RSS
is its own.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import random
import resource
import statistics
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib import resources

from PIL import Image, ImageDraw, ImageFont

from benchmarks.timing import best_of

Box = tuple[float, float, float, float]
DEFAULT_SIZES = ["1240x1754", "2480x3508", "4000x3000", "8192x6144"]
TEXT_HEIGHTS = (0.005, 0.006, 0.008, 0.010, 0.012, 0.016, 0.020, 0.024)  # em size / the page's long side


@dataclass(frozen=True)
class Case:
    width: int
    height: int
    limit: int
    repeats: int
    threads: int | None


@dataclass(frozen=True)
class Outcome:
    input_size: tuple[int, int]
    seconds: float
    peak_rss_mb: float
    before_find_mb: float
    page_mb: float
    found: int
    total: int
    extras: int
    loose: int
    median_iou: float
    smallest_found: int | None
    smallest_missed: int | None


def korean_fonts() -> list[str]:
    """Font files for the pages: a Korean gothic and myeongjo from the system, or Noto Sans KR."""
    from kocr.data.synth.fonts import system_fonts

    faces = [face for face in system_fonts() if not face.handwriting and face.index == 0]
    picked = [next((f for f in faces if key in f.family), None) for key in ("Gothic", "Myeongjo")]
    paths = [str(face.path) for face in picked if face is not None]
    if paths:
        return paths
    import pylopdf_fonts_ko

    return [str(pylopdf_fonts_ko.sans_path())]


def render_page(width: int, height: int, seed: int = 0) -> tuple[Image.Image, list[Box], list[int]]:
    """A page of Korean lines, each line's ink bounding box on it, and its em size in px."""
    rng = random.Random(seed)
    words = resources.files("kocr.data.synth").joinpath("wordlist_ko.txt").read_text("utf-8").split()
    fonts = korean_fonts()
    long_side = max(width, height)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    boxes: list[Box] = []
    sizes: list[int] = []
    margin = round(0.06 * width)
    y = margin
    number = 0
    while True:
        size = round(TEXT_HEIGHTS[number % len(TEXT_HEIGHTS)] * long_side)
        if y + 3 * size > height - margin:
            break
        font = ImageFont.truetype(fonts[number % len(fonts)], size)
        text = " ".join(rng.choice(words) for _ in range(rng.randint(2, 14)))
        while font.getlength(text) > width - 2 * margin - 4 * size and " " in text:
            text = text.rsplit(" ", 1)[0]
        if number % 6 == 5:
            angle = rng.choice((-3.0, 3.0))
            canvas = Image.new("L", (round(font.getlength(text)) + 2 * size, 2 * size), 0)
            ImageDraw.Draw(canvas).text((size, size // 2), text, font=font, fill=255)
            ink = canvas.getbbox()
            mask = canvas.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
            page.paste((0, 0, 0), (margin, y), mask)
            boxes.append(_turned_box(ink, canvas.size, mask.size, angle, (margin, y)))
            y += mask.height + size
        else:
            draw.text((margin, y), text, font=font, fill="black")
            boxes.append(draw.textbbox((margin, y), text, font=font))
            y += round(2.2 * size)
        sizes.append(size)
        number += 1
    return page, boxes, sizes


def _turned_box(
    ink: tuple[int, int, int, int],
    before: tuple[int, int],
    after: tuple[int, int],
    angle: float,
    offset: tuple[int, int],
) -> Box:
    """The bounding box on the page of ``ink`` after PIL's ``rotate(angle, expand=True)`` and a paste."""
    cx, cy = before[0] / 2, before[1] / 2
    nx, ny = after[0] / 2, after[1] / 2
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    corners = [(ink[0], ink[1]), (ink[2], ink[1]), (ink[2], ink[3]), (ink[0], ink[3])]
    xs, ys = [], []
    for x, y in corners:  # anticlockwise on screen by angle
        dx, dy = x - cx, y - cy
        xs.append(nx + dx * c + dy * s + offset[0])
        ys.append(ny - dx * s + dy * c + offset[1])
    return min(xs), min(ys), max(xs), max(ys)


def iou(a: Box, b: Box) -> float:
    width = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def match(found: list[Box], drawn: list[Box]) -> list[bool]:
    """Which drawn lines a found box matches (IoU ≥ 0.5, best pairs first, each used once): the
    detector's own scoring, :func:`kocr.pages.db_eval.truth_matched`."""
    import numpy as np

    from kocr.pages.db_eval import truth_matched

    def boxes(items: list[Box]) -> np.ndarray:
        return np.array(items, dtype=np.float64).reshape(-1, 4)

    return truth_matched(boxes(drawn), boxes(found)).tolist()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def run_case(case: Case) -> Outcome:
    """One (page size, limit) in this process: render, open the finder, time ``find``, match."""
    from kocr.pages.ppocr import PPOCRLineFinder, input_size
    from kocr.pages.types import quad_bounds

    page, drawn, sizes = render_page(case.width, case.height)
    finder = PPOCRLineFinder(limit_side_len=case.limit, threads=case.threads)
    before_find = _peak_rss_mb()
    seconds, regions = best_of(lambda: finder.find(page), case.repeats)
    found = [quad_bounds(region.quad) for region in regions]
    hit = match(found, drawn)
    best = [max((iou(f, d) for f in found), default=0.0) for d in drawn]
    found_sizes = [s for s, h in zip(sizes, hit, strict=True) if h]
    missed_sizes = [s for s, h in zip(sizes, hit, strict=True) if not h]
    return Outcome(
        input_size=input_size(case.width, case.height, case.limit),
        seconds=seconds,
        peak_rss_mb=_peak_rss_mb(),
        before_find_mb=before_find,
        page_mb=case.width * case.height * 3 / 2**20,
        found=sum(hit),
        total=len(drawn),
        extras=len(regions) - sum(hit),
        loose=sum(not h and 0.3 <= b < 0.5 for h, b in zip(hit, best, strict=True)),
        median_iou=statistics.median(best),
        smallest_found=min(found_sizes, default=None),
        smallest_missed=min(missed_sizes, default=None),
    )


def in_fresh_process(case: Case) -> Outcome:
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(run_case, case).result()


def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.page_ppocr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="pages as WIDTHxHEIGHT")
    parser.add_argument("--limits", nargs="+", type=int, default=[960, 1280, 1536], help="limit_side_len")
    parser.add_argument("--repeats", type=int, default=2, help="timed calls per case, after a warm-up")
    parser.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: all)")
    args = parser.parse_args()

    header = (
        f"{'page':>10} {'limit':>5} {'input':>10} {'s/page':>6} {'RSS MB before/peak':>18} {'page MB':>7} "
        f"{'found':>7} {'loose':>5} {'extra':>5} {'IoU':>4} {'smallest found/not':>18}"
    )
    print(header)
    print("-" * len(header))
    for size in args.sizes:
        width, height = parse_size(size)
        for limit in args.limits:
            out = in_fresh_process(Case(width, height, limit, args.repeats, args.threads))
            smallest = f"{out.smallest_found or '-'}/{out.smallest_missed or '-'}"
            rss = f"{out.before_find_mb:.0f}/{out.peak_rss_mb:.0f}"
            print(
                f"{width}×{height:<5} {limit:>5} {out.input_size[0]:>4}×{out.input_size[1]:<5} "
                f"{out.seconds:>6.2f} {rss:>18} {out.page_mb:>7.0f} {out.found:>3}/{out.total:<3} "
                f"{out.loose:>5} {out.extras:>5} {out.median_iou:>4.2f} {smallest:>18}",
                flush=True,
            )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"threads: {args.threads or 'onnxruntime default'}; load average {load}; CPUs {os.cpu_count()}")


if __name__ == "__main__":
    main()
