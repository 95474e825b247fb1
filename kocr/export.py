"""ONNX export of kocr checkpoints: trace the model, check ONNX Runtime against PyTorch, write the file.

>>> from kocr.export import export_onnx
>>> report = export_onnx("runs/exp/best.pt", "model.onnx")   # checked against PyTorch before it is written

The ``.onnx`` file is self-contained: the charset, the preprocessing, the model config and the decoding
kind are stored in its ``metadata_props`` (:class:`kocr.runtime.onnx_format.OnnxMetadata`), so
:class:`kocr.runtime.onnx_engine.OnnxRecognizer` predicts from it alone, batching as PyTorch does.

Graph: input ``images`` ``[batch, C, H, W]`` float32 in [-1, 1]; output ``logits`` ``[batch, T, classes]``
(raw scores: CTC with blank 0, or PARSeq with ``[E]`` 0). The batch axis is always dynamic; the width
(and T with it) is dynamic for CRNNs without TPS, which read lines of any width. Those graphs also take
``widths`` ``[batch]`` (int64: each line's own width before the batch padded it) and return ``lengths``
``[batch]`` (each line's valid frames), which is what makes a line's text independent of its batch
(:mod:`kocr.runtime.base`); the model's context margin is stored in the metadata. TPS grids and PARSeq
position embeddings fix the input size, so those graphs take exactly the training size.

Exporter: the TorchScript-based ``torch.onnx.export(..., dynamo=False)``. It is deprecated since torch 2.9
but still works in torch 2.13, handles the LSTMs and the unrolled PARSeq decoder, and needs nothing beyond
the ``onnx`` extra; the torch.export-based exporter additionally requires ``onnxscript``.

Family-specific rewrites are the families' export hooks (:class:`kocr.models.family.ModelFamily`:
``export_module``, ``export_forward``); today's two, both verified by the parity check against the
*unmodified* model:

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

import hashlib
import io
import math
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from kocr import __version__
from kocr.charsets import Charset
from kocr.checkpoints import load_checkpoint
from kocr.checkpoints.files import checkpoint_digest, resolve_model_path
from kocr.data.images import ImageInput, load_image
from kocr.data.transforms import Preprocess
from kocr.errors import KocrError, OutputExistsError
from kocr.fileio import atomic_write_bytes
from kocr.models.registry import family_of
from kocr.runtime.batching import batch_groups
from kocr.runtime.onnx_format import INPUT_NAME, LENGTHS_NAME, OUTPUT_NAME, WIDTHS_NAME, OnnxMetadata
from kocr.runtime.onnx_session import open_session, require_module
from kocr.runtime.preprocessing import reads_any_width
from kocr.twins import record_binding

DEFAULT_TOLERANCE = 1e-3  # families may ask for more (ModelFamily.parity_tolerance: 5e-3 for TPS)
EXPORTER = "torch.onnx.export (TorchScript tracer, dynamo=False)"
TRACE_BATCH = 2  # tracing at batch 1 could let the exporter treat the batch size as a constant
PARITY_WIDTH_FACTORS = (0.5, 2.3)  # variable-width checks run widths other than the traced one
MAX_OPSET = 20  # the TorchScript exporter's newest; asked for more, it silently exports opset 20
# The oldest opset a model needs (ModelFamily.min_opset: GridSample for TPS, scaled_dot_product_attention
# for PARSeq's encoder) is checked up front: when the exporter fails it dumps the whole TorchScript graph.


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
    onnx = require_module("onnx")
    output = Path(output)
    if output.exists() and not overwrite:
        raise OutputExistsError(output)
    if output.is_dir():
        raise KocrError(f"{output} is a folder; give the .onnx file to write")
    if tolerance is not None and not (math.isfinite(tolerance) and tolerance >= 0):
        raise KocrError(f"the parity tolerance must be a finite number of 0 or more, not {tolerance}")
    if not batch_sizes or min(batch_sizes) < 1:
        raise KocrError(f"batch sizes must be >= 1, got {list(batch_sizes)}")
    path = resolve_model_path(checkpoint_path)
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
        context_margin=_context_margin(model) if reads_any_width(model.config) else 0,
        checkpoint_sha256=checkpoint_digest(path),
    )
    _check_opset(opset, model.config)
    channels, height, width = _input_size(model.config)
    with_widths = metadata.context_margin > 0
    axes = _dynamic_axes(metadata.variable_width, with_widths)
    shape = (TRACE_BATCH, channels, height, width)
    proto = onnx.load_model_from_string(_trace(model, shape, axes, opset, with_widths=with_widths))
    for key, value in metadata.to_props().items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    proto.doc_string = f"kocr {__version__} export of {path.name} ({model.config.get('name', '?')})"
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()

    if tolerance is None:
        tolerance = family_of(model.config).parity_tolerance(model.config)
        tolerance = DEFAULT_TOLERANCE if tolerance is None else tolerance
    max_diff, rows, shapes = None, 0, ()
    if check:
        batches = _parity_batches(metadata, sample_images, batch_sizes, (channels, height, width))
        max_diff, rows, shapes = _parity(model, data, batches)
        if max_diff > tolerance:
            raise KocrError(
                f"ONNX Runtime outputs differ from PyTorch's by {max_diff:.3g} (tolerance {tolerance:g}); "
                f"{output} was not written"
            )
    atomic_write_bytes(output, data)
    # Bound outside the file, so that only these bytes are ever read as this checkpoint (kocr.twins).
    record_binding(
        metadata.checkpoint_sha256,
        hashlib.sha256(data).hexdigest(),
        checkpoint=str(path.resolve()),
        twin=str(output.resolve()),
    )
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


class _ExportGraph(nn.Module):
    """The function the ONNX graph computes: images (and each line's width) -> logits (and each line's
    valid frames), with a trace-friendly, fixed control flow."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.family = family_of(model.config)
        self.model = self.family.export_module(model)  # the caller's model stays the parity reference

    def forward(self, images: Tensor, widths: Tensor | None = None) -> Tensor | tuple[Tensor, Tensor]:
        return _reference_forward(self.model, images, widths)


