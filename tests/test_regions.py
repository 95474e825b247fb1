"""AI Hub Text in the wild: labelled boxes in scene photos, cut out by `kocr data convert --crop-dir`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_no_traceback, render_line, run_kocr
from PIL import Image

from kocr.data.labels.aihub import parse_box, read_aihub
from kocr.data.labels.problems import Kind

WORDS = ("간판", "가나다", "영업중")


def make_wild(folder: Path) -> Path:
    """A Text-in-the-wild-shaped label file: one sign photo with three words, one character and one
    ignored box, a box outside its photo, and a second photo that is not an image."""
    photos = folder / "Signboard"
    photos.mkdir(parents=True)
    scene = Image.new("RGB", (360, 170), (190, 215, 235))
    boxes = []
    for row, word in enumerate(WORDS):
        line = Image.open(io.BytesIO(render_line(word))).convert("RGB")
        scene.paste(line, (30 + 10 * row, 8 + 52 * row))
        boxes.append([30 + 10 * row, 8 + 52 * row, line.width, line.height])
    scene.save(photos / "F00D.jpg", quality=95)
    (photos / "BAD.jpg").write_bytes(b"\xff\xd8 not really a jpeg")

    def box(ann_id: int, image_id: str, text: str | None, bbox: list[float], cls: str) -> dict:
        return {"id": ann_id, "image_id": image_id, "text": text, "bbox": bbox, "attributes": {"class": cls}}

    x, y, _, h = boxes[0]
    annotations = [box(i + 1, "00000001", word, boxes[i], "word") for i, word in enumerate(WORDS)]
    annotations += [
        box(4, "00000001", "간", [x + 0.5, y, 27.2, h], "character"),
        box(5, "00000001", None, [300, 120, 40, 30], "ignored"),
        box(6, "00000001", "밖", [400, 10, 30, 30], "word"),  # right of the 360-px photo
        box(7, "00000002", "글", [0, 0, 20, 20], "word"),
    ]
    data = {
        "info": {"name": "Text in the wild Dataset"},
        "images": [
            {"id": "00000001", "width": 360, "height": 170, "file_name": "F00D.jpg", "type": "sign"},
            {"id": "00000002", "width": 64, "height": 64, "file_name": "BAD.jpg", "type": "sign"},
        ],
        "annotations": annotations,
        "licenses": [],
    }
    label_file = folder / "textinthewild_data_info.json"
    label_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return label_file


def test_boxes_are_reported_not_silently_dropped_without_crop_dir(tmp_path: Path) -> None:
    result = read_aihub(make_wild(tmp_path))
    assert result.samples == [] and result.regions == []
    kinds = [p.kind for p in result.problems]
    assert kinds.count(Kind.REGION) == 6 and kinds.count(Kind.IGNORED_REGION) == 1
    region = next(p for p in result.problems if p.kind == Kind.REGION)
    assert "--crop-dir" in region.message and region.ref == "image 00000001, annotation 1"


def test_regions_are_checked_and_located(tmp_path: Path) -> None:
    result = read_aihub(make_wild(tmp_path), regions=True)
    assert [(r.label, r.name) for r in result.regions] == [
        ("간판", "00000001_1"),
        ("가나다", "00000001_2"),
        ("영업중", "00000001_3"),
        ("간", "00000001_4"),
        ("글", "00000002_7"),
    ]
    assert result.regions[3].box[0] == result.regions[0].box[0]  # 0.5 px rounds outwards
    bad = [p for p in result.problems if p.kind == Kind.BAD_BOX]
    assert len(bad) == 1 and "outside the 360x170 image" in bad[0].message and bad[0].dropped
    words = read_aihub(make_wild(tmp_path / "again"), regions=True, types=["word"])
    assert [r.label for r in words.regions] == [*WORDS, "글"] and words.other_type == 1


def test_parse_box() -> None:
    assert parse_box([10.2, 5.9, 20.1, 10]) == (10, 5, 31, 16)
    assert parse_box([-4, -2, 20, 10], 12, 6) == (0, 0, 12, 6)
    assert "not [x, y, width, height]" in parse_box([1, 2, 3])  # type: ignore[operator]
    assert "not [x, y, width, height]" in parse_box([1, 2, True, 4])  # type: ignore[operator]
    assert "no area" in parse_box([1, 2, 0, 4])  # type: ignore[operator]
    assert "outside" in parse_box([50, 0, 10, 10], 40, 40)  # type: ignore[operator]


def test_cli_crops_every_box_then_builds_an_lmdb(tmp_path: Path) -> None:
    label_file = make_wild(tmp_path / "wild")
    out = tmp_path / "out"
    result = run_kocr("data", "convert", label_file, "-o", out / "gt.txt", "--crop-dir", out / "crops")
    assert result.returncode == 0, result.stderr
    assert "cut 4 of 5 regions" in result.stdout and "wrote 4 samples" in result.stdout
    for kind in (Kind.BAD_BOX, Kind.UNREADABLE_IMAGE, Kind.IGNORED_REGION):
        assert kind in result.stderr
    lines = (out / "gt.txt").read_text(encoding="utf-8").splitlines()
    assert lines == [
        "crops/00000001_1.jpg\t간판",
        "crops/00000001_2.jpg\t가나다",
        "crops/00000001_3.jpg\t영업중",
        "crops/00000001_4.jpg\t간",
    ]
    scene = np.asarray(Image.open(tmp_path / "wild" / "Signboard" / "F00D.jpg"), dtype=np.float32)
    regions = read_aihub(label_file, regions=True).regions
    for line, region in zip(lines, regions, strict=False):
        crop = np.asarray(Image.open(out / line.split("\t")[0]), dtype=np.float32)
        left, top, right, bottom = region.box
        assert crop.shape == (bottom - top, right - left, 3)
        assert np.abs(crop - scene[top:bottom, left:right]).mean() < 3  # the same pixels, JPEG q95 again

    lmdb = run_kocr("data", "lmdb", out / "gt.txt", "-o", out / "lmdb")
    assert lmdb.returncode == 0 and "wrote 4 samples" in lmdb.stdout, lmdb.stderr

    again = run_kocr("data", "convert", label_file, "-o", out / "gt2.txt", "--crop-dir", out / "crops")
    assert again.returncode != 0 and "not empty; pass --overwrite" in again.stderr
    assert_no_traceback(again)
    assert not (out / "gt2.txt").exists()


def test_crop_dir_needs_aihub_input(tmp_path: Path) -> None:
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t가\n", encoding="utf-8")
    result = run_kocr("data", "convert", gt, "-o", tmp_path / "out.txt", "--crop-dir", tmp_path / "crops")
    assert result.returncode != 0 and "--crop-dir only applies to AI Hub JSON" in result.stderr
    assert_no_traceback(result)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_crops_keep_the_photo_kind(tmp_path: Path, suffix: str) -> None:
    from kocr.data.labels.regions import crop_regions
    from kocr.data.labels.samples import Region

    photo = tmp_path / f"scene{suffix}"
    Image.new("RGBA" if suffix == ".png" else "RGB", (50, 40), (10, 20, 30)).save(photo)
    region = Region(photo, (5, 5, 25, 15), "글", "labels.json", "image 1, annotation 1", "1/1:x")
    samples, problems = crop_regions([region, region], tmp_path / "crops")
    assert problems == []
    assert [s.image.name for s in samples] == [f"1_1_x{suffix}", f"1_1_x-2{suffix}"]  # clashes numbered
    assert Image.open(samples[0].image).size == (20, 10)


def test_a_phone_photo_is_turned_only_when_the_label_file_saw_it_turned(tmp_path: Path) -> None:
    from kocr.data.labels.regions import crop_regions
    from kocr.data.labels.samples import Region

    shown = Image.new("RGB", (60, 40), "white")  # as a viewer shows it: a red square top left
    shown.paste((220, 0, 0), (4, 4, 16, 16))
    photo = tmp_path / "phone.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: viewers rotate it 90° clockwise
    shown.transpose(Image.Transpose.ROTATE_90).save(photo, quality=95, exif=exif.tobytes())
    assert Image.open(photo).size == (40, 60)

    def red_share(photo_size: tuple[int, int]) -> float:
        region = Region(photo, (4, 4, 16, 16), "글", "l.json", "image 1", f"r{photo_size[0]}", photo_size)
        samples, problems = crop_regions([region], tmp_path / f"crops{photo_size[0]}")
        assert problems == []
        pixels = np.asarray(Image.open(samples[0].image), dtype=np.int16)
        return float(((pixels[..., 0] - pixels[..., 1]) > 100).mean())

    assert red_share((60, 40)) > 0.9  # the label file's size is the turned one: boxes are on the turned photo
    assert red_share((40, 60)) < 0.1  # the stored size: boxes are on the stored pixels
