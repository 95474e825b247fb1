"""kocr.lm: building, scoring, saving and loading character n-gram models."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from kocr.charsets import Charset
from kocr.errors import InputFileError, KocrError
from kocr.lm.build import build_lm, encode_lines, read_corpus
from kocr.lm.model import CharLM

TEXT = [
    "사과를 먹었습니다",
    "책을 읽었습니다",
    "파일을 선택하십시오",
    "파일을 저장할 수 없습니다",
    "사과를 샀습니다",
    "문서를 저장합니다",
    "글꼴을 선택합니다",
    "문서를 열 수 없습니다",
] * 3


@pytest.fixture(scope="module")
def charset() -> Charset:
    return Charset.preset("ko-2350")


@pytest.fixture(scope="module")
def lm(charset: Charset) -> CharLM:
    encoded, _ = encode_lines(TEXT, charset)
    return build_lm(encoded, charset, order=4, min_count=1)


@pytest.mark.parametrize("min_count", [1, 2])
def test_distributions_sum_to_one(charset: Charset, min_count: int) -> None:
    encoded, _ = encode_lines([*TEXT, "선택을 저장", "열 수 있습니다"], charset)
    model = build_lm(encoded, charset, order=5, min_count=min_count)
    for context in ["", "파일", "파일을 ", "문서를 저", "없습니다", "뷁똠"]:
        distribution = model.distribution(model.tokens(charset.tokenize(context)))
        assert distribution.sum() == pytest.approx(1.0, abs=1e-5), context
        assert (distribution > 0).all()


def test_context_makes_seen_continuations_likely(lm: CharLM, charset: Charset) -> None:
    after = lm.distribution(lm.tokens("사과"))
    assert after[lm.token("를")] > 0.5
    assert after[lm.token("를")] > 50 * after[lm.token("름")]
    # A whole seen line outscores the same line with one look-alike syllable swapped in.
    seen = lm.log_prob(lm.tokens("문서를 저장합니다"))[0]
    swapped = lm.log_prob(lm.tokens("문서름 저장합니다"))[0]
    assert seen > swapped + 3


def test_round_trip_and_corrupt_files(lm: CharLM, tmp_path: Path) -> None:
    path = tmp_path / "model.lm"
    size = lm.save(path)
    assert size == path.stat().st_size and not (tmp_path / "model.lm.tmp").exists()
    loaded = CharLM.load(path)
    assert loaded.order == lm.order and loaded.symbols == lm.symbols and loaded.num_ngrams == lm.num_ngrams
    for name in ("keys", "logp", "backoff", "suffix", "state"):
        assert np.array_equal(getattr(loaded, name), getattr(lm, name)), name
    tokens = lm.tokens("파일을 저장")
    assert loaded.log_prob(tokens) == lm.log_prob(tokens)

    truncated = tmp_path / "truncated.lm"
    truncated.write_bytes(path.read_bytes()[:200])
    garbage = tmp_path / "garbage.lm"
    garbage.write_bytes(b"not a language model at all")
    for bad in (truncated, garbage, tmp_path / "missing.lm"):
        with pytest.raises(InputFileError, match=bad.name):
            CharLM.load(bad)

    # A readable archive that is not a kocr LM, and a newer version, are refused by name.
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    with pytest.raises(InputFileError, match="not a kocr language model"):
        CharLM.load(other)
    newer = tmp_path / "newer.lm"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(newer, "w") as target:
        for item in source.namelist():
            data = source.read(item)
            if item == "header.npy":
                header_array = np.load(source.open(item), allow_pickle=False)
                header = json.loads(bytes(header_array).decode("utf-8"))
                header["version"] = 99
                with target.open(item, "w") as handle:
                    np.save(handle, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
                continue
            target.writestr(item, data)
    with pytest.raises(InputFileError, match="version 99"):
        CharLM.load(newer)


def test_jamo_mode_and_unknown_characters() -> None:
    jamo = Charset.preset("ko-jamo")
    encoded, unknown = encode_lines(["한국어 文字", "한국"], jamo)
    assert unknown == 2  # the two Hanja
    model = build_lm(encoded, jamo, order=6)
    assert model.mode == "jamo"
    distribution = model.distribution(model.tokens(jamo.tokenize("한국")))
    assert distribution.sum() == pytest.approx(1.0, abs=1e-5)


def test_bad_input(charset: Charset, tmp_path: Path) -> None:
    with pytest.raises(KocrError, match="no text"):
        build_lm([], charset)
    with pytest.raises(KocrError, match="order"):
        build_lm(encode_lines(TEXT, charset)[0], charset, order=1)
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes("첫 줄\n".encode() + "둘째 줄\n".encode("cp949") + "셋째 줄\n".encode())
    warnings: list[str] = []
    lines, skipped = read_corpus([corpus], warn=warnings.append)
    assert [line.strip() for line in lines] == ["첫 줄", "셋째 줄"] and skipped == 1
    assert warnings and f"{corpus}:2" in warnings[0]
    with pytest.raises(InputFileError, match=r"missing\.txt"):
        read_corpus([tmp_path / "missing.txt"])


def _with_header(source: Path, target: Path, change: dict) -> Path:
    """``source`` with its JSON header changed, written as a tool other than kocr might."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.namelist():
            if item == "header.npy":
                header = json.loads(bytes(np.load(old.open(item), allow_pickle=False)).decode("utf-8"))
                header.update(change)
                with new.open(item, "w") as handle:
                    np.save(handle, np.frombuffer(json.dumps(header).encode(), dtype=np.uint8))
            else:
                new.writestr(item, old.read(item))
    return target


