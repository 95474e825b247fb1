"""Which labelled samples training can use, and a report of the rest.

Reference tools drop samples silently (clovaai filters by charset and length without a word; PARSeq
deletes characters from labels). Every kocr dataset runs its labels through one :class:`LabelFilter`:
labels are normalised, unusable samples are counted per reason with a few examples, and one log line
per dataset says how many were used and why the others were not.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from kocr.charsets import Charset
from kocr.text import label_problem, normalize

MAX_EXAMPLES = 3
LOUD_SHARE = 0.02  # dropping more than this share of a dataset gets its own, louder warning

#: What changes the outcome, per reason (the options of ``kocr train`` / ``finetune``).
REMEDIES = {
    "too long": "raise --max-length, or --img-w: the default limit is what the model emits at its width",
    "unknown symbols": "choose a --charset that holds them (kocr charset check lists what is missing)",
    "missing image": "check the image paths (or --image-root)",
    "label not UTF-8": "convert the labels to UTF-8",
}


class LabelFilter:
    """Normalises labels, decides which samples are usable, and counts the rest by reason."""

    def __init__(
        self,
        charset: Charset | None,
        max_length: int | None,
        case_fold: bool = False,
        normalize_labels: bool = True,
        logger: logging.Logger | None = None,
    ) -> None:
        self.logger = logger or logging.getLogger(__name__)
        self.charset = charset
        self.max_length = max_length
        self.case_fold = case_fold
        self.normalize_labels = normalize_labels
        self.dropped: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = {}
        self.normalised = 0  # usable labels that normalisation changed

    def check(self, text: str) -> tuple[str, str | None]:
        """(the label as training sees it, the reason it is unusable or None)."""
        label = normalize(text, case_fold=self.case_fold) if self.normalize_labels else text
        if self.charset is not None:
            reason = label_problem(label, self.charset, self.max_length)
        elif not label:
            reason = "empty"
        elif self.max_length is not None and len(label) > self.max_length:
            reason = "too long"
        else:
            reason = None
        if reason is None and label != text:
            self.normalised += 1
        return label, reason

    def drop(self, reason: str, where: str, label: str | None = None) -> None:
        """Count a dropped sample; ``where`` (and the label, with its unknown symbols) is an example."""
        self.dropped[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < MAX_EXAMPLES:
            shown.append(where if label is None else f"{where} {self.describe(label)}")

    def describe(self, label: str) -> str:
        """The label, shortened, with the symbols the charset lacks."""
        shown = repr(label if len(label) <= 30 else label[:29] + "…")
        if self.charset is not None:
            missing = "".join(dict.fromkeys(self.charset.missing(label)))
            if missing:
                shown += f" [not in charset: {missing!r}]"
        return shown

    def log(self, source: Path | str, kept: int) -> None:
        """One record: how many samples are used, and how many were dropped for each reason; when more
        than :data:`LOUD_SHARE` of the dataset is dropped for a reason, it starts with a line per such
        reason with its count and the option that changes it (``--max-length``, ``--img-w``,
        ``--charset``)."""
        total = kept + sum(self.dropped.values())
        loud = "".join(line + "\n" for line in self.loud_lines(source, total))
        note = f"; {self.normalised} labels normalised (NFC/whitespace)" if self.normalised else ""
        if not self.dropped:
            self.logger.info("%s: using all %d samples%s", source, kept, note)
            return
        reasons = "; ".join(
            f"{reason}: {count} (e.g. {', '.join(self.examples[reason])})"
            for reason, count in self.dropped.most_common()
        )
        limits = []
        if self.charset is not None:
            limits.append(f"charset {self.charset.name or len(self.charset)}")
        if self.max_length is not None:
            limits.append(f"max length {self.max_length}")
        context = f" ({', '.join(limits)})" if limits else ""
        self.logger.warning(
            "%s%s: using %d of %d samples%s; dropped %d — %s%s",
            loud, source, kept, total, context, total - kept, reasons, note,
        )  # fmt: skip

    def loud_lines(self, source: Path | str, total: int) -> list[str]:
        """``DROPPING 28% of X: 1,422 of 5,000 samples too long (over 13 symbols); raise --max-length...``
        for each reason that drops more than :data:`LOUD_SHARE` of ``total``."""
        lines = []
        for reason, count in self.dropped.most_common():
            if total and count / total > LOUD_SHARE:
                limit = (
                    f" (over {self.max_length} symbols)" if reason == "too long" and self.max_length else ""
                )
                remedy = f"; {REMEDIES[reason]}" if reason in REMEDIES else ""
                share = f"{count / total:.0%} of {source}"
                lines.append(f"DROPPING {share}: {count:,} of {total:,} samples {reason}{limit}{remedy}")
        return lines
