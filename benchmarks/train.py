"""Training and inference speed of kocr's models, side by side, with peak memory.

    python -m benchmarks.train [--models tps-resnet-bilstm-ctc vgg-bilstm-ctc-small ...] [--rounds 2]

For each model (charset ko-2350, 2,473 symbols) and batch size, a fresh process measures:

- training samples/s at batch 32 and 64: the real training step (``objective.loss``, backward, AdamW,
  gradient clipping) on random images with random 10-symbol labels, after warm-up; data loading excluded;
- peak RSS of that process (MiB);
- inference images/s at batch 1 and 64 (forward + decoding, ``torch.inference_mode``);
- with ``--bf16``, also training at batch 64 under bf16 autocast (what ``kocr train --amp bf16`` does), to
  see whether a CPU with AVX512-BF16/AMX trains faster that way.

Models run in alternating rounds so a busy machine skews them alike; medians are printed, with the
clovaai TPS-ResNet-BiLSTM-CTC as the baseline the ratios refer to. CUDA is measured too when present.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from functools import partial

from benchmarks.timing import alternate

DEFAULT_MODELS = (
    "tps-resnet-bilstm-ctc",
    "vgg-bilstm-ctc-small",
    "vgg-bilstm-ctc-h32",
    "parseq-tiny",
    "parseq",
)

WORKER = r"""
import json, resource, sys, time
import torch
from kocr.charsets import Charset
from kocr.models import create_model, num_classes_for_charset
from kocr.models.registry import objective_for
from kocr.training.optim import build_optimizer, parameter_groups

name, mode, device = sys.argv[1], sys.argv[2], sys.argv[4]
batch, seconds = int(sys.argv[3]), float(sys.argv[5])
torch.manual_seed(0)
charset = Charset.preset("ko-2350")
model = create_model(name, num_classes_for_charset(len(charset))).to(device)
cfg = model.config
if cfg["arch"] == "parseq":
    (h, w), c = cfg["img_size"], cfg["in_channels"]
else:
    h, w, c = cfg["img_h"], cfg["img_w"], cfg["input_channel"]
objective = objective_for(cfg["arch"], charset)
images = torch.rand(batch, c, h, w, device=device) * 2 - 1
symbols = charset.symbols[95 + 28:]  # Hangul
labels = ["".join(symbols[(i * 7 + j * 13) % len(symbols)] for j in range(10)) for i in range(batch)]

def sync():
    if device.startswith("cuda"):
        torch.cuda.synchronize()

autocast = torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=mode == "train-bf16")
if mode.startswith("train"):
    model.train()
    optimizer = build_optimizer("adamw", parameter_groups(model, 1e-4), 1e-3, 1e-4)
    def step():
        with autocast:
            loss = objective.loss(model, images, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
else:
    model.eval()
    def step():
        with torch.inference_mode():
            objective.decode(model, images)

for _ in range(2):
    step()
sync()
count, start = 0, time.perf_counter()
while time.perf_counter() - start < seconds or count < 3:
    step()
    count += 1
sync()
elapsed = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"per_s": count * batch / elapsed, "rss_mib": rss}))
"""


def measure(name: str, mode: str, batch: int, device: str, seconds: float) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", WORKER, name, mode, str(batch), device, str(seconds)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise SystemExit(f"{name} {mode} batch {batch} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per case")
    parser.add_argument("--json", help="also write the medians here")
    parser.add_argument("--bf16", action="store_true", help="also train at batch 64 under bf16 autocast")
    args = parser.parse_args()

    import torch

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    cases = [
        (mode, batch) for mode, batches in (("train", (32, 64)), ("infer", (1, 64))) for batch in batches
    ] + ([("train-bf16", 64)] if args.bf16 else [])
    runs = {
        (device, name, mode, batch): partial(measure, name, mode, batch, device, args.seconds)
        for device in devices
        for mode, batch in cases
        for name in args.models  # models alternate within each case
    }
    samples = alternate(runs, args.rounds, progress=True)

    medians = {
        key: {field: statistics.median(s[field] for s in runs) for field in ("per_s", "rss_mib")}
        for key, runs in samples.items()
    }
    baseline = args.models[0]
    print(
        f"medians of {args.rounds} rounds; ratio = speed / {baseline}'s; "
        f"torch threads {torch.get_num_threads()}"
    )
    print(f"{'device':<6} {'model':<24} {'case':<14} {'per s':>9} {'ratio':>7} {'peak RSS MiB':>13}")
    for (device, name, mode, batch), figures in medians.items():
        base = medians[(device, baseline, mode, batch)]["per_s"]
        unit = "samples" if mode.startswith("train") else "images"
        print(f"{device:<6} {name:<24} {mode + ' b' + str(batch):<14} {figures['per_s']:>9.1f} "
              f"{figures['per_s'] / base:>6.1f}x {figures['rss_mib']:>13.0f}  {unit}/s")  # fmt: skip
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"|".join(map(str, k)): v for k, v in medians.items()}, handle, indent=2)


if __name__ == "__main__":
    main()
