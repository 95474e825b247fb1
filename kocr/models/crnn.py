"""clovaai's four-stage CTC recogniser: Transformation -> FeatureExtraction -> SequenceModeling -> Prediction.

Top-level module names (``Transformation``, ``FeatureExtraction``, ``AdaptiveAvgPool``,
``SequenceModeling``, ``Prediction``) and every parameter name below them match clovaai's ``Model``, so a
clovaai or EasyOCR checkpoint loads through :mod:`kocr.checkpoints.foreign` (which strips DataParallel's
``module.`` prefix) and produces the same logits.

Only the CTC head is implemented; ``Prediction`` is a plain Linear and class 0 is the CTC blank.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from torch import Tensor, nn

from kocr.errors import KocrError
from kocr.models.backbones import ResNetFeatureExtractor, VGGFeatureExtractor
from kocr.models.family import ModelFamily
from kocr.models.objectives import CTCObjective
from kocr.models.sequence import BidirectionalLSTM
from kocr.models.tps import TPSSpatialTransformer

if TYPE_CHECKING:  # pragma: no cover
    from kocr.charsets import Charset

#: Classes of the auxiliary jamo head: blank, 19 initials, 21 medials, 27 finals, and "not Hangul".
JAMO_HEAD_CLASSES = 1 + 19 + 21 + 27 + 1

#: Architecture options of a CRNN config. Values use clovaai's spelling of the stage names.
CRNN_DEFAULTS: dict[str, Any] = {
    "transformation": "TPS",  # "TPS" | "None"
    "feature_extraction": "ResNet",  # "ResNet" | "VGG"
    "sequence_modeling": "BiLSTM",  # "BiLSTM" | "None"
    "prediction": "CTC",
    "img_h": 32,
    "img_w": 100,  # construction width: fixes the TPS output size; without TPS any width runs
    "input_channel": 1,
    "output_channel": 512,
    "hidden_size": 256,
    "num_fiducial": 20,
    "align_corners": True,  # TPS grid_sample; clovaai checkpoints from torch 1.10-1.13 need False
    "resnet_layers": [1, 2, 5, 3],
    # Weight of an auxiliary CTC loss over the labels' jamo (kocr's own, not clovaai's): a second head
    # learns initial/medial/final consonant and vowel per frame, sharing what 2,350 syllable classes
    # have in common (를/름/릅 differ in one final). 0 = no head; inference never uses it.
    "jamo_head": 0.0,
}

_CHOICES = {
    "transformation": ("TPS", "None"),
    "feature_extraction": ("ResNet", "VGG"),
    "sequence_modeling": ("BiLSTM", "None"),
    "prediction": ("CTC",),
}


def _canonical_choice(key: str, value: Any) -> str:
    for choice in _CHOICES[key]:
        if str(value).lower() == choice.lower():
            return choice
    raise KocrError(f"CRNN {key} must be one of {', '.join(_CHOICES[key])}, got {value!r}")


def normalize_crnn_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Fill defaults, canonicalise stage names and check values; returns a new JSON-able dict."""
    unknown = set(config) - set(CRNN_DEFAULTS) - {"name", "arch"}
    if unknown:
        raise KocrError(f"unknown CRNN config keys: {', '.join(sorted(unknown))}")
    if config.get("arch", "crnn") != "crnn":
        raise KocrError(f"not a CRNN config: arch is {config['arch']!r}")
    head = {"name": str(config["name"])} if "name" in config else {}
    body = {k: v for k, v in config.items() if k not in ("name", "arch")}
    cfg = {**head, "arch": "crnn", **CRNN_DEFAULTS, **body}
    for key in _CHOICES:
        cfg[key] = _canonical_choice(key, cfg[key])
    for key in ("img_h", "img_w", "input_channel", "output_channel", "hidden_size", "num_fiducial"):
        cfg[key] = int(cfg[key])
        if cfg[key] <= 0:
            raise KocrError(f"CRNN {key} must be positive, got {cfg[key]}")
    cfg["align_corners"] = bool(cfg["align_corners"])
    cfg["jamo_head"] = float(cfg["jamo_head"])
    if cfg["jamo_head"] < 0:
        raise KocrError(f"CRNN jamo_head (an auxiliary loss weight) must be >= 0, got {cfg['jamo_head']}")
    cfg["resnet_layers"] = [int(n) for n in cfg["resnet_layers"]]
    if len(cfg["resnet_layers"]) != 4 or min(cfg["resnet_layers"]) < 1:
        raise KocrError(f"CRNN resnet_layers must be four positive block counts, got {cfg['resnet_layers']}")
    divisor = 16 if cfg["feature_extraction"] == "ResNet" else 8
    if cfg["output_channel"] % divisor:
        raise KocrError(f"CRNN output_channel must be divisible by {divisor}, got {cfg['output_channel']}")
    if cfg["transformation"] == "TPS" and (cfg["num_fiducial"] % 2 or cfg["num_fiducial"] < 4):
        raise KocrError(f"CRNN num_fiducial must be even and >= 4, got {cfg['num_fiducial']}")
    return cfg


