"""Syllable arithmetic, jamo conversion and KS X 1001 membership."""

from __future__ import annotations

import unicodedata

import pytest

from kocr.charsets import hangul


def test_counts_of_the_unicode_tables() -> None:
    assert len(hangul.ALL_SYLLABLES) == 11_172
    assert (len(hangul.INITIALS), len(hangul.MEDIALS), len(hangul.FINALS)) == (19, 21, 27)
    assert hangul.ALL_SYLLABLES[0] == "가" and hangul.ALL_SYLLABLES[-1] == "힣"


def test_split_and_join_are_inverse_for_every_syllable() -> None:
    for syllable in hangul.ALL_SYLLABLES:
        assert hangul.join_syllable(*hangul.split_syllable(syllable)) == syllable


def test_split_known_syllables() -> None:
    assert hangul.split_syllable("가") == (0, 0, 0)
    assert hangul.split_syllable("한") == (18, 0, 4)  # ㅎ, ㅏ, ㄴ
    assert hangul.initial_of("한") == "\u1112"
    assert hangul.medial_of("한") == "\u1161"
    assert hangul.final_of("한") == "\u11ab"
    assert hangul.final_of("하") is None


def test_decomposition_agrees_with_unicode_nfd() -> None:
    """Our arithmetic must give exactly Unicode's canonical decomposition."""
    for syllable in hangul.ALL_SYLLABLES:
        assert hangul.decompose_syllable(syllable) == unicodedata.normalize("NFD", syllable)


def test_every_syllable_survives_decompose_then_compose() -> None:
    text = "".join(hangul.ALL_SYLLABLES)
    assert hangul.compose(hangul.decompose(text)) == text


def test_compose_keeps_non_hangul_and_mixed_text() -> None:
    text = "한국어 OCR 2026년 ‘따옴표’"
    assert hangul.compose(hangul.decompose(text)) == text


@pytest.mark.parametrize(
    ("jamo", "expected"),
    [
        ("\u1100", "ㄱ"),  # lone initial -> compatibility jamo
        ("\u1161", "ㅏ"),  # lone medial
        ("\u11a8", "ㄱ"),  # lone final
        ("\u1100\u1100\u1161", "ㄱ가"),  # doubled initial: the first stands alone
        ("\u1100\u1161\u11a8\u11a8", "각ㄱ"),  # doubled final: the second stands alone
        ("\u1161\u1100\u1161", "ㅏ가"),  # medial before any initial
        ("\u11a8\u1100\u1161\u11ab", "ㄱ간"),  # final first
        ("A\u1100\u1161B", "A가B"),
    ],
)
def test_ill_formed_jamo_sequences_compose_sensibly(jamo: str, expected: str) -> None:
    assert hangul.compose(jamo) == expected


def test_compatibility_and_conjoining_conversion() -> None:
    assert hangul.to_conjoining_jamo("ㄱ") == "\u1100"
    assert hangul.to_conjoining_jamo("ㄱ", "final") == "\u11a8"
    assert hangul.to_conjoining_jamo("ㅏ", "medial") == "\u1161"
    assert hangul.to_conjoining_jamo("ㄳ", "final") == "\u11aa"
    with pytest.raises(ValueError, match="no conjoining initial"):
        hangul.to_conjoining_jamo("ㄳ", "initial")
    with pytest.raises(ValueError, match="no conjoining final"):
        hangul.to_conjoining_jamo("ㄸ", "final")
    for j in hangul.INITIALS + hangul.MEDIALS + hangul.FINALS:
        assert hangul.is_compatibility_jamo(hangul.to_compatibility_jamo(j))
    assert hangul.to_compatibility_jamo("가") == "가"


def test_ks_x_1001_is_derived_from_euc_kr() -> None:
    syllables = hangul.ks_x_1001_syllables()
    assert len(syllables) == 2_350
    assert all(hangul.is_syllable(s) for s in syllables)
    assert all(len(s.encode("euc-kr")) == 2 for s in syllables)
    assert hangul.is_ks_x_1001("가") and hangul.is_ks_x_1001("힝")
    assert not hangul.is_ks_x_1001("똠") and not hangul.is_ks_x_1001("뷁")
    # Outside KS X 1001, Python's EUC-KR codec falls back to 8-byte jamo sequences (KS X 1001 annex 3).
    outside = [s for s in hangul.ALL_SYLLABLES if not hangul.is_ks_x_1001(s)]
    assert len(outside) == 11_172 - 2_350
    assert all(len(s.encode("euc-kr")) == 8 for s in outside)


def test_split_rejects_non_syllables() -> None:
    with pytest.raises(ValueError):
        hangul.split_syllable("A")
    with pytest.raises(ValueError):
        hangul.join_syllable(19, 0, 0)
