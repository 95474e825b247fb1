"""ONNX Runtime or PyTorch: kocr.engines picks what runs a checkpoint, and both read the same texts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
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
