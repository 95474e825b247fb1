"""How well a charset covers a set of labels.

"Missing characters" is the most frequent complaint about Korean OCR models, and reference tools
drop such samples silently. The report says how many samples and symbols fall outside, which symbols,
how often, and where to find them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from kocr.charsets.charset import Charset

MAX_EXAMPLES = 3


@dataclass
class MissingSymbol:
    """A symbol the charset lacks, with its count and where it first appears."""

    symbol: str
    count: int = 0
    samples: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class CoverageReport:
    """Coverage of labels by a charset; ``missing`` is sorted by count, most frequent first."""

    charset: Charset
    num_samples: int = 0
    samples_outside: int = 0
    num_symbols: int = 0
    symbols_outside: int = 0
    distinct_symbols: int = 0
    missing: list[MissingSymbol] = field(default_factory=list)

    @property
    def fully_covered(self) -> bool:
        return self.samples_outside == 0

    @property
    def sample_coverage(self) -> float:
        """Fraction of samples whose every symbol is in the charset (1.0 for no samples)."""
        return 1.0 - self.samples_outside / self.num_samples if self.num_samples else 1.0

    @property
    def symbol_coverage(self) -> float:
        """Fraction of symbol occurrences the charset covers (1.0 for no symbols)."""
        return 1.0 - self.symbols_outside / self.num_symbols if self.num_symbols else 1.0


def coverage_report(labels: Iterable[tuple[str, str | None]], charset: Charset) -> CoverageReport:
    """Measure ``charset`` against ``(label, location)`` pairs; labels should be normalised already.

    ``location`` (e.g. ``"train/gt.txt:12"``) is kept for the first few occurrences of every missing
    symbol so a user can go and look.
    """
    report = CoverageReport(charset=charset)
    seen: set[str] = set()
    missing: dict[str, MissingSymbol] = {}
    for label, location in labels:
        symbols = charset.tokenize(label)
        report.num_samples += 1
        report.num_symbols += len(symbols)
        seen.update(symbols)
        outside = Counter(s for s in symbols if s not in charset)
        if not outside:
            continue
        report.samples_outside += 1
        for symbol, count in outside.items():
            entry = missing.setdefault(symbol, MissingSymbol(symbol))
            entry.count += count
            entry.samples += 1
            if location is not None and len(entry.examples) < MAX_EXAMPLES:
                entry.examples.append(location)
            report.symbols_outside += count
    report.distinct_symbols = len(seen)
    report.missing = sorted(missing.values(), key=lambda m: (-m.count, m.symbol))
    return report
