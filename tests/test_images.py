"""kocr/data/images.py: one set of image suffixes, one decoder, one mode conversion, one skip policy."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
from PIL import Image

from kocr.data.images import IMAGE_SUFFIXES, MAX_SKIP, iter_image_files
from kocr.data.labels.reader import read_label_file
from kocr.data.lmdb.dataset import LmdbDataset
from kocr.data.lmdb.writer import LmdbWriter
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


# --- issue 15: what load_image / Recognizer.predict accept ------------------------------------------


def test_load_image_accepts_bytes_like_file_objects_and_tensors(tmp_path: Path) -> None:
    """Defect 13: bytearray, memoryview, BytesIO, open files and torch tensors are images too."""
    import numpy as np
    import torch

    from kocr.data.images import load_image

    data = png("L", 40)
    expected = np.asarray(Image.open(io.BytesIO(data)))
    path = tmp_path / "line.png"
    path.write_bytes(data)
    with path.open("rb") as handle:
        from_file = load_image(handle)
    pixels = torch.from_numpy(expected.copy())
    for image in (
        load_image(bytearray(data)),
        load_image(memoryview(data)),
        load_image(io.BytesIO(data)),
        from_file,
        load_image(pixels[None]),  # [C, H, W] uint8, as torchvision lays images out
        load_image(pixels),  # [H, W]
        load_image(pixels[None].float() / 255.0),  # float in [0, 1]
    ):
        assert np.array_equal(np.asarray(image.convert("L")), expected)
    rgb = torch.zeros(3, 4, 6, dtype=torch.uint8)
    assert load_image(rgb).size == (6, 4) and load_image(rgb).mode == "RGB"


@pytest.mark.parametrize("bad", [3, None, {"a": 1}, {1, 2}, 2.5])
def test_other_inputs_are_a_type_error_naming_what_is_accepted(bad: object) -> None:
    from kocr.data.images import as_image_list, load_image

    with pytest.raises(TypeError, match=r"numpy array or a torch\.Tensor"):
        as_image_list(bad)
    with pytest.raises(TypeError, match=type(bad).__name__):
        load_image(bad)


def test_an_all_nan_array_is_an_error_not_a_blank_line() -> None:
    import warnings

    import numpy as np

    from kocr.data.images import load_image

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" must not happen
        with pytest.raises(KocrError, match="NaN"):
            load_image(np.full((8, 20), np.nan, dtype=np.float32))
        with pytest.raises(KocrError, match="NaN or infinite"):
            load_image(np.array([[0.5, np.inf]]))


def test_several_arguments_give_names_that_tell_files_apart(tmp_path: Path) -> None:
    """Defect 11: `kocr predict twoA twoB` listed both twoA/x.png and twoB/x.png as x.png."""
    for folder in ("twoA", "twoB"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.png").write_bytes(png())
    one = iter_image_files([tmp_path / "twoA"])
    assert [name for _, name in one] == ["x.png"]  # one folder: relative to it, as before
    two = iter_image_files([tmp_path / "twoA", tmp_path / "twoB"])
    names = [name for _, name in two]
    assert len(set(names)) == 2 and names[0].endswith("twoA/x.png") and names[1].endswith("twoB/x.png")
    files = iter_image_files([tmp_path / "twoA" / "x.png", tmp_path / "twoB" / "x.png"])
    assert len({name for _, name in files}) == 2


def test_a_missing_path_can_be_skipped_instead_of_raised(tmp_path: Path) -> None:
    (tmp_path / "good.png").write_bytes(png())
    with pytest.raises(KocrError, match="no such file"):
        iter_image_files([tmp_path / "good.png", tmp_path / "missing.png"])
    missing: list[KocrError] = []
    found = iter_image_files([tmp_path / "good.png", tmp_path / "missing.png"], on_missing=missing.append)
    assert [path.name for path, _ in found] == ["good.png"] and "missing.png" in str(missing[0])


def test_a_training_label_file_with_an_image_listed_twice_reads_it_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 6 (class): duplicates are reported wherever a dataset is built, training's too."""
    (tmp_path / "a.png").write_bytes(png("L", 0))
    (tmp_path / "b.png").write_bytes(png("L", 0))
    gt = tmp_path / "gt.txt"
    gt.write_text("a.png\t가\nb.png\t나\n./a.png\t다\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        dataset = LabelFileDataset(gt)
    assert dataset.labels == ["가", "나"] and dataset.dropped == {"image listed twice": 1}
    assert "image listed twice: 1" in caplog.text and "line 3" in caplog.text
