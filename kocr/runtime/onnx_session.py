"""ONNX Runtime itself: the optional import, execution providers for a kocr ``--device``, and opening an
inference session with errors that name the file."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from kocr.devices import check_device_name
from kocr.errors import InputFileError, KocrError

INSTALL_HINT = "pip install 'kocr-hangul[onnx]'"


def onnx_providers(device: str) -> list[Any] | None:
    """onnxruntime execution providers for a kocr ``--device``; None (auto) = CUDA if offered, then CPU.

    A device onnxruntime cannot serve is an error, not a silent fall-back to the CPU."""
    device = check_device_name(device)
    if device == "auto":
        return None
    if device == "cpu":
        return ["CPUExecutionProvider"]
    _, _, index = device.partition(":")
    if "CUDAExecutionProvider" not in require_module("onnxruntime").get_available_providers():
        raise KocrError(
            f"--device {device}: this onnxruntime has no CUDA provider (pip install onnxruntime-gpu), "
            "or use --device cpu"
        )
    return [("CUDAExecutionProvider", {"device_id": int(index or 0)}), "CPUExecutionProvider"]


_CPU_ARENA = True  # onnxruntime's CPU memory arena for the sessions opened from now on


def set_cpu_arena(enabled: bool) -> None:
    """Whether sessions opened from now on keep onnxruntime's CPU memory arena, which grows to the
    largest batch it has run and keeps that memory. Page reading turns it off
    (:func:`kocr.runtime.memory.ready_for_pages` says why); line reading keeps it."""
    global _CPU_ARENA
    _CPU_ARENA = enabled


def open_session(
    model: str | bytes,
    providers: Sequence[Any] | None,
    source: str | Path = "<model>",
    threads: int | None = None,
) -> Any:
    ort = require_module("onnxruntime")
    available = ort.get_available_providers()
    if providers is None:
        providers = [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in available]
    options = ort.SessionOptions()
    # Idle intra-op threads sleep instead of spinning: the reader decodes one batch in Python while the
    # next one runs (kocr.runtime.batching), and spinning threads would take that core from it.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads is not None:
        options.intra_op_num_threads = threads
    options.enable_cpu_mem_arena = _CPU_ARENA
    try:
        return ort.InferenceSession(model, options, providers=list(providers))
    except Exception as exc:  # onnxruntime's InvalidProtobuf, NoSuchFile, Fail... derive from Exception only
        raise InputFileError(source, f"onnxruntime cannot load it: {str(exc).strip()}") from None


def require_module(name: str) -> ModuleType:
    """Import an optional ONNX dependency, or say how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        raise KocrError(f"ONNX support needs the '{name}' package: {INSTALL_HINT}") from None
