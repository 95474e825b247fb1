"""The declared schema of a synthetic-data recipe: every key, its type and its range, in one place.

pydantic v2 models in strict mode check what ``tomllib`` read: ``seed = 4.5``, ``seed = true``,
``handwriting_ratio = "0.5"``, ``handwriting = "yes"``, ``min_chars = "1"``, ``mix = { prose = nan }``
and an unknown key are each an error, never coerced or dropped. :func:`validate_recipe` returns the
checked tables or :class:`RecipeProblem` (the key's location and what is wrong with it), which
:mod:`kocr.data.synth.recipes` turns into ``FILE:LINE: key: message``. What needs the file system (font
folders, corpus files, a charset file beside the recipe) is checked there, after this.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StrictStr,
    ValidationError,
    create_model,
)
from pydantic_core import PydanticCustomError

from kocr.data.synth.config import Degradations
from kocr.data.synth.texts import KINDS

DEFAULT_LINES_PER_EPOCH = 200_000
#: The largest rotation a recipe may ask for, in degrees (a line turned further is no longer a line).
MAX_ROTATE_DEG = 45.0

Location = tuple[str | int, ...]


def _one_or_many(value: Any) -> Any:
    """A single path string stands for a list of one."""
    return [value] if isinstance(value, str) else value


_OWN_ERRORS = {"handwriting"}  # PydanticCustomError types whose message says it all


def _handwriting(value: Any) -> bool | list[str]:
    if isinstance(value, bool):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise PydanticCustomError(
        "handwriting",
        'must be true, false or a list of file-name patterns such as ["NanumPen*"], not {shown}',
        {"shown": shown(value)},
    )


Paths = Annotated[list[StrictStr], BeforeValidator(_one_or_many)]
Count = Annotated[StrictInt, Field(ge=1)]
Probability = Annotated[float, Field(ge=0.0, le=1.0)]
Pair = Annotated[tuple[StrictInt, StrictInt], Field(strict=False)]  # a TOML array [low, high]
TextKind = Literal[KINDS]  # type: ignore[valid-type]


class _Table(BaseModel):
    """Strict: no coercion (``"1"`` is not 1, ``true`` is not 1, 4.5 is not 4), no NaN or infinity, no
    unknown key."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)


class TextTable(_Table):
    """``[text]``: length limits in characters and the mix of text kinds (weights, not shares)."""

    min_chars: Count = 1
    max_chars: Count = 25
    mix: dict[TextKind, Annotated[float, Field(ge=0.0)]] = Field(default_factory=dict)


class FontGroup(_Table):
    """One ``[[fonts]]`` group: a folder or files, exclusions, which faces are handwriting."""

    dir: StrictStr | None = None
    files: Paths | None = None
    exclude: Paths = Field(default_factory=list)
    handwriting: Annotated[bool | list[str], PlainValidator(_handwriting)] = False
    optional: bool = False


def _degradation_field(name: str, default: float) -> Any:
    high = MAX_ROTATE_DEG if name == "max_rotate_deg" else 1.0  # the rest are probabilities
    return (Annotated[float, Field(ge=0.0, le=high)], default)


DegradationsTable: type[_Table] = create_model(  # type: ignore[call-overload]
    "DegradationsTable",
    __base__=_Table,
    __doc__="``[degradations]``: Degradations' probabilities (and max_rotate_deg, degrees) by name.",
    **{f.name: _degradation_field(f.name, f.default) for f in fields(Degradations)},
)


class RecipeTable(_Table):
    """The whole recipe file."""

    seed: Annotated[StrictInt, Field(ge=0)] = 0
    charset: StrictStr = "ko-2350"
    lines_per_epoch: Count = DEFAULT_LINES_PER_EPOCH
    handwriting_ratio: Probability = 0.35
    height: Pair = (32, 64)
    font_size: Pair = (36, 64)
    mode: Literal["L", "RGB"] = "L"
    corpus: Paths = Field(default_factory=list)
    text: TextTable = Field(default_factory=TextTable)
    fonts: list[FontGroup] | None = None  # None: not given (fonts are discovered)
    degradations: DegradationsTable = Field(default_factory=DegradationsTable)  # type: ignore[valid-type]


_TABLES: dict[tuple[str, ...], type[BaseModel]] = {
    (): RecipeTable,
    ("text",): TextTable,
    ("fonts", "*"): FontGroup,
    ("degradations",): DegradationsTable,
}