def _reference_forward(
    model: nn.Module, images: Tensor, widths: Tensor | None = None
) -> Tensor | tuple[Tensor, Tensor]:
    """PyTorch output of what the graph exports (PARSeq: every decoding step, no early stop)."""
    if widths is None:
        return family_of(model.config).export_forward(model, images)
    return model(images, widths), model.output_lengths(widths)


def _context_margin(model: nn.Module) -> int:
    """The model's context margin when it reads each line's own width (0: it does not)."""
    margin = getattr(model, "context_margin", None)
    return int(margin()) if margin is not None else 0


def _trace(
    model: nn.Module,
    shape: tuple[int, ...],
    axes: dict[str, dict[int, str]],
    opset: int,
    *,
    with_widths: bool = False,
) -> bytes:
    """Serialized ONNX model of ``model`` traced on a random ``shape`` input (and line widths)."""
    buffer = io.BytesIO()
    example = torch.rand(shape, generator=torch.Generator().manual_seed(0)) * 2 - 1
    inputs: tuple[Tensor, ...] = (example,)
    names, outputs = [INPUT_NAME], [OUTPUT_NAME]
    if with_widths:
        width = shape[-1]
        inputs += (torch.tensor([width - 8 * i for i in range(shape[0])], dtype=torch.long),)
        names, outputs = [INPUT_NAME, WIDTHS_NAME], [OUTPUT_NAME, LENGTHS_NAME]
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
                inputs,
                buffer,
                input_names=names,
                output_names=outputs,
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
) -> list[tuple[Tensor, Tensor | None]]:
    """Inputs to compare on: sample images batched as ``predict`` batches them, else random ones (with
    each line's width when the graph takes them)."""
    preprocess = metadata.inference_preprocess()
    margin = metadata.context_margin
    if sample_images:
        tensors = [preprocess(load_image(image)) for image in sample_images]
        widths = [t.shape[-1] for t in tensors]
        return [
            (
                preprocess.pad_batch([tensors[i] for i in group], extra=margin),
                torch.tensor([widths[i] for i in group], dtype=torch.long) if margin else None,
            )
            for b in batch_sizes
            for group in batch_groups(widths, b, variable_width=metadata.variable_width)
        ]
    channels, height, width = size
    widths = [width]
    if metadata.variable_width:
        multiple = preprocess.width_multiple
        widths = [max(height, math.ceil(width * f / multiple) * multiple) for f in PARITY_WIDTH_FACTORS]
    generator = torch.Generator().manual_seed(1)
    batches: list[tuple[Tensor, Tensor | None]] = []
    for b in batch_sizes:
        for w in widths:
            images = torch.rand((b, channels, height, w + margin), generator=generator) * 2 - 1
            lines = torch.tensor([max(height, w - 4 * i) for i in range(b)], dtype=torch.long)
            batches.append((images, lines if margin else None))
    return batches


