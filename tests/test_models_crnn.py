"""clovaai four-stage CTC models against the golden DTRB fixtures (see fixtures/reference/PROVENANCE.md)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from conftest import FIXTURES

from kocr.checkpoints.foreign import crnn_config_from_clovaai, load_reference_state_dict
from kocr.errors import KocrError
from kocr.models import CRNN, create_model
from kocr.models.tps import build_P_hat

REF = FIXTURES / "reference"


pytestmark = pytest.mark.usefixtures("single_thread")


def _load(stem: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return torch.load(REF / f"{stem}.pt", weights_only=True), json.loads(
        (REF / f"{stem}.json").read_text("utf-8")
    )


def _build(meta: dict[str, Any], state_dict: dict[str, torch.Tensor], **overrides: Any) -> CRNN:
    config, num_classes = crnn_config_from_clovaai(meta["config"])
    model = CRNN(num_classes, **{**config, **overrides})
    load_reference_state_dict(model, state_dict)
    return model.eval()


def _keys(model: torch.nn.Module, prefix: str = "") -> list[list[Any]]:
    return [
        [prefix + k, list(v.shape), str(v.dtype).removeprefix("torch.")]
        for k, v in model.state_dict().items()
    ]


def _maxdiff(a: torch.Tensor, b: torch.Tensor) -> float:
    assert a.shape == b.shape, (a.shape, b.shape)
    return (a - b).abs().max().item()


def ctc_greedy(logits: torch.Tensor, charset: str) -> list[str]:
    """clovaai CTCLabelConverter.decode: argmax, collapse repeats, drop blanks (index 0)."""
    out = []
    for row in logits.argmax(-1).tolist():
        chars, prev = [], 0
        for idx in row:
            if idx != 0 and idx != prev:
                chars.append(charset[idx - 1])
            prev = idx
        out.append("".join(chars))
    return out


def dtrb_confidence(logits: torch.Tensor) -> torch.Tensor:
    """clovaai's CTC confidence: product of the max softmax probability over all T steps (blanks too)."""
    return logits.softmax(-1).max(-1).values.prod(-1)


@pytest.fixture(scope="module")
def trbc() -> tuple[dict[str, Any], dict[str, Any], CRNN]:
    fx, meta = _load("dtrb_trbc_small")
    return fx, meta, _build(meta, fx["state_dict"])


@pytest.fixture(scope="module")
def vgg() -> tuple[dict[str, Any], dict[str, Any], CRNN]:
    fx, meta = _load("dtrb_vgg_bilstm_ctc_small")
    return fx, meta, _build(meta, fx["state_dict"])


# -- TPS-ResNet-BiLSTM-CTC ---------------------------------------------------------------------------------


def test_trbc_state_dict_names_shapes_order(trbc):
    _, meta, model = trbc
    assert _keys(model, "module.") == meta["state_dict_keys"]
    assert len(meta["state_dict_keys"]) == meta["n_state_dict_entries"] == 244
    assert sum(p.numel() for p in model.parameters()) == meta["n_parameters"]


def test_trbc_loads_strict_with_and_without_dataparallel_prefix(trbc):
    fx, meta, _ = trbc
    config, num_classes = crnn_config_from_clovaai(meta["config"])
    model = CRNN(num_classes, **config)
    result = load_reference_state_dict(model, fx["state_dict"])
    assert not result.missing_keys and not result.unexpected_keys
    bare = {k.removeprefix("module."): v for k, v in fx["state_dict"].items()}
    assert not model.load_state_dict(bare, strict=True).missing_keys
    for key, value in bare.items():
        assert torch.equal(model.state_dict()[key], value), key


def test_trbc_tps_fiducials(trbc):
    fx, _, model = trbc
    with torch.no_grad():
        fiducials = model.Transformation.LocalizationNetwork(fx["input"])
    assert _maxdiff(fiducials, fx["intermediates"]["tps_fiducials"]) <= 1e-5


def test_trbc_tail_after_tps(trbc):
    fx, _, model = trbc
    with torch.no_grad():
        logits = model.forward_after_transform(fx["intermediates"]["tps_output"])
    assert _maxdiff(logits, fx["logits"]) <= 5e-5


