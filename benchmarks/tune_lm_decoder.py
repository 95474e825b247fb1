"""Tune the beam decoder's LM order, LM weight, length bonus and beam width on the tuning set — never on
the dev benchmark.

    python scripts/make_lm_tuneset.py                  # once: corpus split + tune-print/-hand/-words
    python -m benchmarks.tune_lm_decoder [--orders 5,6,7] [--weights 0.2,0.4] [--bonuses 0,0.5,1] [--beams 8]
    python -m benchmarks.tune_lm_decoder --orders 6 --weights 0.5 --bonuses 2 --calibrate

LMs of each order are built from ``data/corpus/lm-train.txt`` (the held-out paragraphs never enter them).
Every setting is decoded on the same logits; the table gives CER per tuning split next to greedy's (same
run), decoding CPU ms per line, and the score used to choose: the mean over splits of CER / greedy CER,
among settings that are not worse than greedy on any split. ``--calibrate`` then fits the beam
confidence's Platt scaling, sigmoid(scale · logit(c) + shift), by log-loss against exact-line correctness
over all tuning lines, for the last setting of the grid, and prints the expected calibration error
(10 bins) before and after, greedy's alongside.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import numpy as np
import torch

from benchmarks.decoding import expected_calibration_error, run_decoder, split_logits
from kocr.decoding import GreedyDecoder
from kocr.decoding.beam import BeamSearchDecoder, BeamSettings
from kocr.lm.build import build_lm, encode_lines, read_corpus
from kocr.load import load_recognizer


def floats(text: str) -> list[float]:
    return [float(x) for x in text.split(",")]


def calibrate(splits, base, charset, lm, settings: BeamSettings) -> None:
    """Fit the beam confidence's Platt scaling (scale, shift) on the tuning lines; print ECE and log-loss."""
    truths = [t for s in splits for t in s.truths]

    def exact(texts: list[str]) -> np.ndarray:
        return np.array([t == p for t, p in zip(truths, texts, strict=True)])

    greedy_right = exact([x for s in splits for x in base[s.name].texts])
    greedy_conf = np.array([c for s in splits for c in base[s.name].confidences])
    ece = expected_calibration_error(greedy_conf, greedy_right)
    print(f"\ngreedy: ECE {ece:.4f}, mean confidence {greedy_conf.mean():.3f}", end="")
    print(f", exact lines {greedy_right.mean():.3f}")
    raw_settings = BeamSettings(**{**settings.__dict__, "confidence_scale": 1.0, "confidence_shift": 0.0})
    decoder = BeamSearchDecoder(charset, lm, raw_settings)
    results = {s.name: run_decoder(s, decoder) for s in splits}
    right = exact([x for s in splits for x in results[s.name].texts])
    raw = np.clip(np.array([c for s in splits for c in results[s.name].confidences]), 1e-9, 1 - 1e-9)
    logit = np.log(raw / (1 - raw))

    def loss(c: np.ndarray) -> float:
        c = np.clip(c, 1e-9, 1 - 1e-9)
        return float(-np.mean(right * np.log(c) + (1 - right) * np.log(1 - c)))

    fits = [
        (loss(1 / (1 + np.exp(-(a * logit + b)))), round(a, 2), round(b, 2))
        for a in np.arange(0.2, 1.5, 0.05)
        for b in np.arange(-1.5, 1.55, 0.05)
    ]
    _, scale, shift = min(fits)
    fitted = 1 / (1 + np.exp(-(scale * logit + shift)))
    for name, c in (("beam, raw", raw), (f"beam, Platt scale {scale} shift {shift}", fitted)):
        ece = expected_calibration_error(c, right)
        print(f"{name}: ECE {ece:.4f}, log-loss {loss(c):.4f}, mean confidence {c.mean():.3f}, "
              f"exact lines {right.mean():.3f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.tune_lm_decoder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus-dir", type=Path, default=Path("data/corpus"))
    parser.add_argument("--splits", default="tune-print,tune-hand,tune-words")
    parser.add_argument("--saved-model", default="default")
    parser.add_argument("--orders", default="6")
    parser.add_argument("--min-count", type=int, default=1)
    parser.add_argument("--weights", default="0.2,0.3,0.4,0.5,0.6")
    parser.add_argument("--bonuses", default="0,0.5,1,1.5")
    parser.add_argument("--beams", default="8")
    parser.add_argument("--min-prob", type=float, default=BeamSettings.min_prob)
    parser.add_argument("--calibrate", action="store_true", help="fit the beam confidence's Platt scaling")
    args = parser.parse_args()
    torch.set_num_threads(1)

    recognizer = load_recognizer(args.saved_model, device="cpu", decoder="greedy", engine="torch")
    splits = [split_logits(recognizer, args.corpus_dir / name) for name in args.splits.split(",")]
    greedy = GreedyDecoder(recognizer.charset)
    base = {s.name: run_decoder(s, greedy) for s in splits}
    lines, _ = read_corpus([args.corpus_dir / "lm-train.txt"])
    encoded, _ = encode_lines(lines, recognizer.charset)
    names = [s.name for s in splits]
    total_lines = sum(len(s.truths) for s in splits)
    head = " ".join(f"{n:>11}" for n in names)
    print(f"{'order':>5} {'weight':>6} {'bonus':>5} {'beam':>4} {head} {'ms/line':>8} {'score':>6}")
    greedy_cers = " ".join(f"{base[s.name].cer(s.truths):>11.4f}" for s in splits)
    greedy_ms = 1000 * sum(r.seconds for r in base.values()) / total_lines
    print(f"{'greedy':>23} {greedy_cers} {greedy_ms:>8.2f}")
    rows = []
    for order in map(int, args.orders.split(",")):
        lm = build_lm(encoded, recognizer.charset, order=order, min_count=args.min_count)
        for weight, bonus, beam in itertools.product(
            floats(args.weights), floats(args.bonuses), args.beams.split(",")
        ):
            settings = BeamSettings(
                beam_width=int(beam), lm_weight=weight, length_bonus=bonus, min_prob=args.min_prob
            )
            decoder = BeamSearchDecoder(recognizer.charset, lm, settings)
            results = {s.name: run_decoder(s, decoder) for s in splits}
            cers = [results[s.name].cer(s.truths) for s in splits]
            ratios = [c / max(base[s.name].cer(s.truths), 1e-9) for c, s in zip(cers, splits, strict=True)]
            score = sum(ratios) / len(ratios) if max(ratios) <= 1.0 else float("inf")
            ms = 1000 * sum(r.seconds for r in results.values()) / total_lines
            rows.append((score, order, weight, bonus, beam))
            line = " ".join(f"{c:>11.4f}" for c in cers)
            print(
                f"{order:>5} {weight:>6.2f} {bonus:>5.2f} {beam:>4} {line} {ms:>8.2f} {score:>6.3f}",
                flush=True,
            )
    if args.calibrate:
        calibrate(splits, base, recognizer.charset, lm, settings)
    best = min(rows)
    print(f"\nbest: order {best[1]}, LM weight {best[2]}, length bonus {best[3]}, beam {best[4]}", end="")
    print(f" (score {best[0]:.3f})")


if __name__ == "__main__":
    main()
