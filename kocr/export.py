"""ONNX export of kocr checkpoints, and a recogniser that runs the exported file with ONNX Runtime.

>>> from kocr.export import export_onnx, OnnxRecognizer
>>> report = export_onnx("runs/exp/best.pt", "model.onnx")   # checked against PyTorch before it is written
>>> OnnxRecognizer.load("model.onnx").predict("line.png")     # Prediction(text='...', confidence=0.98)

The ``.onnx`` file is self-contained: the charset, the preprocessing, the model config and the decoding
kind are stored as JSON strings in its ``metadata_props`` (keys ``kocr.*``), so predicting needs neither
the checkpoint nor kocr's model code. Preprocessing, batching and decoding are kocr's own
(:func:`kocr.predict.predict_batched`, :mod:`kocr.codecs`), so ONNX and PyTorch predictions agree.

Graph: input ``images`` ``[batch, C, H, W]`` float32 in [-1, 1]; output ``logits`` ``[batch, T, classes]``
(raw scores: CTC with blank 0, or PARSeq with ``[E]`` 0). The batch axis is always dynamic; the width
(and T with it) is dynamic for CRNNs without TPS, which read lines of any width. TPS grids and PARSeq
position embeddings fix the input size, so those graphs take exactly the training size.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)``. It is deprecated since torch 2.9
but still works in torch 2.13, handles the LSTMs and the unrolled PARSeq decoder, and needs nothing beyond
the ``onnx`` extra; the torch.export-based exporter additionally requires ``onnxscript``.

Two export-only rewrites, both verified by the parity check against the *unmodified* model:

- CRNN height pooling is ``AdaptiveAvgPool2d((None, 1))`` on a permuted map; the TorchScript exporter has
  no symbolic for adaptive pooling once the batch or width is symbolic. The exported copy uses the
  equivalent mean over the height axis.
- PARSeq's AR decoding stops once every row has emitted ``[E]``, a data-dependent loop length that
  tracing cannot record. The graph always runs ``max_label_length + 1`` steps (``max_length`` set), which
  gives the same text and confidence: steps before a row's first ``[E]`` never see later ones, and the
  refinement masks every position from the first ``[E]`` on (kocr's mask already uses ``.int().cumsum``,
  the cast strhub needed for ONNX, issues #12/#66).
"""

from __future__ import annotations

import copy
import importlib
import io
import json
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
from PIL import Image
from torch import Tensor, nn

from kocr import __version__
from kocr.charsets import Charset
from kocr.codecs import CTCCodec, Decoded, PARSeqTokenizer
from kocr.data.images import ImageInput, load_image
from kocr.errors import InputFileError, KocrError
from kocr.fileio import atomic_write_bytes
from kocr.predict import Prediction, batch_groups, predict_batched, reads_any_width

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
METADATA_FORMAT = "kocr.onnx"
METADATA_VERSION = 1
DEFAULT_TOLERANCE = 1e-3
# TPS: bilinear resampling turns float32 rounding differences of ~1e-6 in the sampling grid (onnxruntime's
# MatMul and MKL's bmm accumulate differently) into ~1e-3 in the logits; an untrained 32x100 TRBC measured
# 1.3e-3 on rendered lines and 3.2e-3 on noise. 5e-3 is the bound kocr's golden TRBC test uses for the same
# effect (tests/fixtures/reference/PROVENANCE.md).
TPS_TOLERANCE = 5e-3
EXPORTER = "torch.onnx.export (TorchScript tracer, dynamo=False)"
TRACE_BATCH = 2  # tracing at batch 1 could let the exporter treat the batch size as a constant
PARITY_WIDTH_FACTORS = (0.5, 2.3)  # variable-width checks run widths other than the traced one
INSTALL_HINT = "pip install 'kocr-hangul[onnx]'"
MAX_OPSET = 20  # the TorchScript exporter's newest; asked for more, it silently exports opset 20
# Oldest opset of an op each model family needs (GridSample for TPS, scaled_dot_product_attention for
# PARSeq's encoder), checked up front: when the exporter fails it dumps the whole TorchScript graph.
MIN_OPSET = {"TPS": 16, "PARSeq": 14}


