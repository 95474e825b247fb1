"""Run an exported ONNX model with ONNX Runtime: :class:`OnnxRecognizer`, and the file's kocr metadata.

>>> from kocr.onnx_runtime import OnnxRecognizer
>>> OnnxRecognizer.load("model.onnx").predict("line.png")     # Prediction(text='...', confidence=0.98)

The ``.onnx`` file written by :func:`kocr.export.export_onnx` is self-contained: the charset, the
preprocessing, the model config and the decoding kind are stored as JSON strings in its
``metadata_props`` (keys ``kocr.*``, :class:`OnnxMetadata`), so predicting needs no checkpoint and runs
none of kocr's model code. Preprocessing, batching and decoding are kocr's own
(:class:`kocr.predict.RecognizerBase`; ``decode_logits`` of the objective of the family that decodes
this way), so ONNX and PyTorch predictions agree.

Graph: input ``images`` ``[batch, C, H, W]`` float32 in [-1, 1]; output ``logits`` ``[batch, T, classes]``.
Graphs of models that read any width also take ``widths`` (each line's own width) and return ``lengths``
(its valid frames); files of metadata format 1 lack them and are read as before.
"""

from __future__ import annotations

import importlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from torch import Tensor

from kocr import __version__
from kocr.charsets import Charset
from kocr.codecs import Decoded
from kocr.errors import InputFileError, KocrError
from kocr.predict import RecognizerBase, inference_preprocess, load_decoder

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
WIDTHS_NAME = "widths"
LENGTHS_NAME = "lengths"
METADATA_FORMAT = "kocr.onnx"
METADATA_VERSION = 2  # 2: line widths in, valid frames out, and the context margin (batch invariance)
INSTALL_HINT = "pip install 'kocr-hangul[onnx]'"


