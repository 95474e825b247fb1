"""What each inference lever buys, measured, not assumed: one checkpoint, the same lines, alternating rounds.

    python scripts/bench_levers.py /work/devset                        # the bundled model, 1,200 dev lines
    python scripts/bench_levers.py /work/devset --saved-model best_accuracy.pth --charset opt.txt --limit 64

Each variant reads every line the way ``kocr predict`` does (images already decoded, so only the model
side is compared: preprocessing, batching, the forward pass and decoding) and is timed once per round,
rounds interleaved so a busy machine slows all alike; the table gives the median lines/s, the ratio to
the first variant, and the CER on the dev labels (a lever that changes numerics must not cost accuracy:
issue 12 allows quantisation 0.1 CER points).

Variants:

- ``no_grad``: ``torch.no_grad`` instead of ``torch.inference_mode`` (what kocr uses);
- ``baseline``: :class:`kocr.Recognizer` as shipped;
- ``threads1``: one intra-op thread instead of one per core;
- ``bn-folded``: BatchNorm folded into the convolution before it (exact up to rounding);
- ``int8-dynamic``: ``torch.ao.quantization.quantize_dynamic`` on the LSTMs and Linear layers (batches
  padded the old way: a quantised LSTM has no float weights for kocr's per-line reverse pass);
- ``onnxruntime``: the model exported to ONNX and run by onnxruntime (needs the ``onnx`` extra);
- ``jit-frozen``: a TorchScript trace, frozen and ``optimize_for_inference`` (fixed-size models only);
- ``bf16-autocast``: the forward pass under ``torch.autocast("cpu", dtype=torch.bfloat16)``, logits
  back in float32 for decoding (fast where the CPU has bfloat16 instructions; changes the numerics).
"""

from __future__ import annotations

import argparse
import copy
import itertools
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

SPLITS = ("print-seen", "print-heldout", "hand-seen", "hand-heldout")


def fold_batchnorm(model):
    """A copy of ``model`` with each Conv2d → BatchNorm2d pair (in a Sequential, or named siblings) folded."""
    import torch
    from torch import nn

    folded = copy.deepcopy(model)
    for module in folded.modules():
        children = list(module.named_children())
        for (_, conv), (bn_name, bn) in itertools.pairwise(children):
            if isinstance(conv, nn.Conv2d) and isinstance(bn, nn.BatchNorm2d):
                scale = bn.weight / torch.sqrt(bn.running_var + bn.eps)
                with torch.no_grad():
                    conv.weight.mul_(scale.reshape(-1, 1, 1, 1))
                    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
                    conv.bias = nn.Parameter((bias - bn.running_mean) * scale + bn.bias)
                setattr(module, bn_name, nn.Identity())
    return folded


def with_bfloat16_forward(recognizer):
    """``recognizer`` with its model's forward run under bfloat16 autocast, returning float32 logits."""
    import torch

    forward = recognizer.model.forward

    def bfloat16_forward(*args, **kwargs):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            return forward(*args, **kwargs).float()

    recognizer.model.forward = bfloat16_forward
    return recognizer


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("devset", type=Path)
    parser.add_argument("--saved-model", default="default")
    parser.add_argument("--charset")
    parser.add_argument("--decoder", default="auto")
    parser.add_argument("--limit", type=int, help="lines per split")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--variants", nargs="+")
    args = parser.parse_args()

    import torch

    from kocr import metrics
    from kocr.data.images import load_image
    from kocr.data.labels.reader import read_label_file
    from kocr.predict import Recognizer

    images, truths = [], []
    for split in SPLITS:
        parsed = read_label_file(args.devset / split / "gt.txt", "gt", strict=True).records[: args.limit]
        images += [load_image(args.devset / split / r.image) for r in parsed]
        truths += [r.label for r in parsed]

    def load() -> Recognizer:
        return Recognizer.load(
            args.saved_model,
            device="cpu",
            batch_size=args.batch_size,
            charset=args.charset,
            decoder=args.decoder,
            engine="torch",  # each variant chooses its own engine
        )

    base = load()
    threads = torch.get_num_threads()
    variants: dict[str, tuple[Recognizer, Callable[[], object]]] = {
        "no_grad": (base, torch.no_grad),
        "baseline": (base, nullcontext),
        "threads1": (base, nullcontext),
    }
    folded = load()
    folded.model = fold_batchnorm(folded.model).eval()
    variants["bn-folded"] = (folded, nullcontext)
    quantised = load()
    quantised.model = torch.ao.quantization.quantize_dynamic(
        copy.deepcopy(quantised.model), {torch.nn.LSTM, torch.nn.Linear}, dtype=torch.qint8
    )
    # A quantised nn.LSTM exposes no float weights for the per-line reverse pass (batch invariance), so
    # this variant pads batches as kocr did before: its speed is comparable, its texts may differ a little.
    quantised.context_margin = 0
    variants["int8-dynamic"] = (quantised, nullcontext)
    temp = tempfile.TemporaryDirectory()
    try:
        from kocr.export import export_onnx
        from kocr.onnx_runtime import OnnxRecognizer

        path = Path(temp.name) / "model.onnx"
        source = base.source if args.saved_model != "default" else "default"
        export_onnx(source, path, charset=args.charset, check=False)
        onnx = OnnxRecognizer.load(path, batch_size=args.batch_size, threads=threads, decoder="greedy")
        onnx.decoder, onnx._decode = base.decoder, base.decoder or onnx._decode
        onnx.preprocess = base.preprocess
        variants["onnxruntime"] = (onnx, nullcontext)  # type: ignore[assignment]
    except Exception as exc:  # the onnx extra is optional
        print(f"onnxruntime skipped: {exc}")
    variants["bf16-autocast"] = (with_bfloat16_forward(load()), nullcontext)
    if not base.variable_width:
        frozen = load()
        c, h, w = base.preprocess.channels, base.preprocess.height, base.preprocess.width
        with torch.no_grad():
            traced = torch.jit.trace(copy.deepcopy(base.model), torch.zeros(2, c, h, w))
        frozen.model = torch.jit.optimize_for_inference(torch.jit.freeze(traced.eval()))
        variants["jit-frozen"] = (frozen, nullcontext)
    if args.variants:
        variants = {k: v for k, v in variants.items() if k in args.variants}

    times: dict[str, list[float]] = {name: [] for name in variants}
    texts: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for name, (recognizer, context) in variants.items():
            torch.set_num_threads(1 if name == "threads1" else threads)
            with context():
                start = time.perf_counter()
                predictions = recognizer.predict_images(images)
                times[name].append(time.perf_counter() - start)
            texts[name] = [p.text for p in predictions]
    torch.set_num_threads(threads)
    first = statistics.median(next(iter(times.values())))
    print(f"{len(images)} lines, {args.rounds} rounds, {threads} threads; model {base.source}")
    print(f"decoder: {base.describe_decoder()}")
    print(f"{'variant':<14} {'lines/s':>9} {'vs first':>9} {'CER':>8} {'same texts':>11}")
    reference = texts.get("baseline") or next(iter(texts.values()))
    for name, values in times.items():
        seconds = statistics.median(values)
        same = sum(a == b for a, b in zip(texts[name], reference, strict=True))
        cer = metrics.cer(truths, texts[name])
        speed = len(images) / seconds
        print(f"{name:<14} {speed:>9.1f} {first / seconds:>8.2f}x {cer:>8.4f} {same:>6}/{len(images)}")
    temp.cleanup()


if __name__ == "__main__":
    main()
