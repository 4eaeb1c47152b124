"""Character-exact text units: words, sentences, paragraphs.

Everything here returns spans as `[start, end)` offsets into the exact string given, so
that predictions made on any unit map back to the stored document text without loss.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Token:
    start: int
    end: int
    text: str


# Order matters: abbreviations like TP.HCM, then Vietnamese numbers (34.000, 9,3, 1.234,5),
# then runs of letters/digits, then any other single visible character (punctuation, %).
_WORD_RE = re.compile(
    r"[A-ZĐ]{1,4}\.(?:[A-ZĐ]{1,4}\.)*[A-ZĐ]{2,}"
    r"|\d+(?:[.,]\d+)*"
    r"|[^\W_]+"
    r"|\S",
)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


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
_BREAK_RE = re.compile(r"(?<=[.!?…])([\"”’)]?)\s+(?=[\"“‘(]?[^\W\d_]|\d)")


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans: paragraphs cut after . ! ? … when the next word starts a sentence."""
    out: list[tuple[int, int]] = []
    for p_start, p_end in paragraphs(text):
        start = p_start
        for m in _BREAK_RE.finditer(text, p_start, p_end):
            before = text[start : m.start()]
            next_char = text[m.end()] if m.end() < p_end else ""
            last_word = re.findall(r"[^\W\d_]+(?=\.$)", before)
            if last_word and last_word[-1] in _NO_BREAK_BEFORE:
                continue
            if next_char.isalpha() and not next_char.isupper():
                continue
            end = m.start() + len(m.group(1))  # a closing quote stays with its sentence
            while end > start and text[end - 1].isspace():
                end -= 1
            if end > start:
                out.append((start, end))
            start = m.end()
        if p_end > start:
            out.append((start, p_end))
    return out