@dataclass(frozen=True)
class OnnxMetadata:
    """What kocr stores in an exported file's ``metadata_props`` to predict from it alone."""

    charset: Charset
    preprocess: dict[str, Any]  # Preprocess.to_dict() as trained; width lifted at inference if variable
    model_config: dict[str, Any]
    num_classes: int
    decoding: str  # "ctc" | "parseq"
    variable_width: bool
    source: str = ""  # the checkpoint's file name, for the record
    kocr_version: str = __version__
    context_margin: int = 0  # > 0: the graph takes line widths (see kocr.predict, batch invariance)
    checkpoint_sha256: str = ""  # the exported checkpoint's bytes (kocr.engines: a twin must match)

    def to_props(self) -> dict[str, str]:
        return {
            "kocr.format": METADATA_FORMAT,
            "kocr.format_version": str(METADATA_VERSION),
            "kocr.kocr_version": self.kocr_version,
            "kocr.charset": json.dumps(self.charset.to_dict(), ensure_ascii=False),
            "kocr.preprocess": json.dumps(self.preprocess),
            "kocr.model_config": json.dumps(self.model_config, ensure_ascii=False),
            "kocr.num_classes": str(self.num_classes),
            "kocr.decoding": self.decoding,
            "kocr.variable_width": json.dumps(self.variable_width),
            "kocr.source": self.source,
            "kocr.context_margin": str(self.context_margin),
            "kocr.checkpoint_sha256": self.checkpoint_sha256,
        }

    def inference_preprocess(self) -> Any:
        """The preprocessing :class:`kocr.Recognizer` uses for this model (training width lifted when
        variable)."""
        from kocr.data.transforms import Preprocess

        preprocess = Preprocess.from_dict(self.preprocess)
        return inference_preprocess(preprocess) if self.variable_width else preprocess

    @classmethod
    def from_props(cls, props: dict[str, str], source: str | Path) -> OnnxMetadata:
        if props.get("kocr.format") != METADATA_FORMAT:
            raise InputFileError(
                source, "no kocr metadata in this ONNX file; export it with `kocr export --format onnx`"
            )
        version = int(props.get("kocr.format_version", "0"))
        if version > METADATA_VERSION:
            raise InputFileError(
                source,
                f"exported by a newer kocr ({props.get('kocr.kocr_version')}); upgrade kocr to read it",
            )
        try:
            return cls(
                charset=Charset.from_dict(json.loads(props["kocr.charset"])),
                preprocess=json.loads(props["kocr.preprocess"]),
                model_config=json.loads(props["kocr.model_config"]),
                num_classes=int(props["kocr.num_classes"]),
                decoding=props["kocr.decoding"],
                variable_width=bool(json.loads(props["kocr.variable_width"])),
                source=props.get("kocr.source", ""),
                kocr_version=props.get("kocr.kocr_version", "?"),
                context_margin=int(props.get("kocr.context_margin", "0")),
                checkpoint_sha256=props.get("kocr.checkpoint_sha256", ""),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InputFileError(source, f"damaged kocr ONNX metadata (missing or malformed {exc})") from None


class OnnxRecognizer(RecognizerBase):
    """:class:`kocr.predict.Recognizer`'s ``predict``/``predict_images`` over an exported ``.onnx`` file."""

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
        **beam: Any,
    ) -> OnnxRecognizer:
        """Open an exported file on ``device`` (auto, cpu, cuda or cuda:N, as for :class:`Recognizer`):
        auto takes CUDA when onnxruntime-gpu offers it, then CPU. ``providers`` (onnxruntime's own list)
        override ``device``; ``threads`` caps onnxruntime's intra-op threads (default: one per core).
        ``decoder``, ``lm`` and ``beam`` choose the CTC decoding as for :meth:`Recognizer.load` (a ``.lm``
        file next to the ``.onnx`` one is its language model)."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "ONNX model not found" if not path.exists() else "not a file")
        if providers is None:
            providers = onnx_providers(device)
        session = open_session(str(path), providers, source=path, threads=threads)
        metadata = OnnxMetadata.from_props(dict(session.get_modelmeta().custom_metadata_map), path)
        chosen = load_decoder(metadata.model_config, metadata.charset, path, decoder, lm, beam)
        return cls(session, metadata, batch_size=batch_size, source=str(path), decoder=chosen)

    def decode_batch(self, batch: Tensor, widths: Tensor | None = None) -> list[Decoded]:
        """Texts and confidences of a preprocessed, padded batch ``[B, C, H, W]`` (and its lines' widths)."""
        if widths is None or not self.context_margin:
            return self._decode(self.logits(batch))
        feed = {INPUT_NAME: batch.detach().cpu().float().numpy(), WIDTHS_NAME: widths.cpu().numpy()}
        logits, lengths = self.session.run([OUTPUT_NAME, LENGTHS_NAME], feed)
        return self._decode(torch.from_numpy(logits), torch.from_numpy(lengths))

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
    from kocr.models.registry import FAMILIES

    for family in FAMILIES.values():
        if family.decoding == kind:
            return family.objective(charset).decode_logits
    known = " and ".join(sorted({family.decoding for family in FAMILIES.values() if family.decoding}))
    raise KocrError(f"unknown decoding {kind!r} in ONNX metadata (this kocr knows {known})")


def onnx_providers(device: str) -> list[Any] | None:
    """onnxruntime execution providers for a kocr ``--device``; None (auto) = CUDA if offered, then CPU.

    A device onnxruntime cannot serve is an error, not a silent fall-back to the CPU."""
    from kocr.devices import check_device_name

    device = check_device_name(device)
    if device == "auto":
        return None
    if device == "cpu":
        return ["CPUExecutionProvider"]
    _, _, index = device.partition(":")
    if "CUDAExecutionProvider" not in require_module("onnxruntime").get_available_providers():
        raise KocrError(
            f"--device {device}: this onnxruntime has no CUDA provider (pip install onnxruntime-gpu), "
            "or use --device cpu"
        )
    return [("CUDAExecutionProvider", {"device_id": int(index or 0)}), "CPUExecutionProvider"]


def open_session(
    model: str | bytes,
    providers: Sequence[Any] | None,
    source: str | Path = "<model>",
    threads: int | None = None,
) -> Any:
    ort = require_module("onnxruntime")
    available = ort.get_available_providers()
    if providers is None:
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(model, options, providers=list(providers))
    except Exception as exc:  # onnxruntime's InvalidProtobuf, NoSuchFile, Fail... derive from Exception only
        raise InputFileError(source, f"onnxruntime cannot load it: {str(exc).strip()}") from None


def require_module(name: str) -> ModuleType:
    """Import an optional ONNX dependency, or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise KocrError(f"ONNX support needs the '{name}' package: {INSTALL_HINT}") from None
