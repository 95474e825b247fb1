"""Character n-gram language models for CTC decoding: :class:`CharLM` (scoring, files) and building."""

from kocr.lm.model import CharLM, check_compatible

__all__ = ["CharLM", "check_compatible"]
