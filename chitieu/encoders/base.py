"""One interface for every base encoder (e5-small, PhoBERT, any local folder).

Training and inference never touch a tokenizer directly: they ask a `WordPieceAdapter`
for the base's words (with character offsets) and the subword ids of each word. Windows,
labels and decoding are then the same code for every base, and a prediction for a word
maps back to `text[word.start:word.end]` exactly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from chitieu.text import Token


@runtime_checkable
class WordPieceAdapter(Protocol):
    """What the shared code needs from a base's tokenizer."""

    #: "e5" (SentencePiece fast tokenizer, offsets) or "phobert" (word-segmented BPE).
    kind: str
    #: Longest sequence the encoder takes, special tokens included (PhoBERT 256, e5 512).
    max_tokens: int
    #: Train labels on every subword (e5) or only on the first subword of a word (PhoBERT).
    label_all_subwords: bool
    cls_id: int
    sep_id: int
    pad_id: int

    def words(self, text: str) -> list[Token]:
        """The base's words of `text`, in order, with exact character offsets."""
        ...

    def encode_words(self, text: str, words: list[Token]) -> list[list[int]]:
        """Subword ids of each word (never empty: an unknown word gets the unk id)."""
        ...

    def save(self, directory: Path) -> None:
        """Write the tokenizer files so `open_adapter(directory)` restores this adapter."""
        ...
