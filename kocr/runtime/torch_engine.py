"""A checkpoint read in PyTorch: :class:`TorchRecognizer`.

>>> from kocr.runtime.torch_engine import TorchRecognizer
>>> recognizer = TorchRecognizer.from_checkpoint("runs/exp/best.pt")   # always PyTorch, with ``.model``
>>> recognizer.predict("line.png")                                     # Prediction(text='...', ...)

:func:`kocr.load_recognizer` is the usual entry point: it also opens exported ``.onnx`` files and runs a
checkpoint's exported twin with ONNX Runtime when that is faster.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from kocr.charsets import Charset
from kocr.checkpoints import load_checkpoint
from kocr.checkpoints.files import resolve_model_path
from kocr.codecs import Decoded
from kocr.data.transforms import Preprocess
from kocr.devices import resolve_device
from kocr.models.registry import family_of, objective_for
from kocr.runtime.base import LineRecognizer
from kocr.runtime.decoders import load_decoder
from kocr.runtime.preprocessing import inference_preprocess, reads_any_width


class TorchRecognizer(LineRecognizer):
    """A loaded model, its charset and preprocessing, on one device."""

    def __init__(
        self,
        model: nn.Module,
        charset: Charset,
        preprocess: Any,
        *,
        device: str | torch.device = "auto",
        batch_size: int = 32,
        variable_width: bool | None = None,
        source: str | None = None,
        decoder: Any = None,
    ) -> None:
        self.device = resolve_device(str(device))
        self.model = model.to(self.device).eval()
        self.charset = charset
        self.objective = objective_for(str(model.config["arch"]), charset)
        self.decoding = family_of(model.config).decoding
        self.decoder = decoder  # a kocr.decoding decoder for CTC logits; None = the objective's decoding
        self.batch_size = batch_size
        self.source = source
        any_width = reads_any_width(model.config)
        self.variable_width = any_width if variable_width is None else variable_width and any_width
        self.preprocess = inference_preprocess(preprocess) if self.variable_width else preprocess
        margin = getattr(model, "context_margin", None)
        self.context_margin = int(margin()) if self.variable_width and margin is not None else 0

    @classmethod
    def from_checkpoint(
        cls,
        source: str | os.PathLike[str] = "default",
        *,
        device: str | torch.device = "auto",
        batch_size: int = 32,
        charset: Charset | str | None = None,
        variable_width: bool | None = None,
        normalize: bool | None = None,
        decoder: str = "auto",
        lm: Any = "auto",
        **beam: Any,
    ) -> TorchRecognizer:
        """Load ``"default"`` (the model shipped with kocr) or a checkpoint file into PyTorch.

        kocr checkpoints carry their charset and preprocessing; clovaai ``.pth`` files need ``charset``.
        ``normalize`` turns input normalisation (:mod:`kocr.data.line_normalize`) on or off whatever the
        checkpoint says (``None``: as it says). ``decoder`` (auto, greedy, beam), ``lm`` and ``beam``
        (beam_width, lm_weight, length_bonus) choose how CTC outputs become text, see
        :func:`kocr.decoding.ctc_decoder`: by default a model with a language model next to it (the bundled
        one has ``default.lm``) is beam-searched with it."""
        path = resolve_model_path(source)
        checkpoint = load_checkpoint(path, charset=charset)
        preprocess = Preprocess.from_dict(checkpoint.preprocess or {})
        if normalize is not None:
            preprocess = replace(preprocess, normalize=normalize)
        model = checkpoint.build_model()
        symbols = checkpoint.require_charset()
        return cls(
            model,
            symbols,
            preprocess,
            device=device,
            batch_size=batch_size,
            variable_width=variable_width,
            source=str(path),
            decoder=load_decoder(model.config, symbols, path, decoder, lm, beam),
        )

    def forward_batch(self, batch: torch.Tensor, widths: torch.Tensor | None = None) -> Any:
        """Logits and each line's frame count, staged for the decoder (:meth:`stage_logits`), or (models
        decoded by their objective: greedy CTC, PARSeq's autoregression) the decoded rows themselves."""
        batch = batch.to(self.device)
        widths = widths.to(self.device) if widths is not None and self.context_margin else None
        if self.decoder is None:
            return self.objective.decode(self.model, batch, widths)
        if widths is None:
            return self.stage_logits(self.model(batch).cpu(), None)
        return self.stage_logits(self.model(batch, widths).cpu(), self.model.output_lengths(widths).cpu())

    def finish_batch(self, raw: Any) -> list[Decoded]:
        """Decoded rows: the decoder's reading of the staged logits, or what the objective decoded."""
        if self.decoder is None:
            return raw
        return self.decode_staged(raw, self.decoder)

    def describe(self) -> dict[str, Any]:
        """:meth:`LineRecognizer.describe` with the device."""
        return super().describe() | {
            "model": self.source or str(self.model.config.get("name")),
            "device": str(self.device),
        }

    def __repr__(self) -> str:
        name = self.source or self.model.config.get("name")
        return (
            f"{type(self).__name__}({name!r}, {len(self.charset):,} symbols, device={str(self.device)!r}, "
            f"variable_width={self.variable_width})"
        )