def test_trbc_end_to_end(trbc):
    fx, meta, model = trbc
    with torch.no_grad():
        tps_out = model.transform(fx["input"])
        logits = model(fx["input"])
        features = model.features(fx["input"])
    assert logits.shape == (4, 26, 40)
    assert _maxdiff(tps_out, fx["intermediates"]["tps_output"]) <= 1e-3
    assert _maxdiff(features, fx["intermediates"]["feature_map"]) <= 2e-2
    diff = _maxdiff(logits, fx["logits"])
    assert diff <= 5e-3
    decisive = fx["top2_margin"] > 2 * diff
    assert (logits.argmax(-1) == fx["pred_index"])[decisive].all()
    if decisive.all():
        assert ctc_greedy(logits, meta["decode_charset"]["charset"]) == meta["decoded"]
    conf = dtrb_confidence(logits.double())
    torch.testing.assert_close(conf, fx["confidence_fp64"], rtol=5e-2, atol=0)


def test_tps_grid_matches_reference_bitwise_with_fma_accumulation(trbc):
    """kocr's buffers, op order and grid_sample settings reproduce the stored TPS output and logits exactly
    once the two float32 matrix products accumulate like the reference machine's bmm did (sequential FMA).
    The native bmm of another CPU rounds differently; that is why test_trbc_end_to_end uses 5e-3."""
    fx, _, model = trbc
    tps = model.Transformation

    def fma_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:  # a [N,K] @ b [B,K,M], float32
        out = torch.zeros(b.shape[0], a.shape[0], b.shape[2])
        for k in range(a.shape[1]):  # float64 a*b+c rounded once to float32 == fused multiply-add
            out = (a[:, k].double()[None, :, None] * b[:, k].double()[:, None, :] + out.double()).float()
        return out

    with torch.no_grad():
        c_prime = fx["intermediates"]["tps_fiducials"]  # isolate the grid from the 1e-7 CNN rounding
        c_with_zeros = torch.cat([c_prime, torch.zeros(4, 3, 2)], dim=1)
        grid = fma_matmul(tps.GridGenerator.P_hat, fma_matmul(tps.GridGenerator.inv_delta_C, c_with_zeros))
        grid = grid.reshape(4, *tps.output_size, 2)
        rectified = F.grid_sample(fx["input"], grid, padding_mode="border", align_corners=tps.align_corners)
        logits = model.forward_after_transform(rectified)
    assert torch.equal(rectified, fx["intermediates"]["tps_output"])
    assert torch.equal(logits, fx["logits"])


def test_trbc_wider_input_is_resampled_to_construction_size(trbc):
    fx, _, model = trbc
    with torch.no_grad():
        fiducials = model.Transformation.LocalizationNetwork(fx["input_width200"])
        logits = model(fx["input_width200"])
    assert _maxdiff(fiducials, fx["intermediates_width200"]["tps_fiducials"]) <= 1e-5
    assert logits.shape == (4, 26, 40)
    assert _maxdiff(logits, fx["logits_width200"]) <= 2e-2


def test_trbc_rebuilt_at_width_200_recomputes_P_hat(trbc):
    fx, meta, _ = trbc
    model = _build(meta, fx["state_dict"], img_w=200)  # strict load of a 32x100 checkpoint
    P_hat = model.Transformation.GridGenerator.P_hat
    assert P_hat.shape == (6400, 23)
    extra = meta["extra_inputs"]["width200_rebuilt_imgW200"]
    for row, values in extra["P_hat_imgH32_imgW200_rows"].items():
        assert _maxdiff(P_hat[int(row)], torch.tensor(values)) <= 1e-5
    assert P_hat.double().sum().item() == pytest.approx(extra["P_hat_imgH32_imgW200_sum"], rel=1e-9)
    with torch.no_grad():
        logits = model(fx["input_width200"])
    assert logits.shape == (4, 51, 40)
    assert _maxdiff(logits, fx["logits_width200_rebuilt_imgW200"]) <= 1e-2


