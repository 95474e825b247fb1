"""Text for synthetic lines: a user corpus, the built-in word list, random syllables, mixed formats.

Every text is drawn from the *allowed characters* (what the charset can label and at least one
font can draw), so no generated label needs filtering later. The kinds are mixed (weights in
:class:`TextConfig`, set from the command line with ``--text-mix``):

- ``corpus``: chunks of the user's corpus file (long lines are cut at spaces into chunks that fit
  the length limits), in a seeded shuffled order, so a run walks the whole corpus;
- ``words``: words from ``wordlist_ko.txt`` (written for kocr, Apache-2.0) with particles chosen by
  the final consonant (책을, 사과를), names, numbers with counters, separated by spaces;
- ``syllables``: random syllable "words"; syllables come from a shuffled cycle over all allowed
  syllables, i.e. always the least recently used ones, so every syllable of an 11,172-symbol charset
  appears once per ~2,000 such lines instead of rare ones never appearing;
- ``mixed``: dates, times, phone numbers, prices (₩, 원, $), units, codes, English words, quotes
  and brackets, next to Korean words; punctuation/Latin/digits come from their own cycle as well;
- ``latin``: Latin-script tokens among Korean words (acronyms, capitalised and lower-case
  letter strings, letters with digits, words of the list), letters drawn from a cycle so every
  letter of both cases is seen evenly. Off by default (weight 0), so the default mix, and with it
  the texts of a given seed, stay what they were;
- ``prose``: a window of a corpus paragraph cut the way a text line cuts running prose: mostly at
  word boundaries, sometimes mid-word at either end; now and then dressed as documents dress prose:
  article and list numbering (제3조, 1., 가.), middle-dot lists (국어·영어·수학), quotes and brackets
  around a phrase, numbers with units. Off by default too; needs a corpus.
- ``lookalike``: prose (or, without a corpus, word-list text) in which about a third of the syllables
  are swapped for a look-alike one jamo away (눈→둔, 정→징, 별→벌, 날→남; ``kocr.charsets.lookalikes``),
  so the line's context cannot tell the recogniser which it is; it has to look. Off by default.

Generation is sequential and seeded (``random.Random``), so the same seed gives the same texts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path

from kocr.charsets import hangul
from kocr.charsets.lookalikes import lookalikes
from kocr.errors import InputFileError, KocrError
from kocr.text import normalize

KINDS: tuple[str, ...] = ("corpus", "words", "syllables", "mixed", "latin", "prose", "lookalike")
LOOKALIKE_SWAP_RATE = 0.35  # share of a lookalike text's syllables swapped
_MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class TextConfig:
    """Length limits (characters, spaces included) and the mix of text kinds."""

    min_chars: int = 1
    max_chars: int = 25
    weights: dict[str, float] = field(
        default_factory=lambda: {"corpus": 0.5, "words": 0.35, "syllables": 0.3, "mixed": 0.35}
    )

    def __post_init__(self) -> None:
        if not 1 <= self.min_chars <= self.max_chars:
            raise KocrError(f"need 1 <= min_chars <= max_chars, got {self.min_chars} and {self.max_chars}")
        unknown = set(self.weights) - set(KINDS)
        if unknown:
            raise KocrError(f"unknown text kinds {sorted(unknown)}; choose from {', '.join(KINDS)}")
        bad = [f"{kind}={weight}" for kind, weight in self.weights.items() if not 0 <= weight < math.inf]
        if bad:  # NaN fails every comparison: 0 <= nan is False
            raise KocrError(f"text kind weights must be finite numbers of at least 0: {', '.join(bad)}")


def parse_text_mix(spec: str) -> dict[str, float]:
    """Weights from ``"words=0.4,latin=0.2"``; kinds not named keep their default weight.

    The result is the full mix (defaults updated), ready for :class:`TextConfig`.
    """
    weights = dict(TextConfig().weights)
    for item in filter(None, (part.strip() for part in spec.split(","))):
        kind, sep, value = item.partition("=")
        kind = kind.strip()
        if not sep or kind not in KINDS:
            raise KocrError(f"bad text mix item {item!r}: write KIND=WEIGHT, KIND one of {', '.join(KINDS)}")
        try:
            weights[kind] = float(value)
        except ValueError:
            raise KocrError(f"bad text mix item {item!r}: {value.strip()!r} is not a number") from None
    return weights


@dataclass(frozen=True)
class WordList:
    """The built-in word list, by section (noun, predicate, adverb, other, counter, names, latin)."""

    sections: dict[str, tuple[str, ...]]

    def __getitem__(self, section: str) -> tuple[str, ...]:
        return self.sections.get(section, ())

    def __len__(self) -> int:
        return sum(len(words) for words in self.sections.values())


def parse_word_list(text: str) -> WordList:
    """Parse the ``[section]`` / one-word-per-line format of ``wordlist_ko.txt``."""
    sections: dict[str, list[str]] = {}
    current = "noun"
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
            sections.setdefault(current, [])
            continue
        sections.setdefault(current, []).append(normalize(line))
    return WordList({name: tuple(dict.fromkeys(words)) for name, words in sections.items()})


@cache
def builtin_word_list() -> WordList:
    """The word list shipped in the package (``kocr/data/synth/wordlist_ko.txt``)."""
    try:
        text = resources.files("kocr.data.synth").joinpath("wordlist_ko.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise KocrError(
            "the built-in word list kocr/data/synth/wordlist_ko.txt is missing from this install"
        ) from None
    return parse_word_list(text)


def corpus_chunks(lines: Iterable[str], min_chars: int, max_chars: int) -> list[str]:
    """Normalised corpus lines cut at spaces into chunks of ``min_chars..max_chars`` characters.

    A single word longer than ``max_chars`` is cut into pieces (Korean compounds can be long).
    """
    chunks: list[str] = []
    for line in lines:
        words = normalize(line).split(" ")
        current = ""
        for word in words:
            while len(word) > max_chars:
                if current:
                    chunks.append(current)
                    current = ""
                chunks.append(word[:max_chars])
                word = word[max_chars:]
            candidate = f"{current} {word}" if current else word
            if len(candidate) <= max_chars:
                current = candidate
            else:
                chunks.append(current)
                current = word
        if current:
            chunks.append(current)
    return [chunk for chunk in chunks if len(chunk) >= min_chars]


def read_corpus_lines(path: str | Path) -> list[str]:
    """The non-empty lines of a UTF-8 corpus file, read strictly: a line that is not UTF-8 (a CP949
    file) is an :class:`InputFileError` naming the file and line, never a line silently dropped."""
    from kocr.data.labels.reader import read_label_file

    return [record.label for record in read_label_file(path, "lines", strict=True).records]


#: Text kinds cut from corpus files: ``corpus`` takes whole chunks, ``prose`` and ``lookalike`` windows of
#: the paragraphs' allowed segments (``lookalike`` falls back to the word list when no corpus is given).
CORPUS_KINDS = ("corpus", "prose", "lookalike")


@dataclass(frozen=True)
class CorpusTexts:
    """What the corpus files give the text generator: paragraphs (prose windows) and chunks (lines)."""

    paragraphs: list[str]
    chunks: list[str]


def read_corpora(
    paths: Sequence[str | Path], config: TextConfig, allowed: Iterable[str], charset_name: str = ""
) -> CorpusTexts:
    """Every corpus file read strictly (:func:`read_corpus_lines`); the texts the mix asks for must come.

    A corpus kind the mix weighs above 0 is never dropped silently: ``prose`` with no corpus file, a
    corpus file with no line, or one of which no line is usable with ``allowed`` (the charset's
    characters the fonts draw) for the kinds asked for, is an error naming the file.
    """
    allowed = frozenset(allowed)
    asked = [kind for kind in CORPUS_KINDS if config.weights.get(kind, 0) > 0]
    if not paths:
        if config.weights.get("prose", 0) > 0:
            raise KocrError(
                f"the text mix asks for prose (weight {config.weights['prose']:g}), which is cut from a "
                "corpus, but no corpus file is given: give one (--corpus FILE, or corpus = [...] in a "
                "recipe) or set prose to 0"
            )
        return CorpusTexts([], [])
    paragraphs: list[str] = []
    chunks: list[str] = []
    for path in paths:
        lines = read_corpus_lines(path)
        own = corpus_chunks(lines, config.min_chars, config.max_chars)
        if asked:
            _check_corpus_feeds(path, lines, own, asked, allowed, charset_name)
        paragraphs.extend(lines)
        chunks.extend(own)
    return CorpusTexts(paragraphs, chunks)


def _check_corpus_feeds(
    path: str | Path,
    lines: list[str],
    chunks: list[str],
    asked: list[str],
    allowed: frozenset[str],
    charset_name: str,
) -> None:
    kinds = " and ".join(asked)
    if not lines:
        raise InputFileError(path, f"the corpus holds no text, but the text mix asks for {kinds}")
    unfed = []
    if "corpus" in asked and not any(all(ch in allowed for ch in chunk) for chunk in chunks):
        unfed.append("corpus")
    if ("prose" in asked or "lookalike" in asked) and not allowed_segments(lines, allowed):
        unfed.extend(kind for kind in ("prose", "lookalike") if kind in asked)
    if unfed:
        outside = sorted({ch for line in lines for ch in line if ch not in allowed and not ch.isspace()})
        shown = "".join(outside[:10]) + ("…" if len(outside) > 10 else "")
        charset = f"charset {charset_name}" if charset_name else "the charset"
        raise InputFileError(
            path,
            f"no line of the corpus is usable for {' and '.join(unfed)} text (asked for by the text mix): "
            f"its lines hold characters outside {charset} or the fonts' glyphs ({shown}), or are shorter "
            "than the length limits",
        )


def allowed_segments(paragraphs: Iterable[str], allowed: frozenset[str], min_chars: int = 2) -> list[str]:
    """Paragraphs split at characters outside ``allowed`` (a Hanja, a rare syllable), keeping pieces of
    at least ``min_chars``: every window of a piece is a usable text, so none is drawn in vain."""
    pieces: list[str] = []
    for paragraph in paragraphs:
        start = 0
        for position, ch in enumerate([*paragraph, None]):
            if ch is None or ch not in allowed:
                piece = paragraph[start:position].strip()
                if len(piece) >= min_chars:
                    pieces.append(piece)
                start = position + 1
    return pieces


class _Cycle:
    """Symbols in a shuffled order, reshuffled when used up: each draw is a least recently used one."""

    def __init__(self, symbols: Sequence[str], rng: random.Random) -> None:
        self._symbols = list(symbols)
        self._rng = rng
        self._order: list[str] = []

    def __bool__(self) -> bool:
        return bool(self._symbols)

    def reset(self) -> None:
        self._order = []

    def take(self, count: int) -> str:
        out: list[str] = []
        for _ in range(count):
            if not self._order:
                self._order = self._symbols[:]
                self._rng.shuffle(self._order)
            out.append(self._order.pop())
        return "".join(out)


# particles: (after a final consonant, after a vowel)
_PARTICLES: tuple[tuple[str, str], ...] = (
    ("은", "는"),
    ("이", "가"),
    ("을", "를"),
    ("과", "와"),
    ("으로", "로"),
    ("이나", "나"),
    ("에", "에"),
    ("에서", "에서"),
    ("의", "의"),
    ("도", "도"),
    ("만", "만"),
    ("까지", "까지"),
    ("부터", "부터"),
    ("에게", "에게"),
    ("보다", "보다"),
    ("처럼", "처럼"),
    ("이랑", "랑"),
    ("이에요", "예요"),
)
_LATIN_LOWER = "abcdefghijklmnopqrstuvwxyz"
_WEEKDAYS = "월화수목금토일"
_LIST_LETTERS = "가나다라마바사아자차카타파하"
_QUOTES: tuple[tuple[str, str], ...] = (
    ("“", "”"),
    ("‘", "’"),
    ('"', '"'),
    ("'", "'"),
    ("「", "」"),
    ("『", "』"),
    ("《", "》"),
    ("〈", "〉"),
    ("【", "】"),
    ("(", ")"),
    ("[", "]"),
    ("<", ">"),
)
_UNITS = (
    "kg", "g", "cm", "mm", "m", "km", "L", "ml", "%", "℃", "°C", "평", "㎡", "GB", "MB",
    "원", "만 원", "억 원", "명", "개", "년", "개월", "일", "시간", "분", "초", "회", "배", "건", "쪽",
)  # fmt: skip


def attach_particle(noun: str, rng: random.Random) -> str:
    """``noun`` plus a particle in the form its last syllable's final consonant calls for."""
    after_consonant, after_vowel = rng.choice(_PARTICLES)
    last = noun[-1]
    if not hangul.is_syllable(last):
        return noun + after_vowel
    final = hangul.split_syllable(last)[2]
    rieul = 8  # ㄹ: takes 로, not 으로
    if after_consonant == "으로" and final == rieul:
        return noun + "로"
    return noun + (after_consonant if final else after_vowel)


