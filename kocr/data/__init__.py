"""Data: label files, converters, LMDB datasets, synthetic text lines, transforms."""

DEFAULT_MAX_PIXELS = 180_000_000
"""The most pixels an image kocr decodes may have unless told otherwise (``--max-pixels``,
:func:`kocr.data.images.set_max_pixels`): a 600 dpi A2 scan (140 MP) reads, a 14000×14000 decompression
bomb is reported and skipped. Here, away from numpy and PIL, so ``kocr --help`` can show it quickly."""
