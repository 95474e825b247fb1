"""Synthetic-line recipes as TOML files: the same file renders a stored LMDB (``kocr data synth
--config``) or feeds training on the fly (``kocr train --train-data synth:FILE.toml``).

A recipe names its fonts by folder or file, with exclusions and which faces are handwriting, its
text sources and mix, and the renderer's settings. Relative paths are relative to the TOML file, and
``$VARS``/``~`` are expanded, so a recipe in ``scripts/`` works from any working directory::

    seed = 4
    charset = "ko-2350"
    lines_per_epoch = 500000      # one epoch of this source, for --ratios and --epochs
    handwriting_ratio = 0.6
    corpus = ["../data/corpus/ko-docs.txt"]

    [text]
    max_chars = 25
    mix = { prose = 0.55, words = 0.15, syllables = 0.1, mixed = 0.1, latin = 0.1 }

    [[fonts]]
    dir = "/usr/share/fonts/truetype/nanum"
    exclude = ["NanumMyeongjo*"]
    handwriting = ["NanumPen*", "NanumBrush*"]   # patterns, or true for every face of the group

    [[fonts]]
    dir = "${KOCR_HANDWRITING_FONTS}"
    handwriting = true
    optional = true                # a missing folder is skipped instead of an error

    [degradations]                 # probabilities of kocr.data.synth.config.Degradations, by name
    invert = 0.04

Every key is checked: an unknown key, a wrong type or a missing font folder is an error naming the
file and the key.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from kocr.data.synth.config import Degradations, SynthConfig
from kocr.data.synth.fonts import FontFace, faces_in_file, fonts_in, mark_handwriting
from kocr.data.synth.texts import TextConfig, parse_text_mix
from kocr.errors import KocrError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

DEFAULT_LINES_PER_EPOCH = 200_000
_TOP_KEYS = {
    "seed", "charset", "lines_per_epoch", "handwriting_ratio", "height", "font_size", "mode",
    "corpus", "text", "fonts", "degradations",
}  # fmt: skip
_TEXT_KEYS = {"min_chars", "max_chars", "mix"}
_FONT_KEYS = {"dir", "files", "exclude", "handwriting", "optional"}


@dataclass(frozen=True)
class SynthRecipe:
    """A parsed recipe: the renderer's configuration and how many lines make an epoch."""

    path: Path
    config: SynthConfig
    lines_per_epoch: int = DEFAULT_LINES_PER_EPOCH


