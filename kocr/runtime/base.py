"""What every line recogniser shares, whatever runs its model: :class:`Prediction` and
:class:`LineRecognizer` (``predict`` on any image input, batching by width).

Batch invariance: a line's text must not depend on what else is in its batch. For models that read any
width, each line's own width goes with the batch: the sequence model reads only that line's frames
and decoding stops at its last frame, and every batch is padded by the CNN's receptive field
(:meth:`kocr.models.crnn.CRNN.context_margin`) beyond its widest line, so the frames of a line see the
same pixels whether it is read alone or next to a wider one (:mod:`kocr.runtime.batching`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from kocr.charsets import Charset
from kocr.codecs import Decoded
from kocr.data.images import ImageInput, as_image_list, load_image
from kocr.runtime.batching import predict_pipelined
from kocr.runtime.preprocessing import describe_preprocess


@dataclass(frozen=True)
class Prediction:
    """Recognised text and a confidence in [0, 1] (see :mod:`kocr.codecs` for the formula)."""

    text: str
    confidence: float


class LineRecognizer:
    """A model that reads text lines: ``predict`` on any image input, ``predict_images`` batched by width.

    Subclasses set ``preprocess``, ``batch_size`` and ``variable_width`` and implement ``forward_batch``
    and ``finish_batch``: :class:`kocr.runtime.torch_engine.TorchRecognizer` runs PyTorch,
    :class:`kocr.runtime.onnx_engine.OnnxRecognizer` ONNX Runtime, and both see identical batches.
    :func:`kocr.load_recognizer` gives the right one for a model file.
    """

    preprocess: Any
    batch_size: int
    variable_width: bool
    charset: Charset
    source: str | None
    #: How the model's output becomes text without a separate decoder: "ctc" (greedy) or "parseq".
    decoding: str
    #: A :mod:`kocr.decoding` decoder (beam search) for CTC outputs; None = the objective's own decoding.
    decoder: Any = None
    #: Padding every batch gets beyond its widest line (0: the model does not read per-line widths).
    context_margin: int = 0
    #: What runs the model ("torch" or "onnxruntime").
    engine: str = "torch"

    def forward_batch(self, batch: torch.Tensor, widths: torch.Tensor | None = None) -> Any:
        """The model run on a preprocessed, padded batch ``[B, C, H, W]`` (``widths``: each line's own
        width in it, None for fixed-size models): raw outputs for :meth:`finish_batch`. Engines run
        it with the GIL released, so it may overlap the previous batch's decoding."""
        raise NotImplementedError

    def finish_batch(self, raw: Any) -> list[Decoded]:
        """:meth:`forward_batch`'s outputs as texts and confidences."""
        raise NotImplementedError

    def stage_logits(self, logits: torch.Tensor, lengths: torch.Tensor | None) -> Any:
        """What the forward thread hands over: the logits with the decoder's tensor half done on them
        (beam search's ``prepare``: kernels that release the GIL) when it has one, else the logits."""
        prepare = getattr(self.decoder, "prepare", None)
        return _Prepared(prepare(logits, lengths)) if prepare is not None else (logits, lengths)

    def decode_staged(self, staged: Any, decode: Any) -> list[Decoded]:
        """:meth:`stage_logits`'s result as texts: the decoder's ``finish``, or ``decode`` on the logits."""
        if isinstance(staged, _Prepared):
            return self.decoder.finish(staged.value)
        logits, lengths = staged
        return decode(logits) if lengths is None else decode(logits, lengths)

    def decode_batch(self, batch: torch.Tensor, widths: torch.Tensor | None = None) -> list[Decoded]:
        """Texts and confidences of a preprocessed, padded batch ``[B, C, H, W]``; ``widths``: each
        line's own width in that batch (None for fixed-size models)."""
        return self.finish_batch(self.forward_batch(batch, widths))

    def describe(self) -> dict[str, Any]:
        """What runs: the model file, the engine, its charset size and the input preprocessing, with
        whether lines are normalised (:mod:`kocr.data.line_normalize`) in words; for ``--verbose``."""
        return describe_preprocess(self.preprocess) | {
            "model": self.source,
            "engine": self.engine,
            "symbols": len(self.charset),
        }

    def describe_decoder(self) -> dict[str, Any]:
        """How outputs become text (the decoder and its settings), for logs and output metadata."""
        if self.decoder is not None:
            return self.decoder.describe()
        return {"decoder": "greedy" if self.decoding == "ctc" else self.decoding}

    def predict(self, images: ImageInput | Sequence[ImageInput]) -> Prediction | list[Prediction]:
        """Recognise one image (returns a :class:`Prediction`) or a list of them (returns a list).

        An image is a path, encoded bytes (also bytearray/memoryview), a binary file object, a PIL image, a
        numpy array or a torch.Tensor ([C, H, W], uint8 or float in [0, 1]): see
        :func:`kocr.data.images.load_image`. Anything else is a TypeError naming these."""
        single, items = as_image_list(images)
        results = self.predict_images([load_image(image) for image in items])
        return results[0] if single else results

    @torch.inference_mode()
    def predict_images(self, images: Sequence[Image.Image]) -> list[Prediction]:
        """Recognise already-loaded PIL images, batched by width; results in input order."""
        decoded = predict_pipelined(
            [self.preprocess(image) for image in images],
            self.preprocess,
            self.forward_batch,
            self.finish_batch,
            batch_size=self.batch_size,
            variable_width=self.variable_width,
            context_margin=self.context_margin,
        )
        return [Prediction(row.text, row.confidence) for row in decoded]


@dataclass(frozen=True)
class _Prepared:
    """A decoder's ``prepare`` output, on its way to the decoder's ``finish``."""

    value: Any