class RecipeProblem(Exception):
    """What is wrong (``message``) with the value at ``location`` (``("text", "mix", "prose")``);
    ``names_key``: the message names the key itself (an unknown key)."""

    def __init__(self, location: Location, message: str, *, names_key: bool = False) -> None:
        self.location = tuple(location)
        self.message = message
        self.names_key = names_key
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.names_key or not self.location:
            return self.message
        return f"{dotted(self.location)}: {self.message}"


def validate_recipe(data: dict[str, Any]) -> RecipeTable:
    """The checked recipe; raises :class:`RecipeProblem` for the first wrong value (in file order of
    the keys pydantic reports) or contradiction between keys."""
    try:
        table = RecipeTable.model_validate(data)
    except ValidationError as exc:
        raise _problem(exc.errors()[0]) from None
    _check_across_keys(table)
    return table


def _check_across_keys(table: RecipeTable) -> None:
    text = table.text
    if text.min_chars > text.max_chars:
        raise RecipeProblem(
            ("text", "min_chars"), f"{text.min_chars} is above text.max_chars ({text.max_chars})"
        )
    for key in ("height", "font_size"):
        low, high = getattr(table, key)
        if not 8 <= low <= high:
            raise RecipeProblem((key,), f"must be [low, high] with 8 <= low <= high, not [{low}, {high}]")
    for index, group in enumerate(table.fonts or ()):
        if (group.dir is None) == (group.files is None):
            raise RecipeProblem(("fonts", index), "needs exactly one of dir = '...' or files = [...]")
    if text.mix.get("prose", 0.0) > 0 and not table.corpus:
        raise RecipeProblem(
            ("text", "mix", "prose"),
            "prose is cut from a corpus, but the recipe has no corpus = [...]; add one or set prose = 0",
        )


def _problem(error: Any) -> RecipeProblem:
    """One pydantic error as the key it concerns and a message a recipe's author reads."""
    location: Location = tuple(error["loc"])
    kind, value, context = error["type"], error.get("input"), error.get("ctx") or {}
    if "[key]" in location:  # a mix key that names no text kind
        location = tuple(part for part in location if part != "[key]")
        return RecipeProblem(location, f"unknown text kind; choose from {', '.join(KINDS)}")
    if kind == "extra_forbidden":
        known = _known_keys(location[:-1])
        prefix = dotted(location[:-1]) + "." if location[:-1] else ""
        message = f"unknown key {dotted(location)}; known: {', '.join(prefix + key for key in known)}"
        return RecipeProblem(location, message, names_key=True)
    messages = {
        "int_type": f"must be a whole number, not {shown(value)}",
        "float_type": f"must be a number, not {shown(value)}",
        "finite_number": f"must be a finite number, not {shown(value)}",
        "bool_type": f"must be true or false, not {shown(value)}",
        "string_type": f"must be a string, not {shown(value)}",
        "list_type": f"must be a list, not {shown(value)}",
        "dict_type": f"must be a table, not {shown(value)}",
        "model_type": f"must be a table, not {shown(value)}",
        "tuple_type": f"must be two numbers [low, high], not {shown(value)}",
        "too_short": f"must be two numbers [low, high], not {shown(value)}",
        "too_long": f"must be two numbers [low, high], not {shown(value)}",
        "greater_than_equal": f"must be at least {context.get('ge')}, not {shown(value)}",
        "less_than_equal": f"must be at most {context.get('le')}, not {shown(value)}",
    }
    if kind in messages:
        return RecipeProblem(location, messages[kind])
    if kind in _OWN_ERRORS:
        return RecipeProblem(location, str(error["msg"]))
    message = str(error["msg"]).replace("Input should be", "must be")
    return RecipeProblem(location, f"{message}, not {shown(value)}")


def _known_keys(table: Location) -> list[str]:
    pattern = tuple("*" if isinstance(part, int) else str(part) for part in table)
    model = _TABLES.get(pattern)
    return sorted(model.model_fields) if model is not None else []


def dotted(location: Location) -> str:
    """``("fonts", 2, "dir")`` → ``fonts[2].dir``."""
    text = ""
    for part in location:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def shown(value: Any) -> str:
    """A value as a TOML file writes it: ``true``, ``"0.5"``, ``nan``, ``4.5``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return "a table"
    return repr(value)
