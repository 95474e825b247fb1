"""Pictures of how a model reads: the HTML evaluation report, training curves and page overlays.

- :mod:`~kocr.report.collect` gathers what a report shows while ``kocr eval`` streams (bounded memory);
  :mod:`~kocr.report.pages` does the same for ``kocr eval --layout page``;
- :mod:`~kocr.report.html` renders it into one self-contained HTML file (``kocr eval --report``);
- :mod:`~kocr.report.diff` marks where a prediction differs from its truth, by character and by jamo;
- :mod:`~kocr.report.confusions` counts misread pairs and keeps a few sampled examples of each;
- :mod:`~kocr.report.plots` and :mod:`~kocr.report.curves` draw with matplotlib (reliability, CER
  histogram; loss and validation curves of run folders, ``kocr plot``);
- :mod:`~kocr.report.overlay` draws a read page's line boxes, reading order and text (``--overlay``);
- :mod:`~kocr.report.fonts` finds a Korean font for matplotlib and PIL, and names the HTML font stack.

matplotlib, jinja2 and PIL are imported where they are used, so importing this package costs nothing.
"""
