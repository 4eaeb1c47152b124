"""Character-exact text units: words, sentences, paragraphs.

Everything here returns spans as `[start, end)` offsets into the exact string given, so
that predictions made on any unit map back to the stored document text without loss.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from chitieu.lexicon.numbers import NUMERAL


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


# Order matters: abbreviations like TP.HCM, then Vietnamese numbers (34.000, 9,3, 1.234,5),
# then runs of letters/digits, then any other single visible character (punctuation, %).
_WORD_RE = re.compile(
    r"[A-ZĐ]{1,4}\.(?:[A-ZĐ]{1,4}\.)*[A-ZĐ]{2,}"
    r"|" + NUMERAL + r"|[^\W_]+"
    r"|\S",
)


# Punctuation words that may sit inside a span but never at its edge (the decoder trims
# them off a tagged span; an indicator candidate never starts or ends on one).
EDGE_PUNCTUATION = frozenset(".,;:!?\"'“”‘’()[]{}-–—…/")


def split_words(text: str) -> list[Token]:
    """Words and punctuation with their character offsets; whitespace is dropped."""
    return [Token(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(text)]


def paragraphs(text: str) -> list[tuple[int, int]]:
    """Non-empty lines, trimmed of edge whitespace."""
    out = []
    for m in re.finditer(r"[^\n]+", text):
        start, end = m.start(), m.end()
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append((start, end))
    return out


# Abbreviations that end in a dot without ending a sentence.
_NO_BREAK_BEFORE = ("TP", "Tp", "ThS", "TS", "PGS", "GS", "Q", "P", "BS", "KS", "St", "Mr", "Mrs", "Dr")
_LONGEST_NO_BREAK = max(len(a) for a in _NO_BREAK_BEFORE)
_BREAK_RE = re.compile(r"(?<=[.!?…])([\"”’)]?)\s+(?=[\"“‘(]?[^\W\d_]|\d)")
_LETTER_RE = re.compile(r"[^\W\d_]")
#: Longer "sentences" are lists or run-on text (the longest in the annotated corpus has 1,684
#: characters, 1 in 10,000 news sentences passes 1,500): they are read in pieces of at most this
#: many characters, cut at a space, so the work per value stays bounded whatever is sent.
MAX_SENTENCE_CHARS = 3000


def _word_before_dot(text: str, start: int, dot: int) -> str:
    """The run of letters that ends right before text[dot] == ".", not reaching before `start`.

    Only runs as short as an abbreviation matter, so at most one character more is read."""
    begin = dot
    while begin > start and dot - begin <= _LONGEST_NO_BREAK and _LETTER_RE.match(text[begin - 1]):
        begin -= 1
    return text[begin:dot]


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: paragraphs cut after . ! ? … when the next word starts a sentence, and
    cut again wherever a sentence runs over MAX_SENTENCE_CHARS."""
    out: list[tuple[int, int]] = []
    for p_start, p_end in paragraphs(text):
        start = p_start
        for m in _BREAK_RE.finditer(text, p_start, p_end):
            next_char = text[m.end()] if m.end() < p_end else ""
            if text[m.start() - 1] == "." and _word_before_dot(text, start, m.start() - 1) in _NO_BREAK_BEFORE:
                continue
            if next_char.isalpha() and not next_char.isupper():
                continue
            end = m.start() + len(m.group(1))  # a closing quote stays with its sentence
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                out.extend(_pieces(text, start, end))
            start = m.end()
        if p_end > start:
            out.extend(_pieces(text, start, p_end))
    return out


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """[start, end) cut into spans of at most MAX_SENTENCE_CHARS, at the last space before the
    limit (anywhere when there is none), edge white space trimmed."""
    out: list[tuple[int, int]] = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = start + MAX_SENTENCE_CHARS
        space = text.rfind(" ", start + 1, cut + 1)
        piece_end = space if space > start else cut
        next_start = piece_end
        while piece_end > start and text[piece_end - 1].isspace():
            piece_end -= 1
        while next_start < end and text[next_start].isspace():
            next_start += 1
        out.append((start, piece_end))
        start = next_start
    if end > start:
        out.append((start, end))
    return out


class SpanIndex:
    """Which of a list of sorted, disjoint spans (sentences, paragraphs) holds a position, by
    bisection: linking and refining ask it once per entity."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        self.spans = spans
        self._starts = [s for s, _ in spans]

    def index(self, pos: int) -> int:
        """The index of the span with start <= pos < end, or -1."""
        k = bisect_right(self._starts, pos) - 1
        return k if k >= 0 and pos < self.spans[k][1] else -1

    def containing(self, pos: int) -> tuple[int, int]:
        """The span holding pos, or the empty span (pos, pos)."""
        k = self.index(pos)
        return self.spans[k] if k >= 0 else (pos, pos)


@lru_cache(maxsize=1)
def _segmenter() -> Callable[[str], list[str]]:
    # underthesea's CRF word segmenter takes about 2 s to import and its model loads on the first
    # call: both happen on first use, or in `warm_word_segmenter` where a service warms up.
    from underthesea import word_tokenize

    def segment(sentence: str) -> list[str]:
        # No token normalisation: the words keep the sentence's own spelling (`hoà`, `thuỷ`).
        return word_tokenize(sentence, use_token_normalize=False)

    return segment


def warm_word_segmenter() -> None:
    """Load the word segmenter and its model now (a service's warm-up), not on the first request."""
    _segmenter()("khởi động")


@lru_cache(maxsize=256)
def compound_words(sentence: str) -> tuple[tuple[int, int], ...]:
    """The multi-syllable words of `sentence` (`du lịch`, `thu ngân sách`), as underthesea's word
    segmenter reads them, in offsets of `sentence`. Each word's syllables are matched in order
    over the sentence's own white space (a double or non-breaking space inside a word is
    fine); where a syllable does not match, the words after it are left out rather than
    guessed at. Cached: refine asks once per fragment, often of the same sentence."""
    out: list[tuple[int, int]] = []
    pos = 0
    for word in _segmenter()(sentence):
        start = None
        for syllable in word.split():
            while pos < len(sentence) and sentence[pos].isspace():
                pos += 1
            if not sentence.startswith(syllable, pos):
                return tuple(out)
            start = pos if start is None else start
            pos += len(syllable)
        if start is not None and len(word.split()) > 1:
            out.append((start, pos))
    return tuple(out)
