"""End-to-end predict speed (images/s): PyTorch vs ONNX Runtime, batch 1 vs batched, width-sorted or not.

Each timing is one full ``predict`` pass over N synthetic text lines (Noto Sans KR, 2-30 characters of the
model's charset, so widths vary ~15x): preprocessing, batching, the forward pass and decoding, as
``kocr predict`` runs them. Batched runs use either kocr's aspect-ratio batching (lines sorted by width,
each batch padded to its widest line) or input order (each batch padded to its widest line, which for
random order is close to the widest line of all). Batch 1 needs no padding, so it has one row per engine.

Shared machines skew CPU timings, so every configuration runs once per round, rounds interleaved, and the
table gives the median with min-max. Compare rows of one run, not numbers across runs. Speed does not
depend on training, so by default an untrained ``vgg-bilstm-ctc-small`` with the ``ko-2350`` charset is
saved to a temporary checkpoint; pass ``--saved-model`` to time a real one. Needs ``kocr-hangul[onnx]``
and the Noto font of the ``fonts`` extra.

Usage::

    python -m benchmarks.predict                       # 256 lines, 5 rounds, 2 threads
    python -m benchmarks.predict --saved-model runs/exp/best.pt --num 512 --rounds 7
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageDraw, ImageFont

from benchmarks.fixtures import untrained_crnn
from benchmarks.timing import alternate, stopwatch

if TYPE_CHECKING:
    import torch

    from kocr.charsets import Charset
    from kocr.codecs import Decoded

# Set before torch starts OpenMP (torch and kocr are imported in main(); none of the imports above loads
# torch). On shared CPUs, OpenMP threads that spin while waiting starve each other (see
# scripts/train_default.sh): with a training job on the same two cores, PyTorch's batch-1 predict ran at
# 0.3 images/s with the default policy and 78 with PASSIVE.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@dataclass
class Config:
    engine: str  # "PyTorch" | "ONNX Runtime"
    batch_size: int
    sort_by_width: bool
    preprocess: object
    decode: Callable[[torch.Tensor, torch.Tensor | None], Sequence[Decoded]]
    margin: int = 0  # the recogniser's context margin (batch invariance)

    @property
    def batching(self) -> str:
        if self.batch_size == 1:
            return "-"
        return "width-sorted" if self.sort_by_width else "input order"

    def run(self, images: Sequence[Image.Image]) -> list[Decoded]:
        from kocr.runtime.batching import predict_batched

        return predict_batched(
            [self.preprocess(image) for image in images],  # type: ignore[operator]
            self.preprocess,
            self.decode,
            batch_size=self.batch_size,
            variable_width=self.sort_by_width,
            context_margin=self.margin if self.sort_by_width else 0,
        )

    def rate(self, images: Sequence[Image.Image]) -> float:
        """Images per second of one full pass."""
        return len(images) / stopwatch(self.run, images)[0]


def synthetic_lines(charset: Charset, count: int, seed: int) -> list[Image.Image]:
    """Black-on-white lines of 2-30 random charset symbols (spaces allowed inside), 32-48 px high."""
    import pylopdf_fonts_ko

    rng = random.Random(seed)
    font_path = str(pylopdf_fonts_ko.sans_path())
    symbols = [s for s in charset if s.strip()]
    images = []
    for _ in range(count):
        length = rng.randint(2, 30)
        text = "".join(
            " " if 0 < i < length - 1 and rng.random() < 0.15 else rng.choice(symbols) for i in range(length)
        )
        font = ImageFont.truetype(font_path, rng.randint(22, 34))
        height = int(font.size * 1.4)
        image = Image.new("L", (int(font.getlength(text)) + 12, height), 255)
        ImageDraw.Draw(image).text((6, (height - font.size) // 2 - 2), text, font=font, fill=0)
        images.append(image)
    return images


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.predict", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--saved-model", help="checkpoint to time (default: an untrained vgg-bilstm-ctc-small)"
    )
    parser.add_argument("--num", type=int, default=256, help="synthetic lines per pass")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="torch and onnxruntime intra-op threads")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved measurement rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import onnxruntime
    import torch

    from kocr.export import export_onnx
    from kocr.load import load_recognizer
    from kocr.runtime.onnx_engine import OnnxRecognizer

    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = Path(args.saved_model) if args.saved_model else untrained_crnn(Path(tmp))
        onnx_path = Path(tmp) / "model.onnx"
        report = export_onnx(checkpoint, onnx_path, batch_sizes=(1, 4))
        torch_rec = load_recognizer(checkpoint, device="cpu")
        onnx_rec = OnnxRecognizer.load(onnx_path, threads=args.threads, providers=["CPUExecutionProvider"])
        images = synthetic_lines(torch_rec.charset, args.num, args.seed)

        def torch_decode(batch: torch.Tensor, widths: torch.Tensor | None = None) -> list[Decoded]:
            with torch.inference_mode():
                return torch_rec.decode_batch(batch, widths)

        configs = []
        for engine, recognizer, decode in (
            ("PyTorch", torch_rec, torch_decode),
            ("ONNX Runtime", onnx_rec, onnx_rec.decode_batch),
        ):
            preprocess, margin = recognizer.preprocess, recognizer.context_margin
            configs.append(Config(engine, 1, True, preprocess, decode, margin))
            if torch_rec.variable_width:
                configs.append(Config(engine, args.batch_size, True, preprocess, decode, margin))
            configs.append(Config(engine, args.batch_size, False, preprocess, decode, margin))

        outputs = {}
        for config in configs:  # warm-up (oneDNN/onnxruntime caches); keep the texts to compare engines
            outputs[(config.engine, config.batch_size, config.sort_by_width)] = config.run(images[:64])
        rates = alternate({index: partial(c.rate, images) for index, c in enumerate(configs)}, args.rounds)

    torch_texts = [p.text for p in outputs[("PyTorch", 1, True)]]
    onnx_texts = [p.text for p in outputs[("ONNX Runtime", 1, True)]]
    same = sum(a == b for a, b in zip(torch_texts, onnx_texts, strict=True))
    widths = sorted(image.width * torch_rec.preprocess.height / image.height for image in images)
    name = checkpoint.name if args.saved_model else "untrained vgg-bilstm-ctc-small (ko-2350)"
    print(
        f"{name}: {args.num} lines, resized widths {widths[0]:.0f}-{widths[-1]:.0f} px "
        f"(median {statistics.median(widths):.0f}); ONNX parity max abs diff {report.max_abs_diff:.2e}, "
        f"batch-1 texts identical for {same}/{len(torch_texts)} lines"
    )
    print(
        f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}, {args.threads} threads, "
        f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end; images/s, median [min-max] of {args.rounds} interleaved rounds"
    )
    print("| engine       | batch | batching     | images/s | min-max         |")
    print("|--------------|------:|--------------|---------:|-----------------|")
    for index, c in enumerate(configs):
        spread = f"{min(rates[index]):.0f}-{max(rates[index]):.0f}"
        print(
            f"| {c.engine:<12} | {c.batch_size:5d} | {c.batching:<12} | "
            f"{statistics.median(rates[index]):8.1f} | {spread:<15} |"
        )


if __name__ == "__main__":
    main()
