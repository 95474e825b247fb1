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

Every key is checked against one declared schema (:mod:`kocr.data.synth.recipe_schema`: strict types,
ranges, no unknown key); an error names the file, the key's line and the key, e.g.
``recipe.toml:3: seed: must be a whole number, not 4.5``. Then what needs the file system: font folders
and files, corpus files, a charset file beside the recipe.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kocr.data.synth.config import Degradations, SynthConfig
from kocr.data.synth.fonts import FontFace, faces_in_file, fonts_in, mark_handwriting
from kocr.data.synth.recipe_schema import (
    DEFAULT_LINES_PER_EPOCH,
    FontGroup,
    RecipeProblem,
    validate_recipe,
)
from kocr.data.synth.texts import TextConfig
from kocr.data.synth.toml_lines import key_line
from kocr.errors import InputFileError, KocrError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["DEFAULT_LINES_PER_EPOCH", "SynthRecipe", "load_recipe"]


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
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise KocrError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise KocrError(f"{path}: not valid TOML: {exc}") from None
    try:
        return _parse(path, data, seed)
    except RecipeProblem as problem:
        raise InputFileError(path, str(problem), key_line(text, problem.location)) from None


def _parse(path: Path, data: dict[str, Any], seed: int | None) -> SynthRecipe:
    table = validate_recipe(data)
    fonts: tuple[FontFace, ...] = ()
    if table.fonts is not None:
        fonts = tuple(
            face for index, group in enumerate(table.fonts) for face in _font_group(path, index, group)
        )
        if not fonts:
            raise RecipeProblem(("fonts",), "the [[fonts]] groups hold no font files")
        hands = any(face.handwriting for face in fonts)
        if "handwriting_ratio" in data and table.handwriting_ratio > 0 and not hands:
            raise RecipeProblem(
                ("handwriting_ratio",),
                f"{table.handwriting_ratio:g} of the lines should be handwriting, but no face of the "
                "[[fonts]] groups is marked handwriting (handwriting = true or [patterns]); mark the "
                "handwriting faces or set handwriting_ratio = 0",
            )
    corpus = []
    for index, file in enumerate(table.corpus):
        resolved = _resolve(path, file, ("corpus", index))
        if not resolved.is_file():
            raise RecipeProblem(("corpus", index), f"corpus file {resolved} not found")
        corpus.append(str(resolved))
    weights = dict(TextConfig().weights)
    weights.update(table.text.mix)
    config = SynthConfig(
        charset=_charset(path, table.charset),
        fonts=fonts,
        corpus=tuple(corpus),
        text=TextConfig(min_chars=table.text.min_chars, max_chars=table.text.max_chars, weights=weights),
        seed=table.seed if seed is None else seed,
        height=table.height,
        font_size=table.font_size,
        handwriting_ratio=table.handwriting_ratio,
        mode=table.mode,
        degradations=Degradations(**table.degradations.model_dump()),
    )
    return SynthRecipe(path=path, config=config, lines_per_epoch=table.lines_per_epoch)


def _font_group(recipe: Path, index: int, group: FontGroup) -> list[FontFace]:
    """The faces of one ``[[fonts]]`` group, excluded names dropped, handwriting marked."""
    key = ("fonts", index)
    if group.dir is not None:
        try:
            folder = _resolve(recipe, group.dir, (*key, "dir"))
        except RecipeProblem:
            if group.optional:
                return []
            raise
        if not folder.is_dir():
            if group.optional:
                return []
            raise RecipeProblem(
                (*key, "dir"), f"font folder {folder} not found (set optional = true to skip it)"
            )
        faces = fonts_in(folder)
    else:
        faces = []
        for number, file in enumerate(group.files or ()):
            resolved = _resolve(recipe, file, (*key, "files", number))
            if not resolved.is_file():
                if group.optional:
                    continue
                raise RecipeProblem((*key, "files", number), f"font file {resolved} not found")
            faces.extend(faces_in_file(resolved))
    faces = [f for f in faces if not any(fnmatch.fnmatchcase(f.path.name, p) for p in group.exclude)]
    if isinstance(group.handwriting, bool):
        return [_with_handwriting(face, group.handwriting) for face in faces]
    return [mark_handwriting(_with_handwriting(face, False), group.handwriting) for face in faces]


def _with_handwriting(face: FontFace, handwriting: bool) -> FontFace:
    return face if face.handwriting == handwriting else replace(face, handwriting=handwriting)


def _charset(recipe: Path, value: str) -> str:
    """A preset name as it is; a charset file relative to the recipe, as every path in it is."""
    from kocr.charsets import PRESET_DESCRIPTIONS

    beside = recipe.parent / os.path.expanduser(value)
    if beside.is_file():
        return str(beside.resolve())
    if value not in PRESET_DESCRIPTIONS:
        raise RecipeProblem(
            ("charset",),
            f"{value!r} is neither a charset preset ({', '.join(PRESET_DESCRIPTIONS)}) nor a file "
            "(relative to the recipe)",
        )
    return value


def _resolve(recipe: Path, value: str, location: tuple[str | int, ...]) -> Path:
    if not value:
        raise RecipeProblem(location, "expected a path, got an empty string")
    expanded = os.path.expanduser(os.path.expandvars(value))
    if "$" in expanded:
        raise RecipeProblem(location, f"{value!r}: environment variable not set")
    path = Path(expanded)
    return path if path.is_absolute() else (recipe.parent / path).resolve()
