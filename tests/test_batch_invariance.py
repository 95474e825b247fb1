"""A line's reading must not depend on the other lines in its batch (issue 12).

Every family is checked on real rendered lines of very different widths, read alone and in random
batches: the text must be identical and the confidence within 1e-4, for ``TorchRecognizer`` (predict),
``kocr eval`` and the ONNX recogniser.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
import torch
from conftest import render_line, run_kocr
from PIL import Image

from kocr.charsets import Charset
from kocr.data.transforms import Preprocess
from kocr.load import load_recognizer
from kocr.models import create_model
from kocr.runtime.torch_engine import TorchRecognizer

pytestmark = pytest.mark.usefixtures("single_thread")
TEXTS = ["가", "12", "나다라마", "0123456789", "가나다라마 가나다라마", "마라다나가 0987654321 가나다라마바"]


def _lines() -> list[Image.Image]:
    """Lines from 1 to 26 characters, 32 and 48 px high: widths from ~30 to ~420 px."""
    return [Image.open(io.BytesIO(render_line(t, height=h))) for t in TEXTS for h in (32, 48)]


def _random_batches(count: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    order = list(range(count))
    rng.shuffle(order)
    batches, start = [], 0
    while start < count:
        size = rng.randint(2, 6)
        batches.append(order[start : start + size])
        start += size
    return batches


def assert_batch_invariant(recognizer: object, images: list[Image.Image]) -> list[str]:
    """Alone vs the whole set at once vs random mixes: same texts, confidences within 1e-4."""
    alone = [recognizer.predict_images([image])[0] for image in images]  # type: ignore[attr-defined]
    together = recognizer.predict_images(images)  # type: ignore[attr-defined]
    mixed = [None] * len(images)
    for batch in _random_batches(len(images), seed=7):
        for index, result in zip(batch, recognizer.predict_images([images[i] for i in batch]), strict=True):  # type: ignore[attr-defined]
            mixed[index] = result
    for one, two, three in zip(alone, together, mixed, strict=True):
        assert one.text == two.text == three.text  # type: ignore[union-attr]
        assert abs(one.confidence - two.confidence) <= 1e-4
        assert abs(one.confidence - three.confidence) <= 1e-4  # type: ignore[union-attr]
    return [p.text for p in alone]


def _recognizer(name: str, charset: Charset, **overrides: object) -> TorchRecognizer:
    torch.manual_seed(3)
    model = create_model(name, len(charset) + 1, **overrides)
    from kocr.models.registry import family_of

    preprocess = Preprocess.from_dict(family_of(model.config).preprocess(model.config, keep_ratio=True))
    return TorchRecognizer(model, charset, preprocess, device="cpu", batch_size=64)


def test_a_trained_crnn_reads_each_line_as_it_would_alone(tiny_model: Path) -> None:
    recognizer = load_recognizer(tiny_model, device="cpu")
    assert recognizer.variable_width and recognizer.context_margin == 48
    texts = assert_batch_invariant(recognizer, _lines())
    assert texts[6] == "0123456789"  # it reads, too: the test is not comparing garbage


@pytest.mark.parametrize(
    ("name", "overrides"),
    [
        ("vgg-bilstm-ctc-small", {"output_channel": 32, "hidden_size": 16}),
        ("resnet-bilstm-ctc", {"output_channel": 32, "hidden_size": 16, "resnet_layers": [1, 1, 1, 1]}),
        ("tps-resnet-bilstm-ctc", {"output_channel": 32, "hidden_size": 16, "resnet_layers": [1, 1, 1, 1]}),
        ("parseq-tiny", {"embed_dim": 48, "enc_depth": 1, "enc_num_heads": 2, "dec_num_heads": 2}),
    ],
)
def test_every_family_is_batch_invariant(name: str, overrides: dict[str, object]) -> None:
    charset = Charset(list("0123456789가나다라마바 "))
    recognizer = _recognizer(name, charset, **overrides)
    assert recognizer.variable_width == (name in ("vgg-bilstm-ctc-small", "resnet-bilstm-ctc"))
    assert_batch_invariant(recognizer, _lines())


def test_padding_without_line_widths_did_change_readings(tiny_model: Path) -> None:
    """The failure this guards against: batched without per-line widths (the old behaviour), some line
    reads differently next to a wider one."""
    recognizer = load_recognizer(tiny_model, device="cpu")
    images = _lines()
    alone = [recognizer.predict_images([image])[0] for image in images]
    recognizer.context_margin = 0  # no margin, no widths: the batch's padding reaches every line
    together = recognizer.predict_images(images)
    assert any(
        a.text != b.text or abs(a.confidence - b.confidence) > 1e-4
        for a, b in zip(alone, together, strict=True)
    )


def test_onnx_is_batch_invariant_and_agrees_with_pytorch(tiny_model: Path, tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from kocr.export import export_onnx
    from kocr.runtime.onnx_engine import OnnxRecognizer

    images = _lines()
    export_onnx(tiny_model, tmp_path / "m.onnx", sample_images=images[:5])
    onnx = OnnxRecognizer.load(tmp_path / "m.onnx")
    assert onnx.context_margin == 48
    texts = assert_batch_invariant(onnx, images)
    assert texts == [p.text for p in load_recognizer(tiny_model, device="cpu").predict_images(images)]


def test_eval_reads_the_same_at_any_batch_size(tiny_model: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lines"
    folder.mkdir()
    rows = []
    for i, image in enumerate(_lines()):
        image.save(folder / f"{i:02d}.png")
        rows.append(f"{i:02d}.png\t{TEXTS[i // 2]}")
    (folder / "gt.txt").write_text("\n".join(rows) + "\n", encoding="utf-8")
    logs = []
    for batch in ("1", "5"):
        out = tmp_path / f"b{batch}"
        result = run_kocr(
            "eval", "--saved-model", tiny_model, "--data", folder, "--batch-size", batch,
            "--log-file", out / "test_log.txt", "--device", "cpu",
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        logs.append(
            [line.split("\t") for line in (out / "test_log.txt").read_text(encoding="utf-8").splitlines()]
        )
    assert len(logs[0]) == len(logs[1]) == len(rows) + 1
    for one, five in zip(*logs, strict=True):
        assert one[:3] == five[:3] and one[4:] == five[4:]  # image, truth, prediction, CER
        if one[3] != five[3]:  # confidences within 1e-4, printed to 4 decimals: at most 2e-4 apart
            assert abs(float(one[3]) - float(five[3])) <= 2e-4


def test_beam_search_with_a_language_model_is_batch_invariant(tiny_model: Path, tmp_path: Path) -> None:
    from conftest import random_labels

    from kocr.checkpoints import load_checkpoint
    from kocr.lm.build import build_lm, encode_lines

    charset = load_checkpoint(tiny_model).require_charset()
    lm = build_lm(encode_lines(random_labels(300, seed=5), charset)[0], charset, order=3)
    lm.save(tmp_path / "tiny.lm")
    recognizer = load_recognizer(tiny_model, device="cpu", decoder="beam", lm=tmp_path / "tiny.lm")
    assert recognizer.describe_decoder()["decoder"] == "beam"
    assert_batch_invariant(recognizer, _lines())


def test_pipelined_pieces_stay_small_and_keep_every_line_once() -> None:
    # A page's lines, or a dataset's batch of 32, are read in pieces of 4 to 8 lines so the forward of
    # one overlaps the decoding of the last; each piece keeps its width neighbours.
    from kocr.runtime.batching import PIPELINE_LARGEST, batch_groups, pipeline_groups

    rng = random.Random(3)
    widths = [rng.randint(40, 900) for _ in range(70)]
    groups = batch_groups(widths, 32, variable_width=True)
    pieces = pipeline_groups(groups)
    assert all(1 <= len(piece) <= PIPELINE_LARGEST for piece in pieces)
    assert [i for piece in pieces for i in piece] == [i for group in groups for i in group]
    assert pipeline_groups([[0, 1, 2]]) == [[0, 1, 2]]  # a small call stays whole
