"""``Recognizer``: a checkpoint turned into a function from text-line images to text.

>>> from kocr import Recognizer
>>> recognizer = Recognizer.load("default")          # the bundled Korean model, or a path
>>> recognizer.predict("line.png")                    # Prediction(text='...', confidence=0.98)
>>> recognizer.predict([pil_image, numpy_array])      # a list in, a list out

Batching: CTC models without TPS read any width, so images are resized to the model height keeping
their aspect ratio, sorted by width and batched with their neighbours; a batch is padded only to its
widest line instead of one fixed width. Fixed-size models (TPS, PARSeq) batch in input order.

Batch invariance: a line's text must not depend on what else is in its batch. For models that read any
width, each line's own width goes with the batch: the sequence model reads only that line's frames
and decoding stops at its last frame, and every batch is padded by the CNN's receptive field
(:meth:`kocr.models.crnn.CRNN.context_margin`) beyond its widest line, so the frames of a line see the
same pixels whether it is read alone or next to a wider one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn

from kocr.charsets import Charset
from kocr.codecs import Decoded
from kocr.data.images import ImageInput, as_image_list, load_image
from kocr.errors import KocrError

DEFAULT_MODEL = Path(__file__).resolve().parent / "weights" / "default.pt"
MAX_WIDTH_FACTOR = 8  # variable-width inference reads lines up to 8 × the training width


@dataclass(frozen=True)
class Prediction:
    """Recognised text and a confidence in [0, 1] (see :mod:`kocr.codecs` for the formula)."""

    text: str
    confidence: float


class RecognizerBase:
    """What every recogniser shares: ``predict`` on any image input, ``predict_images`` batched by width.

    Subclasses set ``preprocess``, ``batch_size`` and ``variable_width`` and implement ``decode_batch``:
    :class:`Recognizer` runs PyTorch, :class:`kocr.onnx_runtime.OnnxRecognizer` ONNX Runtime, and both
    see identical batches.
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

    def decode_batch(self, batch: torch.Tensor, widths: torch.Tensor | None = None) -> list[Decoded]:
        """Texts and confidences of a preprocessed, padded batch ``[B, C, H, W]``; ``widths``: each
        line's own width in that batch (None for fixed-size models)."""
        raise NotImplementedError

    #: What runs the model ("torch" or "onnxruntime").
    engine: str = "torch"

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
        decoder = getattr(self, "decoder", None)
        if decoder is not None:
            return decoder.describe()
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
        return predict_batched(
            [self.preprocess(image) for image in images],
            self.preprocess,
            self.decode_batch,
            batch_size=self.batch_size,
            variable_width=self.variable_width,
            context_margin=self.context_margin,
        )


