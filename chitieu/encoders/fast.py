"""`WordPieceAdapter` for any folder holding a fast (tokenizers-backed) tokenizer.

Words come from `chitieu.text.split_words`, and each word is tokenised on its own, so
every word boundary is a piece boundary: a span that starts after a bracket, a quote or
a slash is always expressible (tokenising the raw text would glue `(10` into one piece).

SentencePiece marks a word that follows whitespace with a leading `▁`. A word glued to
the one before it (the `,` of `2023,`, the `%` of `9,3%`) had no such marker in the
pretraining text, so it is tokenised without one: `,` rather than `▁,`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from chitieu.files import write_text
from chitieu.text import Token, split_words

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

#: Written by `save` beside the tokenizer files; `from_dir` prefers it to config.json.
ADAPTER_FILE = "adapter.json"


class FastTokenizerAdapter:
    """Word pieces from a fast tokenizer (the e5-small base, or any SentencePiece folder)."""

    label_all_subwords = True

    def __init__(self, tokenizer: PreTrainedTokenizerFast, max_tokens: int, kind: str = "e5") -> None:
        if not tokenizer.is_fast:
            raise TypeError("FastTokenizerAdapter needs a fast (tokenizers-backed) tokenizer")
        self.tokenizer = tokenizer
        self.kind = kind
        self.max_tokens = max_tokens
        self.cls_id = _required_id(tokenizer, "cls")
        self.sep_id = _required_id(tokenizer, "sep")
        self.pad_id = _required_id(tokenizer, "pad")
        self.unk_id = _required_id(tokenizer, "unk")
        self._backend: Tokenizer = tokenizer.backend_tokenizer
        self._cache: dict[tuple[str, bool], list[int]] = {}
        # What the pre-tokeniser puts before a word ("▁" for SentencePiece, "" for most others).
        probe = self._backend.pre_tokenizer.pre_tokenize_str("x") if self._backend.pre_tokenizer else [("x", (0, 1))]
        self._word_start = probe[0][0][:-1] if probe and probe[0][0].endswith("x") else ""

    @classmethod
    def from_dir(cls, path: Path | str) -> "FastTokenizerAdapter":
        from transformers import AutoTokenizer

        path = Path(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        if not tokenizer.is_fast:
            raise TypeError(f"{path} holds no fast tokenizer (tokenizer.json); this adapter needs one.")
        settings: dict = {}
        if (path / ADAPTER_FILE).is_file():
            settings = json.loads((path / ADAPTER_FILE).read_text(encoding="utf-8"))
        elif (path / "config.json").is_file():
            config = json.loads((path / "config.json").read_text(encoding="utf-8"))
            if "max_position_embeddings" in config:
                settings["max_tokens"] = config["max_position_embeddings"]
        max_tokens = int(settings.get("max_tokens", tokenizer.model_max_length))
        return cls(tokenizer, max_tokens, settings.get("kind", "e5"))  # type: ignore[arg-type]  # AutoTokenizer's union; these folders hold fast tokenizers

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(directory)
        settings = {"kind": self.kind, "max_tokens": self.max_tokens, "label_all_subwords": self.label_all_subwords}
        write_text(directory / ADAPTER_FILE, json.dumps(settings, indent=2) + "\n")

    def words(self, text: str) -> list[Token]:
        return split_words(text)

    def encode_words(self, text: str, words: list[Token]) -> list[list[int]]:
        out = []
        for word in words:
            glued = word.start > 0 and not text[word.start - 1].isspace()
            key = (word.text, glued)
            ids = self._cache.get(key)
            if ids is None:
                ids = self._cache[key] = self._word_ids(word.text, glued)
                if len(self._cache) > 200_000:
                    self._cache.clear()
            out.append(list(ids))
        return out

    def _word_ids(self, word: str, glued: bool) -> list[int]:
        """The tokenizer's own normaliser, pre-tokeniser and model on one word; for a glued
        word, without the word-start marker the pre-tokeniser prepends."""
        normalized = self._backend.normalizer.normalize_str(word) if self._backend.normalizer else word
        pre = self._backend.pre_tokenizer
        splits = [s for s, _ in pre.pre_tokenize_str(normalized)] if pre else [normalized]
        prefix = self._word_start
        if glued and prefix and splits and splits[0].startswith(prefix) and not normalized.startswith(prefix):
            splits[0] = splits[0][len(prefix):]
        ids = [t.id for split in splits if split for t in self._backend.model.tokenize(split)]
        return ids or [self.unk_id]


def _required_id(tokenizer: PreTrainedTokenizerFast, name: str) -> int:
    value = getattr(tokenizer, f"{name}_token_id")
    if value is None:
        raise ValueError(f"the tokenizer has no {name} token; the adapter needs cls, sep, pad and unk.")
    return int(value)
