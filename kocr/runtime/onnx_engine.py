"""An exported model read by ONNX Runtime: :class:`OnnxRecognizer`.

>>> from kocr.runtime.onnx_engine import OnnxRecognizer
>>> OnnxRecognizer.load("model.onnx").predict("line.png")     # Prediction(text='...', confidence=0.98)

The file carries everything needed to read it (:mod:`kocr.runtime.onnx_format`). Preprocessing, batching
and decoding are kocr's own (:class:`~kocr.runtime.base.LineRecognizer`; ``decode_logits`` of the
objective of the family that decodes this way), so ONNX and PyTorch predictions agree.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from kocr.charsets import Charset
from kocr.codecs import Decoded
from kocr.errors import InputFileError, KocrError
from kocr.models.registry import FAMILIES
from kocr.runtime.base import LineRecognizer
from kocr.runtime.decoders import load_decoder
from kocr.runtime.onnx_format import INPUT_NAME, LENGTHS_NAME, OUTPUT_NAME, WIDTHS_NAME, OnnxMetadata
from kocr.runtime.onnx_session import onnx_providers, open_session


class OnnxRecognizer(LineRecognizer):
    """:class:`~kocr.runtime.base.LineRecognizer` over an exported ``.onnx`` file, run by ONNX Runtime."""

    engine = "onnxruntime"

    def __init__(
        self,
        session: Any,
        metadata: OnnxMetadata,
        *,
        batch_size: int = 32,
        source: str = "",
        decoder: Any = None,
    ) -> None:
        if batch_size < 1:
            raise KocrError(f"batch_size must be >= 1, not {batch_size}")
        self.session = session
        self.metadata = metadata
        self.charset = metadata.charset
        self.decoding = metadata.decoding
        self.variable_width = metadata.variable_width
        self.preprocess = metadata.inference_preprocess()
        self.batch_size = batch_size
        self.source = source
        self.context_margin = metadata.context_margin if metadata.variable_width else 0
        self.decoder = decoder  # a kocr.decoding decoder (beam search); None = the family's decoding
        self._decode = decoder or _decoder(metadata.decoding, metadata.charset)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        batch_size: int = 32,
        device: str = "auto",
        providers: Sequence[Any] | None = None,
        threads: int | None = None,
        decoder: str = "auto",
        lm: Any = "auto",
        content: bytes | None = None,
        **beam: Any,
    ) -> OnnxRecognizer:
        """Open an exported file on ``device`` (auto, cpu, cuda or cuda:N, as for PyTorch models):
        auto takes CUDA when onnxruntime-gpu offers it, then CPU. ``providers`` (onnxruntime's own list)
        override ``device``; ``threads`` caps onnxruntime's intra-op threads (default: one per core).
        ``decoder``, ``lm`` and ``beam`` choose the CTC decoding as for PyTorch models (a ``.lm``
        file next to the ``.onnx`` one is its language model). ``content``: the file's bytes, already
        read (and checked: :mod:`kocr.twins`) by the caller; the session runs those, not the file."""
        path = Path(path)
        if content is None and not path.is_file():
            raise InputFileError(path, "ONNX model not found" if not path.exists() else "not a file")
        if providers is None:
            providers = onnx_providers(device)
        model = str(path) if content is None else content
        session = open_session(model, providers, source=path, threads=threads)
        metadata = OnnxMetadata.from_props(dict(session.get_modelmeta().custom_metadata_map), path)
        chosen = load_decoder(metadata.model_config, metadata.charset, path, decoder, lm, beam)
        return cls(session, metadata, batch_size=batch_size, source=str(path), decoder=chosen)

    def forward_batch(self, batch: Tensor, widths: Tensor | None = None) -> Any:
        """Logits of a preprocessed, padded batch ``[B, C, H, W]`` (with each line's frame count when its
        lines' widths are given), staged for the decoder (:meth:`LineRecognizer.stage_logits`).
        onnxruntime releases the GIL while it runs."""
        if widths is None or not self.context_margin:
            return self.stage_logits(self.logits(batch), None)
        feed = {INPUT_NAME: batch.detach().cpu().float().numpy(), WIDTHS_NAME: widths.cpu().numpy()}
        logits, lengths = self.session.run([OUTPUT_NAME, LENGTHS_NAME], feed)
        return self.stage_logits(torch.from_numpy(logits), torch.from_numpy(lengths))

    def finish_batch(self, raw: Any) -> list[Decoded]:
        """Texts and confidences from :meth:`forward_batch`'s output."""
        return self.decode_staged(raw, self._decode)

    def logits(self, batch: Tensor) -> Tensor:
        """Raw model output for a preprocessed, padded batch ``[B, C, H, W]`` (every frame, as if each line
        were as wide as the batch)."""
        array = batch.detach().cpu().float().numpy()
        feed = {INPUT_NAME: array}
        if self.context_margin:
            feed[WIDTHS_NAME] = torch.full((len(array),), array.shape[-1], dtype=torch.long).numpy()
        return torch.from_numpy(self.session.run([OUTPUT_NAME], feed)[0])

    def __repr__(self) -> str:
        return (
            f"OnnxRecognizer({self.source!r}, {len(self.charset):,} symbols, "
            f"providers={self.session.get_providers()}, variable_width={self.variable_width})"
        )


def _decoder(kind: str, charset: Charset) -> Any:
    """logits [B, T, C] -> decoded rows: ``decode_logits`` of the objective of the (first registered)
    family that decodes this way, so ONNX and PyTorch decode with the same code."""
    for family in FAMILIES.values():
        if family.decoding == kind:
            return family.objective(charset).decode_logits
    known = " and ".join(sorted({family.decoding for family in FAMILIES.values() if family.decoding}))
    raise KocrError(f"unknown decoding {kind!r} in ONNX metadata (this kocr knows {known})")
