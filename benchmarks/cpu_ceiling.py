"""How fast could *any* float32 program run a model on this machine? The bound behind a speed target.

    python -m benchmarks.cpu_ceiling                      # clovaai TPS-ResNet-BiLSTM-CTC, 2,417 symbols
    python -m benchmarks.cpu_ceiling --demo-seconds 15.8  # + the best ratio to a run that took 15.8 s

Issue 12 asks ``kocr predict`` to read a TRBC checkpoint's lines at least 2x as fast as clovaai's
``demo.py``, with identical texts. Both run the same float32 convolutions, and TPS fixes every line at
32 x 100 pixels, so batching by width cannot save work. This script measures, in one process, what
bounds every float32 implementation here:

- the model's forward cost: FLOPs per line (``torch.utils.flop_counter``), on the seeded random TRBC
  checkpoint ``benchmarks.vs_clovaai`` times (``benchmarks.fixtures.clovaai_trbc``);
- the GFLOP/s each float32 engine reaches on that forward at batch 64 — PyTorch (oneDNN convolutions)
  and ONNX Runtime (MLAS) — with ``torch.mm`` on 2,048² matrices (MKL) alongside for scale;
- the floor every PyTorch program pays before its first line: ``python -c "import torch"``, timed in a
  subprocess;
- the same forward under bfloat16 autocast: its speed, and how many of the batch's greedy readings it
  changes against float32.

It prints the shortest end-to-end time a float32 program could take for ``--lines`` lines at the
fastest engine's rate (the import floor plus the forward passes; loading, decoding and output for
free) and, given ``--demo-seconds`` (what ``benchmarks.vs_clovaai`` measured for demo.py), the
largest ratio to demo.py that float32 allows, and the GFLOP/s a 2x ratio would need.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.fixtures import clovaai_trbc
from benchmarks.timing import best_of, stopwatch

# Before torch starts OpenMP: torch loads in main(), and none of the imports above loads it.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def matmul_gflops(dtype, size: int = 2048, repeats: int = 5) -> float:
    """The best GFLOP/s ``torch.mm`` reaches on square ``size`` matrices of ``dtype``."""
    import torch

    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    return 2 * size**3 / best_of(lambda: torch.mm(a, b), repeats)[0] / 1e9


def import_floor(repeats: int = 3) -> float:
    """Median wall seconds of a fresh interpreter that only imports torch."""
    command = [sys.executable, "-c", "import torch"]
    return statistics.median(stopwatch(subprocess.run, command, check=True)[0] for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.cpu_ceiling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lines", type=int, default=256, help="lines in the run being bounded")
    parser.add_argument("--demo-seconds", type=float, help="measured end-to-end seconds of the reference")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from kocr.export import export_onnx
    from kocr.load import load_recognizer
    from kocr.runtime.onnx_engine import OnnxRecognizer

    temp = tempfile.TemporaryDirectory()
    checkpoint, charset = clovaai_trbc(Path(temp.name))
    model = load_recognizer(checkpoint, charset=str(charset), engine="torch", device="cpu").model
    config = model.config
    shape = (int(config["input_channel"]), int(config["img_h"]), int(config["img_w"]))
    batch = torch.rand(args.batch_size, *shape)
    onnx_path = Path(temp.name) / "trbc.onnx"
    export_onnx(checkpoint, onnx_path, charset=charset, check=False)
    onnx = OnnxRecognizer.load(onnx_path, batch_size=args.batch_size, decoder="greedy")

    with torch.inference_mode():
        counter = FlopCounterMode(display=False)
        with counter:
            model(batch[:1])
        flops = counter.get_total_flops() * args.batch_size  # per batch
        torch_seconds, fp32_logits = best_of(lambda: model(batch), args.repeats)
        seconds = {
            "PyTorch": torch_seconds,
            "ONNX Runtime": best_of(lambda: onnx.logits(batch), args.repeats)[0],
        }
        with torch.autocast("cpu", dtype=torch.bfloat16):
            bf16_seconds, bf16_logits = best_of(lambda: model(batch), args.repeats)
    changed = int((fp32_logits.argmax(-1) != bf16_logits.float().argmax(-1)).any(dim=1).sum())
    mm32, mm16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    floor = import_floor()
    temp.cleanup()

    per_line = flops / args.batch_size
    print(f"{torch.get_num_threads()} threads, torch {torch.__version__}; batch {args.batch_size}")
    print(f"TPS-ResNet-BiLSTM-CTC forward: {per_line / 1e9:.2f} GFLOP per 32x100 line")
    print(f"torch.mm 2048² (MKL), for scale: float32 {mm32:.0f} GFLOP/s, bfloat16 {mm16:.0f} GFLOP/s")
    for engine, value in seconds.items():
        ms = value * 1000 / args.batch_size
        print(f"float32 {engine:<13} {ms:6.1f} ms/line  {flops / value / 1e9:5.0f} GFLOP/s")
    print(
        f"bfloat16 autocast     {bf16_seconds * 1000 / args.batch_size:6.1f} ms/line  "
        f"{flops / bf16_seconds / 1e9:5.0f} GFLOP/s  ({min(seconds.values()) / bf16_seconds:.2f}x the "
        f"fastest float32; greedy readings changed in {changed} of {args.batch_size} lines)"
    )
    fastest = max(flops / value for value in seconds.values())
    forward = per_line * args.lines / fastest
    best = floor + forward
    print(f"import floor (python -c 'import torch'): {floor:.2f} s")
    print(
        f"fastest float32 run of {args.lines} lines: {best:.2f} s = import {floor:.2f} s + forward "
        f"{forward:.2f} s at {fastest / 1e9:.0f} GFLOP/s (loading, preprocessing, decoding, output free)"
    )
    if args.demo_seconds:
        needed = per_line * args.lines / max(args.demo_seconds / 2 - floor, 1e-9) / 1e9
        print(
            f"reference run {args.demo_seconds:.2f} s: float32 allows at most "
            f"{args.demo_seconds / best:.2f}x; 2x needs the forward at {needed:.0f} GFLOP/s, "
            f"{needed / (fastest / 1e9):.2f}x the fastest engine"
        )


if __name__ == "__main__":
    main()