class Recognizer(RecognizerBase):
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
        from kocr.devices import resolve_device
        from kocr.models.registry import family_of, objective_for

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
    def load(
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
        engine: str = "auto",
        **beam: Any,
    ) -> Recognizer:  # or an OnnxRecognizer (a .onnx file, or engine onnxruntime): both are RecognizerBase
        """Load ``"default"`` (the model shipped with kocr) or a checkpoint file.

        kocr checkpoints carry their charset and preprocessing; clovaai ``.pth`` files need ``charset``.
        An exported ``.onnx`` file is opened with :class:`kocr.onnx_runtime.OnnxRecognizer` (same
        ``predict``), which needs the onnx extra.
        ``normalize`` turns input normalisation (:mod:`kocr.data.line_normalize`) on or off whatever the
        checkpoint says (``None``: as it says; checkpoints from before it existed say off).
        ``decoder`` (auto, greedy, beam), ``lm`` and ``beam`` (beam_width, lm_weight, length_bonus) choose
        how CTC outputs become text, see :func:`kocr.decoding.ctc_decoder`: by default a model with a
        language model next to it (the bundled one has ``default.lm``) is beam-searched with it.
        ``engine`` (auto, torch, onnxruntime) chooses what runs the model, see :mod:`kocr.engines`: by
        default ONNX Runtime on the CPU when the checkpoint has an exported twin (the bundled one does),
        which returns an :class:`~kocr.onnx_runtime.OnnxRecognizer`; ``engine="torch"`` always gives a
        PyTorch :class:`Recognizer` (with ``.model``).
        """
        if str(source).lower().endswith(".onnx"):
            return _load_onnx(
                source, device=device, batch_size=batch_size, charset=charset, normalize=normalize,
                decoder=decoder, lm=lm, **beam,
            )  # fmt: skip
        from kocr.checkpoints import load_checkpoint
        from kocr.data.transforms import Preprocess

        path = default_model_path() if str(source) == "default" else Path(source)
        if variable_width is None:
            twin = _load_twin(
                path, engine=engine, device=device, batch_size=batch_size, charset=charset,
                normalize=normalize, decoder=decoder, lm=lm, beam=beam,
            )  # fmt: skip
            if twin is not None:
                return twin
        checkpoint = load_checkpoint(path, charset=charset)
        preprocess = Preprocess.from_dict(checkpoint.preprocess or {})
        if normalize is not None:
            preprocess = replace(preprocess, normalize=normalize)
        model = checkpoint.build_model()
        symbols = checkpoint.require_charset()
        chosen = load_decoder(model.config, symbols, path, decoder, lm, beam)
        return cls(
            model,
            symbols,
            preprocess,
            device=device,
            batch_size=batch_size,
            variable_width=variable_width,
            source=str(path),
            decoder=chosen,
        )

    # --- prediction -------------------------------------------------------------------------------

    def decode_batch(self, batch: torch.Tensor, widths: torch.Tensor | None = None) -> list[Decoded]:
        """Texts and confidences of a preprocessed, padded batch ``[B, C, H, W]``."""
        batch = batch.to(self.device)
        widths = widths.to(self.device) if widths is not None and self.context_margin else None
        if self.decoder is None:
            return self.objective.decode(self.model, batch, widths)
        if widths is None:
            return self.decoder(self.model(batch).cpu())
        return self.decoder(self.model(batch, widths).cpu(), self.model.output_lengths(widths).cpu())

    def describe(self) -> dict[str, Any]:
        """:meth:`RecognizerBase.describe` with the device."""
        return super().describe() | {
            "model": self.source or str(self.model.config.get("name")),
            "device": str(self.device),
        }

    def __repr__(self) -> str:
        return (
            f"Recognizer({self.source or self.model.config.get('name')!r}, {len(self.charset):,} symbols, "
            f"device={str(self.device)!r}, variable_width={self.variable_width})"
        )


def describe_preprocess(preprocess: Any) -> dict[str, Any]:
    """Whether input normalisation runs, in words, and the whole preprocessing (also for ONNX models)."""
    from kocr.data.line_normalize import DESCRIPTION

    enabled = bool(getattr(preprocess, "normalize", False))
    return {
        "normalize": enabled,
        "normalization": DESCRIPTION if enabled else "off",
        "preprocess": preprocess.to_dict(),
    }


def load_decoder(
    config: Mapping[str, Any],
    charset: Charset,
    path: str | os.PathLike[str],
    decoder: str,
    lm: Any,
    beam: dict,
) -> Any:
    """The CTC decoder the options ask for (:func:`kocr.decoding.ctc_decoder`); None keeps the family's
    own decoding (greedy CTC, PARSeq). Beam search and language models are for CTC models only."""
    from kocr.decoding import ctc_decoder
    from kocr.models.registry import family_of

    if family_of(config).decoding != "ctc":
        if decoder == "beam" or (lm not in ("auto", None, "none")):
            raise KocrError(
                f"{path}: beam search and language models decode CTC models; this is {config['arch']}"
            )
        return None
    chosen = ctc_decoder(charset, decoder=decoder, lm=lm, model_path=path, **beam)
    return None if chosen.kind == "greedy" else chosen


def reads_any_width(config: Mapping[str, Any]) -> bool:
    """Whether a model reads lines of any width (its family says: CTC models without TPS do; TPS and PARSeq
    have a fixed input size baked into their grids and position embeddings)."""
    from kocr.models.registry import family_of

    return family_of(config).reads_any_width(config)


