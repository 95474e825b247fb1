"""kocr's benchmarks: each measures one thing, both sides in one run, and runs from the repository root
as ``python -m benchmarks.NAME`` (``--help`` says what it measures and how).

Benchmarks: ``vs_tesseract`` (the dev benchmark against Tesseract 5), ``vs_clovaai`` (``kocr predict``
against clovaai's demo.py), ``cpu_ceiling`` (the float32 bound on a speed target), ``levers`` (inference
levers side by side), ``normalize`` (input normalisation's cost), ``decoders`` (CTC decoders on the same
logits), ``tune_lm_decoder`` (the LM decoder's settings, on the tuning set), ``predict`` (engines and
batching), ``models`` (every registered model's size and speed), ``train`` (training speed and memory),
``data`` (LMDB and DataLoader throughput), ``page_finder`` and ``page_ppocr`` (the classical and
``ppocr`` line finders on whole pages) and ``arch_report`` (the curves of ``arch_experiment.sh``).

The harness they share, one job per module: ``devset`` (the dev set's splits and labels), ``variants``
(image variants of dev lines), ``tesseract`` (Tesseract on lines), ``timing`` (best-of, medians,
alternating rounds), ``fixtures`` (seeded random checkpoints), ``decoding`` (decoders on shared logits) and
``page_fixtures`` (drawn pages with known lines).
"""
