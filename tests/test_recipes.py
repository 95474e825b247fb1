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


# --- issue 24: the declared schema loads the shipped recipes exactly as before ------------------------

#: Font files the fake tree holds per folder of the recipes: names that hit their exclusions and
#: handwriting patterns (each a link to Noto Sans KR).
FAKE_FONTS = {
    "sys/truetype/nanum": ["NanumGothic.ttf", "NanumMyeongjo.ttf", "NanumPen.ttf", "NanumSquareRoundB.ttf"],
    "sys/truetype/unfonts-core": ["UnBatang.ttf", "UnDotum.ttf"],
    "sys/opentype/noto": ["NotoSerifKR.otf"],
    "sys/truetype/unfonts-extra": ["UnPenheulim.ttf", "UnPilgia.ttf"],
    "data/fonts": ["Hand-A.otf", "Print-B.otf"],
    "data/handwriting": ["MyHand.ttf", "NanumDaCaeSaRang.ttf"],
}


def _recipe_in_fake_tree(recipe: Path, root: Path) -> Path:
    noto = pytest.importorskip("pylopdf_fonts_ko", reason="needs the dev extra's Korean font")
    for folder, names in FAKE_FONTS.items():
        (root / folder).mkdir(parents=True)
        for name in names:
            (root / folder / name).symlink_to(noto.sans_path())
    (root / "data" / "corpus").mkdir(parents=True)
    (root / "data" / "corpus" / "ko-docs.txt").write_text("가나다 라마바\n", encoding="utf-8")
    (root / "scripts" / "recipes").mkdir(parents=True)
    text = recipe.read_text(encoding="utf-8").replace("/usr/share/fonts/", f"{root}/sys/")
    copy = root / "scripts" / "recipes" / recipe.name
    copy.write_text(text, encoding="utf-8")
    return copy


SHIPPED = {
    "synth_v4.toml": dict(
        seed=4,
        lines=500_000,
        handwriting_ratio=0.6,
        mix={"prose": 0.55, "corpus": 0.0, "words": 0.12, "syllables": 0.1, "mixed": 0.13, "latin": 0.1},
        degradations={},
    ),
    "synth_v5.toml": dict(
        seed=6,
        lines=500_000,
        handwriting_ratio=0.65,
        mix=dict(prose=0.42, lookalike=0.15, corpus=0.0, words=0.1, syllables=0.1, mixed=0.13, latin=0.1),
        degradations={"colour_paper": 0.12, "invert": 0.06},
    ),
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_the_shipped_recipes_load_the_same_config_as_before_the_schema(name: str, tmp_path: Path) -> None:
    """The values pinned here are what the loader before the pydantic schema made of these files."""
    from dataclasses import replace

    from kocr.data.synth.config import Degradations, SynthConfig
    from kocr.data.synth.texts import TextConfig

    expected = SHIPPED[name]
    recipe = load_recipe(_recipe_in_fake_tree(REPO_ROOT / "scripts" / "recipes" / name, tmp_path))
    assert recipe.lines_per_epoch == expected["lines"]
    config = recipe.config
    assert replace(config, fonts=()) == SynthConfig(
        charset="ko-2350",
        corpus=(str(tmp_path / "data" / "corpus" / "ko-docs.txt"),),
        text=TextConfig(min_chars=1, max_chars=25, weights={**TextConfig().weights, **expected["mix"]}),
        seed=expected["seed"],
        height=(32, 64),
        font_size=(36, 64),
        handwriting_ratio=expected["handwriting_ratio"],
        mode="L",
        degradations=Degradations(**expected["degradations"]),
    )
    assert [(face.path.name, face.handwriting) for face in config.fonts] == [
        ("NanumGothic.ttf", False),
        ("NanumPen.ttf", True),
        ("UnBatang.ttf", False),
        ("NotoSerifKR.otf", False),
        ("UnPenheulim.ttf", True),
        ("Hand-A.otf", True),
        ("Print-B.otf", False),
        ("MyHand.ttf", True),
    ]
