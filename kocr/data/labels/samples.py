"""The records the converters pass along: a :class:`Sample` (image, label, where it came from), a
:class:`Region` (a labelled box still to cut out of a photo) and a :class:`Conversion` (one input file's
samples and problems)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from kocr.data.labels.problems import Problem


class Sample(NamedTuple):
    """An image path, its label, and where the pair came from (``file:line`` or AI Hub image id)."""

    image: Path
    label: str
    where: str


class Region(NamedTuple):
    """A labelled box in a scene image (AI Hub Text in the wild); :mod:`kocr.data.labels.regions` cuts
    it out."""

    image: Path
    box: tuple[int, int, int, int]  # left, top, right, bottom in pixels, clipped to the image
    label: str
    source: str  # the label file
    ref: str  # "image 00000001, annotation 17"
    name: str  # file-name stem for the crop: "<image id>_<annotation id>"
    photo_size: tuple[int, int] | None = None  # width, height the label file gives for the photo

    @property
    def where(self) -> str:
        return f"{self.source} [{self.ref}]"


@dataclass
class Conversion:
    """The usable samples of one input file and everything that was wrong with it."""

    source: Path
    format: str
    samples: list[Sample] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    other_type: int = 0  # AI Hub annotations left out by the type filter (not a problem)
    regions: list[Region] = field(default_factory=list)  # boxes still to cut out (read_aihub(regions=True))

    @property
    def dropped(self) -> int:
        return sum(p.dropped for p in self.problems)

    def counts(self) -> dict[str, int]:
        """Problems per kind, most frequent first."""
        return dict(Counter(p.kind for p in self.problems).most_common())

    def raise_first(self) -> None:
        """For ``--strict``: raise the first problem that lost a sample, if any."""
        for problem in self.problems:
            if problem.dropped:
                raise problem.to_error()
