"""The preprocessing a model reads with: its training preprocessing, with the fixed width lifted for
models that read any width, and a description of it for logs and output metadata."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from kocr.data.line_normalize import DESCRIPTION as NORMALIZATION_DESCRIPTION
from kocr.models.registry import family_of

MAX_WIDTH_FACTOR = 8  # variable-width inference reads lines up to 8 × the training width


def reads_any_width(config: Mapping[str, Any]) -> bool:
    """Whether a model reads lines of any width (its family says: CTC models without TPS do; TPS and PARSeq
    have a fixed input size baked into their grids and position embeddings)."""
    return family_of(config).reads_any_width(config)


def inference_preprocess(preprocess: Any) -> Any:
    """The training preprocessing with the fixed width lifted: height kept, width as the line needs
    (at least the height, at most ``MAX_WIDTH_FACTOR`` × the training width)."""
    train_width = preprocess.width or preprocess.max_width or preprocess.height * 25
    return replace(
        preprocess,
        width=None,
        keep_ratio=True,
        min_width=max(preprocess.min_width, preprocess.height),
        max_width=preprocess.max_width or train_width * MAX_WIDTH_FACTOR,
    )


def describe_preprocess(preprocess: Any) -> dict[str, Any]:
    """Whether input normalisation runs, in words, and the whole preprocessing (for either engine)."""
    enabled = bool(getattr(preprocess, "normalize", False))
    return {
        "normalize": enabled,
        "normalization": NORMALIZATION_DESCRIPTION if enabled else "off",
        "preprocess": preprocess.to_dict(),
    }