def test_P_hat_recomputation_matches_reference_buffer(trbc):
    fx, _, model = trbc
    stored = fx["state_dict"]["module.Transformation.GridGenerator.P_hat"]
    assert _maxdiff(build_P_hat(20, 32, 100), stored) <= 1e-5
    assert _maxdiff(model.Transformation.GridGenerator.P_hat, stored) <= 1e-5


def test_loaded_P_hat_is_ignored_in_favour_of_the_recomputed_one(trbc):
    fx, meta, _ = trbc
    state = dict(fx["state_dict"])
    state["module.Transformation.GridGenerator.P_hat"] = torch.zeros(3200, 23)
    model = _build(meta, state)
    assert _maxdiff(model.Transformation.GridGenerator.P_hat, build_P_hat(20, 32, 100)) == 0


def test_align_corners_false_is_the_torch_1_10_to_1_13_behaviour(trbc):
    fx, meta, model = trbc
    legacy = _build(meta, fx["state_dict"], align_corners=False)
    assert legacy.config["align_corners"] is False and model.config["align_corners"] is True
    with torch.no_grad():
        moved = _maxdiff(legacy.transform(fx["input"]), fx["intermediates"]["tps_output"])
    assert moved > 0.1  # the README measures 0.31: a checkpoint from that era needs the flag


# -- None-VGG-BiLSTM-CTC (EasyOCR korean_g2 layout) ---------------------------------------------------------


def test_vgg_state_dict_names_shapes_order(vgg):
    _, meta, model = vgg
    assert _keys(model, "module.") == meta["state_dict_keys"]
    assert sum(p.numel() for p in model.parameters()) == meta["n_parameters"]


def test_vgg_logits_features_and_decoding(vgg):
    fx, meta, model = vgg
    with torch.no_grad():
        logits = model(fx["input"])
        features = model.features(fx["input"])
        logits128 = model(fx["input_width128"])
    assert logits.shape == (4, 49, 50) and logits128.shape == (2, 31, 50)
    assert _maxdiff(logits, fx["logits"]) <= 2e-5
    assert _maxdiff(logits128, fx["logits_width128"]) <= 2e-5
    assert _maxdiff(features, fx["intermediates"]["feature_map"]) <= 5e-5
    assert torch.equal(logits.argmax(-1), fx["pred_index"])
    charset = meta["decode_charset"]["charset"]
    assert ctc_greedy(logits, charset) == meta["decoded"]
    assert ctc_greedy(logits128, charset) == meta["extra_inputs"]["width128"]["decoded"]
    torch.testing.assert_close(dtrb_confidence(logits.double()), fx["confidence_fp64"], rtol=1e-4, atol=0)
    assert (dtrb_confidence(logits) == 0).all()  # float32 underflow, exactly what clovaai prints


def test_vgg_sequence_output(vgg):
    fx, _, model = vgg
    with torch.no_grad():
        visual = model.AdaptiveAvgPool(model.features(fx["input"]).permute(0, 3, 1, 2)).squeeze(3)
        sequence = model.SequenceModeling(visual)
    assert _maxdiff(sequence, fx["intermediates"]["sequence_output"]) <= 2e-5


@pytest.mark.parametrize("name", ["vgg-bilstm-ctc-small", "resnet-bilstm-ctc-small"])
def test_ctc_models_without_tps_accept_any_width(name):
    model = create_model(name, num_classes=11).eval()
    for width in (8, 64, 100, 333):
        with torch.no_grad():
            out = model(torch.zeros(2, 1, 32, width))
        assert out.shape == (2, model.output_length(width), 11)
    assert model.output_length(100) == (24 if model.config["feature_extraction"] == "VGG" else 26)


def test_bad_crnn_config_is_a_user_error():
    with pytest.raises(KocrError, match="transformation"):
        create_model("tps-resnet-bilstm-ctc", 10, transformation="STN")
    with pytest.raises(KocrError, match="unknown CRNN config keys: imgW"):
        create_model("tps-resnet-bilstm-ctc", 10, imgW=200)


# -- training sanity -----------------------------------------------------------------------------------------


