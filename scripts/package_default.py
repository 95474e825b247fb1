"""Turn a training run's checkpoint into the bundled default model (inference only).

    python scripts/package_default.py runs/default/best.pt [-o kocr/weights/default.pt] [--overwrite]
    python scripts/package_default.py kocr/weights/default.pt --normalize --overwrite   # see below

Drops the optimiser and scheduler state (``--resume`` needs them, prediction does not), keeps the
weights, model config, charset, preprocessing, the training options and the validation figures.

``--normalize`` / ``--no-normalize`` set the stored preprocessing's input normalisation
(``kocr.data.line_normalize``), which ``kocr predict`` and ``kocr eval`` follow unless told otherwise;
without either, the checkpoint's own setting is kept (off for models trained before it existed).
Re-packaging a packaged model keeps its weights and figures, so the second line above switches the
bundled model to normalised input and changes nothing else.
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
    parser.add_argument(
        "--normalize",
        action=argparse.BooleanOptionalAction,
        help="store input normalisation on or off (default: as the checkpoint has it)",
    )
    args = parser.parse_args()
    if args.output.exists() and not args.overwrite:
        raise SystemExit(f"{args.output} exists; pass --overwrite to replace it")
    checkpoint = load_checkpoint(args.checkpoint)
    step = (checkpoint.train_state or {}).get("step", checkpoint.metrics.get("step"))
    preprocess = dict(checkpoint.preprocess or {})
    if args.normalize is not None:
        preprocess["normalize"] = args.normalize
    path = save_checkpoint(
        args.output,
        model=checkpoint.build_model(),
        charset=checkpoint.require_charset(),
        preprocess=preprocess,
        train_config=checkpoint.train_config,
        metrics={**checkpoint.metrics, "step": step},
    )
    normalize = "on" if preprocess.get("normalize") else "off"
    print(
        f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB) from {args.checkpoint} at step {step}; "
        f"input normalisation {normalize}"
    )


if __name__ == "__main__":
    main()
