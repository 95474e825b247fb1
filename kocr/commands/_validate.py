"""Option checks shared by every command, run by click while it parses the command line.

Every option is checked before any work starts (no model loaded, no file written): a bad value is one
line naming the option (``error: Invalid value for '--device': unknown device 'tpu': use auto, cpu,
cuda or cuda:N``) and exit code 2, never a traceback from deep inside torch or PIL. Commands attach
these as ``callback=`` (counts use typer's ``min=``, input paths ``exists=True``); a check that needs
two options at once (``--ratios`` against ``--train-data``) raises :class:`typer.BadParameter` at the
top of the command. ``tests/test_cli_validation.py`` walks every option of every command with bad values.

Callbacks import nothing heavy at module level: ``kocr --help`` must stay fast.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import typer

Callback = Callable[..., Any]


def _skip(ctx: Any) -> bool:
    """Shell completion parses resiliently: no checks then."""
    return bool(getattr(ctx, "resilient_parsing", False))


def _each(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def choice(*choices: str, metavar: str = "NAME", case_sensitive: bool = False) -> Callback:
    """A callback accepting only ``choices`` (one value or a list of them). Its ``metavar`` attribute is
    the help's metavar (:mod:`kocr.commands._help`); the option's help text lists the choices."""

    def check(ctx: typer.Context, value: Any) -> Any:
        if _skip(ctx):
            return value
        allowed = {c if case_sensitive else c.lower(): c for c in choices}
        checked = []
        for item in _each(value):
            key = str(item) if case_sensitive else str(item).lower()
            if key not in allowed:
                raise typer.BadParameter(f"{item!r} is not one of {', '.join(choices)}")
            checked.append(allowed[key])
        if isinstance(value, (list, tuple)):
            return checked
        return checked[0] if checked else value

    check.choices = choices  # type: ignore[attr-defined]
    check.metavar = metavar  # type: ignore[attr-defined]
    return check


def library_check(check: Callable[[Any], Any]) -> Callback:
    """A callback running ``check(value)`` (a library validator raising KocrError or ValueError) and
    turning its error into a bad-parameter message; the value is kept as given."""

    def callback(ctx: typer.Context, value: Any) -> Any:
        from kocr.errors import KocrError

        if _skip(ctx) or value is None:
            return value
        try:
            check(value)
        except (KocrError, ValueError) as exc:
            raise typer.BadParameter(str(exc)) from None
        return value

    return callback


def image_file(ctx: typer.Context, value: Any) -> Any:
    """An image to write: a creatable path whose suffix names a format PIL writes (.png, .jpg...)."""
    from kocr.fileio import check_image_suffix

    if _skip(ctx) or value is None:
        return value
    output_path(ctx, value)
    try:
        check_image_suffix(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


def device(ctx: typer.Context, value: str) -> str:
    """``--device``: auto, cpu, cuda or cuda:N (:func:`kocr.devices.check_device_name`)."""
    from kocr.devices import check_device_name
    from kocr.errors import KocrError

    if _skip(ctx) or value is None:
        return value
    try:
        return check_device_name(value)
    except KocrError as exc:
        raise typer.BadParameter(str(exc)) from None


def charset(ctx: typer.Context, value: Any) -> Any:
    """A charset preset name or an existing charset file (one value or a list)."""
    from kocr.charsets import PRESET_DESCRIPTIONS

    if _skip(ctx):
        return value
    for item in _each(value):
        if str(item) in PRESET_DESCRIPTIONS:
            continue
        path = Path(item)
        if not path.exists():
            raise typer.BadParameter(
                f"{str(item)!r} is neither a charset preset ({', '.join(PRESET_DESCRIPTIONS)}) nor a file"
            )
        if path.is_dir():
            raise typer.BadParameter(f"{item} is a folder, not a charset file")
    return value


def checkpoint(ctx: typer.Context, value: Any) -> Any:
    """``--saved-model``: 'default' (the bundled model) or an existing checkpoint file."""
    if _skip(ctx) or value is None or str(value) == "default":
        return value
    path = Path(value)
    if not path.exists():
        raise typer.BadParameter(f"no such checkpoint file: {value}")
    if path.is_dir():
        raise typer.BadParameter(f"{value} is a folder; give the checkpoint file inside it (best.pt, ...)")
    return value


def confidence_scaling(ctx: typer.Context, value: str | None) -> str | None:
    """``--confidence SCALE,SHIFT``: two numbers in the ranges of ``confidence_scale`` and
    ``confidence_shift`` (:mod:`kocr.decoding.settings`)."""
    from kocr.decoding.settings import RANGES

    if _skip(ctx) or value is None:
        return value
    parts = value.split(",")
    try:
        scale, shift = (float(x) for x in parts)
    except ValueError:
        raise typer.BadParameter(f"write two numbers SCALE,SHIFT (like 0.55,0.30), not {value!r}") from None
    for what, name, number in (("scale", "confidence_scale", scale), ("shift", "confidence_shift", shift)):
        try:
            RANGES[name].check(number)
        except ValueError as exc:
            raise typer.BadParameter(f"the {what} {exc}") from None
    return value


def decoding_setting(name: str) -> Callback:
    """A callback checking a beam-search setting against its range in :mod:`kocr.decoding.settings`,
    the table the Python API and ``.lm`` files are checked against too. Its ``setting`` attribute names
    the setting; :func:`decoding_range` words the range for the option's help."""

    def check(ctx: typer.Context, value: Any) -> Any:
        from kocr.decoding.settings import RANGES

        if _skip(ctx) or value is None:
            return value
        try:
            return RANGES[name].check(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    check.setting = name  # type: ignore[attr-defined]
    return check


def decoding_range(name: str) -> str:
    """``a number from 0 to 100``: setting ``name``'s range, for help texts."""
    from kocr.decoding.settings import RANGES

    return RANGES[name].describe()


def lm_file(ctx: typer.Context, value: Any) -> Any:
    """``--lm``: 'auto' (the .lm file next to the model, if any), 'none', or an existing LM file."""
    if _skip(ctx) or value is None or str(value).lower() in ("auto", "none"):
        return value
    path = Path(value)
    if not path.is_file():
        raise typer.BadParameter(
            f"no such language model file: {value} (or use auto / none)"
            if not path.exists()
            else f"{value} is a folder"
        )
    return value


def model_name(ctx: typer.Context, value: str | None) -> str | None:
    """``--model``: a registered model name (``kocr models``)."""
    if _skip(ctx) or value is None:
        return value
    from kocr.models.registry import MODEL_REGISTRY

    if value not in MODEL_REGISTRY:
        raise typer.BadParameter(f"unknown model {value!r}; known: {', '.join(MODEL_REGISTRY)}")
    return value


def dataset_paths(ctx: typer.Context, value: Any) -> Any:
    """Training/validation data: existing paths, or ``synth:RECIPE.toml`` with an existing recipe."""
    if _skip(ctx):
        return value
    for item in _each(value):
        text = str(item)
        path = Path(text[len("synth:") :] if text.startswith("synth:") else text)
        if not path.exists():
            raise typer.BadParameter(f"{text}: no such file or folder")
    return value


def positive_float(ctx: typer.Context, value: float | None) -> float | None:
    """A float above zero (a learning rate)."""
    if _skip(ctx) or value is None:
        return value
    if not math.isfinite(value) or value <= 0:
        raise typer.BadParameter(f"must be a number above 0, not {value:g}")
    return value


def non_negative_float(ctx: typer.Context, value: float | None) -> float | None:
    if _skip(ctx) or value is None:
        return value
    if not math.isfinite(value) or value < 0:
        raise typer.BadParameter(f"must be a number of 0 or more, not {value:g}")
    return value


def fraction(ctx: typer.Context, value: float | None) -> float | None:
    """A share between 0 and 1."""
    if _skip(ctx) or value is None:
        return value
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise typer.BadParameter(f"must be between 0 and 1, not {value:g}")
    return value


def ratio_list(
    text: str | None, *, counts: Sequence[int] | None = None, total: bool = False, positive: bool = False
) -> list[float]:
    """``"0.7,0.3"`` → [0.7, 0.3]: finite numbers of 0 or more (above 0 with ``positive``), at least one
    above 0; ``counts`` the numbers of parts allowed, ``total`` that they add up to 1. Raises
    :class:`typer.BadParameter`."""
    parts = [part.strip() for part in (text or "").split(",")]
    try:
        ratios = [float(part) for part in parts]
    except ValueError:
        raise typer.BadParameter(
            f"expected numbers separated by commas, such as 0.8,0.2, not {text!r}"
        ) from None
    if any(not math.isfinite(r) or r < 0 for r in ratios):
        raise typer.BadParameter(f"ratios must be numbers of 0 or more, got {text!r}")
    if positive and min(ratios) <= 0:
        raise typer.BadParameter(f"every part needs a ratio above 0, got {text!r}")
    if sum(ratios) <= 0:
        raise typer.BadParameter(f"at least one ratio must be above 0, got {text!r}")
    if counts is not None and len(ratios) not in counts:
        wanted = " or ".join(str(c) for c in counts)
        raise typer.BadParameter(f"give {wanted} ratios, not {len(ratios)} ({text!r})")
    if total and abs(sum(ratios) - 1.0) > 1e-6:
        raise typer.BadParameter(f"the ratios must add up to 1, not {sum(ratios):g} ({text!r})")
    return ratios


def shares(text: str | None, *, counts: Sequence[int] | None = None) -> list[float]:
    """Parts of a whole, the one rule both ``--ratios`` follow: ``kocr train``'s (the share of each batch
    each --train-data set gives, as clovaai's ``--batch_ratio``) and ``kocr data split``'s (the share of
    the samples each part gets): numbers above 0 adding up to 1. Raises :class:`typer.BadParameter`."""
    return ratio_list(text, counts=counts, total=True, positive=True)


def mixing_ratios(ctx: typer.Context, value: str | None) -> str | None:
    """``--ratios`` of ``kocr train`` (:func:`shares`): checked alone here; their number against
    ``--train-data`` in the command."""
    if _skip(ctx) or value is None:
        return value
    shares(value)
    return value


def split_ratios(ctx: typer.Context, value: str) -> str:
    """``kocr data split --ratios`` (:func:`shares`): two or three."""
    if _skip(ctx) or value is None:
        return value
    shares(value, counts=(2, 3))
    return value


def output_path(ctx: typer.Context, value: Any) -> Any:
    """A file or folder kocr will create: its nearest existing parent must be a writable folder."""
    if _skip(ctx):
        return value
    for item in _each(value):
        parent = Path(item).absolute().parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not parent.is_dir():
            raise typer.BadParameter(f"cannot create {item}: {parent} is a file, not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            why = (
                f"{parent} is on a read-only file system"
                if _read_only(parent)
                else f"no permission to write in {parent}"
            )
            raise typer.BadParameter(f"cannot create {item}: {why}")
    return value


def _read_only(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False


def output_file(ctx: typer.Context, value: Any) -> Any:
    """A file kocr will write (:func:`output_path`), which must not be an existing folder: found before
    the work, not when its result is written."""
    value = output_path(ctx, value)
    for item in [] if _skip(ctx) else _each(value):
        if Path(item).is_dir():
            raise typer.BadParameter(f"{item} is a folder; give a file name")
    return value


def output_folder(ctx: typer.Context, value: Any) -> Any:
    """A folder kocr will create or fill (:func:`output_path`), which must not be an existing file."""
    value = output_path(ctx, value)
    for item in [] if _skip(ctx) else _each(value):
        if Path(item).exists() and not Path(item).is_dir():
            raise typer.BadParameter(f"{item} is a file; give a folder")
    return value


def folder_name(ctx: typer.Context, value: str | None) -> str | None:
    """A run folder name: one plain path component."""
    if _skip(ctx) or value is None:
        return value
    if not value.strip() or value in (".", "..") or "/" in value or os.sep in value:
        raise typer.BadParameter(f"{value!r} is not a folder name (no slashes; --output picks the parent)")
    return value


def check_ratio_count(ratios: list[float] | None, datasets: Sequence[Any], option: str = "--ratios") -> None:
    """One ratio per training set: called by ``kocr train`` once both options are known."""
    if ratios is not None and len(ratios) != len(datasets):
        raise typer.BadParameter(
            f"{len(ratios)} ratios for {len(datasets)} --train-data set{'s' if len(datasets) != 1 else ''}: "
            "give one ratio per set, in the same order",
            param_hint=option,
        )
