"""ONNX export: logits parity with PyTorch, self-contained files, `kocr export` and `kocr predict --onnx`."""

from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from conftest import TINY_ALPHABET, assert_no_traceback, random_labels, render_line, run_kocr
from PIL import Image

onnxruntime = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from kocr.charsets import Charset  # noqa: E402
from kocr.checkpoints import load_checkpoint, save_checkpoint  # noqa: E402
from kocr.checkpoints.files import checkpoint_digest  # noqa: E402
from kocr.data.transforms import Preprocess  # noqa: E402
from kocr.errors import InputFileError, KocrError  # noqa: E402
from kocr.export import ExportReport, export_onnx  # noqa: E402
from kocr.load import load_recognizer  # noqa: E402
from kocr.models import create_model  # noqa: E402
from kocr.runtime.base import Prediction  # noqa: E402
from kocr.runtime.onnx_engine import OnnxRecognizer  # noqa: E402
from kocr.runtime.onnx_session import onnx_providers  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread() -> Iterator[None]:
    """These models are tiny: on a shared two-core machine, two threads spend most time synchronising."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(autouse=True, scope="module")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Exports record their binding in the cache (kocr.twins): keep that out of the user's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KOCR_CACHE_DIR", str(tmp_path_factory.mktemp("export-cache")))
        yield


def rendered(labels: list[str]) -> list[Image.Image]:
    return [Image.open(io.BytesIO(render_line(label))) for label in labels]


def assert_same_predictions(a: list[Prediction], b: list[Prediction]) -> None:
    assert [p.text for p in a] == [p.text for p in b]
    for x, y in zip(a, b, strict=True):
        assert x.confidence == pytest.approx(y.confidence, abs=1e-4)


@pytest.fixture(scope="module")
def tiny_onnx(tiny_model: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportReport:
    return export_onnx(tiny_model, tmp_path_factory.mktemp("onnx") / "tiny.onnx")


# --- the trained tiny CRNN (variable width) ---------------------------------------------------------------


def test_parity_at_two_batch_sizes_and_widths(tiny_onnx: ExportReport) -> None:
    assert tiny_onnx.max_abs_diff is not None and tiny_onnx.max_abs_diff < 1e-3
    assert tiny_onnx.tolerance == 1e-3
    assert {shape[0] for shape in tiny_onnx.parity_shapes} == {1, 4}
    assert len({shape[-1] for shape in tiny_onnx.parity_shapes}) >= 2
    assert tiny_onnx.dynamic_axes["images"] == {0: "batch", 3: "width"}
    assert tiny_onnx.input_shape == ("batch", 1, 32, "width")


def test_onnx_file_carries_everything_needed_to_predict(tiny_model: Path, tiny_onnx: ExportReport) -> None:
    props = {p.key: p.value for p in onnx.load(str(tiny_onnx.output)).metadata_props}
    checkpoint = load_checkpoint(tiny_model)
    assert Charset.from_dict(json.loads(props["kocr.charset"])) == checkpoint.charset
    assert json.loads(props["kocr.preprocess"]) == Preprocess.from_dict(checkpoint.preprocess or {}).to_dict()
    assert json.loads(props["kocr.model_config"]) == checkpoint.model_config
    assert props["kocr.decoding"] == "ctc"


def test_onnx_recognizer_matches_recognizer_on_real_lines(
    tiny_model: Path, tiny_onnx: ExportReport, tmp_path: Path
) -> None:
    labels = [*random_labels(10, seed=21), "1", "0123456789가나다라마"]  # widths from 32 to ~300 px
    images = rendered(labels)
    report = export_onnx(tiny_model, tmp_path / "real.onnx", sample_images=images, batch_sizes=(1, 4))
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-3
    assert report.parity_images == 2 * len(images)

    onnx_recognizer = OnnxRecognizer.load(tiny_onnx.output, batch_size=4)
    torch_recognizer = load_recognizer(tiny_model, device="cpu", batch_size=4)
    predictions = onnx_recognizer.predict_images(images)
    assert_same_predictions(predictions, torch_recognizer.predict_images(images))
    assert sum(p.text == label for p, label in zip(predictions, labels, strict=True)) >= 9
    assert onnx_recognizer.predict(images[0]) == predictions[0]


def test_onnx_and_pytorch_share_the_beam_decoder(
    tiny_model: Path, tiny_onnx: ExportReport, tmp_path: Path
) -> None:
    from kocr.lm.build import build_lm, encode_lines

    charset = load_checkpoint(tiny_model).require_charset()
    lm = build_lm(encode_lines(random_labels(200, seed=3), charset)[0], charset, order=3)
    lm_path = tmp_path / "digits.lm"
    lm.save(lm_path)
    images = rendered(random_labels(8, seed=22))
    options = {"decoder": "beam", "lm": lm_path, "beam_width": 4}
    onnx_recognizer = OnnxRecognizer.load(tiny_onnx.output, batch_size=4, **options)
    torch_recognizer = load_recognizer(tiny_model, device="cpu", batch_size=4, **options)
    assert onnx_recognizer.describe_decoder() == torch_recognizer.describe_decoder()
    assert onnx_recognizer.describe_decoder()["lm"] == str(lm_path)
    assert_same_predictions(onnx_recognizer.predict_images(images), torch_recognizer.predict_images(images))
    # A .lm file next to the .onnx one is its language model unless told otherwise.
    sidecar = tiny_onnx.output.with_suffix(".lm")
    lm.save(sidecar)
    try:
        assert OnnxRecognizer.load(tiny_onnx.output).describe_decoder()["decoder"] == "beam"
        assert OnnxRecognizer.load(tiny_onnx.output, lm="none").describe_decoder() == {"decoder": "greedy"}
    finally:
        sidecar.unlink()


def test_cli_export_then_predict_onnx_gives_the_same_texts(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    folder = tmp_path / "lines"
    folder.mkdir()
    for i, label in enumerate(random_labels(16, seed=31)):
        (folder / f"{i:02d}.png").write_bytes(render_line(label))
    model = tmp_path / "model.onnx"
    result = run_kocr("export", "--saved-model", tiny_model, "--format", "onnx", "-o", model)
    assert result.returncode == 0, result.stderr
    assert float(re.search(r"max abs diff (\S+)", result.stdout).group(1)) < 1e-3  # type: ignore[union-attr]
    assert re.search(r"dynamic axes\s+images: batch, width; logits: batch, steps", result.stdout), (
        result.stdout
    )
    assert "images [batch, 1, 32, width]" in result.stdout

    outputs = {}
    for name, args in (
        ("onnx", ["--onnx", model, "--device", "cpu"]),
        ("torch", ["--saved-model", tiny_model]),
    ):
        outputs[name] = tmp_path / f"{name}.json"
        run = run_kocr("predict", folder, *args, "--batch-size", "4", "-o", outputs[name])
        assert run.returncode == 0, run.stderr
    onnx_out, torch_out = (json.loads(outputs[n].read_text(encoding="utf-8")) for n in ("onnx", "torch"))
    assert onnx_out["metadata"]["decoder"] == torch_out["metadata"]["decoder"] == "greedy"
    onnx_rows, torch_rows = onnx_out["predictions"], torch_out["predictions"]
    assert [(r["path"], r["text"]) for r in onnx_rows] == [(r["path"], r["text"]) for r in torch_rows]
    if (
        "CUDAExecutionProvider" not in onnxruntime.get_available_providers()
    ):  # --device is obeyed, not ignored
        on_gpu = run_kocr("predict", folder, "--onnx", model, "--device", "cuda", "-o", tmp_path / "gpu.json")
        assert on_gpu.returncode != 0 and "no CUDA provider" in on_gpu.stderr, on_gpu.stderr
        assert_no_traceback(on_gpu)
        assert not (tmp_path / "gpu.json").exists()

    again = run_kocr("export", "--saved-model", tiny_model, "-o", model)
    assert again.returncode == 2 and "--overwrite" in again.stderr
    assert_no_traceback(again)


# --- fixed-size models ------------------------------------------------------------------------------------


def save_tiny(model: torch.nn.Module, path: Path, **preprocess: object) -> Path:
    return save_checkpoint(
        path, model=model, charset=Charset(TINY_ALPHABET), preprocess=Preprocess(**preprocess).to_dict()
    )


def test_tps_crnn_exports_with_a_fixed_input_size(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(
        "tps-vgg-bilstm-ctc",
        len(TINY_ALPHABET) + 1,
        output_channel=32,
        hidden_size=32,
        num_fiducial=6,
        img_w=64,
    )
    checkpoint = save_tiny(model, tmp_path / "tps.pt", height=32, width=64, keep_ratio=False)
    with pytest.raises(KocrError, match="TPS models need opset 16"):  # GridSample arrived in opset 16
        export_onnx(checkpoint, tmp_path / "old.onnx", opset=15)
    report = export_onnx(checkpoint, tmp_path / "tps.onnx")
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-3
    assert report.tolerance == 5e-3  # resampling amplifies grid rounding; this tiny one is still ~1e-6
    assert report.dynamic_axes["images"] == {0: "batch"} and report.input_shape == ("batch", 1, 32, 64)
    images = rendered(random_labels(6, seed=41))
    assert_same_predictions(
        OnnxRecognizer.load(report.output, batch_size=4).predict_images(images),
        load_recognizer(checkpoint, device="cpu", batch_size=4).predict_images(images),
    )


def end_at_different_steps(model: torch.nn.Module, batch: torch.Tensor) -> None:
    """Raise the untrained PARSeq's ``[E]`` bias until every row ends, at different steps: that exercises the
    data-dependent part of decoding (the refinement's mask from the first ``[E]`` on, and the early stop
    PyTorch takes where the exported graph runs every step)."""
    with torch.no_grad():
        base = float(model.head.bias[0])
        for shift in torch.linspace(0.0, 2.0, 81).tolist():
            model.head.bias[0] = base + shift
            ends = model(batch, max_length=model.max_label_length, refine_iters=0).argmax(-1) == 0
            if bool(ends.any(-1).all()) and len(set(ends.int().argmax(-1).tolist())) >= 2:
                return
    pytest.fail("no [E] bias makes the rows end at different steps")


def test_parseq_exports_with_full_decoding_and_matches_early_stopping_pytorch(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = create_model(
        "parseq",
        len(TINY_ALPHABET) + 1,
        img_size=[32, 64],
        patch_size=[8, 8],
        embed_dim=32,
        enc_depth=1,
        enc_num_heads=2,
        dec_depth=2,  # a second layer updates the content stream: MultiheadAttention's fast path
        dec_num_heads=2,
        max_label_length=6,
    ).eval()
    preprocess = Preprocess(height=32, width=64, channels=3, keep_ratio=False)
    images = rendered(random_labels(8, seed=5))
    end_at_different_steps(model, torch.stack([preprocess(image) for image in images]))
    checkpoint = save_tiny(model, tmp_path / "parseq.pt", **preprocess.to_dict())

    report = export_onnx(checkpoint, tmp_path / "parseq.onnx", sample_images=images, batch_sizes=(1, 4))
    assert report.max_abs_diff is not None and report.max_abs_diff < 1e-3
    assert report.input_shape == ("batch", 3, 32, 64) and report.output_shape == (
        "batch",
        7,
        len(TINY_ALPHABET) + 1,
    )
    graph_ops = {node.op_type for node in onnx.load(str(report.output)).graph.node}
    assert "CumSum" in graph_ops  # the [E] padding mask is computed at run time, not frozen by the trace
    assert_same_predictions(
        OnnxRecognizer.load(report.output, batch_size=4).predict_images(images),
        load_recognizer(checkpoint, device="cpu", batch_size=4).predict_images(images),
    )
    with pytest.raises(KocrError, match="CTC"):
        OnnxRecognizer.load(report.output, decoder="beam")
    with pytest.raises(KocrError, match="CTC"):
        load_recognizer(checkpoint, device="cpu", decoder="beam")


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_an_export_is_bound_to_its_checkpoint_outside_the_file(
    tiny_onnx: ExportReport, tiny_model: Path
) -> None:
    from kocr.twins import bound_twin_digests

    bound = bound_twin_digests(checkpoint_digest(tiny_model))
    assert checkpoint_digest(tiny_onnx.output) in bound  # sha256 of the written bytes, recorded in the cache


def test_exported_file_gets_the_umask_mode(tiny_model: Path, tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        report = export_onnx(tiny_model, tmp_path / "mode.onnx", batch_sizes=(1,))
    finally:
        os.umask(previous)
    assert stat.S_IMODE(report.output.stat().st_mode) == 0o644  # not mkstemp's 0600


# --- errors ------------------------------------------------------------------------------------------------


def test_failed_parity_writes_nothing(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kocr.export

    class Skewed:
        """An onnxruntime session whose logits are off by 0.01."""

        def __init__(self, session: object) -> None:
            self.session = session

        def run(self, names: list[str], feeds: dict[str, object]) -> list[object]:
            return [out + 0.01 for out in self.session.run(names, feeds)]  # type: ignore[attr-defined]

    real = kocr.export.open_session
    monkeypatch.setattr(kocr.export, "open_session", lambda *args, **kwargs: Skewed(real(*args, **kwargs)))
    with pytest.raises(KocrError, match="differ from PyTorch's"):
        export_onnx(tiny_model, tmp_path / "bad.onnx", batch_sizes=(2,))
    assert list(tmp_path.iterdir()) == []


def test_bad_inputs_are_clean_errors(
    tiny_onnx: ExportReport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    result = run_kocr("export", "--saved-model", bad, "-o", tmp_path / "x.onnx")
    assert result.returncode == 2 and "bad.pt" in result.stderr
    assert_no_traceback(result)
    assert not (tmp_path / "x.onnx").exists()
    result = run_kocr("export", "--saved-model", bad, "--format", "tflite", "-o", tmp_path / "x.onnx")
    assert result.returncode == 2 and "--format" in result.stderr
    assert_no_traceback(result)

    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["x"], ["y"])],
        "plain",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    plain = onnx.helper.make_model(graph, ir_version=8, opset_imports=[onnx.helper.make_opsetid("", 17)])
    onnx.save(plain, tmp_path / "plain.onnx")
    with pytest.raises(InputFileError, match="no kocr metadata"):
        OnnxRecognizer.load(tmp_path / "plain.onnx")
    with pytest.raises(InputFileError, match="not found"):
        OnnxRecognizer.load(tmp_path / "missing.onnx")
    (tmp_path / "garbage.onnx").write_bytes(b"not a model")
    with pytest.raises(InputFileError, match="onnxruntime cannot load it"):
        OnnxRecognizer.load(tmp_path / "garbage.onnx")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the extra were not installed
    with pytest.raises(KocrError, match=re.escape("kocr-hangul[onnx]")):
        OnnxRecognizer.load(tiny_onnx.output)


def test_onnx_providers_follow_the_device_option() -> None:
    assert onnx_providers("auto") is None  # CUDA when offered, then CPU
    assert onnx_providers("CPU") == ["CPUExecutionProvider"]
    for bad in ("gpu", "cuda:x", "mps"):
        with pytest.raises(KocrError, match="unknown device"):
            onnx_providers(bad)


# --- issue 15 ---------------------------------------------------------------------------------------------


def test_recognizer_load_opens_an_exported_onnx_file(tiny_model: Path, tiny_onnx: ExportReport) -> None:
    """`load_recognizer("x.onnx")` said "pickled code"; it now opens the ONNX recogniser."""
    loaded = load_recognizer(tiny_onnx.output, device="cpu")
    assert isinstance(loaded, OnnxRecognizer)
    images = rendered(random_labels(4, seed=5))
    assert_same_predictions(loaded.predict(images), load_recognizer(tiny_model, device="cpu").predict(images))
    with pytest.raises(KocrError, match="carries its own charset"):
        load_recognizer(tiny_onnx.output, charset="ko")


def test_export_samples_skip_an_unreadable_file_as_predict_does(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 12: one unreadable file among --samples aborted the export."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    samples = tmp_path / "samples"
    samples.mkdir()
    (samples / "good.png").write_bytes(render_line("12가"))
    (samples / "bad.png").write_bytes(b"not an image")
    result = run_kocr("export", "-m", tiny_model, "-o", tmp_path / "m.onnx", "--samples", samples)
    assert result.returncode == 0, result.stderr
    assert "bad.png" in result.stderr and "skipped" in result.stderr and "sample images" in result.stdout
    assert (tmp_path / "m.onnx").is_file()
    only_bad = run_kocr(
        "export", "-m", tiny_model, "-o", tmp_path / "n.onnx", "--samples", samples / "bad.png"
    )
    assert only_bad.returncode == 2 and "no readable images" in only_bad.stderr
    assert_no_traceback(only_bad)
    assert not (tmp_path / "n.onnx").exists()
