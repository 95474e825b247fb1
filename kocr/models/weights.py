"""Loading state_dicts saved by the reference implementations into kocr models.

clovaai always saves a ``torch.nn.DataParallel``-wrapped model, so every key starts with ``module.``;
a PyTorch Lightning ``.ckpt`` of strhub PARSeq keeps the inner model under ``model.``. After stripping
those prefixes the names are exactly kocr's, so loading is strict by default.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import Tensor, nn

WRAPPER_PREFIXES = ("module.", "model.")


def strip_prefix(
    state_dict: Mapping[str, Tensor], prefixes: tuple[str, ...] = WRAPPER_PREFIXES
) -> dict[str, Tensor]:
    """Remove wrapper prefixes that *every* key carries (repeatedly, e.g. ``module.model.``)."""
    out = dict(state_dict)
    changed = True
    while changed and out:
        changed = False
        for prefix in prefixes:
            if all(k.startswith(prefix) for k in out):
                out = {k[len(prefix) :]: v for k, v in out.items()}
                changed = True
    return out


def load_reference_state_dict(
    model: nn.Module, state_dict: Mapping[str, Tensor], strict: bool = True
) -> nn.modules.module._IncompatibleKeys:
    """Load a clovaai/EasyOCR/strhub state_dict (with or without ``module.``/``model.``) into ``model``.

    TPS ``P_hat`` buffers are replaced by the one recomputed for ``model``'s image size (see
    :mod:`kocr.models.tps`), so a checkpoint trained at another width loads too.
    """
    return model.load_state_dict(strip_prefix(state_dict), strict=strict)
