"""Optimisers and learning-rate schedules.

The default is AdamW with a OneCycle schedule (PARSeq's recipe: cosine decay after a 7.5 % warm-up),
which converges in far fewer steps than clovaai's Adadelta(lr=1), kept available as ``adadelta`` for
reproducing reference runs. Norms, biases and embeddings get no weight decay.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

OPTIMIZERS = ("adamw", "adam", "adadelta", "sgd")
SCHEDULES = ("onecycle", "cosine", "constant")


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two groups: decayed weights, and 1-D tensors / embeddings / ``no_weight_decay()`` names without."""
    skip = set(getattr(model, "no_weight_decay", lambda: set())())
    decay, no_decay = [], []
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        if param.ndim <= 1 or name in skip or name.endswith("embedding.weight"):
            no_decay.append(param)
        else:
            decay.append(param)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(
    name: str, params: Iterable[dict] | Iterable[nn.Parameter], lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    """An optimiser by name (see :data:`OPTIMIZERS`)."""
    params = list(params)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999))
    if name == "adadelta":
        return torch.optim.Adadelta(params, lr=lr, rho=0.95, eps=1e-8)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")


def build_scheduler(
    name: str, optimizer: torch.optim.Optimizer, total_steps: int, warmup: float = 0.075
) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-step schedule by name (see :data:`SCHEDULES`) spanning ``total_steps``."""
    total_steps = max(1, total_steps)
    if name == "onecycle":
        max_lrs = [group["lr"] for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer,
            max_lr=max_lrs,
            total_steps=total_steps + 1,
            pct_start=warmup,
            anneal_strategy="cos",
            cycle_momentum=False,
        )
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)
    raise ValueError(f"unknown schedule {name!r}; choose one of {', '.join(SCHEDULES)}")


def schedule_at_step(
    name: str,
    optimizer: torch.optim.Optimizer,
    total_steps: int,
    warmup: float,
    step: int,
    peak_lr: float,
) -> torch.optim.lr_scheduler.LRScheduler:
    """The schedule of a run planned for ``total_steps``, moved on to ``step``: what ``--resume`` with a new
    ``--iters`` uses.

    The learning rate becomes the one a run started with the new length would have at ``step``: the
    curve is stretched or squeezed, never continued from its end. So a finished one-cycle or cosine run
    (its rate decayed to ~0) extended from N to 2N steps jumps back to the longer curve's value at N —
    about half the peak — and decays to zero again at 2N (a warm restart); ``constant`` does not change.
    Every parameter group's peak is ``peak_lr`` (kocr uses one learning rate for all groups).
    """
    import warnings

    for group in optimizer.param_groups:
        for key in ("initial_lr", "max_lr", "min_lr"):
            group.pop(key, None)
        group["lr"] = peak_lr
    scheduler = build_scheduler(name, optimizer, total_steps, warmup)
    with warnings.catch_warnings():  # "lr_scheduler.step() before optimizer.step()": on purpose here
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(step):
            scheduler.step()
    return scheduler
