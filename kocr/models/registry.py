"""Model registry: model families by ``arch``, and model names mapping to a family and a default config
(timm/doctr style).

Configs are plain dicts of JSON-able values (str, int, float, bool, lists) so a checkpoint can store them
next to the weights and rebuild the model later without asking for hyperparameters again::

    model = create_model("tps-resnet-bilstm-ctc", num_classes_for_charset(len(charset)), img_w=200)
    saved = {"config": model.config, "num_classes": model.num_classes, "state_dict": model.state_dict()}
    again = build_model(saved["config"], saved["num_classes"])

``num_classes`` is the width of the model's output layer, :func:`num_classes_for_charset` (``len(charset)
+ 1``) for every family: the extra class is the CTC blank (index 0) for CRNNs and ``[E]`` (index 0) for
PARSeq, whose tokenizer additionally has ``[B]`` and ``[P]`` that are embedded but never predicted.

A family (:class:`kocr.models.family.ModelFamily`) is registered with :func:`register_family`, then its
models with :func:`register_model`; everything family-specific is asked of :func:`get_family` /
:func:`family_of`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from torch import nn

from kocr.errors import KocrError
from kocr.models.crnn import CRNN_FAMILY
from kocr.models.family import ModelFamily
from kocr.models.parseq import PARSEQ_FAMILY

if TYPE_CHECKING:  # pragma: no cover
    from kocr.charsets import Charset
    from kocr.models.objectives import Objective


@dataclass(frozen=True)
class ModelSpec:
    """A registered model: its family (``arch``), config overrides over the family defaults, a summary."""

    name: str
    arch: str
    config: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""


#: arch -> its family, in registration order.
FAMILIES: dict[str, ModelFamily] = {}


def register_family(family: ModelFamily) -> ModelFamily:
    """Make ``family`` known under ``family.arch`` (replacing an earlier one of that arch)."""
    if not family.arch:
        raise KocrError(f"{type(family).__name__} has no arch")
    FAMILIES[family.arch] = family
    return family


def unregister_family(arch: str) -> None:
    """Forget a family and every model registered under it (tests, plugins that unload)."""
    FAMILIES.pop(arch, None)
    for name in [n for n, s in MODEL_REGISTRY.items() if s.arch == arch]:
        del MODEL_REGISTRY[name]


def get_family(arch: str) -> ModelFamily:
    """The family of ``arch``; an unknown one is a clear error listing the known ones."""
    try:
        return FAMILIES[arch]
    except KeyError:
        raise KocrError(
            f"unknown model architecture {arch!r}; known: {', '.join(sorted(FAMILIES))}"
        ) from None


def family_of(config: Mapping[str, Any]) -> ModelFamily:
    """The family of a resolved model config (``model.config``)."""
    return get_family(str(config["arch"]))


def objective_for(arch: str, charset: Charset) -> Objective:
    """The objective of a model family (``model.config['arch']``)."""
    if arch not in FAMILIES:
        raise KocrError(f"no training objective for model architecture {arch!r}")
    return FAMILIES[arch].objective(charset)


MODEL_REGISTRY: dict[str, ModelSpec] = {}


def register_model(name: str, arch: str, description: str = "", **config: Any) -> ModelSpec:
    """Register ``name`` (overwriting an earlier entry) and return its spec; the config is validated now."""
    get_family(arch).normalize_config(config)
    spec = ModelSpec(name=name, arch=arch, config=dict(config), description=description)
    MODEL_REGISTRY[name] = spec
    return spec


def list_models(arch: str | None = None) -> list[str]:
    """Registered model names (optionally of one family), in registration order."""
    return [n for n, s in MODEL_REGISTRY.items() if arch is None or s.arch == arch]


def _spec(name: str) -> ModelSpec:
    try:
        return MODEL_REGISTRY[name]
    except KeyError:
        raise KocrError(f"unknown model {name!r}; known models: {', '.join(list_models())}") from None


def model_config(name: str, **overrides: Any) -> dict[str, Any]:
    """The fully resolved config of ``name`` with ``overrides`` applied (includes ``name`` and ``arch``)."""
    spec = _spec(name)
    family = get_family(spec.arch)
    return family.normalize_config({**spec.config, **overrides, "name": name, "arch": spec.arch})


def build_model(config: Mapping[str, Any], num_classes: int) -> nn.Module:
    """Build a model from a config, typically the resolved ``model.config`` stored in a checkpoint.

    A resolved config is self-sufficient: its values win over anything registered, so a checkpoint keeps
    rebuilding even if a registered default changes later or its name was never registered. A partial
    config is completed from the registered entry of ``config["name"]`` (when ``arch`` agrees), then from
    the family defaults of ``config["arch"]``.
    """
    arch = config.get("arch")
    spec = MODEL_REGISTRY.get(str(config.get("name")))
    if arch is None:
        if "name" not in config:
            raise KocrError("model config has neither 'arch' nor 'name'")
        arch = _spec(str(config["name"])).arch
    family = get_family(arch)
    base = dict(spec.config) if spec is not None and spec.arch == arch else {}
    return family.build(family.normalize_config({**base, **config, "arch": arch}), int(num_classes))


def create_model(name: str, num_classes: int, **overrides: Any) -> nn.Module:
    """Build registered model ``name`` with ``num_classes`` outputs (= len(charset) + 1) and overrides."""
    return build_model(model_config(name, **overrides), num_classes)


def num_classes_for_charset(charset_size: int) -> int:
    """Output classes for a charset of ``charset_size`` symbols: + CTC blank, or + PARSeq ``[E]``."""
    return int(charset_size) + 1


# -- registered families and models ------------------------------------------------------------------------

register_family(CRNN_FAMILY)
register_family(PARSEQ_FAMILY)

register_model(
    "tps-resnet-bilstm-ctc",
    "crnn",
    "clovaai TRBC defaults (TPS F=20, ResNet 512, BiLSTM 256, 32x100 grey); ~49 M params",
)
register_model(
    "resnet-bilstm-ctc",
    "crnn",
    "clovaai None-ResNet-BiLSTM-CTC (no TPS: any width)",
    transformation="None",
)
register_model(
    "tps-vgg-bilstm-ctc",
    "crnn",
    "clovaai TPS-VGG-BiLSTM-CTC (VGG 512, BiLSTM 256, 32x100)",
    feature_extraction="VGG",
)
register_model(
    "vgg-bilstm-ctc",
    "crnn",
    "EasyOCR korean_g2 layout: None-VGG-BiLSTM-CTC, VGG 256, BiLSTM 256, height 64",
    transformation="None",
    feature_extraction="VGG",
    output_channel=256,
    hidden_size=256,
    img_h=64,
    img_w=600,
)
register_model(
    "resnet-ctc",
    "crnn",
    "None-ResNet-None-CTC: CNN only, no recurrence (fastest ResNet variant)",
    transformation="None",
    sequence_modeling="None",
)
register_model(
    "vgg-bilstm-ctc-small",
    "crnn",
    "CPU-fast default candidate: None-VGG-BiLSTM-CTC, VGG 128, BiLSTM 128, height 32",
    transformation="None",
    feature_extraction="VGG",
    output_channel=128,
    hidden_size=128,
    img_h=32,
    img_w=320,
)
register_model(
    "vgg-bilstm-ctc-small-jamo",
    "crnn",
    "vgg-bilstm-ctc-small trained with an auxiliary jamo CTC head (weight 0.5); same inference cost",
    **{**MODEL_REGISTRY["vgg-bilstm-ctc-small"].config, "jamo_head": 0.5},
)
register_model(
    "vgg-bilstm-ctc-h32",
    "crnn",
    "Step up from -small: EasyOCR korean_g2 widths (VGG 256, BiLSTM 256) at height 32",
    transformation="None",
    feature_extraction="VGG",
    output_channel=256,
    hidden_size=256,
    img_h=32,
    img_w=320,
)
register_model(
    "resnet-bilstm-ctc-small",
    "crnn",
    "CPU-fast candidate: None-ResNet-BiLSTM-CTC, slim ResNet 128 [1,1,2,1], BiLSTM 128, height 32",
    transformation="None",
    output_channel=128,
    hidden_size=128,
    resnet_layers=[1, 1, 2, 1],
    img_h=32,
    img_w=320,
)
register_model(
    "parseq",
    "parseq",
    "strhub PARSeq base: 32x128, patch 4x8, D 384, encoder 12x6 heads, decoder 1x12 heads",
)
register_model(
    "parseq-tiny",
    "parseq",
    "strhub PARSeq tiny: D 192, encoder 12x3 heads, decoder 1x6 heads",
    embed_dim=192,
    enc_num_heads=3,
    dec_num_heads=6,
)
