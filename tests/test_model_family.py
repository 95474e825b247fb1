"""A new model family is one module plus one registration.

This file is that module: a toy CTC family (one convolution and a linear head) defined and registered
only here goes through kocr's ordinary code paths, none of which names it: the trainer (family training
defaults, input size, objective), checkpoints, fine-tuning into another charset (the family's charset
tensors and freeze prefixes), ``TorchRecognizer`` (reads any width) and ONNX export with its parity check.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest
import torch
import torch.nn.functional as F
from conftest import TINY_ALPHABET, render_line, tiny_train_config
from PIL import Image
from torch import Tensor, nn

from kocr.charsets import Charset
from kocr.checkpoints import load_checkpoint
from kocr.data.transforms import Preprocess
from kocr.errors import KocrError
from kocr.load import load_recognizer
from kocr.models import (
    FAMILIES,
    MODEL_REGISTRY,
    ModelFamily,
    create_model,
    list_models,
    register_family,
    register_model,
    unregister_family,
)
from kocr.models.objectives import CTCObjective
from kocr.runtime.base import Prediction
from kocr.training.remap import model_for_charset
from kocr.training.trainer import Trainer

TOY_DEFAULTS = {"img_h": 32, "img_w": 128, "channels": 1, "features": 16}
STRIDE = 4  # input columns per CTC time step


class ToyCTC(nn.Module):
    """``[B, C, H, W] -> [B, W // 4, classes]``: a convolution, a mean over the height, a linear head."""

    def __init__(self, num_classes: int, **config: Any) -> None:
        super().__init__()
        self.config = ToyFamily().normalize_config(config)
        self.num_classes = int(num_classes)
        self.features = nn.Conv2d(self.config["channels"], self.config["features"], 3, padding=1)
        self.head = nn.Linear(self.config["features"], self.num_classes)

    def forward(self, images: Tensor) -> Tensor:
        columns = torch.relu(self.features(images)).mean(dim=2)  # [B, F, W]
        steps = F.avg_pool1d(columns, STRIDE)  # [B, F, W // 4]
        return self.head(steps.transpose(1, 2))

    def output_length(self, width: int) -> int:
        return width // STRIDE


class ToyFamily(ModelFamily):
    arch = "toy"
    decoding = "ctc"  # decodes as CTC models do, so an exported file needs nothing new
    train_defaults: ClassVar[Mapping[str, float]] = {"lr": 2e-3, "grad_clip": 3.0, "weight_decay": 0.0}
    freeze_prefixes = ("features",)
    charset_tensors = ("head.weight", "head.bias")

    def normalize_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(config) - set(TOY_DEFAULTS) - {"name", "arch"}
        if unknown:
            raise KocrError(f"unknown toy config keys: {', '.join(sorted(unknown))}")
        head = {"name": str(config["name"])} if "name" in config else {}
        body = {k: int(v) for k, v in config.items() if k not in ("name", "arch")}
        return {**head, "arch": "toy", **TOY_DEFAULTS, **body}

    def build(self, config: Mapping[str, Any], num_classes: int) -> nn.Module:
        return ToyCTC(num_classes, **config)

    def objective(self, charset: Charset) -> CTCObjective:
        return CTCObjective(charset)

    def input_size(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        return config["channels"], config["img_h"], config["img_w"]

    def size_overrides(self, img_h: int | None, img_w: int | None) -> dict[str, Any]:
        return {key: value for key, value in (("img_h", img_h), ("img_w", img_w)) if value}

    def reads_any_width(self, config: Mapping[str, Any]) -> bool:
        return True

    def output_steps(self, model: nn.Module, width: int) -> int:
        return model.output_length(width)


@pytest.fixture
def toy_family() -> Iterator[None]:
    register_family(ToyFamily())
    register_model("toy-ctc", "toy", "a toy CTC model only this test file knows", features=8)
    yield
    unregister_family("toy")
    assert "toy" not in FAMILIES and "toy-ctc" not in MODEL_REGISTRY


def test_registering_and_unregistering_a_family(toy_family: None) -> None:
    assert list_models("toy") == ["toy-ctc"]
    model = create_model("toy-ctc", 5, img_w=64)
    assert model.config == {
        "name": "toy-ctc",
        "arch": "toy",
        "img_h": 32,
        "img_w": 64,
        "channels": 1,
        "features": 8,
    }
    with pytest.raises(KocrError, match="unknown toy config keys"):
        create_model("toy-ctc", 5, hidden_size=3)


def test_a_toy_family_trains_fine_tunes_predicts_and_exports(
    toy_family: None, tiny_task: dict[str, Path], tmp_path: Path
) -> None:
    run = tiny_train_config(
        tiny_task, tmp_path / "runs", model="toy-ctc", model_overrides={}, lr=None, iters=2, valid_every=2
    )
    result = Trainer(run).run()
    assert result.step == 2 and (result.run_dir / "last.pt").is_file()
    best = result.run_dir / "best.pt"
    checkpoint = load_checkpoint(best)
    assert checkpoint.model_config["arch"] == "toy" and checkpoint.num_classes == len(TINY_ALPHABET) + 1
    assert (checkpoint.train_config["lr"], checkpoint.train_config["grad_clip"]) == (2e-3, 3.0)  # family's
    preprocess = Preprocess.from_dict(checkpoint.preprocess or {})
    assert (preprocess.height, preprocess.width, preprocess.channels) == (32, 128, 1)  # family's input size

    image = Image.open(io.BytesIO(render_line("가나12")))
    recognizer = load_recognizer(best, device="cpu")
    assert recognizer.variable_width  # the family reads any width
    prediction = recognizer.predict(image)
    assert isinstance(prediction, Prediction) and 0.0 <= prediction.confidence <= 1.0
    assert set(prediction.text) <= set(TINY_ALPHABET)

    remapped, report = model_for_charset(checkpoint, Charset(list("나가X")))
    assert (report.kept, report.added) == (2, 1)
    head = checkpoint.state_dict["head.weight"]
    assert torch.equal(remapped.state_dict()["head.weight"][1], head[1 + TINY_ALPHABET.index("나")])
    assert torch.equal(remapped.state_dict()["features.weight"], checkpoint.state_dict["features.weight"])

    wider = tmp_path / "wider.txt"
    wider.write_text("\n".join(TINY_ALPHABET + "X") + "\n", encoding="utf-8")
    finetune = tiny_train_config(
        tiny_task,
        tmp_path / "runs",
        model="toy-ctc",
        model_overrides={},
        saved_model=str(best),
        charset=str(wider),
        freeze_features=True,
        lr=None,
        iters=1,
        valid_every=1,
    )
    tuned = load_checkpoint(Trainer(finetune).run().run_dir / "last.pt")
    assert tuned.train_config["lr"] == pytest.approx(2e-4)  # a tenth of the family's
    assert torch.equal(
        tuned.state_dict["features.weight"], checkpoint.state_dict["features.weight"]
    )  # frozen
    assert not torch.equal(tuned.state_dict["head.bias"][:-1], checkpoint.state_dict["head.bias"])

    pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from kocr.export import export_onnx
    from kocr.runtime.onnx_engine import OnnxRecognizer

    exported = export_onnx(best, tmp_path / "toy.onnx")
    assert exported.max_abs_diff is not None and exported.max_abs_diff < exported.tolerance == 1e-3
    assert exported.decoding == "ctc" and exported.dynamic_axes["images"] == {0: "batch", 3: "width"}
    assert exported.input_shape == ("batch", 1, 32, "width")
    onnx_prediction = OnnxRecognizer.load(exported.output, device="cpu").predict(image)
    assert onnx_prediction.text == prediction.text
    assert onnx_prediction.confidence == pytest.approx(prediction.confidence, abs=1e-4)
