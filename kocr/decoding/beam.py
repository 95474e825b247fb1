"""CTC prefix beam search with character n-gram shallow fusion, fast enough for CPU batches.

A hypothesis is a prefix (a text so far) with two probabilities, of the paths that spell it and end in a
blank (``pb``) or in its last character (``pnb``). Each frame, every prefix may stay (blank, or its last
character repeated) or grow by one character; prefixes are ranked by

    (pb + pnb) · exp(lm_weight · log P_lm(prefix) + length_bonus · len(prefix))

and the best ``beam_width`` are kept. This is the textbook algorithm; what makes it cheap here is pruning
that changes nothing measurable:

- per frame only characters with probability ≥ ``min_prob`` (at most ``max_candidates``) may be emitted,
  and the blank only when it reaches ``min_prob`` too;
- a frame with no candidate character moves every prefix's mass to "ends in blank", a common factor
  that needs no arithmetic, and a run of such frames (most of a line: CTC models are blank most of the
  time) is handled once;
- prefixes whose score falls below ``1 / prune_ratio`` of the best are dropped, so in confident stretches
  the beam shrinks to one or two prefixes;
- language model scores are cached per (LM state, character) for the decoder's lifetime, and each prefix
  stores its LM state, so a character is scored once per context.

Probabilities are kept in the linear domain and rescaled every few frames, which is cheaper in Python than
log-space sums; prefixes are ranked by log(pb + pnb) plus their fused score, so LM weights and length
bonuses of any size in their ranges (:mod:`kocr.decoding.settings`) neither overflow nor underflow.
Candidate extraction (softmax, top-k, thresholds) runs batched in torch.

Confidence. Greedy's is the product over characters of each character's peak probability (see
:mod:`kocr.codecs`). Beam search without an LM keeps exactly that, measured on the frames of its chosen
text (greedy's path when the texts agree, else a Viterbi forced alignment, :mod:`kocr.decoding.align`), so
identical texts get identical confidences. With an LM, the model's peak probability understates how often
the fused reading is right (the LM settles many look-alikes), and measured that way beam+LM was badly
under-confident (dev ECE 0.17 against greedy's 0.04). So each character instead counts its share of the
character candidates at its peak frame after the LM has reweighted them (p · P_lm^α, normalised over the
frame's top candidates). That product is too extreme (under-confident below 0.3, over-confident above
0.8), so it is Platt-scaled, sigmoid(0.55 · logit(c) + 0.30), the two numbers fitted by log-loss on the
tuning set (``python -m benchmarks.tune_lm_decoder --calibrate``), never the dev benchmark. It is still a
probability in [0, 1]; the model card gives both decoders' ECE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from kocr.charsets import Charset
from kocr.codecs import CTCCodec, Decoded
from kocr.decoding.align import CERTAIN, aligned_peaks
from kocr.decoding.settings import BeamSettings
from kocr.lm.model import CharLM, check_compatible

RESCALE_EVERY = 8
CACHE_LIMIT = 2_000_000


@dataclass
class FrameCandidates:
    """A batch's frames as the search reads them (:meth:`BeamSearchDecoder.prepare`): for each frame with
    a candidate, its time, candidates, their probabilities and which pass ``min_prob``, the blank's
    probability (rows' frames between ``bounds[b]`` and ``bounds[b + 1]``); the greedy path and its
    probabilities; and what the confidence alignment needs (logits, normalisers, frames past each line)."""

    logits: torch.Tensor
    lengths: torch.Tensor | None
    past: torch.Tensor | None
    log_norm: torch.Tensor
    greedy: np.ndarray
    greedy_p: np.ndarray
    bounds: list[int]
    frames_t: list[int]
    cand_i: list[list[int]]
    cand_p: list[list[float]]
    cand_k: list[list[bool]]
    blank_p: list[float]
    frame_info: tuple[np.ndarray, np.ndarray, np.ndarray, int]


class BeamSearchDecoder:
    """logits [B, T, C] (CTC, blank 0) → texts with confidences, by prefix beam search (+ optional LM)."""

    kind = "beam"

    def __init__(self, charset: Charset, lm: CharLM | None = None, settings: BeamSettings | None = None,
                 *, lm_source: str | None = None) -> None:  # fmt: skip
        self.charset = charset
        self.codec = CTCCodec(charset)
        self.settings = settings or BeamSettings()
        self.lm = lm
        self.lm_source = lm_source
        if lm is not None:
            check_compatible(lm, charset)
            # class id (1..N) -> LM token; index 0 (blank) is never scored
            self._lm_token = [lm.unk, *lm.tokens(charset)]
        self._cache: dict[int, tuple[float, int]] = {}

    def describe(self) -> dict[str, Any]:
        """What predictions say about how they were decoded (CLI --verbose, JSON metadata)."""
        info: dict[str, Any] = {"decoder": "beam", **asdict(self.settings)}
        if self.lm is None:
            info["lm"] = None
            info.pop("lm_weight")
        else:
            info["lm"] = self.lm_source or "<in memory>"
            info["lm_order"] = self.lm.order
        return info

    def __call__(self, logits: torch.Tensor, lengths: torch.Tensor | None = None) -> list[Decoded]:
        return self.decode(logits, lengths)

    def decode(self, logits: torch.Tensor, lengths: torch.Tensor | None = None) -> list[Decoded]:
        """Decode a batch of raw CTC logits [B, T, C]; with ``lengths`` only each row's first
        ``lengths[b]`` frames count (its own line, not its batch's padding): later ones become certain
        blanks, which the search skips and an alignment fills with nothing."""
        return self.finish(self.prepare(logits, lengths))

    def prepare(self, logits: torch.Tensor, lengths: torch.Tensor | None = None) -> FrameCandidates:
        """The tensor half of :meth:`decode`: each frame's candidates, the greedy path, the
        normalisers. Its torch kernels release the GIL, so a reader runs it beside the previous batch's
        search (:func:`kocr.runtime.batching.predict_pipelined`)."""
        s = self.settings
        logits = logits.detach().float()
        batch, steps, classes = logits.shape
        # Frames past a row's own line are certain blanks: masked here and in the alignment, never by
        # copying the logits (a page's batch of long lines is ~100 MB of them).
        past = None if lengths is None else frames_past(lengths, steps)
        # Frames where no character can reach min_prob (the blank outscores every character by more than
        # that ratio) are certain blanks: they are never normalised, which is most of the softmax work.
        blank = logits[..., 0]
        other = logits[..., 1:].amax(-1)  # amax, unlike max, computes no argmax: six times faster
        maybe = (other - torch.maximum(blank, other)).reshape(-1) >= math.log(s.min_prob)
        if past is not None:
            maybe &= ~past.reshape(-1)
        where = torch.nonzero(maybe).squeeze(1)
        flat = logits.reshape(-1, classes)
        rows = flat.index_select(0, where)
        log_probs = rows.log_softmax(-1)
        # Each frame's log-normaliser: exact where normalised, the blank's logit on certain-blank frames
        # (their blank probability is within a rounding of 1); the confidence alignment reads it.
        log_norm = flat[:, 0].clone()
        if past is not None:
            log_norm[past.reshape(-1)] = 0.0  # a certain blank's logit is 0, its log-normaliser too
        log_norm[where] = flat[where, 0] - log_probs[:, 0]
        top_lp, top_i = log_probs.topk(min(s.max_candidates, classes), dim=-1)
        top_p = top_lp.exp()
        keep = (top_p >= s.min_prob) & (top_i != 0)
        # The greedy path: blank on skipped frames, the argmax elsewhere, and its probability computed
        # as kocr.codecs computes greedy's (softmax; exp(log_softmax) can differ in the last bit), so a
        # beam that reads greedy's text gets greedy's confidence exactly.
        greedy = torch.zeros(batch * steps, dtype=torch.long)
        greedy[where] = top_i[:, 0]
        greedy_p = torch.zeros(batch * steps)
        greedy_p[where] = rows.softmax(-1).gather(1, top_i[:, :1]).squeeze(1)
        greedy_np = greedy.reshape(batch, steps).numpy()
        greedy_p_np = greedy_p.reshape(batch, steps).numpy()
        active = keep.any(-1)
        where_np = where[active].numpy()
        rows_np = where_np // steps
        bounds = np.searchsorted(rows_np, np.arange(batch + 1))
        frames_t = (where_np % steps).tolist()
        cand_i = top_i[active].tolist()
        cand_p = top_p[active].tolist()
        cand_k = keep[active].tolist()
        blank_p = log_probs[active, 0].exp().tolist()
        position = torch.full((batch * steps,), -1, dtype=torch.long)
        position[where] = torch.arange(len(where))
        return FrameCandidates(
            logits=logits,
            lengths=lengths,
            past=past,
            log_norm=log_norm.reshape(batch, steps),
            greedy=greedy_np,
            greedy_p=greedy_p_np,
            bounds=bounds.tolist(),
            frames_t=frames_t,
            cand_i=cand_i,
            cand_p=cand_p,
            cand_k=cand_k,
            blank_p=blank_p,
            frame_info=(position.numpy(), top_i.numpy(), top_p.numpy(), steps),
        )

    def finish(self, prepared: FrameCandidates) -> list[Decoded]:
        """The Python half of :meth:`decode`: the prefix search per line, then each reading's confidence."""
        s, f = self.settings, prepared
        logits, lengths, greedy_np, greedy_p_np, frame_info = (
            f.logits,
            f.lengths,
            f.greedy,
            f.greedy_p,
            f.frame_info,
        )
        frames_t, cand_i, cand_p, cand_k, blank_p, bounds = (
            f.frames_t,
            f.cand_i,
            f.cand_p,
            f.cand_k,
            f.blank_p,
            f.bounds,
        )
        batch = len(greedy_np)
        texts: list[list[int]] = []
        for row in range(batch):
            frames = []
            previous = -1
            for j in range(bounds[row], bounds[row + 1]):
                t = frames_t[j]
                cands = [(c, p) for c, p, kept in zip(cand_i[j], cand_p[j], cand_k[j], strict=True) if kept]
                pb = blank_p[j]
                frames.append((cands, pb if pb >= s.min_prob else 0.0, t - previous > 1))
                previous = t
            texts.append(self._search(frames))
        results: list[Decoded | None] = [None] * len(texts)
        to_align: list[int] = []
        for row, text in enumerate(texts):
            if not text and not greedy_np[row].any():  # nothing read by either: greedy's own formula
                used = None if lengths is None else lengths[row : row + 1]
                results[row] = CTCCodec(self.charset).decode(logits[row : row + 1], used)[0]
                continue
            peaks = _greedy_peaks(greedy_np[row], greedy_p_np[row], text)
            if peaks is not None:
                results[row] = Decoded(self._text(text), self._confidence(row, text, peaks, frame_info))
            else:
                to_align.append(row)
        if to_align:
            aligned, blanks = aligned_peaks(
                logits, f.log_norm, to_align, [texts[r] for r in to_align], past=f.past
            )
            for row, peaks, blank in zip(to_align, aligned, blanks, strict=True):
                if peaks is None:
                    confidence = blank
                elif not peaks:
                    confidence = 0.0
                else:
                    confidence = self._confidence(row, texts[row], peaks, frame_info)
                results[row] = Decoded(self._text(texts[row]), confidence)
        return results  # type: ignore[return-value]

    def _confidence(
        self, row: int, text: list[int], peaks: list[tuple[float, int]], frame_info: tuple
    ) -> float:
        """Greedy's confidence (product of each character's peak probability) when there is no LM; with
        one, the product of each character's share of its peak frame's candidates once the LM has
        reweighted them, calibrated (see the module docs)."""
        if self.lm is None or not text:
            return math.prod(p for p, _ in peaks)
        position, top_i, top_p, steps = frame_info
        alpha, floor = self.settings.lm_weight, self.settings.min_prob
        state = self.lm.start
        confidence = 1.0
        for c, (peak, t) in zip(text, peaks, strict=True):
            j = int(position[row * steps + t])
            if j < 0:
                confidence *= peak  # a frame no candidate reached: the model's own probability
            else:
                # The frame's candidates that could be read (p >= min_prob); rarer ones weigh nothing.
                ids = [i for i, p in zip(top_i[j].tolist(), top_p[j].tolist(), strict=True) if p >= floor]
                ps = [p for p in top_p[j].tolist() if p >= floor]
                if c not in ids:
                    ids.append(c)
                    ps.append(peak)
                # p · P_lm^α normalised, in the log domain: a large α must not underflow every weight.
                logs = {
                    i: math.log(max(p, 1e-300)) + alpha * self._score(state, i)[0]
                    for i, p in zip(ids, ps, strict=True)
                    if i
                }
                top = max(logs.values())
                confidence *= math.exp(logs[c] - top) / sum(math.exp(v - top) for v in logs.values())
            state = self._score(state, c)[1]
        return calibrate(confidence, self.settings.confidence_scale, self.settings.confidence_shift)

    def _text(self, ids: Sequence[int]) -> str:
        return self.charset.detokenize(self.charset[i - 1] for i in ids)

    # --- the search ---------------------------------------------------------------------------------

    def _search(self, frames: list[tuple[list[tuple[int, float]], float, bool]]) -> list[int]:
        """Best class-id sequence for one line's frames that have candidates: (candidates, blank
        probability or 0 when pruned, whether candidate-free frames came before it)."""
        s = self.settings
        use_lm = self.lm is not None
        alpha, bonus = s.lm_weight, s.length_bonus
        # Prefix trie for this line: parallel lists indexed by prefix id; 0 = the empty prefix.
        parent, last, lm_state, fused = [-1], [0], [self.lm.start if use_lm else 0], [0.0]
        children: dict[tuple[int, int], int] = {}
        beam: dict[int, list[float]] = {0: [1.0, 0.0]}
        log_ratio = math.log(s.prune_ratio)
        for t, (cands, pblank, gap) in enumerate(frames):
            if gap:  # frames without candidates went by: every prefix now ends in blank
                for entry in beam.values():
                    entry[0] += entry[1]
                    entry[1] = 0.0
            grown: dict[int, list[float]] = {}
            for pid, (pb, pnb) in beam.items():
                total = pb + pnb
                entry = grown.get(pid)
                if entry is None:
                    entry = grown[pid] = [0.0, 0.0]
                entry[0] += total * pblank
                end = last[pid]
                for c, p in cands:
                    if c == end:
                        entry[1] += pnb * p  # the same character continues
                        source = pb
                    else:
                        source = total
                    if source == 0.0:
                        continue
                    child = children.get((pid, c))
                    if child is None:
                        child = len(parent)
                        children[(pid, c)] = child
                        parent.append(pid)
                        last.append(c)
                        if use_lm:
                            logp, state = self._score(lm_state[pid], c)
                            lm_state.append(state)
                            fused.append(fused[pid] + alpha * logp + bonus)
                        else:
                            lm_state.append(0)
                            fused.append(fused[pid] + bonus)
                    target = grown.get(child)
                    if target is None:
                        grown[child] = [0.0, source * p]
                    else:
                        target[1] += source * p
            # Rank by fused score (log domain: a fused score of hundreds must neither overflow nor
            # underflow to 0); keep the best beam_width within prune_ratio of the best.
            scored = [
                (math.log(e[0] + e[1]) + fused[pid], pid) for pid, e in grown.items() if e[0] + e[1] > 0
            ]
            if not scored:
                break
            scored.sort(reverse=True)
            floor = scored[0][0] - log_ratio
            beam = {pid: grown[pid] for score, pid in scored[: s.beam_width] if score >= floor}
            if t % RESCALE_EVERY == 0:
                top = max(e[0] + e[1] for e in beam.values())
                if top > 0:
                    for e in beam.values():
                        e[0] /= top
                        e[1] /= top
        best_pid, best_score = 0, -math.inf
        for pid, (pb, pnb) in beam.items():
            total = pb + pnb
            if total <= 0:
                continue
            score = math.log(total) + fused[pid]
            if use_lm and s.end_of_line:
                score += alpha * self._score_token(lm_state[pid], self.lm.eos)[0]  # type: ignore[union-attr]
            if score > best_score:
                best_pid, best_score = pid, score
        ids = []
        while best_pid > 0:
            ids.append(last[best_pid])
            best_pid = parent[best_pid]
        return ids[::-1]

    def _score(self, state: int, class_id: int) -> tuple[float, int]:
        """LM log-probability of a class id after ``state`` (cached) and the next state."""
        return self._score_token(state, self._lm_token[class_id])

    def _score_token(self, state: int, token: int) -> tuple[float, int]:
        key = state * 65536 + token  # LM token ids stay far below 65,536
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > CACHE_LIMIT:
                self._cache.clear()
            hit = self._cache[key] = self.lm.score(state, token)  # type: ignore[union-attr]
        return hit


def calibrate(confidence: float, scale: float, shift: float) -> float:
    """Platt scaling: sigmoid(scale · logit(confidence) + shift), in [0, 1]."""
    c = min(max(confidence, 1e-9), 1.0 - 1e-9)
    z = scale * math.log(c / (1.0 - c)) + shift
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    return math.exp(z) / (1.0 + math.exp(z))  # the same, without overflowing for very negative z


def _greedy_peaks(indices: np.ndarray, peak: np.ndarray, text: list[int]) -> list[tuple[float, int]] | None:
    """Each character's (peak probability, frame) along the greedy path when ``text`` is the greedy text
    (the quantities of greedy's confidence, see :mod:`kocr.codecs`), else None."""
    peaks: list[tuple[float, int]] = []
    ids: list[int] = []
    for t in np.flatnonzero(indices).tolist():
        index, p = int(indices[t]), float(peak[t])
        if t == 0 or indices[t - 1] != index:
            ids.append(index)
            peaks.append((p, t))
        elif p > peaks[-1][0]:
            peaks[-1] = (p, t)
    return peaks if ids == text else None


def frames_past(lengths: torch.Tensor, steps: int) -> torch.Tensor | None:
    """[B, T]: which frames lie at or after each row's ``lengths[b]`` (None when none do)."""
    past = torch.arange(steps).unsqueeze(0) >= lengths.to("cpu").unsqueeze(1)
    return past if past.any() else None


def blank_after(logits: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """``logits`` with every frame at or after ``lengths[b]`` turned into a certain blank."""
    steps = logits.shape[1]
    past = torch.arange(steps).unsqueeze(0) >= lengths.to("cpu").unsqueeze(1)
    if not past.any():
        return logits
    masked = logits.clone()
    masked[past] = -CERTAIN
    masked[..., 0][past] = 0.0
    return masked
