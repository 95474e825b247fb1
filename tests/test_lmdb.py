"""kocr.data.lmdb (layout, writer, handles, build, dataset, stats): clovaai's exact layout, safe writes,
shared read handles, label filtering, stats."""

from __future__ import annotations

import io
import logging
import os
import pickle
from pathlib import Path

import lmdb
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from kocr.charsets import Charset
from kocr.data.labels.samples import Sample
from kocr.data.lmdb.build import build_lmdb
from kocr.data.lmdb.dataset import LmdbDataset
from kocr.data.lmdb.handles import open_lmdb
from kocr.data.lmdb.layout import find_lmdbs
from kocr.data.lmdb.stats import lmdb_stats
from kocr.data.lmdb.writer import LmdbWriter
from kocr.errors import KocrError


def png_bytes(width: int = 20, height: int = 8, shade: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), shade).save(buffer, format="PNG")
    return buffer.getvalue()


def make_images(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{i:03d}.png"
        path.write_bytes(png_bytes(10 + i, 8, shade=10 * i))
        paths.append(path)
    return paths


def all_items(path: Path) -> dict[bytes, bytes]:
    """Every key and value, read with plain py-lmdb as a reference tool would."""
    env = lmdb.open(str(path), readonly=True, lock=False)
    try:
        with env.begin() as txn:
            return {bytes(k): bytes(v) for k, v in txn.cursor()}
    finally:
        env.close()


def clovaai_style_lmdb(path: Path, samples: list[tuple[bytes, str]], stale: int = 0) -> None:
    """Write an LMDB the way clovaai's create_lmdb_dataset.py does (plus ``stale`` leftover keys)."""
    env = lmdb.open(str(path), map_size=1 << 30)
    cache: dict[bytes, bytes] = {}
    count = 1
    for image, label in samples:
        cache[b"image-%09d" % count] = image
        cache[b"label-%09d" % count] = label.encode()
        count += 1
    for extra in range(stale):  # a previous, longer run into the same folder
        cache[b"image-%09d" % (count + extra)] = b"old"
        cache[b"label-%09d" % (count + extra)] = "옛날".encode()
    cache[b"num-samples"] = str(count - 1).encode()
    with env.begin(write=True) as txn:
        for key, value in cache.items():
            txn.put(key, value)
    env.close()


# --- writer -----------------------------------------------------------------------------------------


def test_writer_produces_exactly_clovaais_keys(tmp_path: Path) -> None:
    images = make_images(tmp_path / "img", 3)
    labels = ["가나", "다 라", "English 123"]
    out = tmp_path / "db"
    with LmdbWriter(out) as writer:
        indices = [writer.add(p.read_bytes(), label) for p, label in zip(images, labels, strict=True)]
        assert writer.num_samples == 3
    assert indices == [1, 2, 3]
    items = all_items(out)
    assert sorted(items) == [
        b"image-000000001",
        b"image-000000002",
        b"image-000000003",
        b"label-000000001",
        b"label-000000002",
        b"label-000000003",
        b"num-samples",
    ]
    assert items[b"num-samples"] == b"3"
    for i, (path, label) in enumerate(zip(images, labels, strict=True), start=1):
        assert items[b"image-%09d" % i] == path.read_bytes()  # byte-identical, never re-encoded
        assert items[b"label-%09d" % i] == label.encode("utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["data.mdb", "lock.mdb"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "img"]  # no temporary folder left


def test_writer_grows_the_map_instead_of_failing(tmp_path: Path) -> None:
    blob = os.urandom(200_000)  # incompressible: 40 of these need ~8 MB, far above the 64 KiB start
    with LmdbWriter(tmp_path / "db", map_size=64 << 10, commit_every=7) as writer:
        for i in range(40):
            writer.add(blob, f"샘플{i}")
    items = all_items(tmp_path / "db")
    assert items[b"num-samples"] == b"40" and items[b"image-000000040"] == blob
    assert items[b"label-000000040"] == "샘플39".encode()


def test_existing_output_is_refused_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "db"
    with LmdbWriter(out) as writer:
        writer.add(png_bytes(), "처음")
    with pytest.raises(KocrError, match="already exists") as info, LmdbWriter(out) as writer:
        writer.add(png_bytes(), "두번째")
    # Python callers are told the keyword, CLI users the option (never "--overwrite (overwrite=True)").
    assert "pass overwrite=True" in str(info.value) and "--overwrite" not in str(info.value)
    assert "pass --overwrite" in info.value.cli_message()  # type: ignore[attr-defined]
    assert all_items(out)[b"label-000000001"] == "처음".encode()
    with LmdbWriter(out, overwrite=True) as writer:
        writer.add(png_bytes(), "새것")
        writer.add(png_bytes(), "둘")
    items = all_items(out)
    assert items[b"num-samples"] == b"2" and items[b"label-000000001"] == "새것".encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db"]


def test_overwrite_never_replaces_a_folder_that_is_not_an_lmdb(tmp_path: Path) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.tex").write_text("do not delete", encoding="utf-8")
    with pytest.raises(KocrError, match="not part of an LMDB"), LmdbWriter(precious, overwrite=True) as w:
        w.add(png_bytes(), "x")
    assert (precious / "thesis.tex").exists()


@pytest.mark.parametrize("interruption", [RuntimeError("boom"), KeyboardInterrupt()])
def test_interrupted_write_leaves_no_final_folder(tmp_path: Path, interruption: BaseException) -> None:
    out = tmp_path / "db"
    with pytest.raises(type(interruption)), LmdbWriter(out, commit_every=2) as writer:
        for i in range(5):
            writer.add(png_bytes(), f"{i}")
        raise interruption
    assert list(tmp_path.iterdir()) == []  # neither the final folder nor the temporary one


def test_interrupted_overwrite_keeps_the_old_lmdb(tmp_path: Path) -> None:
    out = tmp_path / "db"
    with LmdbWriter(out) as writer:
        writer.add(png_bytes(), "원본")
    with pytest.raises(RuntimeError), LmdbWriter(out, overwrite=True) as writer:
        writer.add(png_bytes(), "새것")
        raise RuntimeError("disk on fire")
    assert all_items(out)[b"label-000000001"] == "원본".encode()


# --- build_lmdb ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("workers", [1, 2])
def test_build_skips_bad_images_and_writes_every_good_one(tmp_path: Path, workers: int) -> None:
    good = make_images(tmp_path / "img", 4)
    corrupt = tmp_path / "img" / "corrupt.png"
    corrupt.write_bytes(good[0].read_bytes()[:30])  # a truncated PNG
    empty = tmp_path / "img" / "empty.png"
    empty.write_bytes(b"")
    samples = [
        Sample(good[0], "하나", "gt.txt:1"),
        Sample(corrupt, "깨짐", "gt.txt:2"),
        Sample(good[1], "둘", "gt.txt:3"),
        Sample(tmp_path / "img" / "gone.png", "없음", "gt.txt:4"),
        Sample(empty, "빈", "gt.txt:5"),
        Sample(good[2], "셋", "gt.txt:6"),
        Sample(good[3], "넷", "gt.txt:7"),
    ]
    report = build_lmdb(samples, tmp_path / "db", workers=workers)
    assert report.written == 4 and report.total == 7
    skipped = {s.where: s.message for s in report.skipped}
    assert set(skipped) == {"gt.txt:2", "gt.txt:4", "gt.txt:5"}
    assert skipped["gt.txt:2"].startswith("not a readable image")
    assert skipped["gt.txt:4"] == "file not found" and skipped["gt.txt:5"] == "empty file"
    assert str(report.skipped[0]) == f"gt.txt:2: {corrupt}: {skipped['gt.txt:2']}"
    items = all_items(tmp_path / "db")
    assert items[b"num-samples"] == b"4"
    assert [items[b"label-%09d" % i].decode() for i in range(1, 5)] == ["하나", "둘", "셋", "넷"]
    assert [items[b"image-%09d" % i] for i in range(1, 5)] == [p.read_bytes() for p in good]


def test_build_strict_writes_nothing(tmp_path: Path) -> None:
    good = make_images(tmp_path / "img", 2)
    samples = [Sample(good[0], "a", "gt.txt:1"), Sample(tmp_path / "nope.png", "b", "gt.txt:2")]
    with pytest.raises(KocrError, match=r"gt.txt:2: .*nope.png: file not found"):
        build_lmdb(samples, tmp_path / "db", strict=True, workers=1)
    assert not (tmp_path / "db").exists()


def test_build_with_no_readable_image_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(KocrError, match="no readable images"):
        build_lmdb([(tmp_path / "x.png", "a", "gt.txt:1")], tmp_path / "db", workers=1)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_build_interrupted_midway_leaves_nothing(tmp_path: Path, workers: int) -> None:
    images = make_images(tmp_path / "img", 100)
    samples = [Sample(p, "라벨", f"gt.txt:{i + 1}") for i, p in enumerate(images)]
    seen = []

    def ctrl_c_at_50(n: int) -> None:
        seen.append(n)
        if len(seen) == 50:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_lmdb(samples, tmp_path / "db", workers=workers, progress=ctrl_c_at_50)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["img"]


def test_build_with_processes_matches_threads(tmp_path: Path) -> None:
    images = make_images(tmp_path / "img", 40)
    samples = [Sample(p, f"라벨{i}", f"gt.txt:{i + 1}") for i, p in enumerate(images)]
    build_lmdb(samples, tmp_path / "threads", workers=2, pool="thread")
    build_lmdb(samples, tmp_path / "procs", workers=2, pool="process")
    assert all_items(tmp_path / "threads") == all_items(tmp_path / "procs")


# --- reading ------------------------------------------------------------------------------------------


def test_reads_an_lmdb_written_by_clovaais_script(tmp_path: Path) -> None:
    images = [png_bytes(12, 8), png_bytes(30, 10), png_bytes(16, 8)]
    clovaai_style_lmdb(tmp_path / "clova", list(zip(images, ["가", "나다", "라마바"], strict=True)), stale=2)
    dataset = LmdbDataset(tmp_path / "clova", image_mode=None)
    assert len(dataset) == 3 and dataset.total == 3  # stale keys above num-samples ignored
    assert list(dataset.labels) == ["가", "나다", "라마바"] and dataset.keys.tolist() == [1, 2, 3]
    image, label = dataset[1]
    assert label == "나다" and image.size == (30, 10) and image.mode == "L"
    assert dataset[-1][1] == "라마바"
    with pytest.raises(IndexError):
        dataset[3]


def test_same_lmdb_opened_by_two_datasets_in_one_process(tmp_path: Path) -> None:
    # clovaai crashes on `--train_data X --valid_data X`: py-lmdb refuses a second open.
    clovaai_style_lmdb(tmp_path / "db", [(png_bytes(), "가"), (png_bytes(), "나")])
    train = LmdbDataset(tmp_path / "db")
    valid = LmdbDataset(str(tmp_path / "db") + "/")
    assert train[0][1] == "가" and valid[1][1] == "나"
    assert open_lmdb(tmp_path / "db") is open_lmdb(tmp_path / "." / "db")


def _to_tensor(image: Image.Image) -> torch.Tensor:
    resized = image.convert("L").resize((16, 8))
    return torch.frombuffer(bytearray(resized.tobytes()), dtype=torch.uint8).view(8, 16)


def test_dataloader_with_two_workers(tmp_path: Path) -> None:
    clovaai_style_lmdb(tmp_path / "db", [(png_bytes(10 + i, 8, i), f"라벨{i}") for i in range(12)])
    train = LmdbDataset(tmp_path / "db", transform=_to_tensor)
    valid = LmdbDataset(tmp_path / "db", transform=_to_tensor)
    assert train[0][0].shape == (8, 16)  # the parent has the environment open before the fork
    loader = DataLoader(train, batch_size=4, num_workers=2, shuffle=False)
    labels = [label for _, batch_labels in loader for label in batch_labels]
    assert labels == [f"라벨{i}" for i in range(12)]
    batch, _ = next(iter(DataLoader(valid, batch_size=12, num_workers=2)))
    assert batch.shape == (12, 8, 16)


def test_dataset_pickles_without_its_handle(tmp_path: Path) -> None:
    clovaai_style_lmdb(tmp_path / "db", [(png_bytes(), "가")])
    dataset = LmdbDataset(tmp_path / "db")
    dataset[0]
    copy = pickle.loads(pickle.dumps(dataset))
    assert copy[0][1] == "가" and list(copy.labels) == ["가"]


def test_label_filtering_is_counted_and_logged_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    labels = ["가나다", "가나다라마바사", "똠얌꿍", "", "  ", "가\u1100\u1161", "가  나", "ABC"]
    clovaai_style_lmdb(tmp_path / "db", [(png_bytes(), label) for label in labels])
    charset = Charset(list("가나다라마바사 ABC"), name="small")
    with caplog.at_level(logging.INFO, logger="kocr.data.lmdb.dataset"):
        dataset = LmdbDataset(tmp_path / "db", charset=charset, max_length=5)
    assert list(dataset.labels) == ["가나다", "가가", "가 나", "ABC"]  # NFD ᄀ+ᅡ composes to 가
    assert dataset.dropped == {"empty": 2, "too long": 1, "unknown symbols": 1}
    assert dataset.keys.tolist() == [1, 6, 7, 8]
    records = [r for r in caplog.records if r.name == "kocr.data.lmdb.dataset"]
    assert len(records) == 1 and records[0].levelno == logging.WARNING
    message = records[0].getMessage()
    assert "using 4 of 8 samples" in message and "dropped 4" in message
    assert "too long: 1 (e.g. label-000000002 '가나다라마바사')" in message
    assert "unknown symbols: 1 (e.g. label-000000003 '똠얌꿍' [not in charset: '똠얌꿍'])" in message
    assert "empty: 2" in message and "2 labels normalised" in message


def test_case_fold_and_no_charset_filter(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clovaai_style_lmdb(tmp_path / "db", [(png_bytes(), "Hello 한글"), (png_bytes(), "x" * 30)])
    with caplog.at_level(logging.INFO, logger="kocr.data.lmdb.dataset"):
        dataset = LmdbDataset(tmp_path / "db", case_fold=True, max_length=25)
    assert list(dataset.labels) == ["hello 한글"] and dataset.dropped == {"too long": 1}
    assert "dropped 1" in caplog.text


def test_unreadable_image_is_skipped_at_read_time(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with LmdbWriter(tmp_path / "db") as writer:
        writer.add(png_bytes(10, 8), "하나")
        writer.add(b"\x89PNG\r\n\x1a\n broken", "둘")
        writer.add(png_bytes(14, 8), "셋")
    dataset = LmdbDataset(tmp_path / "db")
    with caplog.at_level(logging.WARNING, logger="kocr.data.lmdb.dataset"):
        image, label = dataset[1]
        again = dataset[1]
    assert (image.size, label) == ((14, 8), "셋") and again[1] == "셋"
    assert dataset.num_unreadable == 1
    warnings = [r.getMessage() for r in caplog.records if "image-000000002" in r.getMessage()]
    assert len(warnings) == 1 and "next readable sample" in warnings[0]


def test_lmdb_replaced_on_disk_is_reopened(tmp_path: Path) -> None:
    out = tmp_path / "db"
    with LmdbWriter(out) as writer:
        writer.add(png_bytes(), "옛것")
    assert LmdbDataset(out)[0][1] == "옛것"
    with LmdbWriter(out, overwrite=True) as writer:
        writer.add(png_bytes(), "새것")
    assert LmdbDataset(out)[0][1] == "새것"


def test_find_lmdbs_like_parseqs_glob(tmp_path: Path) -> None:
    for name in ("train/real/aihub", "train/synth", "val", ".hidden/db"):
        (tmp_path / name).mkdir(parents=True)
        clovaai_style_lmdb(tmp_path / name, [(png_bytes(), "가")])
    (tmp_path / "train" / "notes.txt").write_text("x", encoding="utf-8")
    assert find_lmdbs(tmp_path) == [tmp_path / "train/real/aihub", tmp_path / "train/synth", tmp_path / "val"]
    assert find_lmdbs(tmp_path / "val") == [tmp_path / "val"]


def test_opening_something_that_is_not_an_lmdb(tmp_path: Path) -> None:
    with pytest.raises(KocrError, match=r"no data\.mdb"):
        LmdbDataset(tmp_path)
    with pytest.raises(KocrError, match="not found"):
        LmdbDataset(tmp_path / "missing")
    env = lmdb.open(str(tmp_path / "plain"))
    with env.begin(write=True) as txn:
        txn.put(b"key", b"value")
    env.close()
    with pytest.raises(KocrError, match="no 'num-samples' key"):
        LmdbDataset(tmp_path / "plain")


def _written_lmdb(path: Path, count: int = 40) -> Path:
    """An LMDB written by kocr whose images fill overflow pages well past the meta pages."""
    with LmdbWriter(path) as writer:
        for i in range(count):
            writer.add(png_bytes(200 + i, 40, shade=i), f"가{i}")
    return path


@pytest.mark.parametrize("keep", ["half", "all but one byte", "one page and a bit", "100 bytes", "nothing"])
def test_a_truncated_lmdb_is_an_error_naming_it_not_a_bus_error(tmp_path: Path, keep: str) -> None:
    db = _written_lmdb(tmp_path / "db")
    data = db / "data.mdb"
    size = data.stat().st_size
    length = {
        "half": size // 2,
        "all but one byte": size - 1,
        "one page and a bit": 4096 + 10,
        "100 bytes": 100,
        "nothing": 0,
    }[keep]
    os.truncate(data, length)
    # Each reader opens through open_lmdb; a fresh process would have died with SIGBUS reading images.
    with pytest.raises(KocrError, match=rf"^{tmp_path / 'db'}: data\.mdb is (truncated|damaged|not an LMDB)"):
        LmdbDataset(db)
    with pytest.raises(KocrError, match=r"data\.mdb is (truncated|damaged|not an LMDB)"):
        lmdb_stats(db)


def test_a_whole_lmdb_passes_the_check_and_junk_of_the_same_length_does_not(tmp_path: Path) -> None:
    db = _written_lmdb(tmp_path / "db")
    assert len(LmdbDataset(db)) == 40
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "data.mdb").write_bytes(os.urandom((db / "data.mdb").stat().st_size))
    with pytest.raises(KocrError, match=r"data\.mdb is not an LMDB data file"):
        open_lmdb(junk)


# --- stats --------------------------------------------------------------------------------------------


def test_stats(tmp_path: Path) -> None:
    samples = [(png_bytes(10, 8), "가나"), (png_bytes(30, 12), "가나다"), (png_bytes(20, 10), "똠 A")]
    clovaai_style_lmdb(tmp_path / "db", samples)
    stats = lmdb_stats(tmp_path / "db", Charset(list("가나다 A")))
    assert stats.num_samples == 3 and stats.length_histogram == {2: 1, 3: 2}
    assert stats.coverage is not None and stats.coverage.samples_outside == 1
    assert [m.symbol for m in stats.coverage.missing] == ["똠"]
    assert stats.coverage.missing[0].examples == ["label-000000003"]
    assert (stats.width.min, stats.width.mean, stats.width.max) == (10, 20.0, 30)
    assert (stats.height.min, stats.height.max) == (8, 12) and stats.formats == {"PNG": 3}
    sampled = lmdb_stats(tmp_path / "db", max_images=2)
    assert sampled.images_checked == 2 and sampled.images_sampled and sampled.coverage is None


def test_missing_and_undecodable_labels_are_dropped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    env = lmdb.open(str(tmp_path / "db"), map_size=1 << 24)
    with env.begin(write=True) as txn:
        for i in (1, 2, 3):
            txn.put(b"image-%09d" % i, png_bytes())
        txn.put(b"label-000000001", "좋음".encode())
        txn.put(b"label-000000003", "한글".encode("cp949"))  # label-000000002 is missing
        txn.put(b"num-samples", b"3")
    env.close()
    with caplog.at_level(logging.WARNING, logger="kocr.data.lmdb.dataset"):
        dataset = LmdbDataset(tmp_path / "db")
    assert list(dataset.labels) == ["좋음"]
    assert dataset.dropped == {"missing label": 1, "label not UTF-8": 1}
    assert "label-000000002 (none)" in caplog.text and "label-000000003 b'\\xc7\\xd1" in caplog.text
    stats = lmdb_stats(tmp_path / "db")
    assert (stats.missing_labels, stats.undecodable_labels, stats.length_histogram) == (1, 1, {2: 1})


def test_image_mode_composites_transparency_on_white(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    Image.new("RGBA", (6, 4), (0, 0, 0, 0)).save(buffer, format="PNG")  # fully transparent "paper"
    clovaai_style_lmdb(tmp_path / "db", [(buffer.getvalue(), "투명")])
    assert LmdbDataset(tmp_path / "db")[0][0].mode == "RGBA"  # as stored by default
    assert LmdbDataset(tmp_path / "db", image_mode="RGB")[0][0].getpixel((0, 0)) == (255, 255, 255)
    assert LmdbDataset(tmp_path / "db", image_mode="L")[0][0].getpixel((0, 0)) == 255
    with pytest.raises(KocrError, match="image_mode"):
        LmdbDataset(tmp_path / "db", image_mode="CMYK")  # type: ignore[arg-type]


def test_a_filter_that_drops_many_samples_says_so_loudly(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Defect 15: --img-w 100 made the default max length 13 and 28 % of a dataset vanished quietly."""
    labels = ["가나다"] * 70 + ["가나다라마바사가나다라마바사"] * 28 + ["똠"] * 2
    clovaai_style_lmdb(tmp_path / "db", [(png_bytes(), label) for label in labels])
    charset = Charset(list("가나다라마바사"), name="small")
    with caplog.at_level(logging.WARNING, logger="kocr.data.lmdb.dataset"):
        LmdbDataset(tmp_path / "db", charset=charset, max_length=13)
    message = caplog.records[-1].getMessage()
    loud = message.splitlines()[0]
    assert loud.startswith("DROPPING 28% of") and "28 of 100 samples too long (over 13 symbols)" in loud
    assert "--max-length" in loud and "--img-w" in loud
    assert "unknown symbols" not in message.splitlines()[0] and len(message.splitlines()) == 2  # 2 % is quiet
