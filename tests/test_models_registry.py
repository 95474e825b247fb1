"""Model registry: names, JSON configs, rebuild from config, and full-size key manifests of the references."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import FIXTURES

from kocr.checkpoints.foreign import crnn_config_from_clovaai
from kocr.errors import KocrError
from kocr.models import (
    MODEL_REGISTRY,
    PARSEQ_DEFAULTS,
    PARSeq,
    build_model,
    create_model,
    list_models,
    model_config,
    num_classes_for_charset,
)

REF = FIXTURES / "reference"


pytestmark = pytest.mark.usefixtures("single_thread")


EXPECTED = {
    "tps-resnet-bilstm-ctc",
    "resnet-bilstm-ctc",
    "vgg-bilstm-ctc",
    "tps-vgg-bilstm-ctc",
    "vgg-bilstm-ctc-small",
    "parseq",
    "parseq-tiny",
}


def _small_overrides(name: str) -> dict:
    """Shrink a registered model so the round-trip tests stay fast."""
    if model_config(name)["arch"] == "parseq":
        return {
            "embed_dim": 32,
            "enc_num_heads": 2,
            "dec_num_heads": 2,
            "enc_depth": 1,
            "max_label_length": 6,
        }
    return {"output_channel": 32, "hidden_size": 16}


def test_registered_names():
    assert set(list_models()) >= EXPECTED
    assert set(list_models("parseq")) == {"parseq", "parseq-tiny"}
    assert list_models() == list(MODEL_REGISTRY)


def test_unknown_name_lists_known_models():
    with pytest.raises(KocrError) as excinfo:
        create_model("crnn-huge", 10)
    for name in list_models():
        assert name in str(excinfo.value)
    with pytest.raises(KocrError, match="known models"):
        model_config("nope")


@pytest.mark.parametrize("name", sorted(EXPECTED | {"resnet-ctc", "resnet-bilstm-ctc-small"}))
def test_config_is_json_and_rebuilds_the_same_model(name):
    torch.manual_seed(0)
    model = create_model(name, 9, **_small_overrides(name)).eval()
    config = model.config
    assert config["name"] == name and config["arch"] in ("crnn", "parseq")
    assert json.loads(json.dumps(config)) == config  # plain JSON values only (lists, not tuples)
    assert config == model_config(name, **_small_overrides(name))
    clone = build_model(json.loads(json.dumps(config)), model.num_classes).eval()
    assert clone.config == config
    clone.load_state_dict(model.state_dict(), strict=True)
    if config["arch"] == "parseq":
        x = torch.rand(2, 3, *config["img_size"])
    else:
        x = torch.rand(2, config["input_channel"], config["img_h"], config["img_w"])
    with torch.no_grad():
        assert torch.equal(model(x), clone(x))


def test_build_model_from_name_only_and_rejects_nonsense():
    model = build_model({"name": "vgg-bilstm-ctc-small", "hidden_size": 32}, 5)
    assert model.config["arch"] == "crnn" and model.config["hidden_size"] == 32
    assert model.config["output_channel"] == 128  # the rest from the registered entry
    custom = build_model({"name": "my-own", "arch": "crnn", "transformation": "None"}, 5)
    assert custom.config["name"] == "my-own" and custom.config["output_channel"] == 512  # family defaults
    with pytest.raises(KocrError, match="neither"):
        build_model({"hidden_size": 32}, 5)
    with pytest.raises(KocrError, match="architecture"):
        build_model({"arch": "rnn-t"}, 5)
    with pytest.raises(KocrError, match="unknown PARSeq config keys"):
        create_model("parseq-tiny", 5, hidden_size=3)


def test_overrides_change_construction_size():
    model = create_model("tps-resnet-bilstm-ctc", 10, output_channel=32, hidden_size=16, img_w=200)
    assert model.Transformation.GridGenerator.P_hat.shape == (32 * 200, 23)
    assert model.config["img_w"] == 200
    parseq = create_model("parseq-tiny", 10, img_size=[32, 256], max_label_length=40, enc_depth=1)
    assert parseq.encoder.pos_embed.shape == (1, 8 * 32, 192)
    assert parseq.pos_queries.shape == (1, 41, 192)
    assert parseq.head.out_features == 10 and parseq.text_embed.embedding.num_embeddings == 12


def test_num_classes_convention():
    assert num_classes_for_charset(2450) == 2451
    assert create_model("vgg-bilstm-ctc-small", 2451).Prediction.out_features == 2451
    assert create_model("parseq-tiny", 2451, enc_depth=1).head.out_features == 2451


def _items(model: torch.nn.Module) -> list[tuple[str, torch.Tensor]]:
    return list(model.state_dict().items())


def _manifest_model(entry: dict) -> torch.nn.Module:
    config = entry["config"]
    if "Transformation" in config:  # clovaai opt fields
        kocr_config, num_classes = crnn_config_from_clovaai(config)
        return build_model(kocr_config, num_classes)
    parseq_config = {k: v for k, v in config.items() if k in PARSEQ_DEFAULTS}
    return PARSeq(num_tokens=len(config["charset_train"]) + 3, **parseq_config)


def test_full_size_manifests():
    manifests = json.loads((REF / "manifests.json").read_text("utf-8"))
    registry_name = {
        "dtrb_TPS-ResNet-BiLSTM-CTC_default": "tps-resnet-bilstm-ctc",
        "dtrb_None-VGG-BiLSTM-CTC_easyocr_korean_g2": "vgg-bilstm-ctc",
        "parseq_parseq_94full": "parseq",
        "parseq_parseq-tiny_94full": "parseq-tiny",
    }
    entries = {k: v for k, v in manifests.items() if isinstance(v, dict)}
    assert set(entries) == set(registry_name)
    for key, entry in entries.items():
        model = _manifest_model(entry)
        got = [
            [entry["prefix"] + k, list(v.shape), str(v.dtype).removeprefix("torch.")]
            for k, v in _items(model)
        ]
        assert got == entry["keys"], key
        assert len(got) == entry["n_entries"]
        assert sum(p.numel() for p in model.parameters()) == entry["n_parameters"], key
        # The registered defaults are the same architecture.
        num_classes = model.num_classes
        default = create_model(registry_name[key], num_classes)
        assert [(k, v.shape) for k, v in default.state_dict().items()] == [
            (k, v.shape) for k, v in model.state_dict().items()
        ], key
        del model, default
