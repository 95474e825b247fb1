"""Hangul-safe label normalisation."""

from __future__ import annotations

import unicodedata

from kocr.charsets import Charset
from kocr.text import label_problem, normalize, remove_spaces


def test_nfd_hangul_becomes_precomposed() -> None:
    nfd = unicodedata.normalize("NFD", "한국어")
    assert len(nfd) == 8
    assert normalize(nfd) == "한국어"


def test_whitespace_is_collapsed_not_removed() -> None:
    assert normalize("  한국어\t\tOCR\u3000모델 \u00a0 입니다 \n") == "한국어 OCR 모델 입니다"


def test_hangul_survives_where_parseq_default_deletes_it() -> None:
    # PARSeq's default (NFKD, drop non-ASCII) turns this into 'OCR'.
    assert normalize("한국어 OCR") == "한국어 OCR"


def test_case_folding_touches_latin_only() -> None:
    assert normalize("Seoul ÉCOLE 서울 ＡＢ", case_fold=True) == "seoul école 서울 ａｂ"
    assert normalize("Seoul") == "Seoul"


def test_remove_spaces() -> None:
    assert remove_spaces("가 나 다") == "가나다"


def test_label_problems() -> None:
    ko = Charset.preset("ko-2350")
    assert label_problem("가나", ko) is None
    assert label_problem("", ko) == "empty"
    assert label_problem("가나다", ko, max_length=2) == "too long"
    assert label_problem("똠", ko) == "unknown symbols"
    jamo = Charset.preset("ko-jamo")
    assert label_problem("한", jamo, max_length=2) == "too long"  # three jamo