@dataclass(frozen=True)
class ExportReport:
    """What :func:`export_onnx` wrote and how closely ONNX Runtime reproduces PyTorch."""

    output: Path
    opset: int
    decoding: str
    input_shape: tuple[int | str, ...]
    output_shape: tuple[int | str, ...]
    dynamic_axes: dict[str, dict[int, str]]
    max_abs_diff: float | None  # None when the check was skipped
    parity_images: int  # image rows compared (summed over all parity batches)
    parity_shapes: tuple[tuple[int, ...], ...]  # the input shapes compared
    tolerance: float
    size_bytes: int
    exporter: str = EXPORTER


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
        }

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
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InputFileError(source, f"damaged kocr ONNX metadata (missing or malformed {exc})") from None


# --- export ---------------------------------------------------------------------------------------------


def export_onnx(
    checkpoint_path: str | os.PathLike[str],
    output: str | os.PathLike[str],
    *,
    opset: int = 17,
    sample_images: Sequence[ImageInput] | None = None,
    batch_sizes: Sequence[int] = (1, 4),
    check: bool = True,
    tolerance: float | None = None,
    overwrite: bool = False,
    charset: Charset | str | None = None,
) -> ExportReport:
    """Export a checkpoint (``"default"``, a kocr ``.pt``, or a clovaai ``.pth`` with ``charset``) to ONNX.

    With ``check`` (the default) ONNX Runtime's logits are compared with PyTorch's before anything is
    written: on ``sample_images`` (preprocessed and batched as ``kocr predict`` would) or on random inputs
    in [-1, 1], at each of ``batch_sizes`` and, for variable-width models, several widths. A difference
    above ``tolerance`` (default 1e-3, 5e-3 for TPS models) raises :class:`KocrError` and leaves no file.
    """
    from kocr.checkpoints import load_checkpoint
    from kocr.data.transforms import Preprocess
    from kocr.predict import default_model_path

    onnx = _require("onnx")
    output = Path(output)
    if output.exists() and not overwrite:
        raise KocrError(f"{output} exists; pass --overwrite to replace it")
    if output.is_dir():
        raise KocrError(f"{output} is a folder; give the .onnx file to write")
    if not batch_sizes or min(batch_sizes) < 1:
        raise KocrError(f"batch sizes must be >= 1, got {list(batch_sizes)}")
    path = default_model_path() if str(checkpoint_path) == "default" else Path(checkpoint_path)
    checkpoint = load_checkpoint(path, charset=charset)
    model = checkpoint.build_model().eval()
    metadata = OnnxMetadata(
        charset=checkpoint.require_charset(),
        preprocess=Preprocess.from_dict(checkpoint.preprocess or {}).to_dict(),
        model_config=dict(model.config),
        num_classes=int(model.num_classes),
        decoding=_decoding_kind(model.config),
        variable_width=reads_any_width(model.config),
        source=path.name,
    )
    _check_opset(opset, model.config)
    channels, height, width = _input_size(model.config)
    axes = _dynamic_axes(metadata.variable_width)

    proto = onnx.load_model_from_string(_trace(model, (TRACE_BATCH, channels, height, width), axes, opset))
    for key, value in metadata.to_props().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = f"kocr {__version__} export of {path.name} ({model.config.get('name', '?')})"
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()

    if tolerance is None:
        tolerance = TPS_TOLERANCE if model.config.get("transformation") == "TPS" else DEFAULT_TOLERANCE
    max_diff, rows, shapes = None, 0, ()
    if check:
        batches = _parity_batches(metadata, sample_images, batch_sizes, (channels, height, width))
        max_diff, rows, shapes = _parity(model, data, batches)
        if max_diff > tolerance:
            raise KocrError(
                f"ONNX Runtime logits differ from PyTorch's by {max_diff:.3g} (tolerance {tolerance:g}); "
                f"{output} was not written"
            )
    atomic_write_bytes(output, data)
    variable = metadata.variable_width
    return ExportReport(
        output=output,
        opset=opset,
        decoding=metadata.decoding,
        input_shape=("batch", channels, height, "width" if variable else width),
        output_shape=("batch", "steps" if variable else _fixed_steps(model, width), metadata.num_classes),
        dynamic_axes=axes,
        max_abs_diff=max_diff,
        parity_images=rows,
        parity_shapes=shapes,
        tolerance=tolerance,
        size_bytes=len(data),
    )


