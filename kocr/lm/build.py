"""Building a :class:`~kocr.lm.model.CharLM` from text: counting, modified Kneser–Ney, pruning.

Why this smoothing: interpolated modified Kneser–Ney (Chen & Goodman) is the best-behaved of the
classic n-gram smoothings on small corpora, and a character model of half a million syllables is small.
Lower orders use continuation counts (how many different symbols precede an n-gram), the three
discounts per order come from the counts of counts, and the interpolated probabilities are stored in
backoff form (what ARPA files hold), so scoring needs one lookup per backed-off order.

Pruning drops n-grams of order ≥ 3 seen fewer than ``min_count`` times in the corpus. Raw counts never
grow when an n-gram is extended on either side, so what is kept stays closed under prefixes and
suffixes; each context's backoff weight is then recomputed so that its distribution sums to exactly one
again (as SRILM's pruning does).

Everything is vectorised with numpy over int64 keys (node ids are assigned order by order, see
:mod:`kocr.lm.model`), so a two-megabyte corpus builds in seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kocr.charsets import Charset
from kocr.errors import InputFileError, KocrError
from kocr.lm.model import CharLM


def encode_lines(lines: Iterable[str], charset: Charset) -> tuple[list[np.ndarray], int]:
    """Token arrays of normalised lines (``<unk>`` for symbols the charset lacks) and the <unk> count."""
    from kocr.text import normalize

    index = {symbol: i for i, symbol in enumerate(charset)}
    unk = len(charset) + 1
    encoded, unknown = [], 0
    for line in lines:
        text = normalize(line)
        if not text:
            continue
        ids = np.fromiter((index.get(s, unk) for s in charset.tokenize(text)), dtype=np.int64)
        unknown += int(np.count_nonzero(ids == unk))
        encoded.append(ids)
    return encoded, unknown


def build_lm(
    lines: Sequence[np.ndarray],
    charset: Charset,
    *,
    order: int = 6,
    min_count: int = 2,
    header: dict | None = None,
    progress: Callable[[str], None] | None = None,
) -> CharLM:
    """A modified Kneser–Ney model of ``order`` over token lines from :func:`encode_lines`."""
    if not 2 <= order <= 12:
        raise KocrError(f"n-gram order must be between 2 and 12, not {order}")
    if min_count < 1:
        raise KocrError(f"min_count must be at least 1, not {min_count}")
    if not lines or not any(len(line) for line in lines):
        raise KocrError("the corpus holds no text")
    vocab = len(charset)
    width = vocab + 3
    eos, bos = vocab, vocab + 2
    tokens = np.concatenate([np.concatenate(([bos], line, [eos])) for line in lines]).astype(np.int64)
    sentence = np.repeat(np.arange(len(lines)), [len(line) + 2 for line in lines])
    n = len(tokens)

    # Order by order: node ids of every position's n-gram (-1 where it would cross a line end).
    node_at = tokens.copy()  # order 1: node id = token id
    counts = [np.bincount(tokens, minlength=width).astype(np.int64)]
    parents: list[np.ndarray] = [np.full(width, -1, dtype=np.int64)]
    suffixes: list[np.ndarray] = [np.full(width, -1, dtype=np.int64)]
    lasts: list[np.ndarray] = [np.arange(width, dtype=np.int64)]
    keys_by_order: list[np.ndarray] = []
    offset = width
    for k in range(2, order + 1):
        if progress:
            progress(f"counting {k}-grams")
        start = np.arange(n - k + 1)
        valid = (sentence[start] == sentence[start + k - 1]) & (node_at[: n - k + 1] >= 0)
        positions = start[valid]
        keys = (node_at[positions] + 1) * width + tokens[positions + k - 1]
        unique, first, count = np.unique(keys, return_index=True, return_counts=True)
        node_next = np.full(n, -1, dtype=np.int64)
        node_next[positions] = offset + np.searchsorted(unique, keys)
        # The suffix of the n-gram at position i is the (k-1)-gram at position i + 1.
        suffix = node_at[positions[first] + 1]
        keys_by_order.append(unique)
        counts.append(count.astype(np.int64))
        parents.append(unique // width - 1)
        lasts.append(unique % width)
        suffixes.append(suffix)
        offset += len(unique)
        node_at = node_next
        if len(unique) == 0:
            break
    model = _kneser_ney(counts, parents, suffixes, lasts, width, bos)
    if progress:
        progress("pruning")
    return _assemble(model, counts, parents, suffixes, lasts, charset, len(counts), min_count, header)


@dataclass
class _Probabilities:
    logp: list[np.ndarray]
    offsets: list[int]


def _offsets(sizes: Sequence[int]) -> list[int]:
    return [int(x) for x in np.concatenate(([0], np.cumsum(sizes)))[:-1]]


def _kneser_ney(
    counts: list[np.ndarray],
    parents: list[np.ndarray],
    suffixes: list[np.ndarray],
    lasts: list[np.ndarray],
    width: int,
    bos: int,
) -> _Probabilities:
    """Interpolated modified Kneser–Ney probabilities (natural log) of every counted n-gram."""
    orders = len(counts)
    offsets = _offsets([len(c) for c in counts])
    starts_with_bos = [np.zeros(width, dtype=bool)]
    starts_with_bos[0][bos] = True
    for k in range(1, orders):
        parent_local = parents[k] - offsets[k - 1]
        starts_with_bos.append(starts_with_bos[k - 1][parent_local])
    # Adjusted counts: continuation counts below the top order, except for n-grams starting with <s>.
    adjusted = []
    for k in range(orders):
        if k == orders - 1:
            adjusted.append(counts[k].astype(np.float64))
            continue
        continuation = np.bincount(suffixes[k + 1] - offsets[k], minlength=len(counts[k])).astype(np.float64)
        adjusted.append(np.where(starts_with_bos[k], counts[k], continuation).astype(np.float64))
    adjusted[0][bos] = 0.0  # <s> is never predicted
    probs: list[np.ndarray] = []
    predictable = width - 1  # symbols, </s>, <unk>
    for k in range(orders):
        a = adjusted[k]
        d = _discounts(a)
        discount = np.select([a >= 3, a == 2, a == 1], [d[2], d[1], d[0]], 0.0)
        if k == 0:
            total = a.sum()
            gamma = (discount.sum()) / total
            p = (a - discount) / total + gamma / predictable
            p[bos] = 0.0
        else:
            context = parents[k] - offsets[k - 1]
            size = len(counts[k - 1])
            denominator = np.bincount(context, weights=a, minlength=size)
            mass = np.bincount(context, weights=discount, minlength=size)
            gamma = np.divide(mass, denominator, out=np.zeros(size), where=denominator > 0)
            lower = probs[k - 1][suffixes[k] - offsets[k - 1]]
            p = (a - discount) / denominator[context] + gamma[context] * lower
        probs.append(p)
    return _Probabilities([np.log(np.maximum(p, 1e-30)) for p in probs], offsets)


def _discounts(adjusted: np.ndarray) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from the counts of counts (fallbacks for tiny corpora)."""
    n1, n2, n3, n4 = (int(np.count_nonzero(adjusted == c)) for c in (1, 2, 3, 4))
    if n1 == 0 or n2 == 0:
        return 0.5, 0.75, 0.9  # too little data for estimates: moderate fixed discounts
    y = n1 / (n1 + 2 * n2)
    d1 = 1 - 2 * y * n2 / n1
    d2 = 2 - 3 * y * n3 / n2
    d3 = 3 - 4 * y * n4 / n3 if n3 else 2.5
    return (min(max(d1, 0.05), 0.95), min(max(d2, 0.1), 1.9), min(max(d3, 0.1), 2.9))


