"""Label codecs: text ↔ class indices for CTC models and PARSeq.

Both follow the reference implementations' index conventions so their checkpoints keep meaning the
same thing:

- CTC (clovaai): blank = 0, symbol *i* of the charset = *i* + 1.
- PARSeq (strhub): ``[E]`` = 0, symbol *i* = *i* + 1, ``[B]`` = N + 1, ``[P]`` = N + 2; the head
  predicts ``[E]`` and the N symbols (N + 1 classes).

Both work in syllable and jamo mode: the charset tokenises labels (jamo mode splits syllables) and
recombines decoded symbols into text.

Confidence
----------
clovaai scores a CTC prediction as the product of the highest probability at *every* time step,
blanks included. With T = 26 steps at width 100 and more for wider lines, that number falls with the
image width rather than with the model's doubt (an untrained Korean model prints 0.0000 everywhere).
kocr's CTC confidence is instead **the product, over the characters emitted, of the highest
probability each character reached within its run of frames** — the same shape as PARSeq's score
(product of per-character probabilities), independent of width and of the number of blank frames.
An empty prediction gets the geometric mean of the per-frame maximum probabilities (how sure the model
is that there is no text). :func:`clovaai_ctc_confidence` keeps the reference formula for comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kocr.charsets import Charset
from kocr.errors import CharsetError


@dataclass(frozen=True)
class Decoded:
    """A decoded sequence: its text and a confidence in [0, 1]."""

    text: str
    confidence: float


class CTCCodec:
    """Maps labels to CTC targets and greedy-decodes CTC model outputs."""

    blank = 0

    def __init__(self, charset: Charset) -> None:
        self.charset = charset
        self._index = {symbol: i + 1 for i, symbol in enumerate(charset)}

    @property
    def num_classes(self) -> int:
        """Output size of a CTC head for this charset: the symbols plus the blank."""
        return len(self.charset) + 1

    def encode_one(self, label: str) -> list[int]:
        """Class indices of one label; raises CharsetError naming the first unknown symbol."""
        return _symbol_ids(self._index, self.charset, label)

    def encode(self, labels: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded targets [B, S] (pad = blank, never read by CTCLoss) and their lengths [B]."""
        encoded = [self.encode_one(label) for label in labels]
        lengths = torch.tensor([len(e) for e in encoded], dtype=torch.long)
        targets = torch.zeros(len(encoded), max([1, *map(len, encoded)]), dtype=torch.long)
        for row, indices in enumerate(encoded):
            targets[row, : len(indices)] = torch.tensor(indices, dtype=torch.long)
        return targets, lengths

    def decode_indices(self, indices: Sequence[int]) -> str:
        """Greedy CTC collapse of one index sequence: merge repeats, then drop blanks."""
        symbols: list[str] = []
        previous = self.blank
        for index in indices:
            index = int(index)
            if index != previous and index != self.blank:
                symbols.append(self.charset[index - 1])
            previous = index
        return self.charset.detokenize(symbols)

    def decode(
        self, logits: torch.Tensor, lengths: Sequence[int] | torch.Tensor | None = None
    ) -> list[Decoded]:
        """Greedy-decode model outputs [B, T, C] (raw logits) into texts with confidences; with
        ``lengths`` only each row's first ``lengths[b]`` frames (its own line, not its batch's padding)."""
        probs = logits.detach().float().softmax(-1)
        best_prob, best_index = probs.max(-1)
        steps = [int(n) for n in lengths] if lengths is not None else [best_index.shape[1]] * len(best_index)
        results = []
        for row_index, row_prob, used in zip(best_index.tolist(), best_prob, steps, strict=True):
            text = self.decode_indices(row_index[:used])
            results.append(Decoded(text, _ctc_confidence(row_index[:used], row_prob[:used], self.blank)))
        return results


