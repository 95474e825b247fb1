"""kocr's line detector run by ONNX Runtime: its twin exported, bound to the checkpoint and opened.

Why: the detector's forward on a page (1,536 px on its long side) took 155 ms with PyTorch and 78 ms
with ONNX Runtime on a 2-core laptop, the same map to 6e-6, and ``auto`` runs it on every page whose
lines read unsurely. A twin is trusted as the recogniser's are (:mod:`kocr.twins`): only when a record
kocr wrote binds its bytes to the checkpoint's bytes. The bundled ``lines.pt`` ships with its twin
``lines.onnx`` (recorded in ``kocr/weights/twins.json`` by ``scripts/package_detector.py``); any other
detector is exported once into the cache the first time it finds lines (which needs the ``onnx``
package: ``pip install 'kocr-hangul[onnx]'``), and runs on PyTorch where that cannot be done.
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kocr.checkpoints.files import file_sha256
from kocr.fileio import atomic_write_bytes
from kocr.pages.dbnet import LineDetectorNet
from kocr.runtime.onnx_session import open_session
from kocr.twins import cached_twin, check_twin, record_binding, twin_candidates

logger = logging.getLogger(__name__)

INPUT_NAME, OUTPUT_NAME = "page", "kernel_logits"
OPSET = 17
PARITY_SIDE = 256  # px: the page-sized input the export is checked on
PARITY_TOLERANCE = 1e-4  # largest difference allowed between the two engines' kernel probabilities


def export_detector(model: LineDetectorNet) -> bytes:
    """``model`` as ONNX bytes (any page size), checked to give PyTorch's kernel probabilities."""
    model = model.eval()
    page = torch.rand(1, 1, PARITY_SIDE, PARITY_SIDE * 3 // 4, generator=torch.Generator().manual_seed(0))
    buffer = io.BytesIO()
    # The TorchScript exporter, as for the recogniser (kocr.export says why), its deprecation hushed.
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore", category=DeprecationWarning)
        torch.onnx.export(
            model,
            (page,),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {2: "height", 3: "width"}, OUTPUT_NAME: {2: "rows", 3: "columns"}},
            opset_version=OPSET,
            dynamo=False,
        )
        expected = torch.sigmoid(model(page)).numpy()
    content = buffer.getvalue()
    got = _sigmoid(open_session(content, ["CPUExecutionProvider"]).run(None, {INPUT_NAME: page.numpy()})[0])
    worst = float(np.abs(got - expected).max())
    if worst > PARITY_TOLERANCE:
        raise RuntimeError(f"the ONNX export differs from PyTorch by {worst:.1e}, over {PARITY_TOLERANCE}")
    return content


def detector_session(checkpoint: Path, model: LineDetectorNet) -> Any | None:
    """An ONNX Runtime session running ``model``, the network of ``checkpoint``: its bound twin, or a
    fresh export into the cache (bound there). None when neither works: the caller runs PyTorch."""
    digest = file_sha256(checkpoint)
    for candidate in twin_candidates(checkpoint, digest):
        check = check_twin(candidate, digest)
        if check.content is not None:
            return open_session(check.content, ["CPUExecutionProvider"], source=candidate)
        logger.info("%s %s", candidate, check.problem)
    try:
        content = export_detector(model)
        target = atomic_write_bytes(cached_twin(digest), content)
    except Exception as exc:  # no exporter, a full or read-only cache: PyTorch finds the lines instead
        logger.info("%s: no ONNX twin (%s); the detector runs on PyTorch", checkpoint, exc)
        return None
    record_binding(digest, hashlib.sha256(content).hexdigest(), checkpoint=str(checkpoint), twin=str(target))
    return open_session(content, ["CPUExecutionProvider"], source=target)


def kernel_probabilities(session: Any, batch: np.ndarray) -> np.ndarray:
    """The kernel probability map of one preprocessed page (``dbnet.page_input``), as PyTorch's."""
    return _sigmoid(session.run([OUTPUT_NAME], {INPUT_NAME: batch})[0])[0, 0]


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return (1.0 / (1.0 + np.exp(-logits.astype(np.float32)))).astype(np.float32)
