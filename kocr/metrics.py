"""Recognition metrics as pure functions of (reference, prediction) text.

Inputs are expected to be normalised already (``kocr.text.normalize``), so the metrics measure the
model, not formatting. Definitions:

- **CER** (character error rate): edit distance / reference length. The corpus CER is
  Σ distance / Σ reference length (long lines weigh more), which is not the mean of per-sample CERs.
  A sample with an empty reference has CER 0 if the prediction is empty too, else 1.
- **NED** as ICDAR 2019, clovaai and PARSeq define it: distance / max(len(ref), len(pred)), in [0, 1];
  tables usually show 1 − NED averaged over samples. CER is not 1 − NED.
- **Jamo error rate**: the CER computed on jamo sequences (syllables split into initial, medial and
  final), so 각 → 갂 costs one of three jamo instead of a whole character.
- **Accuracy**: exact match.
- **Substitutions** (confusion tables and reports): the misread pairs of a minimum-edit alignment of the
  characters, and of the jamo inside each misread syllable (각 → 갂: ㄱ → ㄲ).

Each has an ``ignore_space`` switch: Korean spacing is often inconsistent in labels, and users want to
know how much of the error is spacing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import editdistance

from kocr.charsets.hangul import decompose
from kocr.text import remove_spaces


def edit_distance(reference: str, prediction: str) -> int:
    """Levenshtein distance between two strings (unit costs)."""
    return int(editdistance.eval(reference, prediction))


def _prepare(text: str, ignore_space: bool) -> str:
    return remove_spaces(text) if ignore_space else text


def sample_cer(reference: str, prediction: str, *, ignore_space: bool = False) -> float:
    """CER of one sample (can exceed 1 when the prediction inserts many characters)."""
    reference, prediction = _prepare(reference, ignore_space), _prepare(prediction, ignore_space)
    if not reference:
        return 0.0 if not prediction else 1.0
    return edit_distance(reference, prediction) / len(reference)


def cer(references: Sequence[str], predictions: Sequence[str], *, ignore_space: bool = False) -> float:
    """Corpus CER: Σ edit distance / Σ reference length."""
    return _corpus_rate(references, predictions, ignore_space=ignore_space, jamo=False)


def jamo_error_rate(
    references: Sequence[str], predictions: Sequence[str], *, ignore_space: bool = False
) -> float:
    """Corpus error rate over jamo sequences: Σ jamo edit distance / Σ reference jamo length."""
    return _corpus_rate(references, predictions, ignore_space=ignore_space, jamo=True)


def _corpus_rate(
    references: Sequence[str], predictions: Sequence[str], *, ignore_space: bool, jamo: bool
) -> float:
    _check_lengths(references, predictions)
    totals = ErrorCounts()
    for reference, prediction in zip(references, predictions, strict=True):
        totals.add(reference, prediction, ignore_space=ignore_space, jamo=jamo)
    return totals.rate


def ned(reference: str, prediction: str, *, ignore_space: bool = False) -> float:
    """Normalised edit distance of one sample: distance / max(len(ref), len(pred)); 0 if both empty."""
    reference, prediction = _prepare(reference, ignore_space), _prepare(prediction, ignore_space)
    longest = max(len(reference), len(prediction))
    return edit_distance(reference, prediction) / longest if longest else 0.0


def mean_one_minus_ned(
    references: Sequence[str], predictions: Sequence[str], *, ignore_space: bool = False
) -> float:
    """1 − NED averaged over samples, as PARSeq reports it (1.0 for no samples)."""
    _check_lengths(references, predictions)
    if not references:
        return 1.0
    total = sum(
        1.0 - ned(r, p, ignore_space=ignore_space) for r, p in zip(references, predictions, strict=True)
    )
    return total / len(references)


def accuracy(references: Sequence[str], predictions: Sequence[str], *, ignore_space: bool = False) -> float:
    """Fraction of exact matches (1.0 for no samples)."""
    _check_lengths(references, predictions)
    if not references:
        return 1.0
    hits = sum(
        _prepare(r, ignore_space) == _prepare(p, ignore_space)
        for r, p in zip(references, predictions, strict=True)
    )
    return hits / len(references)


def _check_lengths(references: Sequence[str], predictions: Sequence[str]) -> None:
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")


@dataclass
class ErrorCounts:
    """Running Σ edit distance and Σ reference length, so rates can be computed while streaming."""

    errors: int = 0
    length: int = 0

    def add(self, reference: str, prediction: str, *, ignore_space: bool = False, jamo: bool = False) -> int:
        """Count one sample; returns its edit distance."""
        reference, prediction = _prepare(reference, ignore_space), _prepare(prediction, ignore_space)
        if jamo:
            reference, prediction = decompose(reference), decompose(prediction)
        distance = edit_distance(reference, prediction)
        self.errors += distance
        self.length += len(reference)
        return distance

    @property
    def rate(self) -> float:
        """Σ errors / Σ length; with no reference characters: 0 if there were no errors, else 1."""
        if self.length == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.length


@dataclass
class RunningMetrics:
    """All metrics, accumulated one sample at a time (validation loops, streamed evaluation)."""

    samples: int = 0
    exact: int = 0
    exact_no_space: int = 0
    one_minus_ned_sum: float = 0.0

    def __post_init__(self) -> None:
        self.chars = ErrorCounts()
        self.chars_no_space = ErrorCounts()
        self.jamo = ErrorCounts()

    def update(self, reference: str, prediction: str) -> float:
        """Add one sample; returns its CER."""
        self.samples += 1
        self.exact += reference == prediction
        self.exact_no_space += remove_spaces(reference) == remove_spaces(prediction)
        self.one_minus_ned_sum += 1.0 - ned(reference, prediction)
        self.chars.add(reference, prediction)
        self.chars_no_space.add(reference, prediction, ignore_space=True)
        self.jamo.add(reference, prediction, jamo=True)
        return sample_cer(reference, prediction)

    def to_sums(self) -> list[float]:
        """Every count as a float, in a fixed order: what processes add up (``all_reduce``) to combine
        their shares of a validation set; :meth:`from_sums` turns the total back into metrics."""
        counts = (self.samples, self.exact, self.exact_no_space, self.one_minus_ned_sum)
        pairs = (self.chars, self.chars_no_space, self.jamo)
        return [float(v) for v in counts] + [float(v) for c in pairs for v in (c.errors, c.length)]

    @classmethod
    def from_sums(cls, sums: Sequence[float]) -> RunningMetrics:
        """The inverse of :meth:`to_sums` (integer counts come back as ints)."""
        total = cls(int(sums[0]), int(sums[1]), int(sums[2]), sums[3])
        total.chars.errors, total.chars.length = int(sums[4]), int(sums[5])
        total.chars_no_space.errors, total.chars_no_space.length = int(sums[6]), int(sums[7])
        total.jamo.errors, total.jamo.length = int(sums[8]), int(sums[9])
        return total

    def summary(self) -> dict[str, float]:
        """The figures ``kocr eval`` and validation report."""
        n = self.samples
        return {
            "samples": n,
            "accuracy": self.exact / n if n else 1.0,
            "accuracy_ignore_space": self.exact_no_space / n if n else 1.0,
            "cer": self.chars.rate,
            "cer_ignore_space": self.chars_no_space.rate,
            "one_minus_ned": self.one_minus_ned_sum / n if n else 1.0,
            "jamo_error_rate": self.jamo.rate,
        }


def align(reference: str | Sequence[str], prediction: str | Sequence[str]) -> list[tuple[str, str]]:
    """A minimum-edit alignment as (reference symbol, predicted symbol) pairs; ``""`` marks a gap.

    Equal pairs are matches, ``(r, "")`` deletions, ``("", p)`` insertions, other pairs substitutions.
    Among the alignments with the fewest edits it keeps the most matches (``각하 서울`` against
    ``갂하서을다`` drops the space rather than shifting 서 and 울 into three substitutions), then pairs
    symbols that share a jamo (울 with 을, not with 다); remaining ties prefer substitution, then deletion,
    so the result is deterministic.
    """
    # A common start and end always align as they are (one of the best alignments keeps them): only the
    # middle needs the table, usually a few characters around the misreadings.
    start = 0
    limit = min(len(reference), len(prediction))
    while start < limit and reference[start] == prediction[start]:
        start += 1
    end = 0
    while end < limit - start and reference[-1 - end] == prediction[-1 - end]:
        end += 1
    head = [(symbol, symbol) for symbol in reference[:start]]
    tail = [(symbol, symbol) for symbol in reference[len(reference) - end :]]
    reference = reference[start : len(reference) - end]
    prediction = prediction[start : len(prediction) - end]
    n, m = len(reference), len(prediction)
    # One integer orders (edits, -matches, unlike substitutions) lexicographically.
    match = max(n, m) + 2
    edit = match * match
    ref_jamo = [frozenset(decompose(symbol)) for symbol in reference]
    hyp_jamo = [frozenset(decompose(symbol)) for symbol in prediction]
    hyps = list(zip(prediction, hyp_jamo, strict=True))
    steps = [
        [-match if r == h else edit if rj & hj else edit + 1 for h, hj in hyps]
        for r, rj in zip(reference, ref_jamo, strict=True)
    ]
    cost = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        cost[i][0] = i * edit
    for j in range(m + 1):
        cost[0][j] = j * edit
    for i in range(1, n + 1):
        row, above, step = cost[i], cost[i - 1], steps[i - 1]
        for j in range(1, m + 1):
            row[j] = min(above[j - 1] + step[j - 1], above[j] + edit, row[j - 1] + edit)
    pairs: list[tuple[str, str]] = []
    i, j = n, m
    while i or j:
        if i and j and cost[i][j] == cost[i - 1][j - 1] + steps[i - 1][j - 1]:
            pairs.append((reference[i - 1], prediction[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i][j] == cost[i - 1][j] + edit:
            pairs.append((reference[i - 1], ""))
            i -= 1
        else:
            pairs.append(("", prediction[j - 1]))
            j -= 1
    return head + pairs[::-1] + tail


def substitutions(reference: str, prediction: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The misread characters of one sample, and the misread jamo inside them: ``(syllable pairs, jamo
    pairs)``, each ``(reference, predicted)``.

    Jamo are aligned within each substituted pair only (a syllable missing altogether is a deletion, not
    three jamo confused with its neighbours'), which also keeps this cheap on long lines.
    """
    characters: list[tuple[str, str]] = []
    jamo: list[tuple[str, str]] = []
    if reference == prediction:
        return characters, jamo
    for ref, hyp in align(reference, prediction):
        if ref and hyp and ref != hyp:
            characters.append((ref, hyp))
            for ref_jamo, hyp_jamo in align(decompose(ref), decompose(hyp)):
                if ref_jamo and hyp_jamo and ref_jamo != hyp_jamo:
                    jamo.append((ref_jamo, hyp_jamo))
    return characters, jamo
