"""CTC codec and PARSeq tokenizer: index conventions, decoding, confidences, jamo mode."""

from __future__ import annotations

import math

import pytest
import torch

from kocr.charsets import Charset
from kocr.codecs import CTCCodec, PARSeqTokenizer, clovaai_ctc_confidence
from kocr.errors import CharsetError

SMALL = Charset(["가", "나", "다", " ", "A"])  # CTC indices: blank 0, 가 1, 나 2, 다 3, ' ' 4, A 5


def one_hot_logits(indices: list[int], num_classes: int, peak: float = 10.0) -> torch.Tensor:
    logits = torch.zeros(1, len(indices), num_classes)
    for t, i in enumerate(indices):
        logits[0, t, i] = peak
    return logits


def test_ctc_indices_follow_clovaai() -> None:
    codec = CTCCodec(SMALL)
    assert codec.num_classes == 6
    targets, lengths = codec.encode(["가나", "A 다", ""])
    assert lengths.tolist() == [2, 3, 0]
    assert targets.tolist() == [[1, 2, 0], [5, 4, 3], [0, 0, 0]]


def test_ctc_encode_names_unknown_symbol() -> None:
    with pytest.raises(CharsetError, match="'라'"):
        CTCCodec(SMALL).encode(["가라"])


@pytest.mark.parametrize(
    ("indices", "text"),
    [
        ([1, 1, 0, 2, 2, 2, 0, 0, 3], "가나다"),  # repeats collapse, blanks drop
        ([1, 0, 1], "가가"),  # a blank separates a real double letter
        ([1, 1, 1], "가"),
        ([0, 0, 0], ""),
        ([], ""),
        ([5, 4, 4, 0, 4, 1], "A  가"),  # two spaces kept when a blank separates them
        ([0, 3, 0, 3, 3, 0], "다다"),
    ],
)
def test_ctc_greedy_decode_of_hand_written_sequences(indices: list[int], text: str) -> None:
    assert CTCCodec(SMALL).decode_indices(indices) == text


def test_ctc_decode_logits_and_confidence() -> None:
    codec = CTCCodec(SMALL)
    logits = one_hot_logits([1, 1, 0, 2, 0, 0, 0, 0], 6)
    (decoded,) = codec.decode(logits)
    p = math.exp(10) / (math.exp(10) + 5)
    assert decoded.text == "가나"
    assert decoded.confidence == pytest.approx(p * p, rel=1e-6)  # one peak per character


def test_ctc_confidence_does_not_shrink_with_blank_frames() -> None:
    codec = CTCCodec(SMALL)
    short = codec.decode(one_hot_logits([1, 0, 2], 6, peak=3.0))[0]
    wide = codec.decode(one_hot_logits([1] + [0] * 60 + [2], 6, peak=3.0))[0]
    assert short.text == wide.text == "가나"
    assert wide.confidence == pytest.approx(short.confidence)
    reference_short = clovaai_ctc_confidence(one_hot_logits([1, 0, 2], 6, peak=3.0))
    reference_wide = clovaai_ctc_confidence(one_hot_logits([1] + [0] * 60 + [2], 6, peak=3.0))
    assert float(reference_wide) < float(reference_short) / 100  # the reference formula collapses


def test_ctc_character_confidence_is_its_peak_frame() -> None:
    logits = torch.full((1, 3, 6), -10.0)
    logits[0, 0, 1] = 0.0  # weak first frame of 가
    logits[0, 0, 0] = 0.0
    logits[0, 1, 1] = 10.0  # strong second frame of 가
    logits[0, 2, 0] = 10.0
    decoded = CTCCodec(SMALL).decode(logits)[0]
    assert decoded.text == "가"
    assert decoded.confidence == pytest.approx(float(logits[0, 1].softmax(-1)[1]), rel=1e-5)


def test_ctc_empty_prediction_confidence_is_mean_blank_certainty() -> None:
    decoded = CTCCodec(SMALL).decode(one_hot_logits([0, 0], 6, peak=10.0))[0]
    assert decoded.text == ""
    assert decoded.confidence == pytest.approx(math.exp(10) / (math.exp(10) + 5), rel=1e-6)


def test_ctc_in_jamo_mode_round_trips_through_jamo() -> None:
    charset = Charset.preset("ko-jamo")
    codec = CTCCodec(charset)
    targets, lengths = codec.encode(["한글"])
    assert lengths.tolist() == [6]
    # Interleave blanks so repeated jamo are not merged, then decode back to syllables.
    path = [i for index in targets[0].tolist() for i in (index, 0)]
    assert codec.decode_indices(path) == "한글"


def test_parseq_tokenizer_indices_follow_strhub() -> None:
    tok = PARSeqTokenizer(SMALL)
    assert tok.itos == ("[E]", "가", "나", "다", " ", "A", "[B]", "[P]")
    assert (tok.eos_id, tok.bos_id, tok.pad_id) == (0, 6, 7)
    assert len(tok) == 8 and tok.num_classes == 6
    batch = tok.encode(["가나", "A"])
    assert batch.tolist() == [[6, 1, 2, 0], [6, 5, 0, 7]]


@pytest.mark.parametrize("label", ["가나다", "A 가", "", "다다다다"])
def test_parseq_round_trip(label: str) -> None:
    tok = PARSeqTokenizer(SMALL)
    ids = tok.encode([label])[0].tolist()
    assert tok.decode_ids(ids[1:]) == label


def test_parseq_decode_stops_at_eos_and_multiplies_probabilities() -> None:
    tok = PARSeqTokenizer(SMALL)
    probs = torch.zeros(1, 5, 6)
    for t, (i, p) in enumerate([(1, 0.9), (2, 0.8), (0, 0.7), (3, 0.99), (3, 0.99)]):
        probs[0, t, i] = p
        probs[0, t, (i + 1) % 6] = 1 - p
    (decoded,) = tok.decode(probs)
    assert decoded.text == "가나"
    assert decoded.confidence == pytest.approx(0.9 * 0.8 * 0.7, rel=1e-6)


def test_parseq_without_eos_uses_every_position() -> None:
    tok = PARSeqTokenizer(SMALL)
    probs = torch.zeros(1, 2, 6)
    probs[0, 0, 1] = 0.5
    probs[0, 1, 2] = 0.5
    (decoded,) = tok.decode(probs)
    assert decoded.text == "가나" and decoded.confidence == pytest.approx(0.25)


def test_parseq_jamo_mode() -> None:
    tok = PARSeqTokenizer(Charset.preset("ko-jamo"))
    ids = tok.encode(["닭 A"])[0].tolist()
    assert len(ids) == 1 + 3 + 2 + 1  # [B], 닭 = 3 jamo, ' ', 'A', [E]
    assert tok.decode_ids(ids[1:]) == "닭 A"
