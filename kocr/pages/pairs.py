"""Vectorised building blocks the page modules share: every pair of intervals that overlap, groups from
pairs (union-find), and the positions inside groups laid end to end. All work on whole arrays, with no
Python loop per item: a page has thousands of components and hundreds of thousands of runs."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

MAX_PAIRS = 2_000_000  # pairs handed out per batch, to bound memory


def overlapping_pairs(
    top: np.ndarray, bottom: np.ndarray, slack: float
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every pair of intervals [top, bottom) that overlap or come within ``slack`` of each other, each
    pair once, in batches of at most about :data:`MAX_PAIRS`.

    Sorted by top, the intervals that pair with one starting earlier are those starting before its
    bottom (+ slack): a contiguous range found with one binary search."""
    n = top.size
    order = np.argsort(top, kind="stable")
    sorted_top = top[order]
    reach = np.searchsorted(sorted_top, bottom[order] + slack, side="left")
    count = np.maximum(reach - np.arange(n) - 1, 0)
    ends = np.cumsum(count)
    start = 0
    while start < n:
        base = int(ends[start - 1]) if start else 0
        stop = max(int(np.searchsorted(ends, base + MAX_PAIRS, side="right")), start + 1)
        counts = count[start:stop]
        positions = np.repeat(np.arange(start, stop), counts)
        yield order[positions], order[positions + 1 + ragged_arange(counts)]
        start = stop


def union_roots(n: int, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Each node's root (its group's smallest node) under the edges ``first[i]``–``second[i]``: hook
    every edge's larger root onto its smaller, then jump pointers until every node points at a root;
    repeat until no edge joins two roots (union-find, vectorised)."""
    parent = np.arange(n, dtype=np.int64)
    while first.size:
        a, b = parent[first], parent[second]
        low, high = np.minimum(a, b), np.maximum(a, b)
        apart = low != high
        if not apart.any():
            break
        first, second = first[apart], second[apart]
        np.minimum.at(parent, high[apart], low[apart])
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def ragged_arange(counts: np.ndarray) -> np.ndarray:
    """0, 1, …, count - 1 for each of ``counts``, laid end to end (int64): each item's position in its
    group when groups of those sizes are expanded with ``np.repeat``."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.arange(int(counts.sum()), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
