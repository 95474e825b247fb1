"""Where a prediction differs from its truth, for people: character runs marked equal, substituted,
deleted or inserted, and inside a misread Hangul syllable which of its jamo differ (각 → 갂: the final
ㄱ read as ㄲ).

The alignment is :func:`kocr.metrics.align` (minimum edits, deterministic ties), so what the report marks
is what CER counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from kocr.charsets.hangul import decompose, to_compatibility_jamo
from kocr.metrics import align

EQUAL, SUBSTITUTED, DELETED, INSERTED = "equal", "sub", "del", "ins"


@dataclass(frozen=True)
class Jamo:
    """One jamo of a misread syllable as shown (compatibility form), and whether it was misread."""

    text: str
    changed: bool


@dataclass(frozen=True)
class Segment:
    """A run of aligned characters: ``op`` is one of equal, sub, del, ins.

    ``truth`` and ``predicted`` hold the run's characters on each side ("" on the side that has none).
    A substitution of one character by one character carries each side's jamo, the misread ones marked,
    when either is a Hangul syllable (``truth_jamo``, ``predicted_jamo``)."""

    op: str
    truth: str
    predicted: str
    truth_jamo: tuple[Jamo, ...] = ()
    predicted_jamo: tuple[Jamo, ...] = ()


def diff_line(truth: str, predicted: str) -> list[Segment]:
    """The aligned segments of one line; equal, deleted and inserted characters merged into runs."""
    segments: list[Segment] = []
    for ref, hyp in align(truth, predicted):
        op = EQUAL if ref == hyp else SUBSTITUTED if ref and hyp else DELETED if ref else INSERTED
        if op == SUBSTITUTED:
            segments.append(_substitution(ref, hyp))
            continue
        if segments and segments[-1].op == op:
            last = segments[-1]
            segments[-1] = Segment(op, last.truth + ref, last.predicted + hyp)
        else:
            segments.append(Segment(op, ref, hyp))
    return segments


def _substitution(ref: str, hyp: str) -> Segment:
    ref_jamo, hyp_jamo = decompose(ref), decompose(hyp)
    if ref_jamo == ref and hyp_jamo == hyp:  # neither is a syllable: nothing to show inside
        return Segment(SUBSTITUTED, ref, hyp)
    truth_marks: list[Jamo] = []
    predicted_marks: list[Jamo] = []
    for a, b in align(ref_jamo, hyp_jamo):
        if a:
            truth_marks.append(Jamo(to_compatibility_jamo(a), a != b))
        if b:
            predicted_marks.append(Jamo(to_compatibility_jamo(b), a != b))
    return Segment(SUBSTITUTED, ref, hyp, tuple(truth_marks), tuple(predicted_marks))


def jamo_label(text: str) -> str:
    """A jamo (conjoining or not) as people read it alone: the compatibility form (ᆨ → ㄱ)."""
    return "".join(to_compatibility_jamo(ch) for ch in text)
