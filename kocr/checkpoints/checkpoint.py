"""What a loaded checkpoint is, whichever file it came from (kocr's own format or a foreign one)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from kocr.charsets import Charset
from kocr.errors import KocrError


@dataclass
class Checkpoint:
    """A loaded checkpoint, whatever file format it came from."""

    model_config: dict[str, Any]
    num_classes: int
    state_dict: dict[str, torch.Tensor]
    charset: Charset | None
    preprocess: dict[str, Any] | None = None
    train_state: dict[str, Any] | None = None
    train_config: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    source_format: str = "kocr"
    kocr_version: str | None = None
    path: Path | None = None

    @property
    def arch(self) -> str:
        return str(self.model_config.get("arch", ""))

    def build_model(self, *, strict: bool = True) -> nn.Module:
        """The model with this checkpoint's weights loaded (on CPU, in eval mode)."""
        from kocr.models import build_model

        model = build_model(self.model_config, self.num_classes)
        try:
            model.load_state_dict(self.state_dict, strict=strict)
        except RuntimeError as exc:
            where = self.path or "checkpoint"
            raise KocrError(f"{where}: weights do not fit the stored model config: {exc}") from None
        return model.eval()

    def require_charset(self) -> Charset:
        if self.charset is None:
            raise KocrError(
                f"{self.path or 'this checkpoint'} stores no charset ({self.source_format} checkpoints "
                "never do): pass --charset with the charset it was trained with"
            )
        return self.charset
