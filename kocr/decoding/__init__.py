"""CTC decoders: greedy (the codec's argmax collapse) and prefix beam search with an n-gram LM.

:func:`ctc_decoder` turns user options into a decoder, the one place the choice is made for PyTorch and
ONNX models alike (both produce logits [B, T, C] with blank 0):

- ``decoder="auto"`` (the default): beam search with the model's language model when it has one — a
  sidecar file next to the checkpoint (``default.pt`` → ``default.lm``, ``model.onnx`` → ``model.lm``) or
  ``lm`` given explicitly — otherwise greedy, exactly as before;
- ``"greedy"``: greedy, always;
- ``"beam"``: beam search, with the language model when one is found or given, without one otherwise.

``lm`` is a path, a :class:`~kocr.lm.CharLM`, ``"auto"`` (the sidecar, if any) or ``"none"``. Settings the
caller leaves at None come from the LM file's header (``decoder`` defaults written when it was built or
tuned) and then from :class:`BeamSettings` (whose length bonus is for LM fusion: without an LM it is 0).
"""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kocr.charsets import Charset
from kocr.decoding.settings import BeamSettings, check_given
from kocr.errors import KocrError

if TYPE_CHECKING:  # torch loads with a decoder, not with kocr.decoding.settings (the CLI reads that)
    import torch

    from kocr.codecs import Decoded

DECODERS = ("auto", "greedy", "beam")
LM_SUFFIX = ".lm"


class CTCDecoder(Protocol):
    """logits [B, T, C] (and each row's valid frames, when rows are lines of different widths) → texts."""

    kind: str

    def __call__(self, logits: torch.Tensor, lengths: torch.Tensor | None = None) -> list[Decoded]: ...

    def describe(self) -> dict[str, Any]: ...


class GreedyDecoder:
    """The codec's greedy decoding (argmax per frame, repeats merged, blanks dropped)."""

    kind = "greedy"

    def __init__(self, charset: Charset) -> None:
        from kocr.codecs import CTCCodec  # torch: deferred past the CLI's start-up

        self.codec = CTCCodec(charset)

    def __call__(self, logits: torch.Tensor, lengths: torch.Tensor | None = None) -> list[Decoded]:
        return self.codec.decode(logits, lengths)

    def describe(self) -> dict[str, Any]:
        return {"decoder": "greedy"}


def sidecar_lm(model_path: str | os.PathLike[str] | None) -> Path | None:
    """The language model shipped next to a model file (same name, ``.lm``), if there is one."""
    if model_path is None:
        return None
    candidate = Path(model_path).with_suffix(LM_SUFFIX)
    return candidate if candidate.is_file() else None


def ctc_decoder(
    charset: Charset,
    *,
    decoder: str = "auto",
    lm: Any = "auto",
    model_path: str | os.PathLike[str] | None = None,
    beam_width: int | None = None,
    lm_weight: float | None = None,
    length_bonus: float | None = None,
) -> CTCDecoder:
    """The decoder these options ask for (see the module docs). Settings given are checked
    (:mod:`kocr.decoding.settings`) even when the decoder chosen does not use them."""
    from kocr.decoding.beam import BeamSearchDecoder  # torch: deferred past the CLI's start-up
    from kocr.lm.model import CharLM

    if decoder not in DECODERS:
        raise KocrError(f"unknown decoder {decoder!r}: choose from {', '.join(DECODERS)}")
    given = check_given({"beam_width": beam_width, "lm_weight": lm_weight, "length_bonus": length_bonus})
    if decoder == "greedy":
        return GreedyDecoder(charset)
    model: CharLM | None
    source: str | None = None
    if isinstance(lm, CharLM):
        model = lm
    elif lm is None or str(lm).lower() == "none":
        model = None
    elif str(lm) == "auto":
        path = sidecar_lm(model_path)
        model = CharLM.load(path) if path else None
        source = str(path) if path else None
    else:
        model = CharLM.load(lm)
        source = str(lm)
    if decoder == "auto" and model is None:
        return GreedyDecoder(charset)
    defaults = dict(model.header.get("decoder", {})) if model is not None else {}
    names = {f.name for f in fields(BeamSettings)}
    settings: dict[str, Any] = {k: v for k, v in defaults.items() if k in names}
    if model is None:
        settings["length_bonus"] = 0.0  # the bonus balances the LM's per-character cost; alone it inserts
    settings.update(given)
    return BeamSearchDecoder(charset, model, BeamSettings(**settings), lm_source=source)
