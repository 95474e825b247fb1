"""Parameter counts and CPU inference speed of the registered recognition models, side by side.

Every model is built untrained with a Korean-sized output layer (default 2,451 classes = 2,450 symbols + 1)
and fed random images of its config size (``img_h`` x ``img_w``; PARSeq ``img_size``). Timings are
forward passes only (no decoding), under ``torch.inference_mode`` with a fixed thread count.

Shared machines skew CPU timings badly, so the models are measured in interleaved rounds (every model
once per round) and the median per model is reported; compare rows of one run, not numbers across runs.
Run it on an otherwise idle machine: when another multi-threaded torch process shares the cores, OpenMP
threads wait on each other and small forward passes slow down 10-100x (``--threads 1`` suffers less).

Untrained PARSeq rarely emits [E], so its AR loop runs all max_label_length + 1 steps: a worst case.
Append ``:nar`` to a PARSeq name to time non-autoregressive decoding instead (e.g. ``parseq-tiny:nar``).

Usage::

    python -m benchmarks.models                      # all registered models
    python -m benchmarks.models --models vgg-bilstm-ctc-small,parseq-tiny:nar --rounds 5
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import torch

from benchmarks.timing import alternate
from kocr.models import create_model, list_models, model_config


@dataclass
class Case:
    label: str
    params: int
    input_shape: tuple[int, int, int]
    steps: int
    run: Callable[[torch.Tensor], torch.Tensor]


def make_case(spec: str, num_classes: int) -> Case:
    name, _, mode = spec.partition(":")
    cfg = model_config(name)
    model = create_model(name, num_classes).eval()
    params = sum(p.numel() for p in model.parameters())
    if cfg["arch"] == "parseq":
        h, w = cfg["img_size"]
        shape = (cfg["in_channels"], h, w)
        decode_ar = mode != "nar"

        def run(x: torch.Tensor) -> torch.Tensor:
            return model(x, decode_ar=decode_ar)

        steps = cfg["max_label_length"] + 1
    else:
        shape = (cfg["input_channel"], cfg["img_h"], cfg["img_w"])
        run = model
        steps = model.output_length(cfg["img_w"])
    return Case(spec, params, shape, steps, run)


def measure(case: Case, batch: int, min_time: float) -> float:
    """Images per second over at least ``min_time`` seconds (and at least one call)."""
    x = torch.rand(batch, *case.input_shape) * 2 - 1
    n, start = 0, time.perf_counter()
    while True:
        case.run(x)
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return n * batch / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--models", default=",".join(list_models()), help="comma list; PARSeq may end in :nar"
    )
    parser.add_argument("--num-classes", type=int, default=2451, help="output classes (charset + 1)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-sizes", default="1,32")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds (median kept)")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per measurement")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    batches = [int(b) for b in args.batch_sizes.split(",")]
    cases = [make_case(s.strip(), args.num_classes) for s in args.models.split(",") if s.strip()]

    with torch.inference_mode():
        for case in cases:  # warm-up: allocator, oneDNN primitive caches
            for b in batches:
                measure(case, b, 0.0)
        rates = alternate(
            {
                (index, b): partial(measure, case, b, args.min_time)
                for index, case in enumerate(cases)
                for b in batches
            },
            args.rounds,
        )

    print(
        f"torch {torch.__version__}, {args.threads} threads, {args.num_classes} classes, "
        f"median of {args.rounds} interleaved rounds, images/s (forward only)"
    )
    head = f"| {'model':<26} | params (M) | fp32 MB | input CxHxW | steps |"
    head += "".join(f" b{b} img/s |" for b in batches)
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for index, case in enumerate(cases):
        c, h, w = case.input_shape
        row = f"| {case.label:<26} | {case.params / 1e6:10.2f} | {case.params * 4 / 1e6:7.1f} |"
        row += f" {f'{c}x{h}x{w}':>11} | {case.steps:5d} |"
        row += "".join(
            f" {statistics.median(rates[index, b]):{len(f' b{b} img/s') - 1}.1f} |" for b in batches
        )
        print(row)


if __name__ == "__main__":
    main()
