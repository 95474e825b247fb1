"""kocr checkpoints, import of the reference implementations' checkpoints, charset remapping."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
import torch
from conftest import FIXTURES

from kocr.charsets import Charset
from kocr.checkpoints import load_checkpoint, save_checkpoint
from kocr.codecs import CTCCodec
from kocr.errors import InputFileError, KocrError
from kocr.models import create_model
from kocr.training.remap import model_for_charset

REFERENCE = FIXTURES / "reference"
PREPROCESS = {"height": 32, "width": 100, "channels": 1, "keep_ratio": True}


def tiny_crnn(charset: Charset) -> torch.nn.Module:
    return create_model(
        "vgg-bilstm-ctc-small", len(charset) + 1, output_channel=16, hidden_size=16, img_h=32, img_w=64
    )


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    charset = Charset(list("가나다 "), name="tiny")
    model = tiny_crnn(charset).eval()
    path = save_checkpoint(
        tmp_path / "best.pt", model=model, charset=charset, preprocess=PREPROCESS, metrics={"cer": 0.5}
    )
    assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]  # no temporary file left behind
    raw = torch.load(path, weights_only=True)  # plain data: loads with weights_only
    assert raw["format"] == "kocr.checkpoint" and raw["charset"]["symbols"] == "가나다 "
    checkpoint = load_checkpoint(path)
    assert checkpoint.charset == charset and checkpoint.preprocess == PREPROCESS
    assert checkpoint.metrics == {"cer": 0.5} and checkpoint.source_format == "kocr"
    rebuilt = checkpoint.build_model()
    x = torch.randn(2, 1, 32, 64)
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model(x))


def test_bad_files_give_clear_errors(tmp_path: Path) -> None:
    charset = Charset(list("가나"))
    good = save_checkpoint(
        tmp_path / "good.pt", model=tiny_crnn(charset), charset=charset, preprocess=PREPROCESS
    )
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "notes.txt"
    text.write_text("not a checkpoint", encoding="utf-8")
    empty = tmp_path / "empty.pt"
    empty.touch()
    for path, message in [
        (truncated, "not a readable PyTorch checkpoint"),
        (text, "not"),
        (empty, "empty"),
        (tmp_path / "missing.pt", "not found"),
        (tmp_path, "is a folder"),
    ]:
        with pytest.raises(InputFileError, match=message) as info:
            load_checkpoint(path)
        assert str(path) in str(info.value)


class Payload:
    """An object whose unpickling would run code: weights_only loading must refuse it."""

    def __reduce__(self):  # pragma: no cover - never called back on load
        return (print, ("this must not run",))


def test_pickled_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.pt"
    torch.save({"state_dict": Payload()}, path, pickle_protocol=2)
    with pytest.raises(InputFileError, match="weights-only"):
        load_checkpoint(path)


def test_clovaai_checkpoint_imports_with_inferred_architecture() -> None:
    meta = json.loads((REFERENCE / "dtrb_trbc_small.json").read_text(encoding="utf-8"))
    fixture = torch.load(REFERENCE / "dtrb_trbc_small.pt", weights_only=True)
    charset = Charset([chr(0xAC00 + i) for i in range(39)])  # 40 classes = 39 symbols + blank
    checkpoint = load_checkpoint(REFERENCE / "dtrb_trbc_small.pt", charset=charset)
    config = checkpoint.model_config
    assert checkpoint.source_format == "clovaai" and checkpoint.num_classes == meta["config"]["num_class"]
    assert (config["transformation"], config["feature_extraction"], config["sequence_modeling"]) == (
        "TPS",
        "ResNet",
        "BiLSTM",
    )
    assert (config["img_h"], config["img_w"], config["output_channel"], config["hidden_size"]) == (
        32,
        100,
        64,
        32,
    )
    model = checkpoint.build_model()
    with torch.no_grad():
        logits = model(fixture["input"])
    assert torch.allclose(logits, fixture["logits"], atol=5e-3)


def test_clovaai_checkpoint_with_wrong_charset_size_is_explained() -> None:
    with pytest.raises(InputFileError, match=r"40 classes.*39 symbols.*2,473"):
        load_checkpoint(REFERENCE / "dtrb_trbc_small.pt", charset="ko-2350")


def test_easyocr_style_vgg_checkpoint_imports() -> None:
    fixture = torch.load(REFERENCE / "dtrb_vgg_bilstm_ctc_small.pt", weights_only=True)
    meta = json.loads((REFERENCE / "dtrb_vgg_bilstm_ctc_small.json").read_text(encoding="utf-8"))
    charset = Charset(meta["decode_charset"]["charset"])
    checkpoint = load_checkpoint(REFERENCE / "dtrb_vgg_bilstm_ctc_small.pt", charset=charset)
    assert checkpoint.model_config["feature_extraction"] == "VGG"
    assert checkpoint.model_config["transformation"] == "None"
    with torch.no_grad():
        logits = checkpoint.build_model()(fixture["input"])
    assert torch.allclose(logits, fixture["logits"], atol=2e-5)
    texts = [d.text for d in CTCCodec(charset).decode(logits)]
    assert texts == meta["decoded"]


def test_parseq_state_dict_imports() -> None:
    meta = json.loads((REFERENCE / "parseq_small.json").read_text(encoding="utf-8"))
    fixture = torch.load(REFERENCE / "parseq_small.pt", weights_only=True)
    # Head counts cannot be read off tensor shapes: the default guess is D/64 and D/32 (right for the
    # released parseq and parseq-tiny); this small fixture needs them as hints.
    hints = {
        "enc_num_heads": meta["config"]["enc_num_heads"],
        "dec_num_heads": meta["config"]["dec_num_heads"],
    }
    checkpoint = load_checkpoint(REFERENCE / "parseq_small.pt", charset=Charset(meta["charset"]), hints=hints)
    config = checkpoint.model_config
    assert checkpoint.source_format == "parseq"
    for key in ("embed_dim", "enc_depth", "dec_depth", "max_label_length", "img_size", "patch_size"):
        assert config[key] == meta["config"][key], key
    model = checkpoint.build_model()
    with torch.no_grad():
        logits = model(fixture["input"], decode_ar=False, refine_iters=0)
    assert torch.allclose(logits, fixture["logits_ar0_ri0"], atol=2e-5)


def test_charset_change_keeps_shared_rows(tmp_path: Path) -> None:
    old = Charset(list("가나다라"), name="old")
    model = tiny_crnn(old)
    path = save_checkpoint(tmp_path / "old.pt", model=model, charset=old, preprocess=PREPROCESS)
    new = Charset(list("라마가"), name="new")
    remapped, report = model_for_charset(load_checkpoint(path), new)
    assert (report.kept, report.added, report.dropped) == (2, 1, 2)
    old_w, new_w = model.state_dict()["Prediction.weight"], remapped.state_dict()["Prediction.weight"]
    assert new_w.shape[0] == 4
    assert torch.equal(new_w[0], old_w[0])  # blank
    assert torch.equal(new_w[1], old_w[4])  # 라
    assert torch.equal(new_w[3], old_w[1])  # 가
    assert not torch.equal(new_w[2], old_w[2])  # 마 is new
    feature_key = "FeatureExtraction.ConvNet.0.weight"
    assert torch.equal(remapped.state_dict()[feature_key], model.state_dict()[feature_key])


def test_parseq_charset_change_keeps_head_and_embedding_rows(tmp_path: Path) -> None:
    old = Charset(list("가나다"))
    model = create_model(
        "parseq-tiny",
        len(old) + 1,
        embed_dim=32,
        enc_num_heads=2,
        dec_num_heads=2,
        enc_depth=1,
        max_label_length=8,
    )
    path = save_checkpoint(tmp_path / "p.pt", model=model, charset=old, preprocess=PREPROCESS)
    new = Charset(list("다가A"))
    remapped, report = model_for_charset(load_checkpoint(path), new, {"max_label_length": 12})
    assert report.kept == 2
    sd_old, sd_new = model.state_dict(), remapped.state_dict()
    assert torch.equal(sd_new["head.weight"][1], sd_old["head.weight"][3])  # 다
    emb_old, emb_new = sd_old["text_embed.embedding.weight"], sd_new["text_embed.embedding.weight"]
    assert torch.equal(emb_new[4], emb_old[4]) and torch.equal(emb_new[5], emb_old[5])  # [B], [P]
    assert sd_new["pos_queries"].shape[1] == 13
    assert torch.equal(sd_new["pos_queries"][:, :9], sd_old["pos_queries"])


def test_jamo_and_syllable_models_do_not_mix(tmp_path: Path) -> None:
    old = Charset(list("가나"))
    path = save_checkpoint(tmp_path / "a.pt", model=tiny_crnn(old), charset=old, preprocess=PREPROCESS)
    with pytest.raises(KocrError, match="jamo"):
        model_for_charset(load_checkpoint(path), Charset.preset("ko-jamo"))


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_saved_checkpoint_gets_the_umask_mode(tmp_path: Path) -> None:
    charset = Charset(list("가나"))
    previous = os.umask(0o022)
    try:
        path = save_checkpoint(
            tmp_path / "best.pt", model=tiny_crnn(charset), charset=charset, preprocess=PREPROCESS
        )
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644  # not mkstemp's 0600


# --- issue 15: what a file that is no checkpoint is called ----------------------------------------------


def test_files_that_are_no_checkpoint_are_named_for_what_they_are(tmp_path: Path) -> None:
    """An ONNX export, random bytes and a plain pickle were all "pickled code", with torch's advice to
    load with weights_only=False, which kocr must never suggest."""
    import pickle

    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(b"\x08\x07\x12\x07pytorch\x1a\x032.0onnx junk")
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(onnx_file.read_bytes())
    noise = tmp_path / "noise.pt"
    noise.write_bytes(os.urandom(256).replace(b"\x80", b"\x81"))
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"weights": [1.0, 2.0]}, protocol=4))
    full_model = tmp_path / "full.pt"
    torch.save({"state_dict": Payload()}, full_model)
    expected = {
        onnx_file: "kocr predict --onnx",
        renamed: "kocr predict --onnx",
        noise: "not a readable PyTorch checkpoint",
        plain: "plain Python pickle",
        full_model: "pickled Python objects or code",
    }
    for path, words in expected.items():
        with pytest.raises(InputFileError) as info:
            load_checkpoint(path)
        message = str(info.value)
        assert words in message, message
        assert "weights_only" not in message and "Re-running" not in message, message
        if path not in (full_model,):
            assert "pickled code" not in message and "pickled Python objects" not in message, message


def test_a_protocol_4_checkpoint_prints_no_raw_torch_warning(tmp_path: Path) -> None:
    import warnings

    path = tmp_path / "p4.pt"
    torch.save({"weights": torch.ones(2)}, path, pickle_protocol=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch's "Detected pickle protocol 4" UserWarning must not surface
        with pytest.raises(InputFileError, match="pickle protocol 4") as info:
            load_checkpoint(path)
    assert "weights_only" not in str(info.value)