@torch.inference_mode()
def _parity(
    model: nn.Module, onnx_model: bytes, batches: list[tuple[Tensor, Tensor | None]]
) -> tuple[float, int, tuple[tuple[int, ...], ...]]:
    """(max |ONNX - PyTorch| over all logits, and over each line's valid frames where the graph reports
    them, rows compared, input shapes compared)."""
    session = open_session(onnx_model, ["CPUExecutionProvider"])
    worst = 0.0
    for batch, widths in batches:
        if widths is None:
            expected = _reference_forward(model, batch).float()
            got = torch.from_numpy(session.run([OUTPUT_NAME], {INPUT_NAME: batch.numpy()})[0])
        else:
            expected, lengths = _reference_forward(model, batch, widths)
            feed = {INPUT_NAME: batch.numpy(), WIDTHS_NAME: widths.numpy()}
            got_logits, got_lengths = session.run([OUTPUT_NAME, LENGTHS_NAME], feed)
            frames = (torch.from_numpy(got_lengths).double() - lengths.double()).abs().max()
            worst = max(worst, float(frames))  # a frame count off by one is as wrong as a logit off by 1
            expected, got = expected.float(), torch.from_numpy(got_logits)
        if got.shape != expected.shape:
            raise KocrError(f"ONNX output shape {tuple(got.shape)} != PyTorch's {tuple(expected.shape)}")
        worst = max(worst, float((got - expected).abs().max()))
    return worst, sum(len(b) for b, _ in batches), tuple(tuple(b.shape) for b, _ in batches)


def _check_opset(opset: int, config: dict[str, Any]) -> None:
    if opset > MAX_OPSET:
        raise KocrError(f"opset {opset} is newer than the exporter supports (at most {MAX_OPSET})")
    needed = family_of(config).min_opset(config)
    if needed is not None and opset < needed[1]:
        raise KocrError(f"{needed[0]} models need opset {needed[1]} or later, not opset {opset}")


def _decoding_kind(config: dict[str, Any]) -> str:
    kind = family_of(config).decoding
    if not kind:
        raise KocrError(f"ONNX export does not support model architecture {config['arch']!r}")
    return kind


def _input_size(config: dict[str, Any]) -> tuple[int, int, int]:
    """(channels, height, width) the model was built for (the traced width for variable-width models)."""
    return family_of(config).input_size(config)


def _dynamic_axes(variable_width: bool, with_widths: bool = False) -> dict[str, dict[int, str]]:
    if not variable_width:
        return {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}}
    axes = {INPUT_NAME: {0: "batch", 3: "width"}, OUTPUT_NAME: {0: "batch", 1: "steps"}}
    if with_widths:
        axes.update({WIDTHS_NAME: {0: "batch"}, LENGTHS_NAME: {0: "batch"}})
    return axes


def _fixed_steps(model: nn.Module, width: int) -> int:
    return family_of(model.config).output_steps(model, width)
