"""kocr.data.labels: AI Hub JSON, labels.txt and gt.txt to samples; writing gt.txt; splits."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from kocr.data.labels.aihub import read_aihub, sample_type
from kocr.data.labels.convert import convert, read_label_samples
from kocr.data.labels.problems import Kind
from kocr.data.labels.reader import read_label_file
from kocr.data.labels.samples import Sample
from kocr.data.labels.split import split_samples
from kocr.data.labels.writer import write_gt
from kocr.errors import InputFileError, KocrError

AIHUB = Path(__file__).resolve().parent / "fixtures" / "aihub"
HANDWRITING = AIHUB / "handwriting_data_info1.json"


def make_png(path: Path, width: int = 12, height: int = 6) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (width, height), 200).save(path)
    return path


def by_kind(problems) -> dict[str, list]:
    grouped: dict[str, list] = {}
    for problem in problems:
        grouped.setdefault(problem.kind, []).append(problem)
    return grouped


# --- AI Hub ----------------------------------------------------------------------------------------


def test_aihub_handwriting_joins_images_in_nested_folders() -> None:
    result = read_aihub(HANDWRITING)
    rows = [(s.image.relative_to(AIHUB).as_posix(), s.label) for s in result.samples]
    assert rows == [
        ("images/handwriting/1_syllable/00000001.png", "가"),
        ("images/handwriting/2_word/00000002.png", "나무"),
        ("images/handwriting/2_word/00000007.png", "한글"),
    ]
    assert all(unicodedata.is_normalized("NFC", s.label) for s in result.samples)
    assert result.samples[0].where.endswith("handwriting_data_info1.json [image 00000001]")


def test_aihub_report_names_every_fault() -> None:
    problems = by_kind(read_aihub(HANDWRITING).problems)
    assert [p.ref for p in problems[Kind.MISSING_IMAGE]] == ["image 00000005"]
    assert "00000005.png" in problems[Kind.MISSING_IMAGE][0].message
    assert [p.ref for p in problems[Kind.STRAY_JAMO]] == ["image 00000003"]
    assert "국ㅇㄴ" in problems[Kind.STRAY_JAMO][0].message
    assert [p.ref for p in problems[Kind.EMPTY_TEXT]] == ["image 00000004"]
    assert [p.ref for p in problems[Kind.NO_IMAGE_ENTRY]] == ["image 00000099"]
    assert [p.ref for p in problems[Kind.NO_ANNOTATION]] == ["image 00000006"]
    ambiguous = problems[Kind.AMBIGUOUS_IMAGE]
    assert "part_a/00000008.png" in ambiguous[0].message and "part_b/00000008.png" in ambiguous[0].message
    normalised = problems[Kind.NORMALISED]
    assert [p.ref for p in normalised] == ["image 00000007"] and not normalised[0].dropped
    assert not problems[Kind.NO_ANNOTATION][0].dropped
    assert str(problems[Kind.MISSING_IMAGE][0]).startswith(f"{HANDWRITING} [image 00000005]: ")


def test_aihub_type_filter_accepts_english_and_korean_names() -> None:
    words = read_aihub(HANDWRITING, types=["word"])
    assert [s.label for s in words.samples] == ["나무", "한글"]
    assert words.other_type == 3  # two syllables and one sentence left out, not reported as problems
    assert Kind.EMPTY_TEXT not in by_kind(words.problems)  # the empty text was a syllable
    assert Kind.NO_ANNOTATION in by_kind(words.problems)  # 00000006 has no annotation of any type
    korean = read_aihub(HANDWRITING, types=["글자(음절)", "문장"])
    assert [s.label for s in korean.samples] == ["가"]
    assert sample_type("단어(어절)") == "word" and sample_type("Sentence") == "sentence"
    with pytest.raises(KocrError, match="unknown sample type"):
        sample_type("paragraph")


def test_aihub_clean_and_printed_files() -> None:
    clean = read_aihub(AIHUB / "handwriting_data_info_clean.json")
    assert [s.label for s in clean.samples] == ["가", "나무", "한글"]
    assert not [p for p in clean.problems if p.dropped]
    printed = convert(AIHUB / "printed_data_info.json")
    assert printed.format == "aihub"
    assert [(s.image.name, s.label) for s in printed.samples] == [
        ("01000001.png", "뷁"),
        ("01000002.png", "한국어 문장 OCR"),
    ]


def test_aihub_keep_jamo_and_strict() -> None:
    kept = read_aihub(HANDWRITING, keep_jamo=True)
    assert "국ㅇㄴ" in [s.label for s in kept.samples]
    with pytest.raises(InputFileError, match=r"image 00000003: '국ㅇㄴ' contains loose jamo"):
        read_aihub(HANDWRITING).raise_first()


def test_aihub_image_root_and_integer_ids(tmp_path: Path) -> None:
    make_png(tmp_path / "imgs" / "deep" / "a.png")
    data = {
        "images": [{"id": 7, "file_name": "a.png", "width": 12, "height": 6}],
        "annotations": [
            {"id": 1, "image_id": "00000007", "text": " 가  나 ", "attributes": {"type": "단어"}}
        ],
    }
    label_file = tmp_path / "labels" / "x.json"
    label_file.parent.mkdir()
    label_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8-sig")  # with a BOM
    result = read_aihub(label_file, image_root=tmp_path / "imgs")
    assert [(s.image.name, s.label) for s in result.samples] == [("a.png", "가 나")]
    assert [p.kind for p in result.problems] == [Kind.NORMALISED]


def test_aihub_bad_json_names_the_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "images": [],\n  "annotations": [,]\n}\n', encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        read_aihub(broken)
    assert info.value.line == 3 and "not valid JSON" in str(info.value)
    other = tmp_path / "other.json"
    other.write_text('{"foo": 1}', encoding="utf-8")
    with pytest.raises(InputFileError, match="not an AI Hub label file"):
        read_aihub(other)


# --- labels.txt / gt.txt -----------------------------------------------------------------------------


def test_labels_txt_keeps_spaces_inside_labels(tmp_path: Path) -> None:
    make_png(tmp_path / "0001.png")
    make_png(tmp_path / "0002.png")
    (tmp_path / "labels.txt").write_text("0001.png 안녕 하세요\n0002.png 나는  학생\n", encoding="utf-8")
    result = convert(tmp_path / "labels.txt")
    assert result.format == "labels"
    assert [(s.image, s.label) for s in result.samples] == [
        (tmp_path / "0001.png", "안녕 하세요"),
        (tmp_path / "0002.png", "나는 학생"),
    ]
    assert [(p.kind, p.line) for p in result.problems] == [(Kind.NORMALISED, 2)]


def test_crlf_and_bom_gt_file(tmp_path: Path) -> None:
    make_png(tmp_path / "img" / "a.png")
    make_png(tmp_path / "img" / "b.png")
    (tmp_path / "gt.txt").write_bytes("\ufeffimg/a.png\t가나\r\nimg/b.png\t다 라  \r\n\r\n".encode())
    result = convert(tmp_path / "gt.txt")
    assert result.format == "gt"
    assert [(s.image.name, s.label, s.where) for s in result.samples] == [
        ("a.png", "가나", f"{tmp_path / 'gt.txt'}:1"),
        ("b.png", "다 라", f"{tmp_path / 'gt.txt'}:2"),
    ]
    assert result.problems == []


def test_label_file_problems_carry_file_and_line(tmp_path: Path) -> None:
    make_png(tmp_path / "a.png")
    gt = tmp_path / "gt.txt"
    gt.write_bytes(
        "a.png\t좋다\nmissing.png\t없다\n".encode() + b"a.png\t\xb0\xa1\n" + "a.png\tㅋㅋ\n".encode()
    )
    result = read_label_samples(gt)
    assert [s.label for s in result.samples] == ["좋다"]
    found = {(p.kind, p.line) for p in result.problems}
    assert found == {(Kind.MISSING_IMAGE, 2), (Kind.BAD_LINE, 3), (Kind.STRAY_JAMO, 4)}
    bad_line = next(p for p in result.problems if p.kind == Kind.BAD_LINE)
    assert str(bad_line).startswith(f"{gt}:3: not valid UTF-8") and "cp949" in str(bad_line)
    unchecked = read_label_samples(gt, check_images=False)
    assert [s.image.name for s in unchecked.samples] == ["a.png", "missing.png"]


def test_plain_lines_are_refused(tmp_path: Path) -> None:
    lines = tmp_path / "corpus.txt"
    lines.write_text("그냥 문장\n또 문장\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="no image column"):
        convert(lines)
    with pytest.raises(KocrError, match="--type only applies"):
        convert(tmp_path / "corpus.txt", types=["word"])


# --- write_gt ---------------------------------------------------------------------------------------


def test_write_gt_round_trips_with_relative_paths(tmp_path: Path) -> None:
    inside = make_png(tmp_path / "data" / "img" / "a.png")
    outside = make_png(tmp_path / "elsewhere" / "b.png")
    gt = tmp_path / "data" / "gt.txt"
    samples = [Sample(inside, "가 나", "x:1"), Sample(outside, "다", "x:2")]
    assert write_gt(gt, samples) == 2
    text = gt.read_text(encoding="utf-8")
    assert text == f"img/a.png\t가 나\n{outside.resolve().as_posix()}\t다\n"
    back = read_label_samples(gt)
    assert [(s.image.resolve(), s.label) for s in back.samples] == [(inside, "가 나"), (outside, "다")]
    with pytest.raises(KocrError, match="already exists"):
        write_gt(gt, samples)
    assert write_gt(gt, samples[:1], overwrite=True) == 1


@pytest.mark.parametrize("label", ["가\t나", "가\n나", "가\r나", "가\u2028나"])
def test_write_gt_refuses_tabs_and_line_breaks(tmp_path: Path, label: str) -> None:
    gt = tmp_path / "gt.txt"
    good = Sample(tmp_path / "a.png", "좋음", "in.txt:1")
    with pytest.raises(KocrError, match=r"in.txt:7: label .* contains a tab or line break"):
        write_gt(gt, [good, Sample(tmp_path / "b.png", label, "in.txt:7")])
    assert not gt.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left either


# --- split ------------------------------------------------------------------------------------------


def _samples(count: int) -> list[Sample]:
    return [Sample(Path(f"img/{i:04d}.png"), f"라벨{i}", f"gt.txt:{i + 1}") for i in range(count)]


def test_split_is_complete_and_exact() -> None:
    samples = _samples(101)
    parts = split_samples(samples, (0.8, 0.1, 0.1), seed=1)
    assert [len(p) for p in parts] == [81, 10, 10]
    flat = [s for part in parts for s in part]
    assert sorted(flat) == sorted(samples) and len(set(flat)) == 101


def test_split_is_deterministic_and_independent_of_input_order() -> None:
    samples = _samples(50)
    first = split_samples(samples, (0.6, 0.4), seed=42)
    assert split_samples(samples, (0.6, 0.4), seed=42) == first
    assert split_samples(list(reversed(samples)), (0.6, 0.4), seed=42) == first
    assert split_samples(samples, (0.6, 0.4), seed=43) != first


def test_split_ratio_errors_and_small_inputs() -> None:
    with pytest.raises(KocrError, match="add up to 1"):
        split_samples(_samples(3), (0.8, 0.1, 0.2))
    assert [len(p) for p in split_samples(_samples(1), (0.8, 0.1, 0.1))] == [1, 0, 0]
    assert [len(p) for p in split_samples([], (0.5, 0.5))] == [0, 0]


def test_converted_fixture_reads_back_as_gt(tmp_path: Path) -> None:
    # The gt.txt we write is what read_label_file (and clovaai) expect: one tab per line.
    root = tmp_path / "aihub"
    shutil.copytree(AIHUB, root)
    gt = root / "gt.txt"
    write_gt(gt, read_aihub(root / "handwriting_data_info1.json").samples)
    parsed = read_label_file(gt)
    assert parsed.format == "gt" and not parsed.problems
    assert [r.image for r in parsed.records] == [
        "images/handwriting/1_syllable/00000001.png",
        "images/handwriting/2_word/00000002.png",
        "images/handwriting/2_word/00000007.png",
    ]


# --- issue 15 ---------------------------------------------------------------------------------------


def test_the_araea_middle_dot_is_kept_but_loose_jamo_are_dropped(tmp_path: Path) -> None:
    """Defect 14: 'ㆍ' (U+318D) is in every Korean preset and the renderer writes it; ㅋㅋ is a slip."""
    for i in range(3):
        make_png(tmp_path / f"{i}.png")
    gt = tmp_path / "gt.txt"
    gt.write_text("0.png\t가ㆍ나\n1.png\tㅋㅋ\n2.png\t3ㆍ1 운동\n", encoding="utf-8")
    result = convert(gt)
    assert [s.label for s in result.samples] == ["가ㆍ나", "3ㆍ1 운동"]
    assert [(p.kind, p.line) for p in result.problems] == [(Kind.STRAY_JAMO, 2)]


def test_an_image_listed_twice_keeps_its_first_line_and_a_second_label_is_a_conflict(tmp_path: Path) -> None:
    """Defect 6: duplicates are reported where a dataset is built (convert, lmdb)."""
    for name in ("a", "b", "c"):
        make_png(tmp_path / f"{name}.png")
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t가\nb.png\t나\n./a.png\t가\nb.png\t다\nc.png\t라\n", encoding="utf-8")
    result = convert(gt)
    assert [(s.image.name, s.label) for s in result.samples] == [
        ("a.png", "가"),
        ("b.png", "나"),
        ("c.png", "라"),
    ]
    problems = by_kind(result.problems)
    assert [p.line for p in problems[Kind.DUPLICATE]] == [3] and f"{gt}:1" in problems[Kind.DUPLICATE][
        0
    ].message
    conflict = problems[Kind.CONFLICT][0]
    assert (
        conflict.line == 4 and "'다'" in conflict.message and "'나'" in conflict.message and conflict.dropped
    )


def test_split_never_puts_one_image_in_two_parts() -> None:
    """Defect 6: 15 of 40 images with a repeated line landed in more than one of train/val/test."""
    samples = [Sample(Path(f"img/{i % 25:03d}.png"), f"라벨{i}", f"gt.txt:{i + 1}") for i in range(40)]
    parts = split_samples(samples, (0.8, 0.1, 0.1), seed=3)
    assert sum(len(p) for p in parts) == 40 and all(parts)
    images = [{s.image for s in part} for part in parts]
    assert not (images[0] & images[1]) and not (images[0] & images[2]) and not (images[1] & images[2])
    # Without repeats the split is the plain shuffle-and-cut one (unchanged from earlier versions).
    unique = _samples(40)
    assert [len(p) for p in split_samples(unique, (0.8, 0.1, 0.1), seed=3)] == [32, 4, 4]
