"""Recognition models: clovaai-compatible CRNNs (TPS/VGG/ResNet/BiLSTM/CTC) and strhub-compatible PARSeq.

Build by name with :func:`create_model`, or rebuild from a stored config with :func:`build_model`::

    from kocr.models import build_model, create_model, num_classes_for_charset
    model = create_model("tps-resnet-bilstm-ctc", num_classes_for_charset(len(charset)))
    clone = build_model(model.config, model.num_classes)

A model family (:class:`ModelFamily`: CRNN, PARSeq) carries everything else kocr needs to know about its
models; a new one is a module like :mod:`kocr.models.crnn` plus :func:`register_family`.
"""

from __future__ import annotations

from kocr.models.crnn import CRNN, CRNN_DEFAULTS, CRNN_FAMILY, ctc_output_length
from kocr.models.family import ModelFamily
from kocr.models.parseq import PARSEQ_DEFAULTS, PARSEQ_FAMILY, PARSeq
from kocr.models.registry import (
    FAMILIES,
    MODEL_REGISTRY,
    ModelSpec,
    build_model,
    create_model,
    family_of,
    get_family,
    list_models,
    model_config,
    num_classes_for_charset,
    objective_for,
    register_family,
    register_model,
    unregister_family,
)

__all__ = [
    "CRNN",
    "CRNN_DEFAULTS",
    "CRNN_FAMILY",
    "FAMILIES",
    "MODEL_REGISTRY",
    "PARSEQ_DEFAULTS",
    "PARSEQ_FAMILY",
    "ModelFamily",
    "ModelSpec",
    "PARSeq",
    "build_model",
    "create_model",
    "ctc_output_length",
    "family_of",
    "get_family",
    "list_models",
    "model_config",
    "num_classes_for_charset",
    "objective_for",
    "register_family",
    "register_model",
    "unregister_family",
]
