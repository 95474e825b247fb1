"""Images listed more than once in a dataset's labels.

An image listed twice is reported wherever a dataset is built: ``convert`` and ``lmdb`` keep its first
line and drop the repeats, saying so, and an image given two different labels is reported as a
conflict; ``split`` keeps every line and puts all lines of one image in the same part
(:func:`kocr.data.labels.split.split_samples`), so no image is in both the training and the test part.
"""

from __future__ import annotations

from collections.abc import Sequence

from kocr.data.images import canonical_image_path
from kocr.data.labels.problems import Kind, Problem
from kocr.data.labels.samples import Conversion, Sample


def drop_duplicates(conversion: Conversion) -> Conversion:
    """Keep the first line of each image, report the others (:func:`find_duplicates`); in place."""
    conversion.samples, problems = find_duplicates(conversion.samples, drop=True)
    conversion.problems.extend(problems)
    return conversion


def find_duplicates(samples: Sequence[Sample], *, drop: bool) -> tuple[list[Sample], list[Problem]]:
    """Images listed more than once: (samples, problems).

    An image is one file whatever the spelling of its path (``a/../x.png`` is ``x.png``). With ``drop``
    only each image's first sample is kept and the repeats are reported as dropped; without, every
    sample stays and the repeats are notes. A repeat with another label is a conflict either way
    (which label is right cannot be told), named with both labels and where each came from.
    """
    first: dict[str, Sample] = {}
    kept: list[Sample] = []
    problems: list[Problem] = []
    for sample in samples:
        key = canonical_image_path(sample.image)
        seen = first.get(key)
        if seen is None:
            first[key] = sample
            kept.append(sample)
            continue
        if not drop:
            kept.append(sample)
        if seen.label == sample.label:
            message = f"{sample.image} was already listed at {seen.where}"
            kind = Kind.DUPLICATE
        else:
            message = f"{sample.image} is labelled {sample.label!r} here but {seen.label!r} at {seen.where}"
            kind = Kind.CONFLICT
        effect = "; the first line is kept" if drop else ""
        problems.append(Problem.at(kind, sample.where, message + effect, dropped=drop))
    return kept, problems
