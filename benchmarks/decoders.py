"""CTC decoders side by side on the dev benchmark: greedy, kocr's beam search (with and without the LM),
flashlight-text's LexiconFreeDecoder (C++) and pyctcdecode, all on the same logits, in one run.

    pip install flashlight-text pyctcdecode          # optional: a decoder that is missing is skipped
    python -m benchmarks.decoders devset [--lm kocr/weights/default.lm] [--tesseract]

Per decoder and split: CER and exact lines; per decoder: decoding CPU ms per line (process time: steadier
than wall time on a shared machine) and the pipeline's lines/s in wall time, i.e. lines / (image loading,
preprocessing and the model's forward passes, measured once in this run, + that decoder's decoding), torch
on two threads as ``benchmarks.vs_tesseract`` runs it. ``--tesseract`` also runs Tesseract 5 (kor, --psm 7,
two processes at a time, wall time) on the same images in the same run. Calibration: expected calibration
error (10 bins) of kocr's confidences against exact-line correctness, greedy and beam.

Both C++/Python decoders get the same LM and weights as kocr's beam search. flashlight-text's wheel has
no KenLM, so its LM is a Python ``LM`` subclass over kocr's :class:`CharLM` (the same n-gram scores);
it has no per-token bonus, so the length bonus is folded into the LM score (score = log P + β/α, which
flashlight multiplies by α). pyctcdecode's LM interface is word-level (KenLM over space-separated words),
which does not fit a character LM over Korean, so it runs without an LM: its speed alone decides.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from benchmarks import tesseract
from benchmarks.decoding import Result, expected_calibration_error, run_decoder, split_logits
from benchmarks.devset import split_names
from benchmarks.timing import stopwatch
from kocr import metrics
from kocr.codecs import Decoded
from kocr.decoding import GreedyDecoder
from kocr.decoding.beam import BeamSearchDecoder, BeamSettings
from kocr.lm.model import CharLM
from kocr.load import load_recognizer


def flashlight_decoder(charset, lm: CharLM, settings: BeamSettings):
    """flashlight-text's lexicon-free CTC beam search with kocr's n-gram LM (None if not installed)."""
    try:
        from flashlight.lib.text.decoder import (
            LM,
            CriterionType,
            LexiconFreeDecoder,
            LexiconFreeDecoderOptions,
            LMState,
        )
    except ImportError:
        return None

    tokens = [lm.unk, *lm.tokens(charset)]
    bonus = settings.length_bonus / settings.lm_weight

    class KocrLM(LM):
        def __init__(self) -> None:
            LM.__init__(self)
            self.states: dict[LMState, int] = {}
            self.cache: dict[tuple[int, int], tuple[float, int]] = {}

        def _score(self, state: int, token: int) -> tuple[float, int]:
            hit = self.cache.get((state, token))
            if hit is None:
                hit = self.cache[(state, token)] = lm.score(state, token)
            return hit

        def start(self, start_with_nothing: bool) -> LMState:
            state = LMState()
            self.states[state] = lm.start
            return state

        def score(self, state: LMState, token_index: int) -> tuple[LMState, float]:
            logp, next_state = self._score(self.states[state], tokens[token_index])
            child = state.child(token_index)
            self.states.setdefault(child, next_state)
            return child, logp + bonus

        def finish(self, state: LMState) -> tuple[LMState, float]:
            logp, _ = self._score(self.states[state], lm.eos)
            return state, logp

    options = LexiconFreeDecoderOptions(
        beam_size=settings.beam_width,
        beam_size_token=settings.max_candidates,
        beam_threshold=float(np.log(settings.prune_ratio)),
        lm_weight=settings.lm_weight,
        sil_score=0.0,
        log_add=True,
        criterion_type=CriterionType.CTC,
    )
    language_model = KocrLM()
    space = charset.index(" ") + 1 if " " in charset else 0
    decoder = LexiconFreeDecoder(options, language_model, space, 0, [])

    def decode(logits: torch.Tensor) -> list[Decoded]:
        out = []
        log_probs = logits.float().log_softmax(-1).contiguous()
        for row in log_probs:
            steps, classes = row.shape
            best = decoder.decode(row.data_ptr(), steps, classes)[0]
            ids, previous = [], 0
            for token in best.tokens:
                if token != previous and token != 0:
                    ids.append(token)
                previous = token
            out.append(Decoded(charset.detokenize(charset[i - 1] for i in ids if i > 0), 0.0))
        language_model.states.clear()
        return out

    return decode


def pyctcdecode_decoder(charset, settings: BeamSettings):
    """pyctcdecode's beam search without an LM (None if not installed)."""
    try:
        from pyctcdecode import build_ctcdecoder
    except ImportError:
        return None
    import logging

    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    decoder = build_ctcdecoder(["", *charset])

    def decode(logits: torch.Tensor) -> list[Decoded]:
        log_probs = logits.float().log_softmax(-1).numpy()
        return [
            Decoded(
                decoder.decode(row, beam_width=settings.beam_width, token_min_logp=np.log(settings.min_prob)),
                0.0,
            )
            for row in log_probs
        ]

    return decode


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.decoders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("devset", type=Path)
    parser.add_argument("--saved-model", default="default")
    parser.add_argument("--lm", type=Path, default=Path("kocr/weights/default.lm"))
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--tesseract", action="store_true", help="also time Tesseract on the same images")
    parser.add_argument("--skip", default="", help="comma-separated decoders to leave out")
    args = parser.parse_args()

    recognizer = load_recognizer(
        args.saved_model, device="cpu", decoder="greedy", batch_size=args.batch_size, engine="torch"
    )
    charset = recognizer.charset
    lm = CharLM.load(args.lm)
    settings = BeamSettings(**{k: v for k, v in lm.header.get("decoder", {}).items()})
    names = split_names(args.devset)
    split_logits(recognizer, args.devset / names[0], args.batch_size)  # warm-up
    splits, forward_s = [], 0.0
    for name in names:
        seconds, split = stopwatch(split_logits, recognizer, args.devset / name, args.batch_size)
        splits.append(split)
        forward_s += seconds  # image loading, preprocessing and the forward pass
    lines = sum(len(s.truths) for s in splits)
    decoders = {
        "greedy": GreedyDecoder(charset),
        "kocr beam, no LM": BeamSearchDecoder(
            charset, None, BeamSettings(beam_width=settings.beam_width, length_bonus=0.0)
        ),
        "kocr beam + LM": BeamSearchDecoder(charset, lm, settings),
        "flashlight-text + LM": flashlight_decoder(charset, lm, settings),
        "pyctcdecode, no LM": pyctcdecode_decoder(charset, settings),
    }
    skip = set(filter(None, args.skip.split(",")))
    results: dict[str, dict[str, Result]] = {}
    for name, decoder in decoders.items():
        if decoder is None or name in skip:
            print(f"{name}: skipped" + (" (not installed)" if decoder is None else ""))
            continue
        results[name] = {s.name: run_decoder(s, decoder) for s in splits}

    print(f"\n{lines} lines; images loaded, preprocessed and run through the model: "
          f"{1000 * forward_s / lines:.2f} ms/line (wall, {torch.get_num_threads()} threads)")  # fmt: skip
    header = (
        f"{'decoder':<22}"
        + "".join(f"{s:>15}" for s in names)
        + f"{'overall':>9}{'ms/line':>9}{'lines/s':>9}"
    )
    print(header + "\n" + "-" * len(header))
    for name, per_split in results.items():
        cells = "".join(
            f"{per_split[s.name].cer(s.truths):>9.4f} {per_split[s.name].accuracy(s.truths):>4.0%}"
            for s in splits
        )
        truths = [t for s in splits for t in s.truths]
        texts = [t for s in splits for t in per_split[s.name].texts]
        seconds = sum(r.seconds for r in per_split.values())
        wall = sum(r.wall for r in per_split.values())
        print(f"{name:<22}{cells}{metrics.cer(truths, texts):>9.4f}{1000 * seconds / lines:>9.2f}"
              f"{lines / (forward_s + wall):>9.1f}")  # fmt: skip
    print("(per split: CER and exact lines)")
    for name in ("greedy", "kocr beam + LM"):
        if name in results:
            conf = [c for s in splits for c in results[name][s.name].confidences]
            right = [
                t == p for s in splits for t, p in zip(s.truths, results[name][s.name].texts, strict=True)
            ]
            print(f"calibration, {name}: ECE {expected_calibration_error(conf, right):.4f} (10 bins), "
                  f"mean confidence {np.mean(conf):.3f}, exact lines {np.mean(right):.3f}")  # fmt: skip
    if args.tesseract and tesseract.available():
        seconds = sum(stopwatch(tesseract.read_lines, s.images)[0] for s in splits)
        print(f"Tesseract {tesseract.version()} ({tesseract.DEFAULT_JOBS} processes, wall): "
              f"{lines / seconds:.1f} lines/s")  # fmt: skip
    print(f"model: {recognizer.source}; LM: {args.lm} (order {lm.order}); settings: {settings}")


if __name__ == "__main__":
    main()