class TextGenerator:
    """Seeded stream of texts whose characters are all in ``allowed``."""

    def __init__(
        self,
        allowed: Iterable[str],
        config: TextConfig | None = None,
        *,
        corpus: Sequence[str] = (),
        paragraphs: Sequence[str] = (),
        seed: int = 0,
        word_list: WordList | None = None,
    ) -> None:
        self.config = config or TextConfig()
        self.allowed = frozenset(allowed)
        self.rng = random.Random(seed)
        words = word_list or builtin_word_list()
        ok = self._allowed_text
        self._pools = {
            name: tuple(w for w in words[name] if ok(w))
            for name in ("noun", "predicate", "adverb", "other", "counter", "surname", "given-name", "latin")
        }
        syllables = sorted(ch for ch in self.allowed if hangul.is_syllable(ch))
        others = sorted(ch for ch in self.allowed if not hangul.is_syllable(ch) and not ch.isspace())
        self._syllables = _Cycle(syllables, self.rng)
        self._others = _Cycle(others, self.rng)
        self._upper = _Cycle([ch for ch in others if ch.isascii() and ch.isupper()], self.rng)
        self._lower = _Cycle([ch for ch in others if ch.isascii() and ch.islower()], self.rng)
        self._corpus = [chunk for chunk in corpus if ok(chunk)]
        self.corpus_rejected = len(corpus) - len(self._corpus)
        self._corpus_order: list[str] = []
        self._paragraphs = allowed_segments(paragraphs, self.allowed)
        self._paragraph_order: list[str] = []
        makers: dict[str, Callable[[int], str]] = {
            "corpus": self._from_corpus,
            "words": self._words,
            "syllables": self._random_syllables,
            "mixed": self._mixed,
            "latin": self._latin,
            "prose": self._prose,
            "lookalike": self._lookalike,
        }
        available = {
            "corpus": bool(self._corpus),
            "words": bool(self._pools["noun"] or self._pools["latin"]),
            "syllables": bool(self._syllables),
            "mixed": bool(self._others),
            "latin": bool(self._upper and self._lower),
            "prose": bool(self._paragraphs),
            "lookalike": bool(self._paragraphs or self._pools["noun"]),
        }
        self._kinds = [kind for kind in KINDS if available[kind] and self.config.weights.get(kind, 0) > 0]
        if not self._kinds:
            raise KocrError("no text kind can produce text from the allowed characters (charset × fonts)")
        self._weights = [self.config.weights[kind] for kind in self._kinds]
        self._makers = makers
        self.attempts = 0
        self.kind_counts: dict[str, int] = dict.fromkeys(self._kinds, 0)

    def _allowed_text(self, text: str) -> bool:
        allowed = self.allowed
        return bool(text) and all(ch in allowed for ch in text)

    def reseed(self, seed: int | Sequence[int]) -> None:
        """Restart the stream from ``seed`` (an int or a sequence of ints) without rebuilding the
        word pools: on-the-fly synthesis reseeds per block of samples, so any block can be made again
        in any worker. Cycles and corpus orders start afresh."""
        self.rng.seed(seed if isinstance(seed, int) else "/".join(map(str, seed)))
        for cycle in (self._syllables, self._others, self._upper, self._lower):
            cycle.reset()
        self._corpus_order = []
        self._paragraph_order = []

    def __iter__(self) -> TextGenerator:
        return self

    def __next__(self) -> str:
        return self.next_text()

    def next_text(self) -> str:
        """The next text; raises ``KocrError`` when the allowed characters cannot make one."""
        cfg = self.config
        for _ in range(_MAX_ATTEMPTS):
            self.attempts += 1
            kind = self.rng.choices(self._kinds, self._weights)[0]
            target = self.rng.randint(cfg.min_chars, cfg.max_chars)
            text = normalize(self._makers[kind](target))
            if len(text) > cfg.max_chars:
                text = text[: cfg.max_chars].rstrip()
            if cfg.min_chars <= len(text) and self._allowed_text(text):
                self.kind_counts[kind] += 1
                return text
        raise KocrError(
            f"could not make a text of {cfg.min_chars}-{cfg.max_chars} characters from the allowed "
            f"characters in {_MAX_ATTEMPTS} attempts"
        )

    # --- kinds ---------------------------------------------------------------------------------

    def _from_corpus(self, target: int) -> str:
        if not self._corpus_order:
            self._corpus_order = self._corpus[:]
            self.rng.shuffle(self._corpus_order)
        return self._corpus_order.pop()

    def _pick(self, pool: str) -> str:
        words = self._pools[pool]
        return self.rng.choice(words) if words else ""

    def _word(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.45:
            noun = self._pick("noun")
            return attach_particle(noun, rng) if noun and rng.random() < 0.55 else noun
        if roll < 0.68:
            return self._pick("predicate")
        if roll < 0.78:
            return self._pick("adverb")
        if roll < 0.85:
            return self._pick("other")
        if roll < 0.90:
            return f"{self._number()}{self._pick('counter')}"
        if roll < 0.95:
            return self._pick("surname") + self._pick("given-name")
        return self._pick("latin")

    def _words(self, target: int) -> str:
        return self._fill(target, self._word)

    def _fill(self, target: int, make: Callable[[], str]) -> str:
        words: list[str] = []
        length = -1
        for _ in range(40):
            word = make()
            if not word:
                continue
            if words and length + 1 + len(word) > target:
                break
            words.append(word)
            length += 1 + len(word)
            if length >= target:
                break
        return " ".join(words)

    def _random_syllables(self, target: int) -> str:
        """Syllable "words" that fit ``target`` exactly, so no drawn syllable is cut off (and lost
        from the cycle)."""
        rng = self.rng
        if rng.random() < 0.15:  # sometimes no spaces at all, as in a name or a code
            return self._syllables.take(max(1, target))
        parts: list[str] = []
        remaining = max(1, target)
        while remaining > 0:
            count = min(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5)), remaining)
            parts.append(self._syllables.take(count))
            remaining -= count + 1
        return " ".join(parts)

    def _number(self) -> str:
        rng = self.rng
        return str(rng.choice((rng.randint(1, 9), rng.randint(10, 99), rng.randint(100, 9999))))

    def _mixed(self, target: int) -> str:
        rng = self.rng
        parts = [rng.choice(_FORMATS)(self)]
        while sum(len(p) + 1 for p in parts) < target and rng.random() < 0.7:
            parts.append(self._word() if rng.random() < 0.6 else rng.choice(_FORMATS)(self))
        rng.shuffle(parts)
        return " ".join(p for p in parts if p)

    def _latin(self, target: int) -> str:
        """Latin tokens, about half of the words, among Korean ones ("USB 메모리를 Open")."""
        return self._fill(target, lambda: self._latin_token() if self.rng.random() < 0.55 else self._word())

    def _latin_token(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.25:
            word = self._pick("latin")
            return rng.choice((word, word, word.upper(), word.lower()))
        if roll < 0.5:  # acronym
            return self._upper.take(rng.randint(2, 5))
        if roll < 0.85:  # word-like letter string, often capitalised
            word = self._lower.take(rng.randint(2, 9))
            return word.capitalize() if rng.random() < 0.4 else word
        letters = self._upper.take(rng.randint(1, 3)) if rng.random() < 0.5 else self._lower.take(1)
        return rng.choice(
            (
                f"{letters}{rng.randint(1, 999)}",
                f"{letters}-{rng.randint(1, 99)}",
                f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}",
            )
        )

    def _prose(self, target: int) -> str:
        """A window of running prose as a text line cuts it, sometimes dressed as documents dress it."""
        rng = self.rng
        text = self._window(target)
        roll = rng.random()
        if roll < 0.12:
            text = f"{self._numbering()} {text}"
        elif roll < 0.22:
            text = self._insert(text, self._dot_list())
        elif roll < 0.32:
            text = self._quote_span(text)
        elif roll < 0.42:
            text = self._insert(text, self._quantity())
        return text

    def _lookalike(self, target: int) -> str:
        """Prose (or words) with some syllables swapped for a look-alike the charset holds."""
        rng = self.rng
        text = self._window(target) if self._paragraphs else self._words(target)
        swapped = []
        for ch in text:
            if rng.random() < LOOKALIKE_SWAP_RATE:
                options = [other for other in lookalikes(ch) if other in self.allowed]
                if options:
                    ch = rng.choice(options)
            swapped.append(ch)
        return "".join(swapped)

    def _window(self, target: int) -> str:
        """``target`` characters of a paragraph: starting at a word (85 %) or mid-word, ending at a
        word boundary when one is near (80 %) or wherever the line runs out."""
        rng = self.rng
        if not self._paragraph_order:
            self._paragraph_order = self._paragraphs[:]
            rng.shuffle(self._paragraph_order)
        paragraph = self._paragraph_order.pop()
        if len(paragraph) <= target:
            return paragraph
        if rng.random() < 0.85:
            starts = [0, *(i + 1 for i, ch in enumerate(paragraph[:-target]) if ch == " ")]
            start = rng.choice(starts)
        else:
            start = rng.randrange(len(paragraph) - target + 1)
        window = paragraph[start : start + target]
        cut = window.rfind(" ")
        if rng.random() < 0.8 and cut >= max(1, target // 2):
            window = window[:cut]
        return window.strip()

    def _numbering(self) -> str:
        rng = self.rng
        n = rng.choice((rng.randint(1, 9), rng.randint(1, 9), rng.randint(10, 99)))
        return rng.choice(
            (
                f"{n}.",
                f"{n})",
                f"({n})",
                f"제{n}조",
                f"제{n}조({self._pick('noun') or '목적'})",
                f"제{n}항",
                f"{_LIST_LETTERS[(n - 1) % len(_LIST_LETTERS)]}.",
                f"{_LIST_LETTERS[(n - 1) % len(_LIST_LETTERS)]})",
                f"{n}.{rng.randint(1, 9)}",
                "-",
                "※",
                "·",
                "○",
                "→",
            )
        )

    def _dot_list(self) -> str:
        rng = self.rng
        dot = "·" if rng.random() < 0.85 else "ㆍ"
        if rng.random() < 0.2:
            return f"{rng.randint(1, 3)}{dot}{rng.randint(4, 9)}{rng.choice(('차', '학년', '층', '호선'))}"
        nouns = [w for w in (self._pick("noun") for _ in range(rng.randint(2, 4))) if w]
        return dot.join(nouns)

    def _quantity(self) -> str:
        rng = self.rng
        value = rng.choice(
            (
                str(rng.randint(1, 99)),
                f"{rng.randint(1, 999):,}",
                f"{rng.randint(1, 99_999):,}",
                f"{rng.randint(0, 99)}.{rng.randint(0, 99)}",
            )
        )
        unit = rng.choice(_UNITS)
        return rng.choice((f"{value}{unit}", f"{value} {unit}", f"약 {value}{unit}", f"{value}{unit} 이상"))

    def _insert(self, text: str, item: str) -> str:
        """``item`` as a word of ``text`` (at a word boundary), with a particle half of the time."""
        rng = self.rng
        if item and hangul.is_syllable(item[-1]) and rng.random() < 0.5:
            item = attach_particle(item, rng)
        words = text.split(" ")
        words.insert(rng.randint(0, len(words)), item)
        return " ".join(words)

    def _quote_span(self, text: str) -> str:
        words = text.split(" ")
        rng = self.rng
        first = rng.randrange(len(words))
        last = min(len(words), first + rng.randint(1, 3))
        left, right = rng.choice(_QUOTES)
        words[first:last] = [f"{left}{' '.join(words[first:last])}{right}"]
        return " ".join(words)

    # --- formats for "mixed" --------------------------------------------------------------------

    def _date(self) -> str:
        rng = self.rng
        y, m, d = rng.randint(1950, 2035), rng.randint(1, 12), rng.randint(1, 28)
        return rng.choice(
            (
                f"{y}년 {m}월 {d}일",
                f"{y}.{m:02d}.{d:02d}",
                f"{y}-{m:02d}-{d:02d}",
                f"{y % 100:02d}/{m:02d}/{d:02d}",
                f"{m}월 {d}일 ({rng.choice(_WEEKDAYS)})",
                f"{y}. {m}. {d}.",
            )
        )

    def _time(self) -> str:
        rng = self.rng
        h, mi = rng.randint(0, 23), rng.randint(0, 59)
        return rng.choice(
            (
                f"{h:02d}:{mi:02d}",
                f"{'오전' if h < 12 else '오후'} {h % 12 or 12}시 {mi}분",
                f"{h}시 {mi:02d}분",
            )
        )

    def _phone(self) -> str:
        rng = self.rng
        n4 = f"{rng.randint(0, 9999):04d}"
        return rng.choice(
            (
                f"010-{rng.randint(1000, 9999)}-{n4}",
                f"02-{rng.randint(100, 9999)}-{n4}",
                f"0{rng.randint(31, 64)}-{rng.randint(100, 999)}-{n4}",
                f"1588-{n4}",
                f"({rng.choice(('02', '031', '051'))}) {rng.randint(100, 999)}-{n4}",
            )
        )

    def _price(self) -> str:
        rng = self.rng
        amount = rng.choice(
            (rng.randint(1, 99) * 100, rng.randint(1, 999) * 1000, rng.randint(1, 99) * 10000)
        )
        grouped = f"{amount:,}"
        return rng.choice(
            (
                f"{grouped}원",
                f"₩{grouped}",
                f"₩ {grouped}",
                f"{amount // 10000}만 {amount % 10000 // 1000}천원" if amount >= 10000 else f"{grouped}원",
                f"${rng.randint(1, 999)}.{rng.randint(0, 99):02d}",
                f"가격: {grouped}원",
                f"{rng.randint(1, 90)}% 할인",
            )
        )

    def _measure(self) -> str:
        rng = self.rng
        value = rng.choice((str(rng.randint(1, 999)), f"{rng.randint(0, 99)}.{rng.randint(0, 9)}"))
        unit = rng.choice(
            ("kg", "g", "cm", "mm", "m", "km", "L", "ml", "%", "℃", "°C", "평", "㎡", "GB", "MB")
        )
        return f"{value}{unit}"

    def _code(self) -> str:
        rng = self.rng
        letters = "".join(rng.choice(_LATIN_LOWER.upper()) for _ in range(rng.randint(1, 3)))
        return rng.choice(
            (
                f"{letters}-{rng.randint(100, 99999)}",
                f"No. {rng.randint(1, 9999)}",
                f"{rng.randint(1, 999)}동 {rng.randint(101, 2504)}호",
                f"제{rng.randint(1, 99)}조 {rng.randint(1, 9)}항",
                f"{rng.randint(1, 99)}번 출구",
                f"{self._email_user()}@{rng.choice(('naver', 'daum', 'mail'))}.com",
            )
        )

    def _email_user(self) -> str:
        word = self._pick("latin").lower().replace(" ", "") or "kim"
        return f"{word}{self.rng.randint(1, 999)}"

    def _quoted(self) -> str:
        rng = self.rng
        left, right = rng.choice(_QUOTES)
        return f"{left}{self._fill(rng.randint(2, 10), self._word)}{right}"

    def _symbols(self) -> str:
        return self._others.take(self.rng.randint(1, 6))

    def _sentence_mark(self) -> str:
        rng = self.rng
        return self._word() + rng.choice((".", ",", "!", "?", "…", "~", ":", ";", "·"))


_FORMATS: tuple[Callable[[TextGenerator], str], ...] = (
    TextGenerator._date,
    TextGenerator._time,
    TextGenerator._phone,
    TextGenerator._price,
    TextGenerator._measure,
    TextGenerator._code,
    TextGenerator._quoted,
    TextGenerator._symbols,
    TextGenerator._symbols,
    TextGenerator._sentence_mark,
)


def allowed_characters(
    charset_symbols: Iterable[str], covers: Callable[[str], bool] | None = None
) -> list[str]:
    """The characters texts may use for a charset: its symbols, or for a jamo charset every
    syllable whose jamo it covers (``covers`` = ``Charset.covers``) plus its non-jamo symbols."""
    symbols = list(charset_symbols)
    if any(hangul.is_conjoining_jamo(s) for s in symbols) and covers is not None:
        base = [s for s in symbols if not hangul.is_conjoining_jamo(s)]
        return base + [s for s in hangul.ALL_SYLLABLES if covers(s)]
    return symbols
