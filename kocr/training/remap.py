"""Carry a trained model over to another charset (the fine-tuning users keep failing at).

clovaai's ``--FT`` and strhub both fail with ``size mismatch for module.Prediction.weight`` when the new
charset differs, because ``strict=False`` does not skip shape mismatches. Here every weight that does
not depend on the charset is copied; in the charset-dependent tensors (``ModelFamily.charset_tensors``:
the CTC classifier, PARSeq's head and token embedding) the rows of symbols both charsets share are
copied to their new positions, and only the rows of new symbols keep their fresh initialisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from kocr.charsets import Charset
from kocr.checkpoints import Checkpoint
from kocr.errors import KocrError


@dataclass(frozen=True)
class RemapReport:
    """How the charset change went: symbols whose trained rows were kept, new ones, old ones dropped."""

    kept: int
    added: int
    dropped: int

    def __str__(self) -> str:
        return (
            f"kept the trained weights of {self.kept:,} symbols, initialised {self.added:,} new ones, "
            f"dropped {self.dropped:,} the new charset lacks"
        )


def model_for_charset(
    checkpoint: Checkpoint, charset: Charset, config_overrides: dict[str, Any] | None = None
) -> tuple[nn.Module, RemapReport]:
    """Build the checkpoint's model for ``charset``, keeping every weight that still applies."""
    from kocr.models import build_model, family_of, num_classes_for_charset

    old = checkpoint.require_charset()
    if old.mode != charset.mode:
        raise KocrError(f"cannot fine-tune a {old.mode}-mode model into a {charset.mode}-mode charset")
    config = {**checkpoint.model_config, **(config_overrides or {})}
    model = build_model(config, num_classes_for_charset(len(charset)))
    family = family_of(model.config)
    target = model.state_dict()
    source = checkpoint.state_dict
    class_keys = family.charset_tensors
    new_rows, old_rows = _row_mapping(old, charset, extra_rows=family.extra_token_rows)
    merged: dict[str, torch.Tensor] = {}
    for key, fresh in target.items():
        if key not in source and key.startswith(family.training_heads):
            merged[key] = fresh  # a head training adds (fine-tuning v3 with a jamo head): starts fresh
            continue
        if key not in source:
            raise KocrError(f"{checkpoint.path}: the checkpoint lacks {key!r} that the model needs")
        trained = source[key]
        if key in class_keys:
            value = fresh.clone()
            fits = (new_rows < fresh.shape[0]) & (old_rows < trained.shape[0])  # a head has no extra rows
            value[new_rows[fits]] = trained[old_rows[fits]].to(value.dtype)
        elif key in family.position_tensors and trained.shape != fresh.shape:
            value = fresh.clone()  # a different max_label_length: keep the positions both have
            shared = min(trained.shape[1], fresh.shape[1])
            value[:, :shared] = trained[:, :shared]
        elif trained.shape != fresh.shape:
            raise KocrError(
                f"{key}: checkpoint shape {tuple(trained.shape)} does not fit {tuple(fresh.shape)}"
            )
        else:
            value = trained
        merged[key] = value
    model.load_state_dict(merged)
    kept = sum(symbol in old for symbol in charset)
    return model, RemapReport(kept=kept, added=len(charset) - kept, dropped=len(old) - kept)


def _row_mapping(old: Charset, new: Charset, *, extra_rows: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Index pairs (new row, old row): class 0 (blank or [E]), shared symbols, then the family's extra
    token rows (PARSeq's [B] and [P])."""
    pairs = [(0, 0)]
    pairs += [(i + 1, old.index(symbol) + 1) for i, symbol in enumerate(new) if symbol in old]
    pairs += [(len(new) + 1 + i, len(old) + 1 + i) for i in range(extra_rows)]
    new_rows = torch.tensor([p[0] for p in pairs])
    old_rows = torch.tensor([p[1] for p in pairs])
    return new_rows, old_rows
