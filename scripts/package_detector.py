"""Write the bundled line detector's ONNX twin and bind it (after ``scripts/train_detector.sh``).

    python scripts/package_detector.py [kocr/weights/lines.pt]

Exports the detector to ``lines.onnx`` beside it (checked against PyTorch: ``kocr.pages.db_onnx``) and
records both files' sha256 in ``kocr/weights/twins.json``, which is what lets ``--line-finder db`` and
``auto``'s second look run it with ONNX Runtime offline and with an empty cache (``kocr.twins``).
Replace ``lines.pt`` only with this script run after it, or the twin is no longer used.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kocr.fileio import atomic_write_bytes
from kocr.pages.db_finder import BUNDLED_DETECTOR, load_detector
from kocr.pages.db_onnx import export_detector
from kocr.twins import bundled_twin, write_bundled_record


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("checkpoint", type=Path, nargs="?", default=BUNDLED_DETECTOR)
    checkpoint = parser.parse_args().checkpoint
    twin = atomic_write_bytes(bundled_twin(checkpoint), export_detector(load_detector(checkpoint).model))
    record = write_bundled_record(checkpoint, twin)
    print(f"wrote {twin} and {record}: binds {twin.name} to {checkpoint.name} by both files' sha256")


if __name__ == "__main__":
    main()
