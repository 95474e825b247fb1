"""Which sample each training step reads: mixing ratios, DDP shards, exact resume.

One sampler covers the three jobs so they cannot disagree:

- **mixing**: with several training sets and ratios (say 0.7 synthetic, 0.3 real), each epoch draws
  samples from each set in that proportion, cycling through a set's shuffled order when it is small;
- **sharding**: under DDP each rank takes every ``world_size``-th index of the same epoch order;
- **resume**: the order depends only on (seed, epoch), so a resumed run skips the batches already
  seen in the current epoch without reading them and continues with exactly the batches it would have
  trained on;
- **streams**: a part given as a :class:`StreamPart` (lines rendered on the fly,
  :mod:`kocr.data.synth.stream`) is not shuffled but read forward: its k-th draw in epoch e is local index
  ``e × epoch_size + k``, so every epoch reads new lines and a resume reads the same ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch
from torch.utils.data import Sampler


@dataclass(frozen=True)
class StreamPart:
    """A training part read as a stream: ``lines_per_epoch`` draws make one epoch's share."""

    lines_per_epoch: int

    def __len__(self) -> int:
        return self.lines_per_epoch


class MixedEpochSampler(Sampler[int]):
    """Indices into a ``ConcatDataset`` of datasets of ``sizes``, reading only the local indices ``parts[i]``.

    ``parts[i]`` leaves out, for example, the samples held out for validation.
    """

    def __init__(
        self,
        parts: Sequence[Sequence[int] | StreamPart],
        ratios: Sequence[float] | None = None,
        *,
        sizes: Sequence[int] | None = None,
        seed: int = 0,
        rank: int = 0,
        world_size: int = 1,
        epoch_size: int | None = None,
    ) -> None:
        if not parts or any(len(p) == 0 for p in parts):
            raise ValueError("every training set needs at least one usable sample")
        ratios = list(ratios) if ratios else [float(len(p)) for p in parts]
        if len(ratios) != len(parts) or min(ratios) < 0 or sum(ratios) <= 0:
            raise ValueError(f"need one non-negative ratio per training set, got {ratios}")
        self.parts = [p if isinstance(p, StreamPart) else list(p) for p in parts]
        self.weights = torch.tensor(ratios, dtype=torch.float64) / sum(ratios)
        sizes = list(sizes) if sizes is not None else [len(p) for p in self.parts]
        self.offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self.epoch_size = epoch_size or sum(len(p) for p in self.parts)
        self.epoch = 0
        self.start = 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        """Select the epoch's order and skip its first ``start`` indices of this rank."""
        self.epoch = epoch
        self.start = start

    def __len__(self) -> int:
        return self.epoch_size // self.world_size

    def epoch_order(self, epoch: int) -> list[int]:
        """The full order of one epoch, before sharding (global ConcatDataset indices)."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        choices = torch.multinomial(self.weights, self.epoch_size, replacement=True, generator=generator)
        # Each part is read in a fresh shuffled order, cycled if the epoch needs more samples than it has.
        cursors = [0] * len(self.parts)
        orders = [
            None if isinstance(p, StreamPart) else torch.randperm(len(p), generator=generator).tolist()
            for p in self.parts
        ]
        order = []
        for part in choices.tolist():
            shuffled = orders[part]
            if shuffled is None:  # a stream: read forward, past every earlier epoch's draws
                local = epoch * self.epoch_size + cursors[part]
            else:
                local = self.parts[part][shuffled[cursors[part] % len(shuffled)]]  # type: ignore[index]
            cursors[part] += 1
            order.append(self.offsets[part] + local)
        return order

    def __iter__(self) -> Iterator[int]:
        shard = self.epoch_order(self.epoch)[self.rank :: self.world_size][: len(self)]
        return iter(shard[self.start :])