def ctc_output_length(config: Mapping[str, Any], width: int) -> int:
    """Number of CTC time steps T for an input of ``width`` pixels (TPS models always see ``img_w``)."""
    if config["transformation"] == "TPS":
        width = int(config["img_w"])
    if config["feature_extraction"] == "VGG":
        return width // 2 // 2 - 1
    return width // 2 // 2 + 1


class CRNN(nn.Module):
    """clovaai ``Model`` with a CTC head: ``images [B, C, H, W] -> logits [B, T, num_classes]`` (0 = blank).

    Keyword arguments are the config keys of :data:`CRNN_DEFAULTS`; the resolved dict is kept as
    ``self.config`` so a checkpoint can rebuild the model with :func:`kocr.models.build_model`.
    """

    def __init__(self, num_classes: int, **config: Any) -> None:
        super().__init__()
        cfg = normalize_crnn_config(config)
        self.config = cfg
        self.num_classes = int(num_classes)
        if self.num_classes < 2:
            raise KocrError(f"num_classes must be >= 2 (charset + CTC blank), got {num_classes}")

        self.Transformation: TPSSpatialTransformer | None = None
        if cfg["transformation"] == "TPS":
            self.Transformation = TPSSpatialTransformer(
                cfg["num_fiducial"], cfg["img_h"], cfg["img_w"], cfg["input_channel"], cfg["align_corners"]
            )
        self.FeatureExtraction: nn.Module
        if cfg["feature_extraction"] == "VGG":
            self.FeatureExtraction = VGGFeatureExtractor(cfg["input_channel"], cfg["output_channel"])
        else:
            self.FeatureExtraction = ResNetFeatureExtractor(
                cfg["input_channel"], cfg["output_channel"], cfg["resnet_layers"]
            )
        # Mean over the feature-map height (clovaai pools the permuted [B, W, C, H] map to width 1).
        self.AdaptiveAvgPool = nn.AdaptiveAvgPool2d((None, 1))
        self.SequenceModeling: nn.Sequential | None = None
        seq_out = cfg["output_channel"]
        if cfg["sequence_modeling"] == "BiLSTM":
            hidden = cfg["hidden_size"]
            self.SequenceModeling = nn.Sequential(
                BidirectionalLSTM(cfg["output_channel"], hidden, hidden),
                BidirectionalLSTM(hidden, hidden, hidden),
            )
            seq_out = hidden
        self.Prediction = nn.Linear(seq_out, self.num_classes)
        self.JamoPrediction: nn.Linear | None = None
        if cfg["jamo_head"] > 0:
            self.JamoPrediction = nn.Linear(seq_out, JAMO_HEAD_CLASSES)
        init_clovaai_weights(self)

    def transform(self, x: Tensor) -> Tensor:
        """The TPS-rectified image (``[B, C, img_h, img_w]``), or ``x`` itself without TPS."""
        return x if self.Transformation is None else self.Transformation(x)

    def features(self, x: Tensor) -> Tensor:
        """CNN feature map ``[B, output_channel, H', T]`` before height pooling (after TPS if any)."""
        return self.FeatureExtraction(self.transform(x))

    def contextual(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Per-frame features ``[B, T, C]`` after the sequence model (input after the Transformation);
        with ``lengths`` each sample's sequence model reads only its own valid frames."""
        visual = self.FeatureExtraction(x)
        contextual = self.AdaptiveAvgPool(visual.permute(0, 3, 1, 2)).squeeze(3)  # [B, T, C]
        for layer in self.SequenceModeling or ():
            contextual = layer(contextual, lengths)
        return contextual.contiguous()

    def forward_after_transform(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Everything after the Transformation stage: CNN, height pooling, BiLSTM, CTC projection."""
        return self.Prediction(self.contextual(x, lengths))

    def forward_with_jamo(self, images: Tensor) -> tuple[Tensor, Tensor | None]:
        """Syllable logits and, with a jamo head, its logits ``[B, T, JAMO_HEAD_CLASSES]`` (training)."""
        contextual = self.contextual(self.transform(images))
        jamo = None if self.JamoPrediction is None else self.JamoPrediction(contextual)
        return self.Prediction(contextual), jamo

    def forward(self, images: Tensor, widths: Tensor | None = None) -> Tensor:
        """Logits ``[B, T, num_classes]``. ``widths`` (each line's own width in pixels, before the batch
        padded it; models without TPS only) makes every line's frames ``< output_lengths(widths)``
        independent of its batch: see :meth:`context_margin` for the padding that needs."""
        lengths = None if widths is None or self.Transformation is not None else self.output_lengths(widths)
        return self.forward_after_transform(self.transform(images), lengths)

    def output_length(self, width: int) -> int:
        """CTC time steps T for an input of ``width`` pixels."""
        return ctc_output_length(self.config, width)

    def output_lengths(self, widths: Tensor) -> Tensor:
        """:meth:`output_length` of each width in a tensor (traceable, for the ONNX graph too)."""
        if self.Transformation is not None:
            return torch.full_like(widths, self.output_length(int(self.config["img_w"])))
        quarter = torch.div(widths, 4, rounding_mode="floor")
        return quarter - 1 if self.config["feature_extraction"] == "VGG" else quarter + 1

    def context_margin(self) -> int:
        """Pixels of padding a line needs after its end so that none of its frames sees past them:
        the CNN's receptive-field width (rounded up to a multiple of 4). A batch padded to its widest
        line plus this margin gives every line the same frames as reading it alone with the margin."""
        return -(-receptive_field(self.FeatureExtraction) // 4) * 4


def receptive_field(module: nn.Module) -> int:
    """Width in input pixels that one output column of a CNN sees, walking its convolutions and pools in
    the order they are defined (the longest path through residual blocks; 1×1 shortcuts add nothing)."""
    field, jump = 1, 1
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            kernel, stride, dilation = (
                _width_of(getattr(layer, a, 1)) for a in ("kernel_size", "stride", "dilation")
            )
            field += (kernel - 1) * dilation * jump
            jump *= stride
    return field


def _width_of(value: int | tuple[int, ...]) -> int:
    return int(value[-1]) if isinstance(value, tuple) else int(value)


@torch.no_grad()
def init_clovaai_weights(model: nn.Module) -> None:
    """clovaai train.py init: kaiming-normal weights, zero biases, BN weights 1; ``localization_fc2`` keeps
    its RARE init (zero weight, initial-fiducial bias) so an untrained TPS starts from a known warp."""
    for name, param in model.named_parameters():
        if "localization_fc2" in name:
            continue
        if "bias" in name:
            nn.init.zeros_(param)
        elif "weight" in name:
            if param.dim() < 2:
                param.fill_(1.0)
            else:
                nn.init.kaiming_normal_(param)


# --- the family: what the rest of kocr needs to know about CRNNs --------------------------------------------

# TPS: bilinear resampling turns float32 rounding differences of ~1e-6 in the sampling grid (onnxruntime's
# MatMul and MKL's bmm accumulate differently) into ~1e-3 in the logits; an untrained 32x100 TRBC measured
# 1.3e-3 on rendered lines and 3.2e-3 on noise. 5e-3 is the bound kocr's golden TRBC test uses for the same
# effect (tests/fixtures/reference/PROVENANCE.md).
TPS_TOLERANCE = 5e-3


class _HeightMean(nn.Module):
    """``AdaptiveAvgPool2d((None, 1))`` on ``[B, T, C, H]``, written as a mean the exporter can trace."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=-1, keepdim=True)


class CRNNFamily(ModelFamily):
    """clovaai's CTC recognisers (:class:`CRNN`): any width without TPS, CTC loss and greedy decoding."""

    arch = "crnn"
    decoding = "ctc"
    train_defaults: ClassVar[Mapping[str, float]] = {"lr": 1e-3, "grad_clip": 5.0, "weight_decay": 1e-4}
    freeze_prefixes = ("Transformation", "FeatureExtraction")
    charset_tensors = ("Prediction.weight", "Prediction.bias")
    training_heads = ("JamoPrediction.",)

    def normalize_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return normalize_crnn_config(config)

    def build(self, config: Mapping[str, Any], num_classes: int) -> nn.Module:
        return CRNN(num_classes, **config)

    def objective(self, charset: Charset) -> CTCObjective:
        return CTCObjective(charset)

    def input_size(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        return int(config["input_channel"]), int(config["img_h"]), int(config["img_w"])

    def size_overrides(self, img_h: int | None, img_w: int | None) -> dict[str, Any]:
        return {key: value for key, value in (("img_h", img_h), ("img_w", img_w)) if value}

    def reads_any_width(self, config: Mapping[str, Any]) -> bool:
        """Without TPS; a TPS grid is built for one input size."""
        return config["transformation"] == "None"

    def output_steps(self, model: nn.Module, width: int) -> int:
        return int(model.output_length(width))

    def min_opset(self, config: Mapping[str, Any]) -> tuple[str, int] | None:
        return ("TPS", 16) if config.get("transformation") == "TPS" else None  # GridSample: opset 16

    def parity_tolerance(self, config: Mapping[str, Any]) -> float | None:
        return TPS_TOLERANCE if config.get("transformation") == "TPS" else None

    def export_module(self, model: nn.Module) -> nn.Module:
        """A copy whose height pooling is a mean: the TorchScript exporter has no symbolic for adaptive
        pooling once the batch or width is symbolic."""
        exported = copy.deepcopy(model)
        exported.AdaptiveAvgPool = _HeightMean()
        return exported


CRNN_FAMILY = CRNNFamily()
