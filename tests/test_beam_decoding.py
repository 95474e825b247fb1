"""kocr.decoding: prefix beam search, LM fusion and the confidence of its texts."""

from __future__ import annotations

import math
from dataclasses import fields
from pathlib import Path

import pytest
import torch
from conftest import REPO_ROOT

from kocr.charsets import Charset
from kocr.codecs import CTCCodec
from kocr.data.images import load_image
from kocr.decoding import GreedyDecoder, ctc_decoder
from kocr.decoding.align import aligned_confidences
from kocr.decoding.beam import BeamSearchDecoder, BeamSettings
from kocr.decoding.settings import RANGES
from kocr.errors import KocrError
from kocr.lm.build import build_lm, encode_lines
from kocr.load import load_recognizer
from kocr.runtime.torch_engine import TorchRecognizer

pytestmark = pytest.mark.usefixtures("single_thread")

CORPUS = ["사과를 먹었습니다", "문서를 저장합니다", "파일을 선택합니다", "사과를 샀습니다"] * 4


def posterior(charset: Charset, frames: list[dict[str, float]]) -> torch.Tensor:
    """Logits [1, T, C] giving the listed symbols ('' = blank) these probabilities, the rest ~0."""
    classes = len(charset) + 1
    logits = torch.full((1, len(frames), classes), -30.0)
    for t, frame in enumerate(frames):
        for symbol, p in frame.items():
            logits[0, t, 0 if symbol == "" else charset.index(symbol) + 1] = float(torch.tensor(p).log())
    return logits


def spell(text: str, *, blank: float = 0.98) -> list[dict[str, float]]:
    """Confident frames for ``text``: each character, then a blank."""
    frames: list[dict[str, float]] = []
    for ch in text:
        frames += [{ch: 0.97, "": 0.03}, {"": blank, ch: 1 - blank}]
    return frames


@pytest.fixture(scope="module")
def charset() -> Charset:
    return Charset.preset("ko-2350")


@pytest.fixture(scope="module")
def lm(charset: Charset):
    return build_lm(encode_lines(CORPUS, charset)[0], charset, order=4)


def test_lm_fixes_a_look_alike_that_greedy_gets_wrong(charset: Charset, lm) -> None:
    # "사과를": the last syllable's frame says 름 (0.55) over 를 (0.40), the look-alike confusion.
    frames = [*spell("사과"), {"름": 0.55, "를": 0.4, "": 0.05}, {"": 0.98, "름": 0.01, "를": 0.01}]
    logits = posterior(charset, frames)
    greedy = GreedyDecoder(charset)(logits)[0]
    assert greedy.text == "사과름"
    no_lm = BeamSearchDecoder(charset, None, BeamSettings(length_bonus=0))(logits)[0]
    assert no_lm.text == "사과름"
    fused = BeamSearchDecoder(charset, lm)(logits)[0]
    assert fused.text == "사과를"
    # With the LM, 를 takes nearly all of its frame's character mass once reweighted: more sure than greedy.
    assert greedy.confidence < fused.confidence <= 1.0
    # An LM that has seen neither syllable leaves the reading, and the doubt, to the model.
    other = build_lm(encode_lines(["사과 먹었습니다", "사과가 맛있다"] * 4, charset)[0], charset, order=4)
    doubtful = BeamSearchDecoder(charset, other)(logits)[0]  # default settings
    assert doubtful.text == "사과름" and doubtful.confidence < fused.confidence


def test_confidence_equals_greedy_when_texts_agree_and_is_a_probability(charset: Charset, lm) -> None:
    logits = torch.cat([posterior(charset, spell("문서를 저장")), posterior(charset, spell("파일을 저장"))])
    greedy = GreedyDecoder(charset)(logits)
    beam = BeamSearchDecoder(charset, None, BeamSettings(length_bonus=0))(logits)
    fused = BeamSearchDecoder(charset, lm)(logits)
    assert [d.text for d in beam] == [d.text for d in greedy] == [d.text for d in fused]
    for b, g, f in zip(beam, greedy, fused, strict=True):
        assert b.confidence == pytest.approx(g.confidence, rel=1e-12)
        assert 0.0 <= f.confidence <= 1.0
    # The forced alignment gives greedy's number for greedy's own text as well.
    log_norm = torch.logsumexp(logits, -1)
    ids = [CTCCodec(charset).encode_one(d.text) for d in greedy]
    aligned = aligned_confidences(logits, log_norm, [0, 1], ids)
    assert aligned == pytest.approx([g.confidence for g in greedy], rel=1e-6)


def test_empty_lines_and_repeated_characters(charset: Charset) -> None:
    empty = posterior(charset, [{"": 0.99, "가": 0.01}] * 6)
    repeated = posterior(charset, spell("아아"))  # a blank must separate the two 아
    decoder = BeamSearchDecoder(charset, None, BeamSettings(length_bonus=0))
    greedy = GreedyDecoder(charset)
    for logits in (empty, repeated):
        assert decoder(logits)[0] == greedy(logits)[0]


@pytest.fixture(scope="module")
def bundled_logits() -> tuple[TorchRecognizer, torch.Tensor]:
    recognizer = load_recognizer("default", device="cpu", decoder="greedy", engine="torch")
    images = sorted((REPO_ROOT / "data" / "samples").glob("*.[pj][np]g"))
    tensors = [recognizer.preprocess(load_image(path)) for path in images]
    with torch.inference_mode():
        return recognizer, recognizer.model(recognizer.preprocess.pad_batch(tensors))


