"""kocr: Korean text-line recognition (handwriting and print).

>>> import kocr
>>> recognizer = kocr.load_recognizer("default")   # the bundled Korean model, or a path
>>> recognizer.predict("line.png")                  # Prediction(text='...', confidence=0.97)

Importing ``kocr`` is cheap: torch and the models load only when ``load_recognizer``, a recogniser
class or ``load_checkpoint`` is first touched, so ``kocr --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0.dev0"

__all__ = [
    "Charset",
    "KocrError",
    "LineRecognizer",
    "OnnxRecognizer",
    "Prediction",
    "Recognizer",
    "TorchRecognizer",
    "__version__",
    "load_checkpoint",
    "load_recognizer",
]

if TYPE_CHECKING:  # pragma: no cover
    from kocr.charsets import Charset
    from kocr.errors import KocrError

_LAZY = {
    "Charset": ("kocr.charsets", "Charset"),
    "KocrError": ("kocr.errors", "KocrError"),
    "LineRecognizer": ("kocr.runtime.base", "LineRecognizer"),
    "OnnxRecognizer": ("kocr.runtime.onnx_engine", "OnnxRecognizer"),
    "Prediction": ("kocr.runtime.base", "Prediction"),
    "Recognizer": ("kocr.load", "Recognizer"),  # deprecated name of TorchRecognizer (and its .load)
    "TorchRecognizer": ("kocr.runtime.torch_engine", "TorchRecognizer"),
    "load_checkpoint": ("kocr.checkpoints", "load_checkpoint"),
    "load_recognizer": ("kocr.load", "load_recognizer"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module_name, attr = _LAZY[name]
        return getattr(importlib.import_module(module_name), attr)
    raise AttributeError(f"module 'kocr' has no attribute {name!r}")