def _ctc_loss(model: CRNN, images: torch.Tensor, targets: list[list[int]]) -> torch.Tensor:
    log_probs = model(images).log_softmax(-1).permute(1, 0, 2)  # [T, B, C]
    flat = torch.tensor([t for row in targets for t in row])
    lengths = torch.tensor([len(row) for row in targets])
    input_lengths = torch.full((images.shape[0],), log_probs.shape[0], dtype=torch.long)
    return F.ctc_loss(log_probs, flat, input_lengths, lengths, zero_infinity=True)


def test_crnn_with_tps_backward_reaches_parameters():
    torch.manual_seed(0)
    model = create_model("tps-resnet-bilstm-ctc", 12, output_channel=32, hidden_size=16, img_h=32, img_w=64)
    model.train()
    loss = _ctc_loss(model, torch.randn(3, 1, 32, 64), [[1, 2, 3], [4, 5], [6, 7, 8, 9]])
    loss.backward()
    assert torch.isfinite(loss)
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        # RARE init zeroes localization_fc2.weight, so nothing upstream of it gets a gradient on step 1.
        upstream_of_zero_fc2 = name.startswith(
            ("Transformation.LocalizationNetwork.conv", "Transformation.LocalizationNetwork.localization_fc1")
        )
        if not upstream_of_zero_fc2:
            assert param.grad.abs().sum() > 0, name


def test_crnn_overfits_a_fixed_batch():
    torch.manual_seed(0)
    model = create_model("vgg-bilstm-ctc-small", 11, output_channel=64, hidden_size=64)
    images = torch.rand(4, 1, 32, 96) * 2 - 1
    targets = [[1, 2, 3], [4, 5, 6, 7], [8, 9], [10, 1, 10, 2]]
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    losses = []
    for _ in range(100):
        optimiser.zero_grad()
        loss = _ctc_loss(model, images, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimiser.step()
        losses.append(loss.item())
    assert all(map(torch.isfinite, map(torch.tensor, losses)))
    assert losses[-1] < losses[0] / 10, losses[::10]
    model.eval()
    with torch.no_grad():
        decoded = [[i for i in row if i] for row in ctc_greedy_ids(model(images))]
    assert decoded == targets


def ctc_greedy_ids(logits: torch.Tensor) -> list[list[int]]:
    return [[i for j, i in enumerate(row) if j == 0 or row[j - 1] != i] for row in logits.argmax(-1).tolist()]


# --- the auxiliary jamo head ---------------------------------------------------------------------


def test_jamo_targets_split_syllables_and_mark_other_characters() -> None:
    from kocr.models.objectives import jamo_targets

    targets, lengths = jamo_targets(["한 A", "가"])
    # 한 = ᄒ(18) ᅡ(0) ᆫ(final 4); space and A are "not Hangul" (68); 가 = ᄀ(0) ᅡ(0), no final.
    assert targets[0, : lengths[0]].tolist() == [19, 20, 44, 68, 68]
    assert targets[1, : lengths[1]].tolist() == [1, 20]
    assert lengths.tolist() == [5, 2]


def test_a_jamo_head_trains_but_never_changes_inference() -> None:
    from kocr.charsets import Charset
    from kocr.models import create_model
    from kocr.models.crnn import JAMO_HEAD_CLASSES
    from kocr.models.objectives import CTCObjective

    torch.manual_seed(0)
    charset = Charset(list("가나다한 A"))
    model = create_model("vgg-bilstm-ctc-small-jamo", len(charset) + 1, output_channel=32, hidden_size=32)
    assert model.config["jamo_head"] == 0.5 and model.JamoPrediction.out_features == JAMO_HEAD_CLASSES
    images = torch.randn(2, 1, 32, 96)
    objective = CTCObjective(charset)
    with_head = objective.loss(model, images, ["가나", "한 A"])
    with_head.backward()
    assert model.JamoPrediction.weight.grad is not None and model.JamoPrediction.weight.grad.abs().sum() > 0
    model.config["jamo_head"] = 0.0  # the same weights scored without the auxiliary loss
    assert with_head.item() > objective.loss(model, images, ["가나", "한 A"]).item()
    model.eval()
    syllables, jamo = model.forward_with_jamo(images)
    assert torch.equal(syllables, model(images)) and jamo.shape[-1] == JAMO_HEAD_CLASSES
