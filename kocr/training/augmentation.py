"""Training augmentation keyed per sample, so a resumed run augments exactly as an uninterrupted one.

Each draw of the training sampler carries a key ``(seed, epoch, draw)`` (:class:`KeyedSampler`), and the
sample read for it is augmented from a generator seeded by that key (:class:`TrainTransform`): the same
sample at the same point of the run gets the same augmentation whichever DataLoader worker reads it, and
after a resume too (a generator seeded per worker restarted from its seed when a run was resumed). The
key is an argument of each call, not state set on a shared transform.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch.utils.data import ConcatDataset, Dataset, Sampler

from kocr.training.sampling import MixedEpochSampler

#: ``(seed, epoch, draw)``: which augmentation a sample gets.
SampleKey = tuple[int, int, int]


@dataclass(frozen=True)
class TrainTransform:
    """Augment (PIL → PIL, optional) from the sample's key, then preprocess (PIL → tensor)."""

    augment: Callable[..., Image.Image] | None  # kocr.data.transforms.Augment; None: --no-augment
    preprocess: Callable[[Image.Image], torch.Tensor]  # kocr.data.transforms.Preprocess

    def __call__(self, image: Image.Image, key: SampleKey) -> torch.Tensor:
        if self.augment is not None:
            image = self.augment(image, rng=np.random.default_rng(list(key)))
        return self.preprocess(image)


class KeyedSampler(Sampler[tuple[int, SampleKey]]):
    """The training sampler's indices, each with its key: ``draw`` counts the epoch's draws across all
    ranks, so a sample drawn twice in an epoch is augmented twice differently, and a resumed run (which
    skips the epoch's first draws) keys the rest as before."""

    def __init__(self, sampler: MixedEpochSampler) -> None:
        self.sampler = sampler

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self) -> Iterator[tuple[int, SampleKey]]:
        s = self.sampler
        for k, index in enumerate(s):
            draw = s.rank + s.world_size * (s.start + k)
            yield index, (s.seed % 2**63, s.epoch, draw)


class KeyedSamples(Dataset):
    """``(transform(image, key), label)`` for an ``(index, key)`` from :class:`KeyedSampler`, where
    ``dataset[index]`` is ``(image, label)`` as stored (opened without a transform)."""

    def __init__(self, dataset: ConcatDataset, transform: TrainTransform) -> None:
        self.dataset = dataset
        self.transform = transform

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, item: tuple[int, SampleKey]) -> tuple[torch.Tensor, str]:
        index, key = item
        image, label = self.dataset[index]
        return self.transform(image, key), label
