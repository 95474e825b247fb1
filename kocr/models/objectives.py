"""What each model family trains on and how its output becomes text.

Training, validation, evaluation and prediction all go through an :class:`Objective`, so none of
them needs to know whether the model is a CTC recogniser or PARSeq:

- ``loss(model, images, labels)``: the training loss for a batch of normalised labels;
- ``decode(model, images, widths)``: texts with confidences, in eval mode, for a batch of images
  (``widths``: each line's own width before batch padding, for models that read any width, so a
  line's text does not depend on its batch neighbours);
- ``decode_logits(logits, lengths)``: the same from the model's output (and each line's valid frames),
  which is all an exported ONNX model gives.

Each :class:`kocr.models.family.ModelFamily` names its objective (``family.objective(charset)``);
:func:`kocr.models.registry.objective_for` finds it from ``model.config['arch']``.

Objectives take the bare model. Under DistributedDataParallel the trainer wraps model + objective in
one module (:class:`LossModule`) so the loss is computed inside DDP's ``forward``, which is what
makes DDP synchronise the gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from kocr.charsets import Charset
from kocr.codecs import CTCCodec, Decoded, PARSeqTokenizer


class Objective(Protocol):
    charset: Charset

    def loss(self, model: nn.Module, images: Tensor, labels: Sequence[str]) -> Tensor: ...

    def decode(self, model: nn.Module, images: Tensor, widths: Tensor | None = None) -> list[Decoded]: ...

    def decode_logits(self, logits: Tensor, lengths: Tensor | None = None) -> list[Decoded]: ...

    def max_label_length(self, model: nn.Module) -> int: ...


class CTCObjective:
    """CTC loss (clovaai: ``CTCLoss(zero_infinity=True)`` on log-softmax over T) and greedy decoding."""

    def __init__(self, charset: Charset) -> None:
        self.charset = charset
        self.codec = CTCCodec(charset)

    def loss(self, model: nn.Module, images: Tensor, labels: Sequence[str]) -> Tensor:
        jamo_weight = float(getattr(model, "config", {}).get("jamo_head", 0.0))
        if jamo_weight > 0:
            logits, jamo_logits = model.forward_with_jamo(images)
        else:
            logits, jamo_logits = model(images), None
        loss = _ctc_loss(logits, *self.codec.encode(labels))
        if jamo_logits is not None:
            loss = loss + jamo_weight * _ctc_loss(jamo_logits, *jamo_targets(labels))
        return loss

    def decode(self, model: nn.Module, images: Tensor, widths: Tensor | None = None) -> list[Decoded]:
        lengths_of = getattr(model, "output_lengths", None)
        if widths is None or lengths_of is None:
            return self.decode_logits(model(images))
        return self.decode_logits(model(images, widths), lengths_of(widths))

    def decode_logits(self, logits: Tensor, lengths: Tensor | None = None) -> list[Decoded]:
        return self.codec.decode(logits, lengths)

    def max_label_length(self, model: nn.Module) -> int:
        """Longest label (in symbols) CTC can align: T time steps must fit the label plus blanks
        between repeated symbols, so half of T is the safe bound for any label."""
        unwrapped = getattr(model, "module", model)
        return max(1, unwrapped.output_length(int(unwrapped.config["img_w"])) // 2)


def _ctc_loss(logits: Tensor, targets: Tensor, target_lengths: Tensor) -> Tensor:
    # The loss is computed in float32 even under autocast: CTC's log-space sums underflow in half.
    log_probs = logits.float().log_softmax(2).permute(1, 0, 2)
    steps, batch = log_probs.shape[:2]
    input_lengths = torch.full((batch,), steps, dtype=torch.long)
    return F.ctc_loss(
        log_probs, targets.to(logits.device), input_lengths, target_lengths, blank=0, zero_infinity=True
    )


def jamo_targets(labels: Sequence[str]) -> tuple[Tensor, Tensor]:
    """CTC targets of the auxiliary jamo head: each syllable as its initial, medial (and final) jamo
    (classes 1-67), every other character as class 68 ("not Hangul"); 0 is the blank."""
    from kocr.charsets.hangul import split_syllable

    other = 1 + 19 + 21 + 27
    encoded: list[list[int]] = []
    for label in labels:
        ids: list[int] = []
        for ch in label:
            if "\uac00" <= ch <= "\ud7a3":
                initial, medial, final = split_syllable(ch)
                ids += [1 + initial, 20 + medial] + ([40 + final] if final else [])
            else:
                ids.append(other)
        encoded.append(ids)
    lengths = torch.tensor([len(ids) for ids in encoded], dtype=torch.long)
    targets = torch.zeros(len(encoded), max([1, *map(len, encoded)]), dtype=torch.long)
    for row, ids in enumerate(encoded):
        targets[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
    return targets, lengths


class PARSeqObjective:
    """Permutation language modelling loss and strhub's decoding (AR + refinement by default)."""

    def __init__(self, charset: Charset) -> None:
        self.charset = charset
        self.tokenizer = PARSeqTokenizer(charset)

    def loss(self, model: nn.Module, images: Tensor, labels: Sequence[str]) -> Tensor:
        targets = self.tokenizer.encode(labels, device=images.device)
        return model.training_loss(images, targets)

    def decode(self, model: nn.Module, images: Tensor, widths: Tensor | None = None) -> list[Decoded]:
        return self.decode_logits(model(images))  # a fixed input size: nothing depends on the batch

    def decode_logits(self, logits: Tensor, lengths: Tensor | None = None) -> list[Decoded]:
        return self.tokenizer.decode(logits.float().softmax(-1))

    def max_label_length(self, model: nn.Module) -> int:
        return int(getattr(model, "module", model).max_label_length)


class LossModule(nn.Module):
    """``forward(images, labels) -> loss``: the unit DistributedDataParallel wraps during training."""

    def __init__(self, model: nn.Module, objective: Objective) -> None:
        super().__init__()
        self.model = model
        self.objective = objective

    def forward(self, images: Tensor, labels: Sequence[str]) -> Tensor:
        return self.objective.loss(self.model, images, labels)
