"""Checkpoints: kocr's self-describing file format, and imports of the reference implementations' files.

- :mod:`~kocr.checkpoints.checkpoint`: :class:`Checkpoint`, a loaded checkpoint whatever its source;
- :mod:`~kocr.checkpoints.format`: the kocr format, :func:`save_checkpoint` and :func:`load_checkpoint`
  (``torch.load(weights_only=True)`` always);
- :mod:`~kocr.checkpoints.foreign`: clovaai, EasyOCR and strhub PARSeq files, the one path by which
  foreign weights enter kocr;
- :mod:`~kocr.checkpoints.train_state`: the optimiser, schedule and RNG state ``--resume`` restores;
- :mod:`~kocr.checkpoints.files`: the bundled model's path and a checkpoint file's sha256.
"""

from __future__ import annotations

from kocr.checkpoints.checkpoint import Checkpoint
from kocr.checkpoints.format import CHECKPOINT_FORMAT, load_checkpoint, read_torch_file, save_checkpoint

__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "load_checkpoint", "read_torch_file", "save_checkpoint"]