@pytest.mark.parametrize(
    "stored",
    [
        {"lm_weight": float("inf")},
        {"length_bonus": float("nan")},
        {"beam_width": 2.5},
        {"min_prob": 0},
        [0.5],
    ],
)
def test_stored_decoding_defaults_are_checked_when_written_and_when_read(
    lm: CharLM, tmp_path: Path, stored: object
) -> None:
    good = tmp_path / "good.lm"
    lm.save(good)
    bad = _with_header(good, tmp_path / "bad.lm", {"decoder": stored})  # json writes NaN and Infinity
    with pytest.raises(InputFileError, match=r"bad\.lm: damaged language model: decoding default"):
        CharLM.load(bad)
    unsaved = CharLM(lm.symbols, lm.order, lm.keys, lm.logp, lm.backoff, lm.suffix, lm.state,
                     header={**lm.header, "decoder": stored})  # fmt: skip
    with pytest.raises(KocrError, match="decoding default"):
        unsaved.save(tmp_path / "never.lm")
    assert not (tmp_path / "never.lm").exists()
    kept = _with_header(good, tmp_path / "newer.lm", {"decoder": {"lm_weight": 0.3, "a_later_setting": 1}})
    assert CharLM.load(kept).header["decoder"] == {"lm_weight": 0.3, "a_later_setting": 1}


def test_any_flipped_bytes_are_an_error_naming_the_file_or_change_nothing(lm: CharLM, tmp_path: Path) -> None:
    good = tmp_path / "good.lm"
    lm.save(good)
    data = good.read_bytes()
    damaged = tmp_path / "damaged.lm"
    errors = 0
    for offset in range(0, len(data), max(1, len(data) // 400)):  # ~400 places: headers, deflate, CRCs
        flipped = bytearray(data)
        for i in range(offset, min(offset + 4, len(data))):
            flipped[i] ^= 0xFF
        damaged.write_bytes(bytes(flipped))
        try:
            loaded = CharLM.load(damaged)
        except InputFileError as exc:
            assert exc.path == str(damaged)
            errors += 1
            continue
        # Bytes the reader ignores (a timestamp, a comment): the very same model.
        assert loaded.symbols == lm.symbols and loaded.header == CharLM.load(good).header
        for name in ("keys", "logp", "backoff", "suffix", "state"):
            assert np.array_equal(getattr(loaded, name), getattr(lm, name)), (offset, name)
    assert errors > 300


def test_perplexity_of_no_text_is_an_error_not_nan(lm: CharLM, charset: Charset, tmp_path: Path) -> None:
    with pytest.raises(KocrError, match="no text"):
        lm.perplexity([])
    assert lm.perplexity(encode_lines(TEXT[:2], charset)[0]) > 1
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes("첫 줄\n".encode() + "둘째 줄\n".encode("cp949"))
    with pytest.raises(InputFileError, match=rf"{corpus}:2: not valid UTF-8"):
        read_corpus([corpus], strict=True)