def predict_batched(
    tensors: Sequence[torch.Tensor],
    preprocess: Any,
    decode: Callable[[torch.Tensor, torch.Tensor | None], Sequence[Decoded]],
    *,
    batch_size: int,
    variable_width: bool,
    context_margin: int = 0,
) -> list[Prediction]:
    """Preprocessed lines -> predictions in input order: batches of similar width when the model reads any
    width (each padded to its widest line plus ``context_margin``), input order otherwise; ``decode`` maps
    a padded batch and its lines' own widths (None without a margin) to decoded rows. Shared by every
    :class:`RecognizerBase` so PyTorch and ONNX Runtime see identical batches."""
    results: list[Prediction | None] = [None] * len(tensors)
    widths = [t.shape[-1] for t in tensors]
    for group in batch_groups(widths, batch_size, variable_width=variable_width):
        batch = preprocess.pad_batch([tensors[i] for i in group], extra=context_margin)
        own = torch.tensor([widths[i] for i in group], dtype=torch.long) if context_margin else None
        for index, decoded in zip(group, decode(batch, own), strict=True):
            results[index] = Prediction(decoded.text, decoded.confidence)
    return results  # type: ignore[return-value]


def batch_groups(widths: Sequence[int], batch_size: int, *, variable_width: bool) -> list[list[int]]:
    """Indices of each batch: neighbours in width when the model reads any width, else input order."""
    from kocr.data.transforms import batches_by_width

    if variable_width:
        return batches_by_width(widths, batch_size)
    return [list(range(s, min(s + batch_size, len(widths)))) for s in range(0, len(widths), batch_size)]


def default_model_path() -> Path:
    """The bundled model's file; a clear error when this install has none."""
    if not DEFAULT_MODEL.is_file():
        raise KocrError(
            "no bundled default model in this installation (kocr/weights/default.pt is missing); "
            "pass --saved-model with a checkpoint trained by `kocr train`"
        )
    return DEFAULT_MODEL


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


def _load_twin(
    path: Path,
    *,
    engine: str,
    device: Any,
    batch_size: int,
    charset: Any,
    normalize: bool | None,
    decoder: str,
    lm: Any,
    beam: dict,
) -> Any:
    """``path`` read by ONNX Runtime through its exported twin when ``engine`` asks for it and one
    matches the checkpoint's bytes (:mod:`kocr.engines`), else None (PyTorch reads it)."""
    from kocr import engines
    from kocr.decoding import sidecar_lm
    from kocr.devices import resolve_device
    from kocr.onnx_runtime import OnnxRecognizer

    if not engines.wants_onnxruntime(engine, resolve_device(str(device)).type):
        return None
    digest = engines.checkpoint_digest(path)
    candidates = engines.twin_candidates(path, digest)
    if not candidates and engine == "onnxruntime":
        candidates = [engines.export_twin(path, digest, charset)]
    if lm == "auto":  # the checkpoint's own language model, wherever its twin sits
        lm = sidecar_lm(path) or "none"
    for candidate in candidates:
        recognizer = OnnxRecognizer.load(
            candidate, batch_size=batch_size, device=str(device), decoder=decoder, lm=lm, **beam
        )
        if recognizer.metadata.checkpoint_sha256 != digest:
            continue
        recognizer.source = str(path)
        if normalize is not None:
            recognizer.preprocess = replace(recognizer.preprocess, normalize=normalize)
        return recognizer
    if engine == "onnxruntime":
        raise KocrError(f"{path}: no ONNX export of this checkpoint could be made or found")
    return None


def _load_onnx(
    source: Any, *, device: Any, batch_size: int, charset: Any, normalize: bool | None, **decoding: Any
) -> Any:
    """``Recognizer.load("model.onnx")``: the exported file carries its charset, so none may be given."""
    from kocr.onnx_runtime import OnnxRecognizer

    if charset is not None:
        raise KocrError(f"{source}: an exported ONNX file carries its own charset; do not pass one")
    recognizer = OnnxRecognizer.load(source, batch_size=batch_size, device=str(device), **decoding)
    if normalize is not None:
        recognizer.preprocess = replace(recognizer.preprocess, normalize=normalize)
    return recognizer
