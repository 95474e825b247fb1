"""The report as a person sees it: opened from a file: URL in a headless browser (Debian's chromium), with
no network, it draws its plots and images, and its Korean text in real glyphs, not missing-glyph boxes.

How the glyph check can fail: the report is screenshot beside its *tofu twin*, the same file with every
Hangul character in the text replaced by a private-use character no font has. Where the browser has no
Korean font, Hangul is drawn as the same missing-glyph box as the private-use characters, so the two
screenshots come out identical and the test fails; with a Korean font the text regions differ. A second
test runs the browser with fontconfig limited to DejaVu (no Hangul) and checks the comparison does see
the boxes then."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_report import LINES, ScriptedRecognizer, make_dataset

from kocr.evaluate import evaluate
from kocr.report.lines import LineReportCollector, write_line_report

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(
    BROWSER is None, reason="no headless browser installed (Debian: apt install chromium; CI installs it)"
)
WINDOW = (1280, 2600)
HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")


def screenshot(html: Path, out: Path, profile: Path, fonts_conf: Path | None = None) -> np.ndarray:
    """The page at ``html`` as the browser draws it, as an RGB array (with ``fonts_conf`` as fontconfig's
    configuration, when given). The virtual time budget lets the page finish loading its images and
    laying out before the shot: without it the browser sometimes shot a page still growing, and the two
    shots differed at their foot (CI run of 04b20f6)."""
    assert BROWSER is not None
    env = dict(os.environ)
    if fonts_conf is not None:
        env["FONTCONFIG_FILE"] = str(fonts_conf)
    result = subprocess.run(
        [
            BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
            "--virtual-time-budget=10000", f"--screenshot={out}", html.resolve().as_uri(),
        ],
        capture_output=True, text=True, timeout=180, check=False, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    assert out.is_file(), f"{BROWSER} made no screenshot: {result.stderr[-2000:]}"
    return np.asarray(Image.open(out).convert("RGB")).astype(np.int16)


def tofu_twin(html: str) -> str:
    """The page with each Hangul character of its text (not its style sheet, where a font is named in
    Hangul) replaced by a private-use character."""
    head, style_end, body = html.partition("</style>")
    return head + style_end + HANGUL.sub("\ue000", body)


def report_and_twin(folder: Path) -> tuple[Path, Path]:
    """A report of a real evaluation of drawn lines, and its tofu twin."""
    data = make_dataset(folder / "data")
    collector = LineReportCollector(worst=6, top=5)
    result = evaluate(ScriptedRecognizer([p for _, _, p in LINES]), [data], folder / "log.txt",
                      on_sample=collector.add)  # fmt: skip
    report = write_line_report(folder / "report.html", result, collector)
    twin = folder / "twin.html"
    twin.write_text(tofu_twin(report.read_text(encoding="utf-8")), encoding="utf-8")
    return report, twin


def glyph_changes(real: np.ndarray, fake: np.ndarray) -> np.ndarray:
    """Where the page and its tofu twin differ visibly."""
    return np.abs(real - fake).sum(axis=2) > 60


def test_the_report_renders_with_plots_images_and_korean_glyphs(tmp_path: Path) -> None:
    report, twin = report_and_twin(tmp_path)
    real = screenshot(report, tmp_path / "real.png", tmp_path / "profile")
    fake = screenshot(twin, tmp_path / "twin.png", tmp_path / "profile")
    assert real.shape[:2] == (WINDOW[1], WINDOW[0])

    # Not blank: the dark header, white sections on a grey ground, text in many shades.
    grey = real.mean(axis=2)
    assert (grey < 60).mean() > 0.01 and (grey > 240).mean() > 0.3
    assert len(np.unique(real.reshape(-1, 3), axis=0)) > 500
    # The plots drew: the reliability plot's blue bars, the histogram's green "exact" bar.
    red, green, blue = real[..., 0], real[..., 1], real[..., 2]
    assert ((blue - red > 50) & (blue > 150) & (green < blue)).sum() > 500, "the reliability plot is missing"
    assert ((green - red > 50) & (green - blue > 30)).sum() > 500, "the CER histogram is missing"
    # Korean text is drawn in glyphs: the page differs from its tofu twin where the text is ...
    changed = glyph_changes(real, fake)
    assert changed.mean() > 0.002, "Hangul drew exactly as missing-glyph boxes: no Korean font in the browser"
    # ... and only there: images and plots carry no text, so whole rows of the page stay the same.
    rows_changed = changed.any(axis=1)
    assert 0.02 < rows_changed.mean() < 0.9


DEJAVU = Path("/usr/share/fonts/truetype/dejavu")


@pytest.mark.skipif(
    not DEJAVU.is_dir(), reason=f"needs {DEJAVU} (Debian's fonts-dejavu-core) for a font set without Hangul"
)
def test_the_glyph_check_sees_boxes_when_the_browser_has_no_korean_font(tmp_path: Path) -> None:
    """The check above can fail: limited to DejaVu fonts, the browser draws Hangul as the very boxes of the
    twin's private-use characters, and the two screenshots are the same."""
    conf = tmp_path / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig>'
        f"<dir>{DEJAVU}</dir><cachedir>{tmp_path / 'fontcache'}</cachedir></fontconfig>",
        encoding="utf-8",
    )
    report, twin = report_and_twin(tmp_path)
    real = screenshot(report, tmp_path / "real.png", tmp_path / "profile", conf)
    fake = screenshot(twin, tmp_path / "twin.png", tmp_path / "profile", conf)
    assert (real.mean(axis=2) < 60).mean() > 0.01  # the page itself still drew
    assert glyph_changes(real, fake).mean() < 0.0005
