"""Turn a training run's checkpoint into the bundled default model (inference only).

    python scripts/package_default.py runs/default/best.pt [-o kocr/weights/default.pt] [--overwrite]
    python scripts/package_default.py kocr/weights/default.pt --normalize --overwrite   # see below

Drops the optimiser and scheduler state (``--resume`` needs them, prediction does not), keeps the
weights, model config, charset, preprocessing, the training options and the validation figures.

``--normalize`` / ``--no-normalize`` set the stored preprocessing's input normalisation
(``kocr.data.line_normalize``), which ``kocr predict`` and ``kocr eval`` follow unless told otherwise;
without either, the checkpoint's own setting is kept (off for models trained before it existed).
Re-packaging a packaged model keeps its weights and figures, so the second line above switches the
bundled model to normalised input and changes nothing else. Heads only training uses (the auxiliary
jamo head) are dropped. The model's ONNX twin (``default.onnx``, parity-checked against PyTorch) is
written next to it: ``kocr predict`` runs it with ONNX Runtime on the CPU (``kocr.load``: 1.4× the
speed of PyTorch, same texts), and ``kocr/weights/twins.json`` records both files' sha256, which is what
lets kocr trust that twin (``kocr.twins``: an ``.onnx`` file's own metadata is never trusted). Replace the
bundled files only through this script, or the twin is no longer used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from kocr.checkpoints import load_checkpoint, save_checkpoint
from kocr.export import export_onnx
from kocr.twins import write_bundled_record

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
        model=without_training_heads(checkpoint.build_model()),
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
    twin = export_onnx(path, path.with_suffix(".onnx"), overwrite=True)
    print(
        f"wrote its ONNX twin {twin.output} ({twin.size_bytes / 1e6:.1f} MB; ONNX Runtime vs PyTorch "
        f"max logit difference {twin.max_abs_diff:.2g}), which kocr predict runs on the CPU (kocr.load)"
    )
    if path.resolve() == DEFAULT_OUTPUT.resolve():
        record = write_bundled_record(path, twin.output)
        print(f"wrote {record}: binds {twin.output.name} to {path.name} by both files' sha256 (kocr.twins)")


def without_training_heads(model: torch.nn.Module) -> torch.nn.Module:
    """The model without heads only training uses (the auxiliary jamo head): smaller, same outputs."""
    if not model.config.get("jamo_head"):
        return model
    from kocr.models import build_model

    slim = build_model({**model.config, "jamo_head": 0.0}, model.num_classes)
    state = {k: v for k, v in model.state_dict().items() if not k.startswith("JamoPrediction.")}
    slim.load_state_dict(state)
    return slim


if __name__ == "__main__":
    main()
