"""ONNX Runtime or PyTorch: kocr.engines picks what runs a checkpoint, and both read the same texts."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT, random_labels, render_line, run_kocr

from kocr.checkpoints.files import checkpoint_digest
from kocr.load import load_recognizer

pytest.importorskip("onnxruntime")
SAMPLES = REPO_ROOT / "data" / "samples"


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "engine-cache"))


def _sample_images() -> list[Path]:
    return sorted(p for p in SAMPLES.iterdir() if p.suffix in (".png", ".jpg"))


def assert_same_readings(one: object, two: object, images: list) -> None:
    first, second = one.predict(images), two.predict(images)  # type: ignore[attr-defined]
    assert [p.text for p in first] == [p.text for p in second]
    assert all(abs(a.confidence - b.confidence) <= 1e-4 for a, b in zip(first, second, strict=True))


def test_the_bundled_model_runs_on_its_onnx_twin_with_the_same_texts() -> None:
    default = REPO_ROOT / "kocr" / "weights" / "default.pt"
    twin = default.with_suffix(".onnx")
    assert twin.is_file(), "scripts/package_default.py writes default.onnx next to default.pt"
    fast = load_recognizer("default", device="cpu")
    assert fast.engine == "onnxruntime" and fast.describe()["engine"] == "onnxruntime"
    assert fast.metadata.checkpoint_sha256 == checkpoint_digest(default)  # type: ignore[attr-defined]
    assert fast.source == str(default) and fast.describe_decoder()["decoder"] == "beam"
    torch_one = load_recognizer("default", device="cpu", engine="torch")
    assert torch_one.engine == "torch" and hasattr(torch_one, "model")
    assert_same_readings(fast, torch_one, _sample_images())


def test_a_twin_of_other_bytes_is_never_used_and_onnxruntime_exports_once(
    tiny_model: Path, tmp_path: Path
) -> None:
    from kocr import load as engines
    from kocr.export import export_onnx

    checkpoint = tmp_path / "model.pt"
    shutil.copy(tiny_model, checkpoint)
    other = tmp_path / "other.pt"
    shutil.copy(tiny_model, other)
    with other.open("ab") as handle:  # same weights, other bytes: not this checkpoint's export
        handle.write(b"\0")
    export_onnx(tiny_model, checkpoint.with_suffix(".onnx"), check=False)
    assert load_recognizer(checkpoint, device="cpu").engine == "onnxruntime"
    export_onnx(other, checkpoint.with_suffix(".onnx"), check=False, overwrite=True)
    assert load_recognizer(checkpoint, device="cpu").engine == "torch"  # stale twin: PyTorch reads it

    checkpoint.with_suffix(".onnx").unlink()
    cached = engines.cached_twin(checkpoint_digest(checkpoint))
    assert not cached.exists()
    fast = load_recognizer(checkpoint, device="cpu", engine="onnxruntime")
    assert fast.engine == "onnxruntime" and cached.is_file()
    made = cached.stat().st_mtime_ns
    assert load_recognizer(checkpoint, device="cpu").engine == "onnxruntime"  # auto finds the cached one
    assert cached.stat().st_mtime_ns == made
    images = [render_line(text) for text in random_labels(6, seed=31)]
    assert_same_readings(fast, load_recognizer(checkpoint, device="cpu", engine="torch"), images)


def test_cli_engine_option_and_metadata(tmp_path: Path) -> None:
    outputs = {}
    for engine in ("auto", "torch"):
        outputs[engine] = tmp_path / f"{engine}.json"
        result = run_kocr("predict", SAMPLES, "--engine", engine, "-o", outputs[engine], "--verbose")
        assert result.returncode == 0, result.stderr
        assert "engine:" in result.stderr
    auto, torch_out = (json.loads(outputs[e].read_text(encoding="utf-8")) for e in ("auto", "torch"))
    assert auto["metadata"]["engine"] == "onnxruntime" and torch_out["metadata"]["engine"] == "torch"
    assert [r["text"] for r in auto["predictions"]] == [r["text"] for r in torch_out["predictions"]]


# --- a twin is read only when kocr bound its bytes to the checkpoint's (kocr.twins) -------------------------


def _trained_further(checkpoint: Path) -> None:
    """``best.pt`` after more training: the same model with other weights, saved over it."""
    state = torch.load(checkpoint, weights_only=True)
    name = next(k for k, v in state["state_dict"].items() if v.is_floating_point())
    state["state_dict"][name] += 0.01
    torch.save(state, checkpoint)


def _warnings(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning:")]


def _predicted_texts(output: Path) -> list[str]:
    return [row["text"] for row in json.loads(output.read_text(encoding="utf-8"))["predictions"]]


def test_the_bundled_twin_is_bound_by_a_record_in_the_package() -> None:
    from kocr.twins import BUNDLED_RECORD, bound_twin_digests

    weights = REPO_ROOT / "kocr" / "weights"
    entries = json.loads(BUNDLED_RECORD.read_text(encoding="utf-8"))["twins"]
    assert [e["checkpoint"] for e in entries] == ["default.pt", "lines.pt"]  # the model, the line detector
    for entry in entries:
        assert entry["checkpoint_sha256"] == checkpoint_digest(weights / entry["checkpoint"])
        assert entry["twin_sha256"] == checkpoint_digest(weights / entry["twin"])  # same sha256 of bytes
        assert bound_twin_digests(entry["checkpoint_sha256"]) == {entry["twin_sha256"]}


def test_after_further_training_auto_warns_once_and_onnxruntime_exports_again(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    checkpoint = tmp_path / "best.pt"
    shutil.copy(tiny_model, checkpoint)
    twin = checkpoint.with_suffix(".onnx")
    assert run_kocr("export", "-m", checkpoint, "-o", twin, "--no-check").returncode == 0
    assert load_recognizer(checkpoint, device="cpu").engine == "onnxruntime"  # `kocr export` bound it
    _trained_further(checkpoint)
    line = tmp_path / "line.png"
    line.write_bytes(render_line("가나12"))

    auto = run_kocr("predict", line, "-m", checkpoint, "--verbose", "-o", tmp_path / "auto.json")
    assert auto.returncode == 0, auto.stderr
    assert "(engine: torch)" in auto.stderr
    (warning,) = _warnings(auto)
    assert f"{twin} is not an export kocr made of this checkpoint" in warning and "PyTorch" in warning

    fresh = run_kocr(
        "predict", line, "-m", checkpoint, "--engine", "onnxruntime", "--verbose", "-o", tmp_path / "ort.json"
    )
    assert fresh.returncode == 0, fresh.stderr
    assert "(engine: onnxruntime)" in fresh.stderr and not _warnings(fresh)
    assert _predicted_texts(tmp_path / "ort.json") == _predicted_texts(tmp_path / "auto.json")
    assert twin.is_file()  # the user's stale file is left alone; the fresh export is in the cache
    assert load_recognizer(checkpoint, device="cpu").engine == "onnxruntime"


@pytest.mark.parametrize("where", ["beside", "cache"])
@pytest.mark.parametrize("damage", ["empty", "truncated", "junk"])
def test_a_damaged_twin_means_pytorch_and_a_warning_or_a_fresh_export(
    tiny_model: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    where: str,
    damage: str,
) -> None:
    from kocr.export import export_onnx
    from kocr.load import cached_twin

    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    checkpoint = tmp_path / "model.pt"
    shutil.copy(tiny_model, checkpoint)
    twin = (
        checkpoint.with_suffix(".onnx") if where == "beside" else cached_twin(checkpoint_digest(checkpoint))
    )
    twin.parent.mkdir(parents=True, exist_ok=True)
    if damage == "truncated":  # kocr's own export of this very checkpoint, cut short
        whole = export_onnx(checkpoint, tmp_path / "whole.onnx", check=False).output.read_bytes()
        twin.write_bytes(whole[: len(whole) // 2])
    else:
        twin.write_bytes(b"" if damage == "empty" else b"\x08\x07junk, not a protobuf" * 50)

    with caplog.at_level(logging.WARNING, logger="kocr.load"):
        reader = load_recognizer(checkpoint, device="cpu")
    assert reader.engine == "torch"
    (record,) = [r for r in caplog.records if r.name == "kocr.load"]
    assert str(twin) in record.getMessage() and "with PyTorch" in record.getMessage()

    fast = load_recognizer(checkpoint, device="cpu", engine="onnxruntime")
    assert fast.engine == "onnxruntime" and fast.metadata.checkpoint_sha256 == checkpoint_digest(checkpoint)
    images = [render_line(text) for text in random_labels(4, seed=5)]
    assert_same_readings(fast, reader, images)


def test_another_models_export_claiming_this_checkpoint_is_never_read(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    onnx = pytest.importorskip("onnx")
    from kocr.load import cached_twin

    monkeypatch.setenv("KOCR_CACHE_DIR", str(tmp_path / "cache"))
    checkpoint = tmp_path / "untrained.pt"
    shutil.copy(tiny_model, checkpoint)
    digest = checkpoint_digest(checkpoint)
    forged = onnx.load(str(REPO_ROOT / "kocr" / "weights" / "default.onnx"))
    for prop in forged.metadata_props:  # the bundled model's export, its metadata naming this checkpoint
        if prop.key == "kocr.checkpoint_sha256":
            prop.value = digest
    cached = cached_twin(digest)
    cached.parent.mkdir(parents=True)
    for place in (checkpoint.with_suffix(".onnx"), cached):
        onnx.save(forged, str(place))

    images = _sample_images()
    own = [p.text for p in load_recognizer(checkpoint, device="cpu", engine="torch").predict(images)]
    bundled = [p.text for p in load_recognizer("default", device="cpu").predict(images)]
    assert own != bundled
    for engine in ("auto", "onnxruntime"):
        reader = load_recognizer(checkpoint, device="cpu", engine=engine)
        assert reader.engine == ("torch" if engine == "auto" else "onnxruntime")
        assert [p.text for p in reader.predict(images)] == own