def _assemble(
    model: _Probabilities,
    counts: list[np.ndarray],
    parents: list[np.ndarray],
    suffixes: list[np.ndarray],
    lasts: list[np.ndarray],
    charset: Charset,
    orders: int,
    min_count: int,
    header: dict | None,
) -> CharLM:
    """Prune, renumber, renormalise the backoff weights and lay out the arrays of a :class:`CharLM`."""
    width = len(charset) + 3
    keep = [np.ones(len(counts[0]), dtype=bool)]
    for k in range(1, orders):
        keep.append(counts[k] >= (min_count if k >= 2 else 1))
    # New ids: kept nodes in the same order (so keys stay sorted), order after order.
    sizes = [int(m.sum()) for m in keep]
    new_offsets = _offsets(sizes)
    remap = [np.where(m, np.cumsum(m) - 1 + new_offsets[k], -1) for k, m in enumerate(keep)]
    logp, parent, suffix, last = [], [], [], []
    for k in range(orders):
        m = keep[k]
        logp.append(model.logp[k][m])
        last.append(lasts[k][m])
        if k == 0:
            parent.append(np.full(sizes[0], -1, dtype=np.int64))
            suffix.append(np.full(sizes[0], -1, dtype=np.int64))
        else:
            parent.append(remap[k - 1][parents[k][m] - model.offsets[k - 1]])
            suffix.append(remap[k - 1][suffixes[k][m] - model.offsets[k - 1]])
    all_logp = np.concatenate(logp)
    all_parent = np.concatenate(parent)
    all_suffix = np.concatenate(suffix)
    all_last = np.concatenate(last)
    total = len(all_logp)
    # Backoff weights: each context's kept children take their stored mass, the rest comes from the
    # lower order scaled to fill exactly what is left.
    child = np.arange(width, total)
    p_child = np.exp(all_logp[child])
    p_lower = np.exp(all_logp[all_suffix[child]])
    taken = np.bincount(all_parent[child], weights=p_child, minlength=total)
    taken_lower = np.bincount(all_parent[child], weights=p_lower, minlength=total)
    has_children = np.bincount(all_parent[child], minlength=total) > 0
    left = np.clip(1.0 - taken, 1e-12, None)
    left_lower = np.clip(1.0 - taken_lower, 1e-12, None)
    backoff = np.where(has_children, np.log(left) - np.log(left_lower), 0.0)
    # State after each node: itself if it is a context, else the state of its suffix (order by order).
    state = np.full(total, -1, dtype=np.int64)
    state[:width] = np.where(has_children[:width], np.arange(width), -1)
    for k in range(1, orders):
        block = slice(new_offsets[k], new_offsets[k] + sizes[k])
        own = np.arange(new_offsets[k], new_offsets[k] + sizes[k])
        state[block] = np.where(has_children[block], own, state[all_suffix[block]])
    keys = (all_parent[width:] + 1) * width + all_last[width:]
    info = dict(header or {})
    info.update(
        mode=charset.mode,
        charset=charset.name,
        smoothing="interpolated modified Kneser-Ney",
        min_count=min_count,
        ngrams=sizes,
    )
    return CharLM(
        symbols=tuple(charset),
        order=orders,
        keys=keys.astype(np.int64),
        logp=all_logp.astype(np.float32),
        backoff=backoff.astype(np.float32),
        suffix=all_suffix.astype(np.int32),
        state=state.astype(np.int32),
        header=info,
    )


