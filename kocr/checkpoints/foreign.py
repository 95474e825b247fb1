"""Import checkpoints written by the reference implementations: kocr's one path for foreign weights.

- clovaai deep-text-recognition-benchmark ``best_accuracy.pth``: a DataParallel state_dict (every key
  prefixed ``module.``) with no charset and no options. The architecture is read off the key names and
  tensor shapes; the charset must come from the user.
- EasyOCR recogniser weights: the same names without the prefix (``None-VGG-BiLSTM-CTC``).
- strhub PARSeq: released ``.pt`` files are plain state_dicts; Lightning ``.ckpt`` files hold the same
  keys under ``model.`` plus ``hyper_parameters`` (which give the charset and head counts).

What shapes cannot tell is filled with the reference defaults: image height 32 for clovaai (pass
``img_h`` for EasyOCR's 64), attention heads D/64 (encoder) and D/32 (decoder) for PARSeq.

clovaai always saves a ``torch.nn.DataParallel``-wrapped model, so every key starts with ``module.``;
a PyTorch Lightning ``.ckpt`` of strhub PARSeq keeps the inner model under ``model.``. After stripping
those prefixes (:func:`strip_prefix`) the names are exactly kocr's, so loading is strict.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from kocr.charsets import Charset
from kocr.checkpoints.checkpoint import Checkpoint
from kocr.errors import InputFileError, KocrError

Tensors = Mapping[str, torch.Tensor]
WRAPPER_PREFIXES = ("module.", "model.")


def import_foreign_checkpoint(
    data: Any, path: Path, charset: Charset | None, hints: Mapping[str, Any] | None = None
) -> Checkpoint:
    """A :class:`Checkpoint` from a clovaai / EasyOCR / PARSeq file's contents.

    ``hints`` supplies what the shapes cannot tell: ``img_h`` (clovaai/EasyOCR), ``enc_num_heads`` and
    ``dec_num_heads`` (PARSeq), and wins over stored hyper-parameters.
    """
    hyper: dict[str, Any] = {}
    state = data
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        state = data["state_dict"]
        hyper = dict(data.get("hyper_parameters") or {})
    hyper.update(hints or {})
    if (
        not isinstance(state, dict)
        or not state
        or not all(isinstance(v, torch.Tensor) for v in state.values())
    ):
        raise InputFileError(
            path, "not a kocr, clovaai or PARSeq checkpoint (no state_dict of tensors inside)"
        )
    state = strip_prefix(state)
    if "Prediction.weight" in state:
        config, num_classes = infer_crnn_config(state, img_h=hyper.get("img_h"))
        source = "clovaai"
    elif "pos_queries" in state:
        config, num_classes = infer_parseq_config(state, hyper)
        source = "parseq"
        if charset is None and hyper.get("charset_train"):
            charset = Charset(str(hyper["charset_train"]), name="charset_train")
    elif any(k.startswith("Prediction.attention_cell") for k in state):
        raise InputFileError(path, "clovaai Attn-prediction checkpoints are not supported yet (CTC only)")
    else:
        raise InputFileError(
            path, "state_dict matches neither clovaai's model nor PARSeq (unknown key names)"
        )
    from kocr.models.registry import family_of, num_classes_for_charset

    preprocess = family_of(config).preprocess(config, keep_ratio=False)
    if charset is not None and num_classes_for_charset(len(charset)) != num_classes:
        raise InputFileError(
            path,
            f"the checkpoint predicts {num_classes:,} classes, i.e. a charset of {num_classes - 1:,} "
            f"symbols, but the charset given has {len(charset):,}",
        )
    return Checkpoint(
        model_config=config,
        num_classes=num_classes,
        state_dict=dict(state),
        charset=charset,
        preprocess=preprocess,
        source_format=source,
        path=path,
    )


def infer_crnn_config(state: Tensors, *, img_h: int | None = None) -> tuple[dict[str, Any], int]:
    """clovaai CTC model config and class count from its (unprefixed) state_dict."""
    from kocr.models.crnn import normalize_crnn_config

    resnet = "FeatureExtraction.ConvNet.conv0_1.weight" in state
    first_conv = state[
        "FeatureExtraction.ConvNet.conv0_1.weight" if resnet else "FeatureExtraction.ConvNet.0.weight"
    ]
    config: dict[str, Any] = {
        "transformation": "TPS" if any(k.startswith("Transformation.") for k in state) else "None",
        "feature_extraction": "ResNet" if resnet else "VGG",
        "sequence_modeling": "BiLSTM" if "SequenceModeling.0.rnn.weight_hh_l0" in state else "None",
        "input_channel": int(first_conv.shape[1]),
        "img_h": int(img_h or 32),
    }
    if resnet:
        config["output_channel"] = int(state["FeatureExtraction.ConvNet.conv4_2.weight"].shape[0])
        config["resnet_layers"] = [
            _count_indices(state, rf"FeatureExtraction\.ConvNet\.layer{i}\.(\d+)\.") for i in (1, 2, 3, 4)
        ]
    else:
        last = max(_indices(state, r"FeatureExtraction\.ConvNet\.(\d+)\.weight$", ndim=4))
        config["output_channel"] = int(state[f"FeatureExtraction.ConvNet.{last}.weight"].shape[0])
    if config["sequence_modeling"] == "BiLSTM":
        config["hidden_size"] = int(state["SequenceModeling.0.rnn.weight_hh_l0"].shape[1])
    if config["transformation"] == "TPS":
        config["num_fiducial"] = (
            int(state["Transformation.LocalizationNetwork.localization_fc2.weight"].shape[0]) // 2
        )
        grid_points = int(state["Transformation.GridGenerator.P_hat"].shape[0])
        config["img_w"] = grid_points // config["img_h"]
    else:
        config["img_w"] = 100 if config["img_h"] == 32 else config["img_h"] * 10
    return normalize_crnn_config(config), int(state["Prediction.weight"].shape[0])


def infer_parseq_config(state: Tensors, hyper: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """strhub PARSeq config and class count (charset + [E]) from its state_dict and hyper-parameters."""
    from kocr.models.parseq import PARSEQ_DEFAULTS, normalize_parseq_config

    embed_dim = int(state["pos_queries"].shape[2])
    proj = state["encoder.patch_embed.proj.weight"]
    patch_h, patch_w = int(proj.shape[2]), int(proj.shape[3])
    num_patches = int(state["encoder.pos_embed"].shape[1])
    img_h = int(hyper.get("img_size", [32, 0])[0] or 32)
    grid_w = num_patches // (img_h // patch_h)
    config: dict[str, Any] = {
        "img_size": [img_h, grid_w * patch_w],
        "patch_size": [patch_h, patch_w],
        "in_channels": int(proj.shape[1]),
        "embed_dim": embed_dim,
        "enc_depth": _count_indices(state, r"encoder\.blocks\.(\d+)\."),
        "dec_depth": _count_indices(state, r"decoder\.layers\.(\d+)\."),
        "enc_mlp_ratio": int(state["encoder.blocks.0.mlp.fc1.weight"].shape[0]) // embed_dim,
        "dec_mlp_ratio": int(state["decoder.layers.0.linear1.weight"].shape[0]) // embed_dim,
        "max_label_length": int(state["pos_queries"].shape[1]) - 1,
        "enc_num_heads": int(hyper.get("enc_num_heads", max(1, embed_dim // 64))),
        "dec_num_heads": int(hyper.get("dec_num_heads", max(1, embed_dim // 32))),
    }
    for key in ("dropout", "perm_num", "perm_forward", "perm_mirrored", "decode_ar", "refine_iters"):
        if key in hyper and key in PARSEQ_DEFAULTS:
            config[key] = hyper[key]
    num_classes = int(state["head.weight"].shape[0])
    return normalize_parseq_config(config), num_classes


def strip_prefix(
    state_dict: Mapping[str, Tensor], prefixes: tuple[str, ...] = WRAPPER_PREFIXES
) -> dict[str, Tensor]:
    """Remove wrapper prefixes that *every* key carries (repeatedly, e.g. ``module.model.``)."""
    out = dict(state_dict)
    changed = True
    while changed and out:
        changed = False
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in out):
                out = {k[len(prefix) :]: v for k, v in out.items()}
                changed = True
    return out


def load_reference_state_dict(
    model: nn.Module, state_dict: Mapping[str, Tensor], strict: bool = True
) -> nn.modules.module._IncompatibleKeys:
    """Load a clovaai/EasyOCR/strhub state_dict (with or without ``module.``/``model.``) into ``model``.

    TPS ``P_hat`` buffers are replaced by the one recomputed for ``model``'s image size (see
    :mod:`kocr.models.tps`), so a checkpoint trained at another width loads too.
    """
    return model.load_state_dict(strip_prefix(state_dict), strict=strict)


def crnn_config_from_clovaai(opt: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """Translate clovaai ``opt`` fields (``Transformation``, ``imgH``, ``num_class``, ...) to a kocr config.

    Returns ``(config, num_classes)``. ``align_corners`` defaults to True (clovaai under torch >= 2 or
    < 1.10); pass ``opt["align_corners"] = False`` for checkpoints trained under torch 1.10-1.13.
    """
    mapping = {
        "Transformation": "transformation",
        "FeatureExtraction": "feature_extraction",
        "SequenceModeling": "sequence_modeling",
        "Prediction": "prediction",
        "imgH": "img_h",
        "imgW": "img_w",
        "input_channel": "input_channel",
        "output_channel": "output_channel",
        "hidden_size": "hidden_size",
        "num_fiducial": "num_fiducial",
        "align_corners": "align_corners",
    }
    config = {new: opt[old] for old, new in mapping.items() if old in opt}
    if "num_class" not in opt:
        raise KocrError("clovaai options lack num_class (charset size + 1 for the CTC blank)")
    from kocr.models.crnn import normalize_crnn_config

    return normalize_crnn_config(config), int(opt["num_class"])


def _indices(state: Tensors, pattern: str, ndim: int | None = None) -> set[int]:
    regex = re.compile(pattern)
    found = set()
    for key, value in state.items():
        match = regex.match(key)
        if match and (ndim is None or value.dim() == ndim):
            found.add(int(match.group(1)))
    return found


def _count_indices(state: Tensors, pattern: str) -> int:
    return len(_indices(state, pattern))
