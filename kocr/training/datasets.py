"""What a run reads: its training and validation sets, the training sampler, and their DataLoaders.

Training sets are opened without a transform and read through :class:`KeyedSamples`, which augments
each sample from its sampler key (:mod:`kocr.training.augmentation`); validation sets are opened with the
preprocessing alone. Without ``--valid-data`` a run validates on lines of a synthetic stream that
training never draws, or on samples held out of the first training set.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.utils.data import ConcatDataset, DataLoader, Dataset, Subset

from kocr.charsets import Charset
from kocr.data.sources import open_labelled_dataset, with_transform
from kocr.data.synth.stream import SynthStream
from kocr.data.transforms import Augment
from kocr.errors import KocrError
from kocr.training import distributed
from kocr.training.augmentation import KeyedSampler, KeyedSamples, TrainTransform
from kocr.training.config import TrainConfig
from kocr.training.sampling import MixedEpochSampler, StreamPart


@dataclass(frozen=True)
class TrainingData:
    train: KeyedSamples  # read at (index, key) pairs from KeyedSampler(sampler)
    sampler: MixedEpochSampler  # this rank's share of each epoch's order
    valid: Dataset


def open_training_data(
    config: TrainConfig,
    charset: Charset,
    max_length: int,
    preprocess: Any,
    dist_info: distributed.DistInfo,
    say: Callable[[str], None],
) -> TrainingData:
    """Open ``config``'s training and validation sets; ``say`` tells where validation samples come from
    when no ``--valid-data`` is given."""
    if not config.train_data:
        raise KocrError("no training data given (--train-data)")
    augment = Augment() if config.augment else None

    def open_set(path: str, transform: Any) -> Any:
        options = dict(charset=charset, max_length=max_length, case_fold=config.case_fold, image_mode=None)
        return open_labelled_dataset(path, transform=transform, **options)

    opened = [open_set(path, None) for path in config.train_data]
    for path, dataset in zip(config.train_data, opened, strict=True):
        if len(dataset) == 0:
            raise KocrError(f"{path}: no usable training samples (see the warnings above for why)")
    parts: list[Any] = [
        StreamPart(d.lines_per_epoch) if isinstance(d, SynthStream) else list(range(len(d))) for d in opened
    ]
    if config.valid_data:
        valid_sets = [
            _stream_validation(dataset, config) if isinstance(dataset, SynthStream) else dataset
            for dataset in (open_set(path, preprocess) for path in config.valid_data)
        ]
        valid: Any = ConcatDataset(valid_sets)
    elif isinstance(opened[0], SynthStream):
        valid = _stream_validation(with_transform(opened[0], preprocess), config)
        say(
            f"no --valid-data: validating on {len(valid):,} lines of {config.train_data[0]} "
            "that training never draws"
        )
    else:
        held, parts[0] = _hold_out(len(opened[0]), config)
        valid = Subset(with_transform(opened[0], preprocess), held)  # no augmentation
        say(f"no --valid-data: validating on {len(held):,} samples held out of {config.train_data[0]}")
    if config.valid_max_samples and len(valid) > config.valid_max_samples:
        step = len(valid) / config.valid_max_samples
        valid = Subset(valid, [int(i * step) for i in range(config.valid_max_samples)])
    sampler = MixedEpochSampler(
        parts,
        config.data_ratios,
        sizes=[len(d) for d in opened],
        seed=config.seed,
        rank=dist_info.rank,
        world_size=dist_info.world_size,
    )
    train = KeyedSamples(ConcatDataset(opened), TrainTransform(augment, preprocess))
    return TrainingData(train=train, sampler=sampler, valid=valid)


def training_loader(data: TrainingData, config: TrainConfig, device: torch.device, rank: int) -> DataLoader:
    """Batches of ``data.train`` in the sampler's order, each sample with its augmentation key."""
    return DataLoader(
        data.train,
        batch_size=config.batch_size,
        sampler=KeyedSampler(data.sampler),
        num_workers=config.workers,
        collate_fn=collate_batch,
        drop_last=True,
        pin_memory=device.type == "cuda",
        worker_init_fn=_ignore_sigint,
        persistent_workers=config.workers > 0,
        generator=_loader_generator(config.seed + rank),
    )


def validation_loader(valid: Dataset, config: TrainConfig, dist_info: distributed.DistInfo) -> DataLoader:
    """This rank's shard of the validation set (every ``world_size``-th sample), in order."""
    indices = list(range(dist_info.rank, len(valid), dist_info.world_size))
    return DataLoader(
        Subset(valid, indices),
        batch_size=config.batch_size,
        num_workers=min(config.workers, 2),
        collate_fn=collate_batch,
        worker_init_fn=_ignore_sigint,
        generator=_loader_generator(0),  # not the global RNG: validating must not shift training's draws
    )


def collate_batch(items: Sequence[tuple[torch.Tensor, str]]) -> tuple[torch.Tensor, list[str]]:
    """Stack same-size image tensors; labels stay a list of strings."""
    images = torch.stack([image for image, _ in items])
    return images, [label for _, label in items]


def _loader_generator(seed: int) -> torch.Generator:
    """DataLoaders draw their workers' base seed from this, not from the global RNG (which the model's
    dropout uses): creating a loader, for validation or after a resume, must not shift the run's draws."""
    return torch.Generator().manual_seed(seed % 2**63)


def _ignore_sigint(_worker_id: int) -> None:
    """DataLoader workers leave Ctrl-C to the main process, which saves last.pt before stopping."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _stream_validation(stream: Any, config: TrainConfig) -> Any:
    """Fixed validation lines of a synthetic stream (``--valid-max-samples``, else 2,000)."""
    return stream.validation(config.valid_max_samples or 2000)


def _hold_out(size: int, config: TrainConfig) -> tuple[list[int], list[int]]:
    """A deterministic validation subset of a training set: (held-out indices, training indices)."""
    if size < 2:
        raise KocrError("need at least 2 samples to hold one out for validation; pass --valid-data")
    count = max(1, min(int(size * config.valid_fraction), config.valid_max_samples or size, size - 1))
    order = torch.randperm(size, generator=torch.Generator().manual_seed(config.seed)).tolist()
    return sorted(order[:count]), sorted(order[count:])