def read_corpus(
    paths: Sequence[str | Path], *, warn: Callable[[str], None] | None = None, strict: bool = False
) -> tuple[list[str], int]:
    """Non-empty lines of UTF-8 text files, and how many lines were skipped as not UTF-8.

    A missing or unreadable file is an :class:`InputFileError`; a line that is not UTF-8 is reported
    through ``warn`` as ``file:line: ...`` and skipped (Korean text saved as CP949 is common), so one bad
    line costs one line. With ``strict`` (a text to measure, where a skipped line would change the
    figure) such a line is an :class:`InputFileError` naming the file and line instead.
    """
    lines: list[str] = []
    skipped = 0
    for item in paths:
        path = Path(item)
        if not path.is_file():
            raise InputFileError(path, "corpus file not found" if not path.exists() else "not a file")
        try:
            with path.open("rb") as handle:
                for number, raw in enumerate(handle, start=1):
                    try:
                        text = raw.decode("utf-8")
                    except UnicodeDecodeError as exc:
                        if strict:
                            hint = "save it as UTF-8 (e.g. iconv -f cp949 -t utf-8)"
                            raise InputFileError(
                                path, f"not valid UTF-8 ({exc.reason}); {hint}", number
                            ) from None
                        skipped += 1
                        if warn:
                            problem = f"not valid UTF-8 ({exc.reason}); line skipped"
                            warn(str(InputFileError(path, problem, number)))
                        continue
                    text = text.removeprefix("\ufeff") if number == 1 else text
                    if text.strip():
                        lines.append(text)
        except OSError as exc:
            raise InputFileError(path, f"cannot read it ({exc.strerror or exc})") from None
    return lines, skipped
