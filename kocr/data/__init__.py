"""Data: label files, converters, LMDB datasets, synthetic text lines, transforms."""
