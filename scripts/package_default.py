"""Turn a training run's checkpoint into the bundled default model (inference only).

    python scripts/package_default.py runs/default/best.pt [-o kocr/weights/default.pt] [--overwrite]

Drops the optimiser and scheduler state (``--resume`` needs them, prediction does not), keeps the
weights, model config, charset, preprocessing, the training options and the validation figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kocr.checkpoints import load_checkpoint, save_checkpoint

DEFAULT_OUTPUT = Path(__file__).resolve().parents[1] / "kocr" / "weights" / "default.pt"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args()
    if args.output.exists() and not args.overwrite:
        raise SystemExit(f"{args.output} exists; pass --overwrite to replace it")
    checkpoint = load_checkpoint(args.checkpoint)
    step = (checkpoint.train_state or {}).get("step")
    path = save_checkpoint(
        args.output,
        model=checkpoint.build_model(),
        charset=checkpoint.require_charset(),
        preprocess=checkpoint.preprocess or {},
        train_config=checkpoint.train_config,
        metrics={**checkpoint.metrics, "step": step},
    )
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) from {args.checkpoint} at step {step}")


if __name__ == "__main__":
    main()
