"""Training on lines rendered on the fly: ``kocr train --train-data synth:RECIPE.toml``.

Why: a stored synthetic set is read for epochs, and the model learns its lines; rendered in the
DataLoader workers, every step sees lines no step saw before, and nothing large is stored.

How it stays reproducible and resumable: :class:`SynthStream` is a map-style dataset whose item
``i`` depends only on the recipe and ``i``. Texts come in blocks of :data:`BLOCK` items, each block
from the recipe's text generator reseeded with ``(seed, block)``; the face is drawn from a generator
seeded the same way; the image is rendered with the per-sample generator ``(seed, i)`` that
``kocr data synth`` uses. So any worker renders any item identically, and the training sampler
(:class:`kocr.training.sampling.MixedEpochSampler`) reads a stream forward (its ``StreamPart``): the
k-th draw of epoch e is item ``e × epoch_size + k``, fresh in every epoch and the same after a
resume. Validation draws from a separate range (:data:`VALIDATION_BASE`), never reached by training.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from PIL import Image
from torch.utils.data import Dataset, Subset

from kocr.charsets import Charset
from kocr.data.synth.plan import Plan, pick_face, plan
from kocr.data.synth.recipes import SynthRecipe, load_recipe
from kocr.data.synth.render import render_line, sample_rng
from kocr.errors import KocrError
from kocr.text import normalize

PREFIX = "synth:"
BLOCK = 256
VIRTUAL_SIZE = 1 << 44  # items a stream can address; training reaches e × epoch_size + k
VALIDATION_BASE = 1 << 43


def is_synth_source(path: Any) -> bool:
    """``synth:FILE`` or a ``.toml`` file names a synthetic-data recipe."""
    text = str(path)
    return text.startswith(PREFIX) or text.lower().endswith(".toml")


def recipe_path(path: Any) -> str:
    text = str(path)
    return text[len(PREFIX) :] if text.startswith(PREFIX) else text


class SynthStream(Dataset):
    """Item ``i`` = ``(transform(image), label)`` of the ``i``-th line of a recipe (see module docs)."""

    def __init__(
        self,
        recipe: SynthRecipe,
        *,
        charset: Charset | None = None,
        max_length: int | None = None,
        case_fold: bool = False,
        transform: Callable[[Image.Image], Any] | None = None,
        the_plan: Plan | None = None,
    ) -> None:
        self.recipe = recipe
        self.config = recipe.config
        self.the_plan = the_plan or plan(self.config)
        self.case_fold = case_fold
        self.transform = transform
        self._check(charset, max_length)
        self._block_number: int | None = None
        self._block: list[tuple[str, int]] = []

    @property
    def lines_per_epoch(self) -> int:
        return self.recipe.lines_per_epoch

    def _check(self, charset: Charset | None, max_length: int | None) -> None:
        where = self.recipe.path
        if charset is not None:
            outside = sorted(ch for ch in self.the_plan.texts.allowed if not charset.covers(ch))
            if outside:
                shown = "".join(outside[:20])
                raise KocrError(
                    f"{where}: the recipe's texts use {len(outside)} symbols outside the model's charset "
                    f"{charset.name or ''} ({shown!r}...); set charset in the recipe to a subset of it"
                )
        longest = self.config.text.max_chars
        if max_length is not None and longest > max_length:
            raise KocrError(
                f"{where}: texts of up to {longest} characters, but the model reads at most {max_length}; "
                f"lower [text] max_chars or raise --img-w / --max-length"
            )

    def __len__(self) -> int:
        return VIRTUAL_SIZE

    def line(self, index: int) -> tuple[Image.Image, str]:
        """The image and text of item ``index``."""
        if not 0 <= index < VIRTUAL_SIZE:
            raise IndexError(index)
        block, offset = divmod(index, BLOCK)
        if block != self._block_number:
            self._block = self._make_block(block)
            self._block_number = block
        text, face_number = self._block[offset]
        face = self.the_plan.faces[face_number]
        return render_line(text, face, sample_rng(self.config.seed, index + 1), self.config), text

    def __getitem__(self, index: int) -> tuple[Any, str]:
        image, text = self.line(index)
        label = normalize(text, case_fold=self.case_fold)
        return (self.transform(image) if self.transform else image), label

    def _make_block(self, block: int) -> list[tuple[str, int]]:
        seed = self.config.seed
        texts = self.the_plan.texts
        texts.reseed((seed, block))
        pick = random.Random(f"{seed}/{block}/faces")
        items: list[tuple[str, int]] = []
        for _ in range(50 * BLOCK):
            text = texts.next_text()
            face = pick_face(text, self.the_plan.coverages, pick, self.config.handwriting_ratio)
            if face is not None:
                items.append((text, face))
                if len(items) == BLOCK:
                    return items
        raise KocrError(f"{self.recipe.path}: almost no generated line can be drawn by any one font")

    def validation(self, count: int) -> Subset:
        """``count`` fixed lines from a range training never reads."""
        return Subset(self, range(VALIDATION_BASE, VALIDATION_BASE + count))


def open_synth_source(
    path: Any,
    *,
    charset: Charset | None = None,
    max_length: int | None = None,
    case_fold: bool = False,
    transform: Callable[[Image.Image], Any] | None = None,
) -> SynthStream:
    """The :class:`SynthStream` of ``synth:RECIPE.toml`` (or ``RECIPE.toml``)."""
    return SynthStream(
        load_recipe(recipe_path(path)),
        charset=charset,
        max_length=max_length,
        case_fold=case_fold,
        transform=transform,
    )
