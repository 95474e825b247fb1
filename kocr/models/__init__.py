"""Recognition models: clovaai-compatible CRNNs (TPS/VGG/ResNet/BiLSTM/CTC) and strhub-compatible PARSeq.

Build by name with :func:`create_model`, or rebuild from a stored config with :func:`build_model`::

    from kocr.models import create_model, build_model
    model = create_model("tps-resnet-bilstm-ctc", num_classes=len(charset) + 1)
    clone = build_model(model.config, model.num_classes)
"""

from __future__ import annotations

from kocr.models.crnn import CRNN, CRNN_DEFAULTS, ctc_output_length
from kocr.models.parseq import PARSEQ_DEFAULTS, PARSeq
from kocr.models.registry import (
    ARCHITECTURES,
    MODEL_REGISTRY,
    ModelSpec,
    build_model,
    create_model,
    list_models,
    model_config,
    num_classes_for_charset,
    register_model,
)

__all__ = [
    "ARCHITECTURES",
    "CRNN",
    "CRNN_DEFAULTS",
    "MODEL_REGISTRY",
    "PARSEQ_DEFAULTS",
    "ModelSpec",
    "PARSeq",
    "build_model",
    "create_model",
    "ctc_output_length",
    "list_models",
    "model_config",
    "num_classes_for_charset",
    "register_model",
]