def _symbol_ids(index: dict[str, int], charset: Charset, label: str) -> list[int]:
    """Ids of a label's symbols (both codecs number symbol i as i + 1)."""
    try:
        return [index[symbol] for symbol in charset.tokenize(label)]
    except KeyError as exc:
        raise CharsetError(f"label {label!r} has symbol {exc.args[0]!r} outside the charset") from None


def _ctc_confidence(indices: list[int], frame_probs: torch.Tensor, blank: int) -> float:
    """Product over emitted characters of each character's peak probability (see module docs)."""
    peaks: list[float] = []
    previous = blank
    for t, index in enumerate(indices):
        if index != blank:
            p = float(frame_probs[t])
            if index != previous:
                peaks.append(p)
            else:
                peaks[-1] = max(peaks[-1], p)
        previous = index
    if not peaks:
        return float(frame_probs.clamp_min(1e-12).log().mean().exp()) if len(indices) else 0.0
    return float(torch.tensor(peaks, dtype=torch.float64).prod())


def clovaai_ctc_confidence(logits: torch.Tensor) -> torch.Tensor:
    """clovaai's CTC confidence [B]: product of the max softmax probability over all T steps."""
    return logits.softmax(-1).max(-1).values.prod(-1)


class PARSeqTokenizer:
    """strhub's tokenizer: ``[E]`` = 0, symbols 1..N, ``[B]`` = N + 1, ``[P]`` = N + 2."""

    EOS = "[E]"
    BOS = "[B]"
    PAD = "[P]"

    def __init__(self, charset: Charset) -> None:
        self.charset = charset
        self.itos: tuple[str, ...] = (self.EOS, *charset, self.BOS, self.PAD)
        self._index = {symbol: i + 1 for i, symbol in enumerate(charset)}
        self.eos_id = 0
        self.bos_id = len(charset) + 1
        self.pad_id = len(charset) + 2

    def __len__(self) -> int:
        """Vocabulary size including the three specials (the embedding table size)."""
        return len(self.itos)

    @property
    def num_classes(self) -> int:
        """Output size of the PARSeq head: ``[E]`` and the N symbols."""
        return len(self.charset) + 1

    def encode_one(self, label: str) -> list[int]:
        """Symbol ids of one label, without specials."""
        return _symbol_ids(self._index, self.charset, label)

    def encode(self, labels: Sequence[str], device: torch.device | str | None = None) -> torch.Tensor:
        """``[B] ids [E] [P]...`` for each label, padded to the longest: LongTensor [B, S + 2]."""
        encoded = [[self.bos_id, *self.encode_one(label), self.eos_id] for label in labels]
        width = max(len(row) for row in encoded) if encoded else 2
        batch = torch.full((len(encoded), width), self.pad_id, dtype=torch.long)
        for row_index, row in enumerate(encoded):
            batch[row_index, : len(row)] = torch.tensor(row, dtype=torch.long)
        return batch.to(device) if device is not None else batch

    def decode_ids(self, ids: Sequence[int]) -> str:
        """Text of one id sequence, stopping at the first ``[E]`` (specials are skipped)."""
        symbols = []
        for token in ids:
            token = int(token)
            if token == self.eos_id:
                break
            if 0 < token <= len(self.charset):
                symbols.append(self.charset[token - 1])
        return self.charset.detokenize(symbols)

    def decode(self, probs: torch.Tensor) -> list[Decoded]:
        """Decode head outputs [B, L, N + 1] given as probabilities (softmax already applied).

        Confidence is strhub's: the product of the per-position max probabilities up to and
        including the first ``[E]`` (all positions when no ``[E]`` was emitted).
        """
        best_prob, best_id = probs.detach().max(-1)
        results = []
        for ids, row_probs in zip(best_id.tolist(), best_prob, strict=True):
            end = ids.index(self.eos_id) + 1 if self.eos_id in ids else len(ids)
            text = self.decode_ids(ids[:end])
            results.append(Decoded(text, float(row_probs[:end].double().prod())))
        return results
