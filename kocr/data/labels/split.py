"""Train/validation/test splits of labelled samples.

:func:`split_samples` sorts by (image, label) before a seeded shuffle, so the split depends on the set
of samples and the seed, not on the order they were listed in; all lines of one image land in the same
part.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from kocr.data.images import canonical_image_path
from kocr.data.labels.samples import Sample
from kocr.errors import KocrError


def split_samples(
    samples: Sequence[Sample], ratios: Sequence[float] = (0.8, 0.1, 0.1), *, seed: int = 0
) -> list[list[Sample]]:
    """Split into ``len(ratios)`` parts; every sample lands in exactly one, and every line of one image
    in the same part (an image listed twice never leaks from training into validation or test).

    Deterministic and independent of input order: images are sorted (their lines by label), shuffled
    with ``random.Random(seed)`` and dealt into parts whose sizes are the ratios rounded by largest
    remainder; a part is full once it reaches its size, so parts with a repeated image may end up a line
    or two off. Without repeats this is the plain shuffle-and-cut split of earlier versions.
    """
    if not ratios or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise KocrError(
            f"split ratios must be non-negative and add up to 1, got {', '.join(map(str, ratios))}"
        )
    groups: dict[str, list[Sample]] = {}
    for sample in sorted(samples, key=lambda s: (str(s[0]), s[1])):
        groups.setdefault(canonical_image_path(sample[0]), []).append(sample)
    ordered = list(groups.values())
    random.Random(seed).shuffle(ordered)
    sizes = _part_sizes(len(samples), ratios)
    parts: list[list[Sample]] = [[] for _ in ratios]
    current = 0
    for group in ordered:
        while current < len(parts) - 1 and len(parts[current]) >= sizes[current]:
            current += 1
        parts[current].extend(group)
    return parts


def _part_sizes(total: int, ratios: Sequence[float]) -> list[int]:
    exact = [total * r for r in ratios]
    sizes = [int(x) for x in exact]
    by_remainder = sorted(range(len(ratios)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in by_remainder[: total - sum(sizes)]:
        sizes[i] += 1
    return sizes
