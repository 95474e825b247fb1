"""Which lines share a batch, and how a batch is padded: the same for every engine, so PyTorch and ONNX
Runtime read identical batches.

Models that read any width (CTC without TPS) are resized to the model height keeping their aspect ratio,
sorted by width and batched with their neighbours; a batch is padded only to its widest line (plus the
model's context margin) instead of one fixed width. Fixed-size models (TPS, PARSeq) batch in input order.

:func:`predict_pipelined` runs each batch's forward one batch ahead in a second thread while this one
decodes the batch before: the engines run their models with the GIL released, and beam search is
Python, so on two cores the forward and the decoding overlap instead of taking turns.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import torch

from kocr.codecs import Decoded
from kocr.data.transforms import batches_by_width
from kocr.iterutils import one_ahead

COLUMNS_PER_LINE = 1024  # a batch pads to at most batch_size x this many columns (lines 32 px high)
PIPELINE_PIECES = 4  # predict_pipelined reads a call's lines in at least this many batches, so the
PIPELINE_SMALLEST = 4  # forward of one overlaps the decoding of another; never batches under 4 lines
PIPELINE_LARGEST = 8  # nor over 8: smaller forwards hand over to the decoder sooner and hold less memory
# (600 dev lines: 4.4-4.7 s and 442 MiB against 4.7-5.0 s and 633 MiB in pieces of up to 32; 40 photos
# of print read as pages: 29.9 s and 1,138 MiB against 32.1 s and 1,268 MiB; the same texts)


def batch_groups(widths: Sequence[int], batch_size: int, *, variable_width: bool) -> list[list[int]]:
    """Indices of each batch: neighbours in width when the model reads any width, else input order.
    Batches of lines wider than ``COLUMNS_PER_LINE`` hold fewer lines (the memory of a page photo's
    long lines); crops up to that width batch as they always have."""
    if variable_width:
        return batches_by_width(widths, batch_size, batch_size * COLUMNS_PER_LINE)
    return [list(range(s, min(s + batch_size, len(widths)))) for s in range(0, len(widths), batch_size)]


def predict_batched(
    tensors: Sequence[torch.Tensor],
    preprocess: Any,
    decode: Callable[[torch.Tensor, torch.Tensor | None], Sequence[Decoded]],
    *,
    batch_size: int,
    variable_width: bool,
    context_margin: int = 0,
) -> list[Decoded]:
    """Preprocessed lines -> decoded rows in input order: batches of similar width when the model reads any
    width (each padded to its widest line plus ``context_margin``), input order otherwise; ``decode`` maps
    a padded batch and its lines' own widths (None without a margin) to decoded rows."""
    widths = [t.shape[-1] for t in tensors]
    groups = batch_groups(widths, batch_size, variable_width=variable_width)
    read = (decode(*_padded(tensors, widths, group, preprocess, context_margin)) for group in groups)
    return _in_input_order(len(tensors), groups, read)


def _padded(
    tensors: Sequence[torch.Tensor], widths: Sequence[int], group: list[int], preprocess: Any, margin: int
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """One batch: its lines padded together (plus the model's context margin), and their own widths
    when the model reads them (a margin)."""
    batch = preprocess.pad_batch([tensors[i] for i in group], extra=margin)
    own = torch.tensor([widths[i] for i in group], dtype=torch.long) if margin else None
    return batch, own


def _in_input_order(
    count: int, groups: Sequence[list[int]], decoded: Iterable[Sequence[Decoded]]
) -> list[Decoded]:
    """Each group's decoded rows put back where its lines came from."""
    results: list[Decoded | None] = [None] * count
    for group, rows in zip(groups, decoded, strict=True):
        for index, row in zip(group, rows, strict=True):
            results[index] = row
    return results  # type: ignore[return-value]


def pipeline_groups(groups: list[list[int]]) -> list[list[int]]:
    """``groups`` split so that there are about :data:`PIPELINE_PIECES` of them (a page's 30 lines are
    one batch of 32, which would leave nothing to overlap), none under :data:`PIPELINE_SMALLEST` lines
    unless it was already and none over :data:`PIPELINE_LARGEST`; each piece keeps its neighbours in
    width (batch invariance: same texts)."""
    total = sum(len(group) for group in groups)
    size = min(PIPELINE_LARGEST, max(PIPELINE_SMALLEST, math.ceil(total / PIPELINE_PIECES)))
    return [group[start : start + size] for group in groups for start in range(0, len(group), size)]


def predict_pipelined(
    tensors: Sequence[torch.Tensor],
    preprocess: Any,
    forward: Callable[[torch.Tensor, torch.Tensor | None], Any],
    finish: Callable[[Any], Sequence[Decoded]],
    *,
    batch_size: int,
    variable_width: bool,
    context_margin: int = 0,
) -> list[Decoded]:
    """:func:`predict_batched` with the model's ``forward`` (a padded batch and its lines' widths to raw
    outputs) run one batch ahead in a worker thread, and ``finish`` (raw outputs to decoded rows) here:
    the same batches, the same results, in less time when decoding costs as much as the forward."""
    widths = [t.shape[-1] for t in tensors]
    groups = pipeline_groups(batch_groups(widths, batch_size, variable_width=variable_width))

    def run(group: list[int]) -> Any:
        batch, own = _padded(tensors, widths, group, preprocess, context_margin)
        with torch.inference_mode():  # thread-local: the caller's inference mode does not reach here
            return forward(batch, own)

    if len(groups) < 2:
        raws: Iterable[Any] = map(run, groups)
    else:
        raws = one_ahead(run, groups, name="kocr-forward")  # one batch runs while the last decodes
    return _in_input_order(len(tensors), groups, (finish(raw) for raw in raws))
