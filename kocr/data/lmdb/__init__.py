"""LMDBs in clovaai's layout: the key layout, the atomic writer, shared read handles, building one from
image files, the training dataset and its statistics.

The modules import py-lmdb as ``import lmdb``; absolute imports make that the installed library, never
this package.
"""
