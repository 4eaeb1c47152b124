"""Stage 1, prepare: the caller's text -> `Prepared`, once per article.

Writes every field of `Prepared`: the NFC text and the offset map back to the caller's text
(`chitieu.nfc.nfc_with_map`, exact or `NfcOffsetError`), the tokenizer's words, the model's
windows, and the sentences (`chitieu.text.sentences`), read once here and carried to refine,
the goal vote, the indicator chooser and linking.
"""

from __future__ import annotations

from dataclasses import dataclass

from chitieu.encoders.base import WordPieceAdapter
from chitieu.nfc import nfc_with_map
from chitieu.text import Token, sentences
from chitieu.windows import Window, make_windows


@dataclass
class Prepared:
    doc_id: str | None
    original: str
    text: str
    to_original: list[int] | None
    #: The tokenizer's words of `text`, and its sentences (`chitieu.text.sentences`), read
    #: once here and handed to refine, the goal vote, the indicator chooser and linking.
    words: list[Token]
    windows: list[Window]
    sentences: list[tuple[int, int]]


def prepare(
    text: str,
    adapter: WordPieceAdapter,
    *,
    max_tokens: int,
    overlap_tokens: int,
    doc_id: str | None = None,
) -> Prepared:
    nfc_text, to_original = nfc_with_map(text)
    words = adapter.words(nfc_text)
    pieces = adapter.encode_words(nfc_text, words)
    windows = make_windows(
        pieces,
        cls_id=adapter.cls_id,
        sep_id=adapter.sep_id,
        max_tokens=min(max_tokens, adapter.max_tokens),
        overlap_tokens=overlap_tokens,
    )
    return Prepared(doc_id, text, nfc_text, to_original, words, windows, sentences(nfc_text))
