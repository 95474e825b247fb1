"""What kocr needs to know about one kind of model, in one object: a :class:`ModelFamily`.

CRNN and PARSeq differ in more than their layers: config keys, loss and decoding, input size, which
tensors follow the charset, what ``--freeze-features`` keeps, training defaults and what ONNX export
has to rewrite. Each family answers those questions next to its model code (:mod:`kocr.models.crnn`,
:mod:`kocr.models.parseq`) and is registered in :mod:`kocr.models.registry`; the trainer, charset
remapping, checkpoint imports, prediction, export and ``kocr models`` ask the family of
``config["arch"]`` instead of branching on it. A new family is one module plus one ``register_family``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from torch import Tensor, nn

if TYPE_CHECKING:  # pragma: no cover
    from kocr.charsets import Charset
    from kocr.models.objectives import Objective


class ModelFamily:
    """Base of every model family: subclass it, set the attributes and implement the hooks.

    Models of a family take ``num_classes`` = len(charset) + 1 (class 0 is the CTC blank or an end
    token), keep their resolved config as ``model.config`` (with ``arch``) and ``num_classes``.
    """

    #: The ``arch`` value of the family's configs (``"crnn"``, ``"parseq"``).
    arch: ClassVar[str] = ""
    #: How an exported ONNX file's logits become text: a decoding kind, shared by families whose
    #: objectives decode alike (``"ctc"``); empty for families that cannot be exported.
    decoding: ClassVar[str] = ""
    #: ``lr``, ``grad_clip`` and ``weight_decay`` when the user gives none.
    train_defaults: ClassVar[Mapping[str, float]] = {}
    #: Parameter-name prefixes ``--freeze-features`` keeps fixed (the visual part of the model).
    freeze_prefixes: ClassVar[tuple[str, ...]] = ()
    #: Tensors whose first dimension is indexed by output class: remapped row by row on a new charset.
    charset_tensors: ClassVar[tuple[str, ...]] = ()
    #: Rows of the charset tensors after the last class (token ids that are embedded, never predicted).
    extra_token_rows: ClassVar[int] = 0
    #: Tensors over label positions (dimension 1) whose length a fine-tune may change; shared ones kept.
    position_tensors: ClassVar[tuple[str, ...]] = ()
    #: Prefixes of heads only training uses (never inference): a fine-tune may add one to a checkpoint
    #: that lacks it, freshly initialised, and packaging may drop it.
    training_heads: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(arch={self.arch!r})"

    # --- config and model ------------------------------------------------------------------------

    def normalize_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults filled in and values checked: the JSON-able config a checkpoint stores."""
        raise NotImplementedError

    def build(self, config: Mapping[str, Any], num_classes: int) -> nn.Module:
        """The model of a normalised config."""
        raise NotImplementedError

    def objective(self, charset: Charset) -> Objective:
        """Loss and decoding (:mod:`kocr.models.objectives`) for this family over ``charset``."""
        raise NotImplementedError

    # --- input ----------------------------------------------------------------------------------

    def input_size(self, config: Mapping[str, Any]) -> tuple[int, int, int]:
        """(channels, height, width) the model is built for (the traced width if it reads any width)."""
        raise NotImplementedError

    def size_overrides(self, img_h: int | None, img_w: int | None) -> dict[str, Any]:
        """The config keys that set ``--img-h`` / ``--img-w`` (None: the model's default)."""
        raise NotImplementedError

    def reads_any_width(self, config: Mapping[str, Any]) -> bool:
        """Whether the model reads lines of any width (else its input size is fixed)."""
        return False

    def preprocess(self, config: Mapping[str, Any], *, keep_ratio: bool) -> dict[str, Any]:
        """``Preprocess.to_dict()`` settings that fit the model: its input size and channels."""
        channels, height, width = self.input_size(config)
        return {
            "height": int(height),
            "width": int(width),
            "channels": int(channels),
            "keep_ratio": keep_ratio,
        }

    # --- ONNX export (kocr.export) ----------------------------------------------------------------

    def output_steps(self, model: nn.Module, width: int) -> int:
        """Time steps T of the exported logits ``[B, T, classes]`` for inputs ``width`` pixels wide."""
        raise NotImplementedError

    def min_opset(self, config: Mapping[str, Any]) -> tuple[str, int] | None:
        """(what needs it, oldest ONNX opset) when some op of this model needs a recent opset."""
        return None

    def parity_tolerance(self, config: Mapping[str, Any]) -> float | None:
        """Largest ONNX-vs-PyTorch logit difference to accept, if not the exporter's default."""
        return None

    def export_module(self, model: nn.Module) -> nn.Module:
        """The module to trace: ``model`` itself, or a copy with trace-friendly layers (never ``model``
        changed: it is the parity check's reference)."""
        return model

    def export_forward(self, model: nn.Module, images: Tensor) -> Tensor:
        """The logits the graph computes, with a fixed control flow that tracing can record."""
        return model(images)
