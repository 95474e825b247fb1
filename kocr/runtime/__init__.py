"""Reading text lines with a trained model: the engine-neutral part and the two engines.

Imports run one way: ``base`` (Prediction, :class:`LineRecognizer`) ← ``batching``, ``preprocessing``,
``decoders`` ← ``torch_engine`` (:class:`TorchRecognizer`, a checkpoint in PyTorch) and ``onnx_engine``
(:class:`OnnxRecognizer`, an exported file in ONNX Runtime, with its file format in ``onnx_format`` and
its session in ``onnx_session``); ``files`` reads image files in bulk through any of them, ``writers``
writes the results. Nothing here chooses an engine or exports a model: :mod:`kocr.load` does both, and
is the one module that sees PyTorch checkpoints and ONNX files together.

This package imports none of its modules on import, so ``kocr.runtime.onnx_format`` can be read
without loading torch's models.
"""