def load_recipe(path: str | os.PathLike[str], *, seed: int | None = None) -> SynthRecipe:
    """Read and check a recipe; ``seed`` overrides the file's."""
    path = Path(path)
    if not path.is_file():
        raise KocrError(f"{path}: synthetic-data recipe not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise KocrError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise KocrError(f"{path}: not valid TOML: {exc}") from None
    return _parse(path, data, seed)


def _parse(path: Path, data: Mapping[str, Any], seed: int | None) -> SynthRecipe:
    where = str(path)
    _check_keys(where, "", data, _TOP_KEYS)
    text = data.get("text", {})
    _check_type(where, "text", text, dict)
    _check_keys(where, "text.", text, _TEXT_KEYS)
    mix = text.get("mix", {})
    _check_type(where, "text.mix", mix, dict)
    spec = ",".join(f"{kind}={weight}" for kind, weight in mix.items())
    try:
        text_config = TextConfig(
            min_chars=int(text.get("min_chars", 1)),
            max_chars=int(text.get("max_chars", 25)),
            weights=parse_text_mix(spec),
        )
        degradations = _degradations(where, data.get("degradations", {}))
        fonts = tuple(
            face for index, group in enumerate(_list(where, "fonts", data.get("fonts", [])))
            for face in _font_group(path, f"fonts[{index}]", group)
        )  # fmt: skip
        if "fonts" in data and not fonts:
            raise KocrError("the [[fonts]] groups hold no font files")
        config = SynthConfig(
            charset=_charset(path, str(data.get("charset", "ko-2350"))),
            fonts=fonts,
            corpus=tuple(str(_resolve(path, p)) for p in _list(where, "corpus", data.get("corpus", []))),
            text=text_config,
            seed=int(data.get("seed", 0) if seed is None else seed),
            height=_pair(where, "height", data.get("height", (32, 64))),
            font_size=_pair(where, "font_size", data.get("font_size", (36, 64))),
            handwriting_ratio=float(data.get("handwriting_ratio", 0.35)),
            mode=data.get("mode", "L"),
            degradations=degradations,
        )
    except KocrError as exc:
        raise KocrError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise KocrError(f"{where}: {exc}") from None
    for corpus in config.corpus:
        if not Path(corpus).is_file():
            raise KocrError(f"{where}: corpus file {corpus} not found")
    lines = int(data.get("lines_per_epoch", DEFAULT_LINES_PER_EPOCH))
    if lines < 1:
        raise KocrError(f"{where}: lines_per_epoch must be at least 1, not {lines}")
    if not 0.0 <= config.handwriting_ratio <= 1.0:
        raise KocrError(f"{where}: handwriting_ratio must be within [0, 1], not {config.handwriting_ratio}")
    return SynthRecipe(path=path, config=config, lines_per_epoch=lines)


def _font_group(recipe: Path, key: str, group: Any) -> list[FontFace]:
    """The faces of one ``[[fonts]]`` group, excluded names dropped, handwriting marked."""
    _check_type(str(recipe), key, group, dict)
    _check_keys(str(recipe), f"{key}.", group, _FONT_KEYS)
    if ("dir" in group) == ("files" in group):
        raise KocrError(f"{key} needs exactly one of dir = '...' or files = [...]")
    optional = bool(group.get("optional", False))
    if "dir" in group:
        try:
            folder = _resolve(recipe, group["dir"])
        except KocrError:
            if optional:
                return []
            raise
        if not folder.is_dir():
            if optional:
                return []
            raise KocrError(f"{key}: font folder {folder} not found (set optional = true to skip it)")
        faces = fonts_in(folder)
    else:
        faces = []
        for file in _list(str(recipe), f"{key}.files", group["files"]):
            resolved = _resolve(recipe, file)
            if not resolved.is_file():
                if optional:
                    continue
                raise KocrError(f"{key}: font file {resolved} not found")
            faces.extend(faces_in_file(resolved))
    excluded = [str(p) for p in _list(str(recipe), f"{key}.exclude", group.get("exclude", []))]
    faces = [f for f in faces if not any(fnmatch.fnmatchcase(f.path.name, p) for p in excluded)]
    handwriting = group.get("handwriting", False)
    if isinstance(handwriting, bool):
        return [_with_handwriting(face, handwriting) for face in faces]
    patterns = [str(p) for p in _list(str(recipe), f"{key}.handwriting", handwriting)]
    return [mark_handwriting(_with_handwriting(face, False), patterns) for face in faces]


def _with_handwriting(face: FontFace, handwriting: bool) -> FontFace:
    return face if face.handwriting == handwriting else replace(face, handwriting=handwriting)


def _degradations(where: str, values: Any) -> Degradations:
    _check_type(where, "degradations", values, dict)
    known = {f.name for f in fields(Degradations)}
    _check_keys(where, "degradations.", values, known)
    return Degradations(**{name: float(value) for name, value in values.items()})


def _charset(recipe: Path, value: str) -> str:
    """A preset name as it is; a charset file relative to the recipe, as every path in it is."""
    beside = recipe.parent / os.path.expanduser(value)
    return str(beside.resolve()) if beside.is_file() else value


def _resolve(recipe: Path, value: Any) -> Path:
    if not isinstance(value, str) or not value:
        raise KocrError(f"expected a path string, got {value!r}")
    expanded = os.path.expanduser(os.path.expandvars(value))
    if "$" in expanded:
        raise KocrError(f"{value!r}: environment variable not set")
    path = Path(expanded)
    return path if path.is_absolute() else (recipe.parent / path).resolve()


def _pair(where: str, key: str, value: Any) -> tuple[int, int]:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise KocrError(f"{key} must be two numbers [low, high], not {value!r}")
    return int(value[0]), int(value[1])


def _list(where: str, key: str, value: Any) -> list[Any]:
    if isinstance(value, str):
        return [value]
    _check_type(where, key, value, list)
    return list(value)


def _check_type(where: str, key: str, value: Any, kind: type) -> None:
    if not isinstance(value, kind):
        expected = {dict: "a table", list: "a list"}.get(kind, kind.__name__)
        raise KocrError(f"{where}: {key} must be {expected}, not {value!r}")


def _check_keys(where: str, prefix: str, table: Mapping[str, Any], known: set[str]) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise KocrError(
            f"{where}: unknown key {', '.join(prefix + k for k in unknown)}; "
            f"known: {', '.join(sorted(prefix + k for k in known))}"
        )
