"""``CharLM``: a character n-gram language model in backoff form, stored as a small ``.npz`` file.

The model predicts the next *symbol* of a charset (a syllable, a letter, the space; a jamo for jamo
charsets) from up to ``order - 1`` previous ones. Its tokens are the charset's symbols (ids 0..V-1), then
``</s>`` (V, end of line), ``<unk>`` (V + 1, any character the charset lacks) and ``<s>`` (V + 2, the
start of a line: a context only, never predicted).

Storage is a trie flattened into sorted arrays, so a lookup is one binary search and nothing is
unpickled: unigrams are dense (node id = token id); the n-gram of order k ≥ 2 with prefix node ``p`` and
last token ``w`` has node id ``i`` with ``keys[i - W] = (p + 1) * W + w`` (``W`` = V + 3). Orders are laid
out one after the other, so one ``np.searchsorted`` over ``keys`` finds any n-gram. Each node holds

- ``logp``: natural-log probability of its last token after its prefix (already interpolated);
- ``backoff``: the log weight applied when this node, used as a context, lacks the next token;
- ``suffix``: the node of the same n-gram without its first token (-1 for unigrams), for backing off;
- ``state``: the longest suffix of the n-gram that is itself a context (has children), which is all a
  decoder needs to carry forward (KenLM's idea of a state).

The file is an ``.npz`` read with ``np.load(allow_pickle=False)``; a JSON header (format, version, order,
charset mode and name, smoothing, counts, decoding defaults) sits in a uint8 array, the vocabulary in a
uint32 array of code points.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kocr.decoding.settings import check_defaults, check_stored
from kocr.errors import InputFileError, KocrError
from kocr.names import json_text

FORMAT = "kocr-charlm"
VERSION = 1
ROOT = -1  # the empty context
ARRAYS = ("keys", "logp", "backoff", "suffix", "state")


@dataclass
class CharLM:
    """A character n-gram model: vocabulary, header and the flattened trie (see the module docs)."""

    symbols: tuple[str, ...]
    order: int
    keys: np.ndarray  # int64 [n - W], sorted
    logp: np.ndarray  # float32 [n]
    backoff: np.ndarray  # float32 [n]
    suffix: np.ndarray  # int32 [n]
    state: np.ndarray  # int32 [n]
    header: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.vocab = len(self.symbols)
        self.width = self.vocab + 3
        self.eos, self.unk, self.bos = self.vocab, self.vocab + 1, self.vocab + 2
        self._index = {symbol: i for i, symbol in enumerate(self.symbols)}
        # memoryviews index to plain Python numbers several times faster than numpy scalars (scoring is a
        # Python loop inside the beam search); the arrays themselves are not copied.
        self._fast = tuple(
            memoryview(np.ascontiguousarray(a))
            for a in (self.keys, self.logp, self.backoff, self.suffix, self.state)
        )

    # --- identity ---------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        """The charset mode the model was built in (``syllable`` or ``jamo``)."""
        return str(self.header.get("mode", "syllable"))

    @property
    def num_ngrams(self) -> list[int]:
        """How many n-grams of each order the model stores."""
        return list(self.header.get("ngrams", []))

    def token(self, symbol: str) -> int:
        """The token id of a symbol (``<unk>`` when the vocabulary lacks it)."""
        return self._index.get(symbol, self.unk)

    def tokens(self, symbols: Iterable[str]) -> list[int]:
        return [self._index.get(s, self.unk) for s in symbols]

    # --- scoring ----------------------------------------------------------------------------------

    @property
    def start(self) -> int:
        """The state at the start of a line (after ``<s>``)."""
        return int(self.state[self.bos])

    def find(self, context: int, token: int) -> int:
        """Node id of ``context`` extended by ``token``, or -1 when the model does not store it."""
        if context == ROOT:
            return token
        key = (context + 1) * self.width + token
        position = int(np.searchsorted(self.keys, key))
        if position < len(self.keys) and int(self.keys[position]) == key:
            return position + self.width
        return -1

    def score(self, state: int, token: int) -> tuple[float, int]:
        """(natural-log P(token | state), the state after it): longest stored n-gram, backing off."""
        keys, logp, backoff, suffix, next_state = self._fast
        search, width, count = self.keys.searchsorted, self.width, len(self.keys)
        penalty = 0.0
        context = state
        while context != ROOT:
            key = (context + 1) * width + token
            position = int(search(key))
            if position < count and keys[position] == key:
                node = position + width
                return penalty + logp[node], next_state[node]
            penalty += backoff[context]
            context = suffix[context]
        return penalty + logp[token], next_state[token]

    def log_prob(self, text_tokens: Iterable[int], *, eos: bool = True) -> tuple[float, int]:
        """Total natural-log probability of a token sequence after ``<s>`` (plus ``</s>``) and its length."""
        state, total, count = self.start, 0.0, 0
        for token in [*text_tokens, *([self.eos] if eos else [])]:
            logp, state = self.score(state, token)
            total += logp
            count += 1
        return total, count

    def distribution(self, context_tokens: Iterable[int]) -> np.ndarray:
        """P(token | context) over all predictable tokens (symbols, ``</s>``, ``<unk>``), for checks."""
        state = self.start
        for token in context_tokens:
            state = self.score(state, token)[1]
        return np.exp([self.score(state, token)[0] for token in range(self.vocab + 2)])

    def perplexity(self, lines: Iterable[list[int]]) -> float:
        """Per-token perplexity (``</s>`` counted) over tokenised lines; no line is a :class:`KocrError`
        (it has no perplexity, and a NaN would pass for a figure)."""
        total, count = 0.0, 0
        for tokens in lines:
            logp, n = self.log_prob(tokens)
            total += logp
            count += n
        if not count:
            raise KocrError("no text to measure the perplexity on")
        return math.exp(-total / count)

    # --- files ------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> int:
        """Write the model (compressed ``.npz``, the exact name given); returns the file size in bytes."""
        path = Path(path)
        header = dict(self.header, format=FORMAT, version=VERSION, order=self.order)
        if "decoder" in header:  # what later readers will trust: checked now, not when they decode
            header["decoder"] = check_defaults(header["decoder"])
        arrays = {
            "header": np.frombuffer(json_text(header).encode("utf-8"), dtype=np.uint8),
            "symbols": np.array([ord(s) for s in self.symbols], dtype=np.uint32),
            "keys": np.diff(self.keys, prepend=np.int64(0)).astype(np.int64),
            "logp": self.logp.astype(np.float32),
            "backoff": self.backoff.astype(np.float32),
            "suffix": self.suffix.astype(np.int32),
            "state": self.state.astype(np.int32),
        }
        from kocr.fileio import atomic_open

        with atomic_open(path, "wb") as handle:
            np.savez_compressed(handle, **arrays)  # keys are delta-coded: sorted, so the deltas compress
        return path.stat().st_size

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CharLM:
        """Read a file written by :meth:`save`; anything else is an :class:`InputFileError` naming it."""
        path = Path(path)
        if not path.is_file():
            raise InputFileError(path, "language model not found" if not path.exists() else "not a file")
        try:
            with np.load(path, allow_pickle=False) as data:
                if "header" not in data.files:
                    raise InputFileError(path, "not a kocr language model (no header)")
                header = json.loads(bytes(data["header"]).decode("utf-8"))
                if not isinstance(header, dict) or header.get("format") != FORMAT:
                    raise InputFileError(path, "not a kocr language model (no kocr-charlm header)")
                if header.get("version") != VERSION:
                    raise InputFileError(
                        path, f"language model version {header.get('version')} (this kocr reads {VERSION})"
                    )
                if "decoder" in header:
                    header["decoder"] = check_stored(header["decoder"], path)
                symbols = tuple(chr(int(c)) for c in data["symbols"])
                arrays = {name: data[name] for name in ARRAYS}
            arrays["keys"] = np.cumsum(arrays["keys"], dtype=np.int64)
            model = cls(symbols, int(header["order"]), header=header, **arrays)
        except InputFileError:
            raise
        except Exception as exc:
            # Flipped bytes surface as zlib.error, BadZipFile (CRC), KeyError, ValueError, OverflowError...:
            # whichever, the file is damaged, and the error names it.
            reason = str(exc).strip() or type(exc).__name__
            raise InputFileError(path, f"damaged or not a kocr language model ({reason})") from None
        model._check(path)
        return model

    def _check(self, path: Path) -> None:
        """Shape checks, so a damaged file fails here with its name rather than deep in a decoder."""
        n = len(self.logp)
        if not (len(self.backoff) == len(self.suffix) == len(self.state) == n == len(self.keys) + self.width):
            raise InputFileError(path, "damaged language model (array sizes disagree)")
        if len(self.keys) > 1 and not bool(np.all(np.diff(self.keys) > 0)):
            raise InputFileError(path, "damaged language model (n-gram keys not sorted)")
        if n and (int(self.suffix.max()) >= n or int(self.state.max()) >= n):
            raise InputFileError(path, "damaged language model (node links out of range)")


def check_compatible(lm: CharLM, charset: Any, source: str = "the model") -> None:
    """A language model scores the symbols it was built for: one built in another charset mode cannot
    score this one's, and one that lacks symbols ``charset`` (the model's) can emit would score each as
    ``<unk>``, silently pushing the decoder away from them (an LM built for another charset)."""
    mode = str(charset.mode)
    if lm.mode != mode:
        raise KocrError(
            f"the language model was built for a {lm.mode}-mode charset but {source} reads {mode} symbols; "
            f"rebuild it with `kocr lm build --charset` set to the model's charset"
        )
    known = set(lm.symbols)
    missing = [symbol for symbol in charset if symbol not in known]
    if missing:
        built_for = lm.header.get("charset") or f"{len(lm.symbols):,} symbols"
        shown = " ".join(repr(s) for s in missing[:8]) + (" …" if len(missing) > 8 else "")
        raise KocrError(
            f"the language model was built for charset {built_for}, which lacks {len(missing):,} of the "
            f"{len(charset):,} symbols {source} reads ({shown}); rebuild it with `kocr lm build --charset` "
            "set to the model's charset"
        )
