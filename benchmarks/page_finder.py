"""What the classical line finder costs on whole pages: seconds per page and peak memory, by page size.

    python -m benchmarks.page_finder [--sizes 1240x1754 2480x3508 4000x3000 8660x5770] [--repeats 3]
                                     [--profile]

Pages are drawn first (``benchmarks.page_fixtures``: white RGB paper, NanumGothic prose in two columns
under a heading, the text height about 1/80 of the page's long side, as 10–12 pt print on a scan or a
photo), then ``ClassicalLineFinder().find`` runs on each, one thread. Columns:

- ``lines``: lines drawn and lines found (every drawn line is also checked to be found once);
- ``best s`` / ``median s``: wall-clock seconds per page over ``--repeats`` runs after a warm-up;
- ``peak MiB``: the most memory numpy and Python held during one ``find`` (tracemalloc; PIL's own
  buffers for the downscaled copy are not counted, and are a few MiB at most);
- ``rss MiB``: the process's peak resident size so far (includes the drawn pages themselves: a
  50-megapixel RGB page is 143 MiB before the finder sees it).

``--profile`` prints the ten most expensive functions of one ``find`` on the largest page.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import statistics
import sys
import time
import tracemalloc

from benchmarks import page_fixtures as pf
from kocr.pages.find import MARGIN_X, MARGIN_Y, ClassicalLineFinder
from kocr.pages.types import quad_bounds

SIZES = ("1240x1754", "2480x3508", "4000x3000", "8660x5770")


def draw(width: int, height: int) -> pf.DrawnPage:
    """A white RGB page of prose in two columns under a heading, text about 1/80 of the long side."""
    size = max(12, round(max(width, height) / 80))
    margin = round(0.06 * width)
    lines = int((height - 2 * margin - 4 * size) / (size * 1.7))
    return pf.text_page(
        width,
        height,
        columns=2,
        heading="페이지 줄 찾기 시험",
        lines=lines,
        size=size,
        margin=margin,
        paper=(255, 255, 255),
        ink=(0, 0, 0),
        leading=1.7,
    )


def found_once(page: pf.DrawnPage, regions: list) -> int:
    """How many drawn lines exactly one found region covers (IoU ≥ 0.5 with the line plus margins)."""
    boxes = [quad_bounds(region.quad) for region in regions]
    count = 0
    for line in page.lines:
        x0, y0, x1, y1 = line.box
        h = y1 - y0
        padded = (x0 - MARGIN_X * h, y0 - MARGIN_Y * h, x1 + MARGIN_X * h, y1 + MARGIN_Y * h)
        count += sum(pf.boxes_iou(padded, box) >= 0.5 for box in boxes) == 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.page_finder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), help="pages as WIDTHxHEIGHT")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="profile one find on the last size")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    finder = ClassicalLineFinder()
    print(f"{'page':>11} {'MP':>5} {'lines':>9} {'best s':>7} {'median s':>8} {'peak MiB':>8} {'rss MiB':>7}")
    page = None
    for size in args.sizes:
        width, height = (int(value) for value in size.lower().split("x"))
        page = draw(width, height)
        regions = finder.find(page.image)  # warm-up, and the accuracy check
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            finder.find(page.image)
            times.append(time.perf_counter() - start)
        tracemalloc.start()
        finder.find(page.image)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        lines = f"{found_once(page, regions)}/{len(page.lines)}"
        print(
            f"{size:>11} {width * height / 1e6:5.1f} {lines:>9} {min(times):7.3f} "
            f"{statistics.median(times):8.3f} {peak / 2**20:8.1f} {rss:7.0f}"
        )
        sys.stdout.flush()
    if args.profile and page is not None:
        profiler = cProfile.Profile()
        profiler.runcall(finder.find, page.image)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(15)


if __name__ == "__main__":
    main()
