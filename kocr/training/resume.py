"""What ``--resume`` may change, and what it must refuse.

A resumed run continues the run in ``last.pt``: its data, model, charset, optimiser, seed and schedule
come from the checkpoint. Options given with ``--resume`` are never dropped silently:

- :data:`CHANGEABLE` ones are honoured: where and how fast the run goes (``--device``, ``--workers``,
  ``--amp``), how often it validates (``--valid-every``, ``--valid-max-samples``), and how long it runs
  (``--iters`` / ``--epochs``: shorten a run, or extend a finished one; the learning-rate schedule is
  recomputed for the new length, see :func:`kocr.training.optim.schedule_at_step`);
- any other option that differs from the run's own value is an error naming the option: changing the
  data, model, charset, batch size, learning rate... mid-run is a new experiment (``kocr finetune
  --saved-model RUN/last.pt`` starts one from the weights).

The CLI knows which options were typed; a Python caller's :class:`TrainConfig` says it by the fields
that differ from the defaults (:func:`asked_fields`).

A resume continues the run's newest state, never an older one: it writes ``last.pt``, ``best.pt`` and
``log.csv`` in the checkpoint's folder, so resuming ``best.pt`` (or an older copy) while that folder's
``last.pt`` is further on would rewind the run and replace its later state. :func:`check_latest_state`
refuses that.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from kocr.errors import KocrError
from kocr.training.config import TrainConfig

#: Fields a resumed run takes from the command line.
CHANGEABLE = frozenset(
    {"iters", "epochs", "valid_every", "valid_max_samples", "workers", "device", "amp", "log_every"}
)
#: Fields that only locate the run, never compared.
_IGNORED = frozenset({"resume"})
#: Option names for the fields whose option is not ``--field-name``. ``model_overrides`` holds several
#: options, one per key (``model_overrides.jamo_head`` is ``--jamo-head``).
_OPTION_NAMES = {
    "data_ratios": "--ratios",
    "output": "--output",
}
_OVERRIDES = "model_overrides"


def check_latest_state(source: str | Path, step: int, latest_step: int | None) -> None:
    """Refuse to resume ``source`` (at ``step``) when its folder's ``last.pt`` is further on.

    ``latest_step``: the step of ``last.pt`` beside ``source`` (None: no readable training state there).
    Resuming ``last.pt`` itself, or a checkpoint at least as far on, is the run's latest state.
    """
    source = Path(source)
    latest = source.parent / "last.pt"
    if source.name == "last.pt" or not latest.exists():
        return
    if latest_step is not None and latest_step <= step:
        return
    where = f"at step {latest_step:,}" if latest_step is not None else "holds no readable training state"
    raise KocrError(
        f"--resume {source}: this checkpoint is at step {step:,} but the run's {latest} is {where}; "
        f"resuming it would rewind the run and replace {latest.name}, best.pt and log.csv. Resume the "
        f"run from {latest}, or start a new run from these weights with `kocr finetune --saved-model "
        f"{source}`"
    )


def option_name(field: str) -> str:
    """The command-line option that sets a :class:`TrainConfig` field (or one ``model_overrides`` key,
    written ``model_overrides.KEY``)."""
    key = field.removeprefix(_OVERRIDES + ".")
    return _OPTION_NAMES.get(key, "--" + key.replace("_", "-"))


def _value(config: TrainConfig, field: str) -> Any:
    if field.startswith(_OVERRIDES + "."):
        return config.model_overrides.get(field.removeprefix(_OVERRIDES + "."))
    return getattr(config, field)


def _expanded(asked: Collection[str], requested: TrainConfig) -> set[str]:
    """``asked`` with ``model_overrides`` (a Python caller's) split into the keys it sets."""
    fields = set(asked) - _IGNORED
    if _OVERRIDES in fields:
        fields.discard(_OVERRIDES)
        fields.update(f"{_OVERRIDES}.{key}" for key in requested.model_overrides)
    return fields


def asked_fields(config: TrainConfig) -> set[str]:
    """Fields a Python caller set: those that differ from the dataclass defaults (``train_data`` when
    not empty)."""
    asked = set()
    for field in dataclasses.fields(TrainConfig):
        if field.name in _IGNORED:
            continue
        value = getattr(config, field.name)
        if field.default is not dataclasses.MISSING:
            default: Any = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:  # train_data: required
            default = []
        if value != default:
            asked.add(field.name)
    return asked


def merge_resume(stored: TrainConfig, requested: TrainConfig, asked: Collection[str]) -> TrainConfig:
    """The config of the resumed run: ``stored`` with the changeable ``asked`` fields of ``requested``;
    an asked field that cannot change and differs from ``stored`` raises :class:`KocrError`."""
    changes: dict[str, Any] = {}
    refused: list[str] = []
    for field in sorted(_expanded(asked, requested)):
        new, old = _value(requested, field), _value(stored, field)
        if _same(field, new, old):
            continue
        if field in CHANGEABLE:
            changes[field] = new
        else:
            refused.append(f"{option_name(field)} ({_shown(old)} in the run, {_shown(new)} asked)")
    if refused:
        raise KocrError(
            "--resume continues a run as it was set up, so "
            + "; ".join(refused)
            + " cannot change: drop "
            + ("it" if len(refused) == 1 else "them")
            + ", or start a new run from the weights with `kocr finetune --saved-model "
            + f"{requested.resume}`"
        )
    if "epochs" in changes and "iters" not in changes:
        changes["iters"] = None  # --epochs given on resume: the run's length follows it
    # Where it runs is the machine's business, not the run's: the device and workers asked now (the CLI
    # always passes them), as before; mixed precision stays the run's own unless asked.
    changes["device"], changes["workers"] = requested.device, requested.workers
    return dataclasses.replace(stored, **changes, resume=requested.resume)


def _same(field: str, new: Any, old: Any) -> bool:
    if field in ("train_data", "valid_data", "saved_model", "output"):
        return _paths(new) == _paths(old)
    if isinstance(new, float) and isinstance(old, (int, float)):
        return abs(new - old) <= 1e-12 * max(1.0, abs(old))
    return bool(new == old)


def _paths(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [os.path.normpath(str(v)) for v in value]
    return os.path.normpath(str(value))


def _shown(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value) or "none"
    return str(value)
