"""Vietnamese word segmentation with exact character offsets, for PhoBERT.

PhoBERT was pre-trained on word-segmented text (`thành_phố`, `tăng_trưởng`), so its words
are multi-syllable. underthesea's `word_tokenize` does the segmentation but returns bare
strings, after normalising its input (NFC, `ð`->`đ`, misspellings like `nghành`->`ngành`)
and re-spacing it. We therefore never trust its output to equal the input: each syllable it
returns is located in the original text, and any stretch we cannot locate falls back to
`chitieu.text.split_words` units, so offsets stay exact whatever underthesea does.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from chitieu.lexicon.unicode import base_letters, nfc
from chitieu.text import Token, sentences, split_words

log = logging.getLogger(__name__)

# How far ahead a syllable underthesea returned may be looked for before we give up on it.
_RESYNC_WINDOW = 64


@dataclass
class SegmentStats:
    """What alignment had to do; `fallback_stretches` should stay at or near zero."""

    words: int = 0
    chunks: int = 0
    #: Stretches of the original text no underthesea syllable could be matched to.
    fallback_stretches: int = 0
    fallback_chars: int = 0
    #: Syllables that matched only after undoing underthesea's normalisation.
    loose_matches: int = 0
    #: Syllables underthesea returned that are nowhere near the current position.
    dropped_syllables: int = 0

    def add(self, other: SegmentStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def segment_words(text: str) -> list[Token]:
    """PhoBERT's words of `text`; `text[t.start:t.end] == t.text` for every token."""
    return segment_with_stats(text)[0]


def phobert_form(text: str, token: Token) -> str:
    """The word as PhoBERT's vocabulary spells it: NFC syllables joined by `_`."""
    return nfc("_".join(text[token.start : token.end].split()))


def segment_with_stats(text: str) -> tuple[list[Token], SegmentStats]:
    """`segment_words` plus a count of what had to fall back, for logs and tests."""
    stats = SegmentStats()
    tokens: list[Token] = []
    for start, end in _chunks(text):
        stats.chunks += 1
        tokens.extend(_segment_chunk(text, start, end, stats))
    stats.words = len(tokens)
    if stats.fallback_stretches:
        log.debug("segment: %d stretch(es), %d chars fell back to split_words", stats.fallback_stretches, stats.fallback_chars)
    return tokens, stats


def _chunks(text: str) -> list[tuple[int, int]]:
    """Sentence-sized pieces that together cover every character of `text`.

    Cutting at sentence starts (rather than using the sentence spans themselves) keeps any
    character a sentence span leaves out, and keeps the CRF from joining syllables across a
    line break. Segmenting sentence by sentence also keeps each underthesea call short.
    """
    starts = [start for start, _ in sentences(text)]
    if not starts:
        return []
    starts[0] = 0
    return list(zip(starts, starts[1:] + [len(text)]))


def _word_tokenize() -> Callable[[str], list[str]]:
    # Importing underthesea takes seconds (it pulls in its translation pipeline): only pay
    # for it when a text is actually segmented.
    from underthesea import word_tokenize

    return word_tokenize


def _segment_chunk(text: str, start: int, end: int, stats: SegmentStats) -> list[Token]:
    out: list[Token] = []
    pos = start
    for word in _word_tokenize()(text[start:end]):
        group: list[tuple[int, int]] = []  # syllable spans of the current word
        for syllable in word.split():
            found = _locate(text, syllable, pos, end, stats)
            if found is None:
                stats.dropped_syllables += 1
                continue
            s, e = found
            if text[pos:s].strip():
                # Original text underthesea's syllables skipped over: the word cannot span
                # it, and the skipped text still needs tokens.
                _flush(text, group, out)
                group = []
                out.extend(_fallback(text, pos, s, stats))
            group.append((s, e))
            pos = e
        _flush(text, group, out)
    if text[pos:end].strip():
        out.extend(_fallback(text, pos, end, stats))
    return out


def _flush(text: str, group: list[tuple[int, int]], out: list[Token]) -> None:
    if group:
        s, e = group[0][0], group[-1][1]
        out.append(Token(s, e, text[s:e]))


def _fallback(text: str, start: int, end: int, stats: SegmentStats) -> list[Token]:
    stats.fallback_stretches += 1
    stats.fallback_chars += len(text[start:end].strip())
    log.debug("segment: no alignment for %r", text[start:end])
    return [Token(t.start + start, t.end + start, t.text) for t in split_words(text[start:end])]


def _locate(text: str, syllable: str, pos: int, end: int, stats: SegmentStats) -> tuple[int, int] | None:
    """Span of `syllable` in `text` at or shortly after `pos` (whitespace skipped)."""
    while pos < end and text[pos].isspace():
        pos += 1
    if text.startswith(syllable, pos, end):
        return pos, pos + len(syllable)
    loose = _loose_end(text, syllable, pos, end)
    if loose is not None:
        stats.loose_matches += 1
        return pos, loose
    found = text.find(syllable, pos + 1, min(end, pos + _RESYNC_WINDOW + len(syllable)))
    if found >= 0:
        return found, found + len(syllable)
    return None


def _loose_end(text: str, syllable: str, pos: int, end: int) -> int | None:
    """End of the shortest run at `pos` that is `syllable` before underthesea normalised it."""
    target = base_letters(syllable)
    limit = min(end, pos + 3 * len(syllable) + 3)
    for stop in range(pos + 1, limit + 1):
        candidate = text[pos:stop]
        if candidate[-1].isspace():
            return None
        if base_letters(candidate) == target or _underthesea_normal(candidate) == syllable:
            while stop < end and unicodedata.combining(text[stop]):
                stop += 1
            return stop
    return None


def _underthesea_normal(s: str) -> str:
    from underthesea.pipeline.text_normalize import token_normalize

    return token_normalize(s)
