"""The default model's recipe files agree with scripts/fontsplit.py (needs the recipe's fonts)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT

from kocr.data.synth.recipes import load_recipe

RECIPES = [REPO_ROOT / "scripts" / "recipes" / name for name in ("synth_v4.toml", "synth_v5.toml")]


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.stem)
def test_the_default_recipes_train_on_fontsplits_train_fonts(
    recipe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path("/usr/share/fonts/truetype/nanum").is_dir():
        pytest.skip("needs Debian's Korean fonts (fonts-nanum, fonts-unfonts-core, fonts-noto-cjk)")
    monkeypatch.syspath_prepend(str(REPO_ROOT / "scripts"))
    sys.modules.pop("fontsplit", None)
    import fontsplit

    if fontsplit.handwriting_dir() is None or not (REPO_ROOT / "data" / "handwriting").is_dir():
        pytest.skip(
            "needs the handwriting collection in data/handwriting (scripts/fetch_handwriting_fonts.py)"
        )
    if not (REPO_ROOT / "data" / "corpus" / "ko-docs.txt").is_file():
        pytest.skip("needs data/corpus/ko-docs.txt (scripts/make_corpus.py)")
    config = load_recipe(recipe).config
    recipe_files = {face.path.resolve() for face in config.fonts}
    assert recipe_files == {path.resolve() for path in fontsplit.split("train")}
    held_out = {
        path.resolve() for kind in ("print-heldout", "hand-heldout") for path in fontsplit.split(kind)
    }
    assert not recipe_files & held_out
    hands = {face.path.name for face in config.fonts if face.handwriting}
    assert len(hands) >= 100 and "NanumPen.ttf" in hands and "NanumGothic.ttf" not in hands
