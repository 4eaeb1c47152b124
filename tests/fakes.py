"""Small stand-ins for the stages before the one under test."""

from __future__ import annotations

from pathlib import Path

from chitieu.text import Token, split_words


class WordAdapter:
    """An adapter whose subwords are characters pairs of each word: ids are deterministic."""

    kind = "fake"
    max_tokens = 512
    label_all_subwords = True
    cls_id, sep_id, pad_id = 0, 2, 1

    def __init__(self, max_tokens: int = 512) -> None:
        self.max_tokens = max_tokens

    def words(self, text: str) -> list[Token]:
        return split_words(text)

    def encode_words(self, text: str, words: list[Token]) -> list[list[int]]:
        return [[10 + (hash(w.text[i : i + 2]) % 1000) for i in range(0, len(w.text), 2)] for w in words]

    def save(self, directory: Path) -> None:  # pragma: no cover - not needed by the fakes' users
        raise NotImplementedError
