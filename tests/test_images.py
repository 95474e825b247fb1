"""kocr/data/images.py: one set of image suffixes, one decoder, one mode conversion, one skip policy."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from PIL import Image

from kocr.data.images import IMAGE_SUFFIXES, MAX_SKIP, iter_image_files
from kocr.data.labelfile import read_label_file
from kocr.data.lmdb import LmdbWriter
from kocr.data.lmdb_dataset import LmdbDataset
from kocr.data.sources import LabelFileDataset
from kocr.errors import KocrError


def png(mode: str = "RGBA", color: object = (0, 0, 0, 0)) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (6, 4), color).save(buffer, format="PNG")  # fully transparent "paper" by default
    return buffer.getvalue()


def test_predict_and_label_files_agree_on_what_an_image_is(tmp_path: Path) -> None:
    for suffix in IMAGE_SUFFIXES:
        (tmp_path / f"line{suffix}").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    assert {path.suffix for path, _ in iter_image_files([tmp_path])} == set(IMAGE_SUFFIXES)
    labels = tmp_path / "labels.txt"
    labels.write_text("a.pgm 가나\nb.ppm 다라\n", encoding="utf-8")
    assert [(r.image, r.label) for r in read_label_file(labels).records] == [
        ("a.pgm", "가나"),
        ("b.ppm", "다라"),
    ]


def test_both_datasets_convert_modes_the_same_way(tmp_path: Path) -> None:
    (tmp_path / "clear.png").write_bytes(png())
    (tmp_path / "gt.txt").write_text("clear.png\t투명\n", encoding="utf-8")
    with LmdbWriter(tmp_path / "db") as writer:
        writer.add(png(), "투명")
    for mode, white in (("RGB", (255, 255, 255)), ("L", 255)):
        from_file = LabelFileDataset(tmp_path / "gt.txt", image_mode=mode)[0][0]
        from_lmdb = LmdbDataset(tmp_path / "db", image_mode=mode)[0][0]  # type: ignore[arg-type]
        assert from_file.mode == from_lmdb.mode == mode
        assert from_file.getpixel((0, 0)) == from_lmdb.getpixel((0, 0)) == white  # composited, not black
    assert LabelFileDataset(tmp_path / "gt.txt", image_mode=None)[0][0].mode == "RGBA"
    with pytest.raises(KocrError, match="image_mode"):
        LabelFileDataset(tmp_path / "gt.txt", image_mode="CMYK")


def test_label_file_dataset_skips_an_unreadable_image(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "bad.png").write_bytes(b"not a png")
    (tmp_path / "good.png").write_bytes(png("L", 0))
    (tmp_path / "gt.txt").write_text("bad.png\t가\ngood.png\t나\n", encoding="utf-8")
    dataset = LabelFileDataset(tmp_path / "gt.txt")
    with caplog.at_level(logging.WARNING):
        image, label = dataset[0]
    assert label == "나" and image.mode == "RGB"
    assert "bad.png" in caplog.text and "not a readable image" in caplog.text
    (tmp_path / "good.png").write_bytes(b"broken too")
    with pytest.raises(KocrError, match="no readable image in 2 samples"):
        LabelFileDataset(tmp_path / "gt.txt")[0]
    assert MAX_SKIP == 100
