"""Confidence of any text under CTC frame posteriors, with greedy decoding's definition.

kocr's CTC confidence (:mod:`kocr.codecs`) is the product, over the emitted characters, of the highest
probability each character reaches within its frames. Greedy decoding reads the frames off the argmax
path. A beam search may choose another text, so its frames come from a Viterbi forced alignment: the
single most probable CTC path that spells the chosen text. When the text is greedy's, that path *is*
the argmax path, so both decoders give identical confidences for identical texts; when the language
model overrules the model, the confidence drops by how much less probable the chosen characters were,
which keeps it a probability on the same scale.

The alignment runs for all rows of a batch at once (numpy over [rows, 2L + 1] states per frame) and reads
only the columns of the text's characters and the blank.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

NEG = -1e30
CERTAIN = 1e4  # logit gap that makes a frame past a line's end a certain blank


def aligned_confidences(
    logits: torch.Tensor, log_norm: torch.Tensor, rows: Sequence[int], texts: Sequence[Sequence[int]]
) -> list[float]:
    """Confidence of ``texts[i]`` (class ids, no blanks) under row ``rows[i]`` of ``logits`` [B, T, C].

    ``log_norm`` [B, T] is each frame's log-sum-exp, so log P(class) = logit - log_norm; only the columns
    of the text's characters and the blank (class 0) are read, never a full softmax.
    """
    results = []
    for peaks, blank in zip(*aligned_peaks(logits, log_norm, rows, texts), strict=True):
        results.append(blank if peaks is None else float(np.prod([p for p, _ in peaks])) if peaks else 0.0)
    return results


def aligned_peaks(
    logits: torch.Tensor,
    log_norm: torch.Tensor,
    rows: Sequence[int],
    texts: Sequence[Sequence[int]],
    *,
    past: torch.Tensor | None = None,
) -> tuple[list[list[tuple[float, int]] | None], list[float]]:
    """Per text, each character's (peak probability, frame of the peak) along the forced alignment (an
    empty list when the text cannot be aligned); for empty texts None and, in the second list, the
    geometric mean of the blank's probability (greedy's confidence for reading nothing). ``past``
    [B, T] marks frames beyond a row's line: read as certain blanks (logit 0 for the blank, -CERTAIN
    for every character, ``log_norm`` 0 there)."""
    results: list[list[tuple[float, int]] | None] = [[] for _ in texts]
    blanks = [0.0] * len(texts)
    count, steps = len(rows), logits.shape[1]
    if count == 0:
        return results, blanks
    states = 2 * max(1, max(len(text) for text in texts)) + 1
    labels = torch.zeros((count, states), dtype=torch.long)  # blank between and around the characters
    lengths = np.zeros(count, dtype=np.int64)
    for i, text in enumerate(texts):
        if text:
            labels[i, 1 : 2 * len(text) : 2] = torch.tensor(list(text))
        lengths[i] = 2 * len(text) + 1
    row_index = torch.tensor(list(rows))
    picked = logits[row_index[:, None, None], torch.arange(steps)[None, :, None], labels[:, None, :]]
    if past is not None:
        certain = torch.where(labels == 0, 0.0, -CERTAIN).to(picked.dtype)  # [rows, states]
        picked = torch.where(past[row_index][:, :, None], certain[:, None, :], picked)
    emissions_t = picked - log_norm[row_index][:, :, None]
    emissions = emissions_t.double().numpy()
    labels_np = labels.numpy()
    state_index = np.arange(states)
    valid = state_index[None, :] < lengths[:, None]
    # A label may follow the label two states back only when they differ (else a blank must separate).
    skip = np.zeros((count, states), dtype=bool)
    skip[:, 2:] = (labels_np[:, 2:] != 0) & (labels_np[:, 2:] != labels_np[:, :-2])
    emissions = np.where(valid[:, None, :], emissions, NEG)
    score = np.full((count, states), NEG)
    score[:, 0] = emissions[:, 0, 0]
    score[:, 1] = emissions[:, 0, 1]
    back = np.zeros((count, steps, states), dtype=np.int8)
    pad_one = np.full((count, 1), NEG)
    pad_two = np.full((count, 2), NEG)
    for t in range(1, steps):
        from_one = np.concatenate((pad_one, score[:, :-1]), axis=1)
        from_two = np.where(skip, np.concatenate((pad_two, score[:, :-2]), axis=1), NEG)
        best = np.maximum(score, from_one)
        choice = (from_one > score).astype(np.int8)
        two = from_two > best
        choice[two] = 2
        back[:, t] = choice
        score = np.maximum(best, from_two) + emissions[:, t]
    probs = np.exp(emissions)
    for i, text in enumerate(texts):
        if not text:  # as greedy: how sure the model is that there is no text (geometric mean of blank)
            results[i] = None
            blanks[i] = float(np.exp(emissions[i, :, 0].mean()))
            continue
        end = int(lengths[i]) - 1
        state = end if score[i, end] >= score[i, end - 1] else end - 1
        if score[i, state] <= NEG / 2:
            continue  # the text cannot be aligned to this many frames
        peaks = [(0.0, 0)] * len(text)
        for t in range(steps - 1, -1, -1):
            if state % 2 and probs[i, t, state] >= peaks[state // 2][0]:
                peaks[state // 2] = (float(probs[i, t, state]), t)
            state -= int(back[i, t, state])
        results[i] = peaks
    return results, blanks
