"""Metric values against hand-computed cases."""

from __future__ import annotations

import pytest

from kocr import metrics


def test_edit_distance() -> None:
    assert metrics.edit_distance("kitten", "sitting") == 3
    assert metrics.edit_distance("한국어", "한국") == 1
    assert metrics.edit_distance("", "가나") == 2


def test_sample_cer() -> None:
    assert metrics.sample_cer("한국어", "한국어") == 0.0
    assert metrics.sample_cer("한국어", "한극어") == pytest.approx(1 / 3)
    assert metrics.sample_cer("가나", "가나다라") == pytest.approx(1.0)  # two insertions / 2
    assert metrics.sample_cer("가", "가나다") == pytest.approx(2.0)  # CER can exceed 1
    assert metrics.sample_cer("", "") == 0.0 and metrics.sample_cer("", "가") == 1.0


def test_corpus_cer_weights_by_length() -> None:
    refs = ["가", "가나다라마바사아자차"]
    hyps = ["나", "가나다라마바사아자차"]
    # 1 error over 11 reference characters, not the mean of (1.0, 0.0).
    assert metrics.cer(refs, hyps) == pytest.approx(1 / 11)


def test_cer_ignoring_spaces() -> None:
    assert metrics.cer(["한국어 모델"], ["한국어모델"]) == pytest.approx(1 / 6)
    assert metrics.cer(["한국어 모델"], ["한국어모델"], ignore_space=True) == 0.0
    assert metrics.sample_cer("가 나", "가나", ignore_space=True) == 0.0


def test_ned_as_icdar_defines_it() -> None:
    assert metrics.ned("가나다라", "가나") == pytest.approx(2 / 4)
    assert metrics.ned("가나", "가나다라") == pytest.approx(2 / 4)  # max of both lengths
    assert metrics.ned("", "") == 0.0
    assert metrics.mean_one_minus_ned(["가나다라", "가"], ["가나", "가"]) == pytest.approx((0.5 + 1.0) / 2)


def test_jamo_error_rate() -> None:
    # 각 (ㄱㅏㄱ) vs 갂 (ㄱㅏㄲ): one jamo of three.
    assert metrics.jamo_error_rate(["각"], ["갂"]) == pytest.approx(1 / 3)
    # 가 (2 jamo) + 나 (2 jamo): 가 → 거 is one medial substitution of 4 jamo.
    assert metrics.jamo_error_rate(["가나"], ["거나"]) == pytest.approx(1 / 4)
    assert metrics.cer(["가나"], ["거나"]) == pytest.approx(1 / 2)


def test_accuracy() -> None:
    assert metrics.accuracy(["가", "나", "다 라"], ["가", "너", "다라"]) == pytest.approx(1 / 3)
    assert metrics.accuracy(["가", "나", "다 라"], ["가", "너", "다라"], ignore_space=True) == pytest.approx(
        2 / 3
    )
    assert metrics.accuracy([], []) == 1.0


def test_length_mismatch_is_an_error() -> None:
    with pytest.raises(ValueError, match="2 references but 1 predictions"):
        metrics.cer(["가", "나"], ["가"])


def test_running_metrics_match_the_batch_functions() -> None:
    refs = ["한국어 모델", "가나다", "똠방각하", "", "OCR 2026"]
    hyps = ["한국어모델", "가나다", "똠방각", "가", "0CR 2026"]
    running = metrics.RunningMetrics()
    per_sample = [running.update(r, h) for r, h in zip(refs, hyps, strict=True)]
    summary = running.summary()
    assert per_sample == [metrics.sample_cer(r, h) for r, h in zip(refs, hyps, strict=True)]
    assert summary["samples"] == 5
    assert summary["cer"] == pytest.approx(metrics.cer(refs, hyps))
    assert summary["cer_ignore_space"] == pytest.approx(metrics.cer(refs, hyps, ignore_space=True))
    assert summary["accuracy"] == pytest.approx(metrics.accuracy(refs, hyps))
    assert summary["accuracy_ignore_space"] == pytest.approx(metrics.accuracy(refs, hyps, ignore_space=True))
    assert summary["one_minus_ned"] == pytest.approx(metrics.mean_one_minus_ned(refs, hyps))
    assert summary["jamo_error_rate"] == pytest.approx(metrics.jamo_error_rate(refs, hyps))
    # Hand count: 1 + 0 + 1 + 1 + 1 = 4 errors over 6 + 3 + 4 + 0 + 8 = 21 characters.
    assert summary["cer"] == pytest.approx(4 / 21)


def test_running_metrics_survive_summing_as_floats() -> None:
    """Validation under DDP sums every rank's counts as floats: two halves summed give the whole."""
    refs = ["한국어 모델", "가나다", "똠방각하", "", "OCR 2026"]
    hyps = ["한국어모델", "가나다", "똠방각", "가", "0CR 2026"]
    whole, first, second = metrics.RunningMetrics(), metrics.RunningMetrics(), metrics.RunningMetrics()
    for i, (r, h) in enumerate(zip(refs, hyps, strict=True)):
        whole.update(r, h)
        (first if i < 2 else second).update(r, h)
    summed = [a + b for a, b in zip(first.to_sums(), second.to_sums(), strict=True)]
    assert all(isinstance(v, float) for v in summed)
    assert metrics.RunningMetrics.from_sums(summed).summary() == whole.summary()
    assert metrics.RunningMetrics.from_sums(whole.to_sums()) == whole
