"""The file format of an exported model: graph input/output names and the kocr metadata stored in an
``.onnx`` file's ``metadata_props``, which make the file self-contained (charset, preprocessing, model
config, decoding kind), so reading it needs no checkpoint and runs none of kocr's model code.

Graph: input ``images`` ``[batch, C, H, W]`` float32 in [-1, 1]; output ``logits`` ``[batch, T, classes]``.
Graphs of models that read any width also take ``widths`` (each line's own width) and return ``lengths``
(its valid frames); files of metadata format 1 lack them and are read as before.

Written by :func:`kocr.export.export_onnx`, read by :class:`kocr.runtime.onnx_engine.OnnxRecognizer`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kocr import __version__
from kocr.charsets import Charset
from kocr.data.transforms import Preprocess
from kocr.errors import InputFileError
from kocr.runtime.preprocessing import inference_preprocess

INPUT_NAME = "images"
OUTPUT_NAME = "logits"
WIDTHS_NAME = "widths"
LENGTHS_NAME = "lengths"
METADATA_FORMAT = "kocr.onnx"
METADATA_VERSION = 2  # 2: line widths in, valid frames out, and the context margin (batch invariance)


@dataclass(frozen=True)
class OnnxMetadata:
    """What kocr stores in an exported file's ``metadata_props`` to predict from it alone."""

    charset: Charset
    preprocess: dict[str, Any]  # Preprocess.to_dict() as trained; width lifted at inference if variable
    model_config: dict[str, Any]
    num_classes: int
    decoding: str  # "ctc" | "parseq"
    variable_width: bool
    source: str = ""  # the checkpoint's file name, for the record
    kocr_version: str = __version__
    context_margin: int = 0  # > 0: the graph takes line widths (see kocr.runtime.base, batch invariance)
    checkpoint_sha256: str = ""  # the exported checkpoint's bytes (kocr.load: a twin must match)

    def to_props(self) -> dict[str, str]:
        return {
            "kocr.format": METADATA_FORMAT,
            "kocr.format_version": str(METADATA_VERSION),
            "kocr.kocr_version": self.kocr_version,
            "kocr.charset": json.dumps(self.charset.to_dict(), ensure_ascii=False),
            "kocr.preprocess": json.dumps(self.preprocess),
            "kocr.model_config": json.dumps(self.model_config, ensure_ascii=False),
            "kocr.num_classes": str(self.num_classes),
            "kocr.decoding": self.decoding,
            "kocr.variable_width": json.dumps(self.variable_width),
            "kocr.source": self.source,
            "kocr.context_margin": str(self.context_margin),
            "kocr.checkpoint_sha256": self.checkpoint_sha256,
        }

    def inference_preprocess(self) -> Any:
        """The preprocessing the model is read with (training width lifted when variable), as
        :class:`~kocr.runtime.torch_engine.TorchRecognizer` reads the checkpoint."""
        preprocess = Preprocess.from_dict(self.preprocess)
        return inference_preprocess(preprocess) if self.variable_width else preprocess

    @classmethod
    def from_props(cls, props: dict[str, str], source: str | Path) -> OnnxMetadata:
        if props.get("kocr.format") != METADATA_FORMAT:
            raise InputFileError(
                source, "no kocr metadata in this ONNX file; export it with `kocr export --format onnx`"
            )
        version = int(props.get("kocr.format_version", "0"))
        if version > METADATA_VERSION:
            raise InputFileError(
                source,
                f"exported by a newer kocr ({props.get('kocr.kocr_version')}); upgrade kocr to read it",
            )
        try:
            return cls(
                charset=Charset.from_dict(json.loads(props["kocr.charset"])),
                preprocess=json.loads(props["kocr.preprocess"]),
                model_config=json.loads(props["kocr.model_config"]),
                num_classes=int(props["kocr.num_classes"]),
                decoding=props["kocr.decoding"],
                variable_width=bool(json.loads(props["kocr.variable_width"])),
                source=props.get("kocr.source", ""),
                kocr_version=props.get("kocr.kocr_version", "?"),
                context_margin=int(props.get("kocr.context_margin", "0")),
                checkpoint_sha256=props.get("kocr.checkpoint_sha256", ""),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise InputFileError(source, f"damaged kocr ONNX metadata (missing or malformed {exc})") from None
