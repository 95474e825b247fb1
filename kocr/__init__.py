"""kocr: Korean text-line recognition (handwriting and print).

Importing ``kocr`` is cheap: torch and the models load only when ``Recognizer`` or
``load_checkpoint`` is first touched, so ``kocr --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = ["Charset", "KocrError", "Recognizer", "__version__", "load_checkpoint"]

if TYPE_CHECKING:  # pragma: no cover
    from kocr.charsets import Charset
    from kocr.errors import KocrError

_LAZY = {
    "Charset": ("kocr.charsets", "Charset"),
    "KocrError": ("kocr.errors", "KocrError"),
    "Recognizer": ("kocr.predict", "Recognizer"),
    "load_checkpoint": ("kocr.checkpoints", "load_checkpoint"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module 'kocr' has no attribute {name!r}")