def test_beam_one_without_lm_is_greedy_on_the_bundled_model(bundled_logits) -> None:
    recognizer, logits = bundled_logits
    greedy = GreedyDecoder(recognizer.charset)(logits)
    beam = BeamSearchDecoder(recognizer.charset, None, BeamSettings(beam_width=1, length_bonus=0))(logits)
    assert [d.text for d in beam] == [d.text for d in greedy]
    assert [d.confidence for d in beam] == pytest.approx([d.confidence for d in greedy], rel=1e-9)
    wide = BeamSearchDecoder(recognizer.charset, None, BeamSettings(beam_width=16, length_bonus=0))(logits)
    assert sum(w.text == g.text for w, g in zip(wide, greedy, strict=True)) >= len(greedy) - 1


def test_choosing_a_decoder(charset: Charset, lm, tmp_path: Path) -> None:
    assert ctc_decoder(charset).kind == "greedy"  # no LM anywhere: as before
    assert ctc_decoder(charset, decoder="beam").describe()["lm"] is None
    path = tmp_path / "model.lm"
    lm.save(path)
    (tmp_path / "model.pt").write_bytes(b"")
    chosen = ctc_decoder(charset, model_path=tmp_path / "model.pt", beam_width=3)  # the sidecar LM
    info = chosen.describe()
    assert info["decoder"] == "beam" and info["lm"] == str(path) and info["beam_width"] == 3
    assert ctc_decoder(charset, lm="none", model_path=tmp_path / "model.pt").kind == "greedy"
    assert ctc_decoder(charset, decoder="greedy", lm=path).kind == "greedy"
    with pytest.raises(KocrError, match="unknown decoder"):
        ctc_decoder(charset, decoder="viterbi")
    with pytest.raises(KocrError, match="beam_width must be a whole number from 1"):
        ctc_decoder(charset, decoder="beam", beam_width=0)
    with pytest.raises(KocrError, match="jamo"):
        ctc_decoder(Charset.preset("ko-jamo"), lm=path)


def test_jamo_charsets_decode_with_a_jamo_lm() -> None:
    jamo = Charset.preset("ko-jamo")
    model = build_lm(encode_lines(["한국어 문서를 저장", "한국 사과를"] * 3, jamo)[0], jamo, order=6)
    # 를 in jamo: ᄅ ᅳ ᆯ; the final ᆯ is read as ᆷ (를 → 름) by a small margin.
    frames = [*spell("".join(jamo.tokenize("사과르"))), {"ᆷ": 0.5, "ᆯ": 0.45, "": 0.05}, {"": 0.98}]
    logits = posterior(jamo, frames)
    assert GreedyDecoder(jamo)(logits)[0].text == "사과름"
    assert BeamSearchDecoder(jamo, model, BeamSettings(lm_weight=0.5))(logits)[0].text == "사과를"


# --- every setting finite and in its range, however it arrives (kocr.decoding.settings) ------------------


def test_every_beam_setting_has_a_declared_range() -> None:
    assert set(RANGES) == {f.name for f in fields(BeamSettings)}
    BeamSettings()  # the defaults are in range


@pytest.mark.parametrize("name", sorted(RANGES))
def test_beam_settings_refuse_what_is_not_finite_in_range_and_of_its_kind(name: str) -> None:
    bounds = RANGES[name]
    bad: list[object] = ["0.5", None]
    if bounds.kind is bool:
        bad += [1, 0.0]
    else:
        bad += [math.nan, math.inf, -math.inf, True, bounds.low - 1, bounds.high * 2 + 1]
        if bounds.kind is int:
            bad.append(2.5)
    for value in bad:
        with pytest.raises(KocrError, match=rf"^{name} must be "):
            BeamSettings(**{name: value})  # type: ignore[arg-type]


def test_the_api_checks_decoding_arguments_even_where_they_go_unused(charset: Charset) -> None:
    for given in ({"lm_weight": math.nan}, {"beam_width": 2.5}, {"length_bonus": math.inf}):
        for decoder in ("beam", "greedy", "auto"):
            with pytest.raises(KocrError, match="must be"):
                ctc_decoder(charset, decoder=decoder, **given)  # type: ignore[arg-type]
        with pytest.raises(KocrError, match="must be"):
            load_recognizer("default", device="cpu", engine="torch", **given)
    assert ctc_decoder(charset, decoder="beam", beam_width=8.0).settings.beam_width == 8  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({"length_bonus": 100.0}, "all"),  # every character pays: the certain frames are all read
        ({"length_bonus": -100.0}, ""),  # every character costs more than any frame's evidence
        ({"lm_weight": 100.0}, None),
        ({"lm_weight": 100.0, "length_bonus": 100.0, "beam_width": 4096}, None),
        ({"confidence_scale": 100.0, "confidence_shift": -100.0}, "all"),
    ],
)
def test_settings_at_the_ends_of_their_ranges_still_decode(
    charset: Charset, lm, settings: dict, expected: str | None
) -> None:
    # Scores of hundreds over a long line: ranked in the linear domain they overflowed (OverflowError)
    # or underflowed to 0, which cut the search short.
    text = "사과를 먹었습니다 파일을 선택합니다 문서를 저장합니다 사과를 샀습니다" * 3
    logits = posterior(charset, spell(text))
    (decoded,) = BeamSearchDecoder(charset, lm, BeamSettings(**settings))(logits)
    assert 0.0 <= decoded.confidence <= 1.0
    if expected is not None:
        assert decoded.text == (text if expected == "all" else expected)