class _HeightMean(nn.Module):
    """``AdaptiveAvgPool2d((None, 1))`` on ``[B, T, C, H]``, written as a mean the exporter can trace."""

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=-1, keepdim=True)


class _ExportGraph(nn.Module):
    """The function the ONNX graph computes: images -> logits with a trace-friendly, fixed control flow."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        if model.config["arch"] == "crnn":
            self.model = copy.deepcopy(model)  # the caller's model keeps its pooling (the parity reference)
            self.model.AdaptiveAvgPool = _HeightMean()

    def forward(self, images: Tensor) -> Tensor:
        return _reference_forward(self.model, images)


def _reference_forward(model: nn.Module, images: Tensor) -> Tensor:
    """PyTorch logits of what the graph exports (PARSeq: every decoding step, no early stop)."""
    if model.config["arch"] == "parseq":
        return model(images, max_length=model.max_label_length)
    return model(images)


def _trace(model: nn.Module, shape: tuple[int, ...], axes: dict[str, dict[int, str]], opset: int) -> bytes:
    """Serialized ONNX model of ``model`` traced on a random ``shape`` input."""
    buffer = io.BytesIO()
    example = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    fastpath = torch.backends.mha.get_fastpath_enabled()
    with warnings.catch_warnings(), torch.no_grad():
        # Deprecation notices for the TorchScript exporter and TracerWarnings on Python-side checks (shape
        # asserts, MultiheadAttention's mask checks): the parity check is what vouches for the graph.
        warnings.simplefilter("ignore", category=DeprecationWarning)
        warnings.simplefilter("ignore", category=torch.jit.TracerWarning)
        # "batch_size other than 1 ... with LSTM": the LSTM's zero initial state is built from the input's
        # (dynamic) batch size; the parity check runs batch sizes other than the traced one to prove it.
        warnings.filterwarnings("ignore", message="Exporting a model to ONNX with a batch_size other than 1")
        # In eval mode, PARSeq's content-stream self-attention (dec_depth > 1) takes MultiheadAttention's
        # fused fast path, aten::_native_multi_head_attention, which has no ONNX symbolic.
        torch.backends.mha.set_fastpath_enabled(False)
        try:
            torch.onnx.export(
                _ExportGraph(model).eval(),
                (example,),
                buffer,
                input_names=[INPUT_NAME],
                output_names=[OUTPUT_NAME],
                dynamic_axes=axes,
                opset_version=opset,
                do_constant_folding=True,
                dynamo=False,
            )
        except (torch.onnx.errors.OnnxExporterError, ValueError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise KocrError(f"ONNX export at opset {opset} failed: {first_line}") from None
        finally:
            torch.backends.mha.set_fastpath_enabled(fastpath)
    return buffer.getvalue()


def _parity_batches(
    metadata: OnnxMetadata,
    sample_images: Sequence[ImageInput] | None,
    batch_sizes: Sequence[int],
    size: tuple[int, int, int],
) -> list[Tensor]:
    """Inputs to compare on: sample images batched as ``predict`` batches them, else random ones."""
    preprocess = _inference_preprocess(metadata)
    if sample_images:
        tensors = [preprocess(load_image(image)) for image in sample_images]
        widths = [t.shape[-1] for t in tensors]
        return [
            preprocess.pad_batch([tensors[i] for i in group])
            for b in batch_sizes
            for group in batch_groups(widths, b, variable_width=metadata.variable_width)
        ]
    channels, height, width = size
    widths = [width]
    if metadata.variable_width:
        multiple = preprocess.width_multiple
        widths = [max(height, math.ceil(width * f / multiple) * multiple) for f in PARITY_WIDTH_FACTORS]
    generator = torch.Generator().manual_seed(1)
    return [
        torch.rand((b, channels, height, w), generator=generator) * 2 - 1 for b in batch_sizes for w in widths
    ]


@torch.inference_mode()
def _parity(
    model: nn.Module, onnx_model: bytes, batches: list[Tensor]
) -> tuple[float, int, tuple[tuple[int, ...], ...]]:
    """(max |ONNX - PyTorch| over all logits, rows compared, input shapes compared)."""
    session = _session(onnx_model, ["CPUExecutionProvider"])
    worst = 0.0
    for batch in batches:
        expected = _reference_forward(model, batch).float()
        got = torch.from_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: batch.numpy()})[0])
        if got.shape != expected.shape:
            raise KocrError(f"ONNX output shape {tuple(got.shape)} != PyTorch's {tuple(expected.shape)}")
        worst = max(worst, float((got - expected).abs().max()))
    return worst, sum(len(b) for b in batches), tuple(tuple(b.shape) for b in batches)


def _check_opset(opset: int, config: dict[str, Any]) -> None:
    family = (
        "PARSeq" if config["arch"] == "parseq" else "TPS" if config.get("transformation") == "TPS" else ""
    )
    if opset > MAX_OPSET:
        raise KocrError(f"opset {opset} is newer than the exporter supports (at most {MAX_OPSET})")
    if opset < MIN_OPSET.get(family, 0):
        raise KocrError(f"{family} models need opset {MIN_OPSET[family]} or later, not opset {opset}")


def _decoding_kind(config: dict[str, Any]) -> str:
    kinds = {"crnn": "ctc", "parseq": "parseq"}
    if config["arch"] not in kinds:
        raise KocrError(f"ONNX export does not support model architecture {config['arch']!r}")
    return kinds[config["arch"]]


def _input_size(config: dict[str, Any]) -> tuple[int, int, int]:
    """(channels, height, width) the model was built for (the traced width for variable-width models)."""
    if config["arch"] == "parseq":
        return int(config["in_channels"]), int(config["img_size"][0]), int(config["img_size"][1])
    return int(config["input_channel"]), int(config["img_h"]), int(config["img_w"])


def _dynamic_axes(variable_width: bool) -> dict[str, dict[int, str]]:
    if variable_width:
        return {INPUT_NAME: {0: "batch", 3: "width"}, OUTPUT_NAME: {0: "batch", 1: "steps"}}
    return {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}


def _fixed_steps(model: nn.Module, width: int) -> int:
    if model.config["arch"] == "parseq":
        return int(model.max_label_length) + 1
    return int(model.output_length(width))


# --- inference ------------------------------------------------------------------------------------------


class OnnxRecognizer:
    """:class:`kocr.predict.Recognizer`'s ``predict``/``predict_images`` over an exported ``.onnx`` file."""

    def __init__(
        self, session: Any, metadata: OnnxMetadata, *, batch_size: int = 32, source: str = ""
    ) -> None:
        if batch_size < 1:
            raise KocrError(f"batch_size must be >= 1, not {batch_size}")
        self.session = session
        self.metadata = metadata
        self.charset = metadata.charset
        self.decoding = metadata.decoding
        self.variable_width = metadata.variable_width
        self.preprocess = _inference_preprocess(metadata)
        self.batch_size = batch_size
        self.source = source
        self._decode = _decoder(metadata.decoding, metadata.charset)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        batch_size: int = 32,
        device: str = "auto",
        providers: Sequence[Any] | None = None,
        threads: int | None = None,
    ) -> OnnxRecognizer:
        """Open an exported file on ``device`` (auto, cpu, cuda or cuda:N, as for :class:`Recognizer`):
        auto takes CUDA when onnxruntime-gpu offers it, then CPU. ``providers`` (onnxruntime's own list)
        override ``device``; ``threads`` caps onnxruntime's intra-op threads (default: one per core)."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "ONNX model not found" if not path.exists() else "not a file")
        if providers is None:
            providers = onnx_providers(device)
        session = _session(str(path), providers, source=path, threads=threads)
        metadata = OnnxMetadata.from_props(dict(session.get_modelmeta().custom_metadata_map), path)
        return cls(session, metadata, batch_size=batch_size, source=str(path))

    def predict(self, images: ImageInput | Sequence[ImageInput]) -> Prediction | list[Prediction]:
        """Recognise one image (returns a :class:`Prediction`) or a list of them (returns a list)."""
        from kocr.predict import _is_single

        if _is_single(images):
            return self.predict_images([load_image(images)])[0]  # type: ignore[arg-type]
        return self.predict_images([load_image(image) for image in images])  # type: ignore[union-attr]

    def predict_images(self, images: Sequence[Image.Image]) -> list[Prediction]:
        """Recognise already-loaded PIL images, batched exactly as :class:`Recognizer` batches them."""
        return predict_batched(
            [self.preprocess(image) for image in images],
            self.preprocess,
            self.decode_batch,
            batch_size=self.batch_size,
            variable_width=self.variable_width,
        )

    def decode_batch(self, batch: Tensor) -> list[Decoded]:
        """Texts and confidences of a preprocessed, padded batch ``[B, C, H, W]``."""
        return self._decode(self.logits(batch))

    def logits(self, batch: Tensor) -> Tensor:
        """Raw model output for a preprocessed, padded batch ``[B, C, H, W]``."""
        array = batch.detach().cpu().float().numpy()
        return torch.from_numpy(self.session.run([OUTPUT_NAME], {INPUT_NAME: array})[0])

    def __repr__(self) -> str:
        return (
            f"OnnxRecognizer({self.source!r}, {len(self.charset):,} symbols, "
            f"providers={self.session.get_providers()}, variable_width={self.variable_width})"
        )


def _inference_preprocess(metadata: OnnxMetadata) -> Any:
    """The preprocessing :class:`Recognizer` uses for this model (training width lifted when variable)."""
    from kocr.data.transforms import Preprocess
    from kocr.predict import _inference_preprocess as lift_width

    preprocess = Preprocess.from_dict(metadata.preprocess)
    return lift_width(preprocess) if metadata.variable_width else preprocess


def _decoder(kind: str, charset: Charset) -> Any:
    """logits [B, T, C] -> decoded rows, with the same codecs the PyTorch objectives use."""
    if kind == "ctc":
        return CTCCodec(charset).decode
    if kind == "parseq":
        tokenizer = PARSeqTokenizer(charset)

        def decode(logits: Tensor) -> list[Decoded]:
            return tokenizer.decode(logits.float().softmax(-1))

        return decode
    raise KocrError(f"unknown decoding {kind!r} in ONNX metadata (this kocr knows ctc and parseq)")


def onnx_providers(device: str) -> list[Any] | None:
    """onnxruntime execution providers for a kocr ``--device``; None (auto) = CUDA if offered, then CPU.

    A device onnxruntime cannot serve is an error, not a silent fall-back to the CPU."""
    device = device.strip().lower()
    if device == "auto":
        return None
    if device == "cpu":
        return ["CPUExecutionProvider"]
    name, _, index = device.partition(":")
    if name != "cuda" or (index and not index.isdigit()):
        raise KocrError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N")
    if "CUDAExecutionProvider" not in _require("onnxruntime").get_available_providers():
        raise KocrError(
            f"--device {device}: this onnxruntime has no CUDA provider (pip install onnxruntime-gpu), "
            "or use --device cpu"
        )
    return [("CUDAExecutionProvider", {"device_id": int(index or 0)}), "CPUExecutionProvider"]


def _session(
    model: str | bytes,
    providers: Sequence[Any] | None,
    source: str | Path = "<model>",
    threads: int | None = None,
) -> Any:
    ort = _require("onnxruntime")
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


def _require(name: str) -> ModuleType:
    """Import an optional ONNX dependency, or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise KocrError(f"ONNX support needs the '{name}' package: {INSTALL_HINT}") from None
