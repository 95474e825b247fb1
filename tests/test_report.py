"""The HTML evaluation report (kocr.report): marked differences, sampled confusions, and the page a
browser gets, rendered from a real evaluation of real rendered line images."""

from __future__ import annotations

import base64
import io
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO_ROOT, assert_no_traceback, render_line, run_kocr
from PIL import Image

from kocr.evaluate import evaluate, read_test_log
from kocr.metrics import substitutions
from kocr.report.confusions import ConfusionSampler
from kocr.report.diff import DELETED, EQUAL, INSERTED, SUBSTITUTED, diff_line
from kocr.report.lines import LineReportCollector, write_line_report
from kocr.runtime.base import Prediction

# --- differences ------------------------------------------------------------------------------------


def test_diff_marks_characters_and_the_jamo_inside_a_misread_syllable() -> None:
    segments = diff_line("각하 서울", "갂하서을다")
    assert [(s.op, s.truth, s.predicted) for s in segments] == [
        (SUBSTITUTED, "각", "갂"),
        (EQUAL, "하", "하"),
        (DELETED, " ", ""),
        (EQUAL, "서", "서"),
        (SUBSTITUTED, "울", "을"),
        (INSERTED, "", "다"),
    ]
    first = segments[0]
    assert [(j.text, j.changed) for j in first.truth_jamo] == [("ㄱ", False), ("ㅏ", False), ("ㄱ", True)]
    assert [(j.text, j.changed) for j in first.predicted_jamo] == [("ㄱ", False), ("ㅏ", False), ("ㄲ", True)]
    assert [j.text for j in segments[4].truth_jamo if j.changed] == ["ㅜ"]
    # Latin read as Latin has no jamo to show; runs of equal characters are merged.
    assert (
        diff_line("abc", "abd")
        == [
            diff_line("ab", "ab")[0],
            *[s for s in diff_line("c", "d")],
        ]
        and not diff_line("c", "d")[0].truth_jamo
    )
    assert diff_line("", "") == []


def test_substitutions_pair_jamo_only_inside_misread_syllables() -> None:
    syllables, jamo = substitutions("가방 안", "가빙안")
    assert syllables == [("방", "빙")]
    assert jamo == [("\u1161", "\u1175")]  # ㅏ → ㅣ, in conjoining form as metrics count them
    assert substitutions("같다", "같다") == ([], [])


# --- confusions -------------------------------------------------------------------------------------


def test_confusion_examples_are_bounded_seeded_and_counts_exact() -> None:
    def run(seed: int) -> ConfusionSampler[int]:
        sampler: ConfusionSampler[int] = ConfusionSampler(examples=3, keep=4, max_tracked=16, seed=seed)
        for i in range(2000):
            sampler.add(("의", "이"), i)
            sampler.add((f"{i}", "x"), i)  # 2000 pairs seen once: examples must not pile up
            assert sampler.tracked <= 16
        return sampler

    first, again, other = run(0), run(0), run(1)
    top = first.most_common(1)[0]
    assert (top.truth, top.predicted, top.count) == ("의", "이", 2000)
    assert len(top.examples) == 3 and len(set(top.examples)) == 3
    assert top.examples == again.most_common(1)[0].examples  # fixed seed: the same report twice
    assert top.examples != other.most_common(1)[0].examples
    assert max(top.examples) > 100  # sampled over the whole run, not the first three seen
    assert sum(first.counts.values()) == 4000


# --- the report -------------------------------------------------------------------------------------


class ScriptedRecognizer:
    """A recogniser that reads the n-th image as the n-th scripted text (evaluate keeps the order)."""

    def __init__(self, texts: list[tuple[str, float]]) -> None:
        self.texts = list(texts)

    def predict_images(self, images: list) -> list[Prediction]:
        out = [Prediction(*self.texts.pop(0)) for _ in images]
        return out


