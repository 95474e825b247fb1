"""Hangul-aware charsets: presets, files, charsets built from labels, coverage reports."""

from kocr.charsets.charset import SPACE_TOKEN, Charset, symbol_group
from kocr.charsets.coverage import CoverageReport, MissingSymbol, coverage_report
from kocr.charsets.presets import PRESET_DESCRIPTIONS

__all__ = [
    "PRESET_DESCRIPTIONS",
    "SPACE_TOKEN",
    "Charset",
    "CoverageReport",
    "MissingSymbol",
    "coverage_report",
    "symbol_group",
]
