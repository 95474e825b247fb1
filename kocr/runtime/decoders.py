"""The CTC decoder a model is read with, chosen from the user's options for either engine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from kocr.charsets import Charset
from kocr.decoding import ctc_decoder
from kocr.decoding.settings import check_given
from kocr.errors import KocrError
from kocr.models.registry import family_of


def load_decoder(
    config: Mapping[str, Any],
    charset: Charset,
    path: str | os.PathLike[str],
    decoder: str,
    lm: Any,
    beam: dict,
) -> Any:
    """The CTC decoder the options ask for (:func:`kocr.decoding.ctc_decoder`); None keeps the family's
    own decoding (greedy CTC, PARSeq). Beam search and language models are for CTC models only. The
    beam settings given are checked whatever the model (:mod:`kocr.decoding.settings`)."""
    beam = check_given(beam)
    if family_of(config).decoding != "ctc":
        if decoder == "beam" or (lm not in ("auto", None, "none")):
            raise KocrError(
                f"{path}: beam search and language models decode CTC models; this is {config['arch']}"
            )
        return None
    chosen = ctc_decoder(charset, decoder=decoder, lm=lm, model_path=path, **beam)
    return None if chosen.kind == "greedy" else chosen