# truth, (prediction, confidence): folders make the per-folder table.
LINES = [
    ("print/0.png", "오늘 날씨가 맑습니다", ("오늘 남씨가 많습니다", 0.41)),
    ("print/1.png", "한국어 손글씨 인식", ("한국어 손글씨 인식", 0.97)),
    ("print/2.png", "가격: 12,000원", ("가격: 12,000원", 0.93)),
    ("hand/0.png", "의자에 앉아서", ("이자에 앉아서", 0.55)),
    ("hand/1.png", "의사 선생님", ("이사 선생", 0.35)),
    ("hand/2.png", "<b>태그</b> & 기호", ("<b>태그</b> & 기오", 0.9)),
]


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.scripts = 0
        self.text: list[str] = []
        self.sections: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "img":
            self.images.append(values)
        if tag == "script":
            self.scripts += 1
        if tag == "section":
            self.sections.append(values.get("id", ""))
        for key in ("href", "src"):
            if key in values:
                self.links.append(values[key])

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def make_dataset(root: Path) -> Path:
    root.mkdir()
    rows = []
    for name, truth, _ in LINES:
        (root / name).parent.mkdir(exist_ok=True)
        (root / name).write_bytes(render_line(truth))
        rows.append(f"{name}\t{truth}")
    (root / "gt.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return root


def test_report_of_a_real_evaluation_shows_summary_failures_confusions_and_plots(tmp_path: Path) -> None:
    data = make_dataset(tmp_path / "data")
    collector = LineReportCollector(worst=2, top=5, examples=2)
    recognizer = ScriptedRecognizer([prediction for _, _, prediction in LINES])
    result = evaluate(recognizer, [data], tmp_path / "log.txt", on_sample=collector.add)
    report = write_line_report(tmp_path / "report.html", result, collector, setup={"model": "scripted"})
    html = report.read_text(encoding="utf-8")
    page = _Collect()
    page.feed(html)
    text = " ".join(" ".join(page.text).split())

    # Self-contained: no script, nothing fetched; every image is an embedded picture.
    assert page.scripts == 0
    assert all(link.startswith("data:") for link in page.links), page.links
    assert html.count('<meta charset="utf-8">') == 1 and "Noto Sans KR" in html and "Malgun Gothic" in html
    assert page.sections[0] == "setup"
    assert {"datasets", "plots", "confusions", "worst"} <= set(page.sections)

    # The summary is the evaluation's.
    figures = result.combined.figures()
    assert f"{figures['cer']:.4f}" in text and f"{figures['accuracy']:.2%}" in text
    assert f"{figures['jamo_error_rate']:.4f}" in text and "scripted" in text
    # Folders make a per-folder table: hand has no exact line of 3, print 2 of 3.
    assert "By folder" in text and re.search(r"hand 3 0\.00%", text) and re.search(r"print 3 66\.67%", text)

    # The worst two lines, worst first, with their own images and marked differences.
    rows = read_test_log(tmp_path / "log.txt")
    worst = sorted(rows, key=lambda r: (-r.cer, r.confidence))[:2]
    worst_section = html.split('id="worst"')[1]
    assert [w.image for w in worst] == ["hand/1.png", "print/0.png"]  # CER 2/6, then 2/11
    assert worst_section.index("hand/1.png") < worst_section.index("print/0.png")
    assert "hand/0.png" not in worst_section
    assert '<span class="del">님</span>' in worst_section  # 의사 선생님 read without 님
    assert "<ruby>의<rt>ㅇ<b>ㅢ</b></rt></ruby>" in worst_section  # the vowel marked inside the syllable
    line_images = [i for i in page.images if i["src"].startswith("data:image/png")]
    decoded = [Image.open(io.BytesIO(base64.b64decode(i["src"].split(",", 1)[1]))) for i in line_images]
    assert decoded and all(image.height <= 64 for image in decoded)
    expected = Image.open(data / "hand" / "1.png")
    assert any(image.size == expected.size for image in decoded)  # small lines are shown as they are

    # Confusions: 의 → 이 twice (two lines), counted and illustrated by both.
    confusion_section = html.split('id="confusions"')[1].split('id="worst"')[0]
    assert re.search(r"의\s*<span class=\"arrow\">→</span>\s*이", confusion_section)
    assert "2×" in confusion_section and "ㅢ" in confusion_section  # the jamo table: ㅢ → ㅣ
    assert confusion_section.count("<img") >= 2
    # Each example outlines where its confusion happened: 의 read as 이 in two lines, in both tables (the
    # jamo table's ㅢ → ㅣ is that syllable too), on the truth side and the read side.
    for side in ("의", "이"):
        assert confusion_section.count(f'<span class="sub focus"><ruby>{side}<rt>') == 2 * 2
    assert '<span class="sub focus"><ruby>날' in confusion_section

    # Plots are SVG drawn by matplotlib.
    plots = [i for i in page.images if i["src"].startswith("data:image/svg+xml")]
    assert len(plots) == 2
    svg = base64.b64decode(plots[0]["src"].split(",", 1)[1]).decode("utf-8")
    assert "<svg" in svg and "matplotlib" in svg.lower()

    # Texts are escaped, never markup.
    assert "&lt;b&gt;태그&lt;/b&gt; &amp; 기" in confusion_section and "<b>태그</b>" not in html

    # Written atomically and never over a file without overwrite.
    from kocr.errors import OutputExistsError

    with pytest.raises(OutputExistsError):
        write_line_report(report, result, collector)
    write_line_report(report, result, collector, overwrite=True)


def test_eval_report_from_the_cli_with_the_bundled_model(tmp_path: Path) -> None:
    samples = REPO_ROOT / "data" / "samples"
    report = tmp_path / "report.html"
    args = ("eval", samples, "--log-file", tmp_path / "log.txt", "--report", report)
    result = run_kocr(*args, "--failures", "3")
    assert result.returncode == 0, result.stderr
    assert_no_traceback(result)
    assert f"wrote {tmp_path / 'log.txt'} and {report}" in " ".join(result.stderr.split())
    html = report.read_text(encoding="utf-8")
    assert ">8<" in html.replace(" ", "")  # the lines card
    refused = run_kocr(*args[:-4], "--log-file", tmp_path / "new_log.txt", "--report", report)
    assert refused.returncode == 2 and "--overwrite" in refused.stderr and "--report" in refused.stderr
    assert_no_traceback(refused)
    assert not (tmp_path / "new_log.txt").exists()  # refused before any work
