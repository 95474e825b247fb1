"""Images listed more than once in a dataset's labels.

An image listed twice is reported wherever a dataset is built: ``convert`` and ``lmdb`` keep its first
line and drop the repeats, saying so, and an image given two different labels is reported as a
conflict; ``split`` keeps every line and puts all lines of one image in the same part
(:func:`kocr.data.labels.split.split_samples`), so no image is in both the training and the test part;
``eval`` scores the first line only and reports the others as ``convert`` does (:class:`DuplicateFinder`).
"""

from __future__ import annotations

import os
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
    finder = DuplicateFinder(drop=drop)
    kept: list[Sample] = []
    problems: list[Problem] = []
    for sample in samples:
        problem = finder.check(sample.image, sample.label, sample.where)
        if problem is not None:
            problems.append(problem)
        if problem is None or not drop:
            kept.append(sample)
    return kept, problems


class DuplicateFinder:
    """The images of one dataset seen so far, for readers that stream (``kocr eval``): :meth:`check` says
    whether a sample repeats an earlier image, in the words and with the policy of
    :func:`find_duplicates`, one sample at a time."""

    def __init__(self, *, drop: bool) -> None:
        self.drop = drop
        self._first: dict[str, tuple[str, str]] = {}  # canonical image path -> (label, where)

    def check(self, image: str | os.PathLike[str], label: str, where: str) -> Problem | None:
        """None for the first sample of an image; for a repeat, the problem to report (dropped when
        ``drop``; a conflict when its label differs from the first one's)."""
        key = canonical_image_path(image)
        seen = self._first.get(key)
        if seen is None:
            self._first[key] = (label, where)
            return None
        first_label, first_where = seen
        if first_label == label:
            message = f"{image} was already listed at {first_where}"
            kind = Kind.DUPLICATE
        else:
            message = f"{image} is labelled {label!r} here but {first_label!r} at {first_where}"
            kind = Kind.CONFLICT
        effect = "; the first line is kept" if self.drop else ""
        return Problem.at(kind, where, message + effect, dropped=self.drop)
