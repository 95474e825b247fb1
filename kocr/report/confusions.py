"""The most frequent misread pairs (syllables or jamo) with a few examples of each, in bounded memory.

Counting every pair is cheap (one counter entry per distinct pair); keeping examples is not, so each pair
keeps at most ``examples`` of them, drawn by reservoir sampling with a fixed seed (every occurrence as
likely to be shown, the same examples on every run). When examples are held for more than
``max_tracked`` pairs, those of all but the most frequent ``keep`` pairs are dropped; a dropped pair that
becomes frequent later samples again from its later occurrences. So memory stays at most
``max_tracked × examples`` examples however many lines are evaluated.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Example = TypeVar("Example")
Pair = tuple[str, str]


@dataclass
class _Reservoir(Generic[Example]):
    seen: int = 0
    items: list[Example] = field(default_factory=list)


@dataclass(frozen=True)
class Confusion(Generic[Example]):
    """One misread pair: truth, what was read instead, how often, and sampled examples."""

    truth: str
    predicted: str
    count: int
    examples: list[Example]


class ConfusionSampler(Generic[Example]):
    """Counts (truth, predicted) pairs and samples up to ``examples`` examples of each."""

    def __init__(self, *, examples: int = 3, keep: int = 256, max_tracked: int = 4096, seed: int = 0) -> None:
        if keep > max_tracked:
            raise ValueError(f"keep ({keep}) must not exceed max_tracked ({max_tracked})")
        self.counts: Counter[Pair] = Counter()
        self.examples = examples
        self.keep = keep
        self.max_tracked = max_tracked
        self._reservoirs: dict[Pair, _Reservoir[Example]] = {}
        self._random = random.Random(seed)

    def add(self, pair: Pair, example: Example, times: int = 1) -> None:
        """Count ``times`` occurrences of ``pair`` in one example (a line misreading 의 as 이 twice is
        shown once); ``example`` may be kept to show it."""
        self.counts[pair] += times
        if not self.examples:
            return
        reservoir = self._reservoirs.get(pair)
        if reservoir is None:
            if len(self._reservoirs) >= self.max_tracked:
                self._prune()
            reservoir = self._reservoirs[pair] = _Reservoir()
        reservoir.seen += 1
        if len(reservoir.items) < self.examples:
            reservoir.items.append(example)
        else:
            slot = self._random.randrange(reservoir.seen)
            if slot < self.examples:
                reservoir.items[slot] = example

    def _prune(self) -> None:
        frequent = {pair for pair, _ in self.counts.most_common(self.keep)}
        self._reservoirs = {pair: r for pair, r in self._reservoirs.items() if pair in frequent}

    def most_common(self, n: int) -> list[Confusion[Example]]:
        """The ``n`` most frequent pairs (ties in first-seen order), each with its examples."""
        empty: _Reservoir[Example] = _Reservoir()
        return [
            Confusion(truth, predicted, count, list(self._reservoirs.get((truth, predicted), empty).items))
            for (truth, predicted), count in self.counts.most_common(n)
        ]

    @property
    def tracked(self) -> int:
        """How many pairs hold examples now (at most ``max_tracked``)."""
        return len(self._reservoirs)
