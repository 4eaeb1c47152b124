"""PhoBERT bases (vinai/phobert-base, -large, -base-v2) behind the WordPieceAdapter protocol.

PhoBERT differs from e5 in three ways the rest of the code must not see: its input is
word-segmented (`thành_phố`), it takes at most 256 subwords (258 positions, two reserved
by RoBERTa's position offset), and its tokenizer is slow BPE (vocab.txt + bpe.codes) with
no offset mapping. Segmentation gives the words and their offsets (chitieu.encoders.segment);
the tokenizer is only asked for the subwords of one word at a time, so offsets never depend
on it.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from chitieu.encoders.segment import phobert_form, segment_words
from chitieu.text import Token

#: RoBERTa's positions start after the padding index, so two of 258 positions are unusable.
PHOBERT_MAX_TOKENS = 256

_AGPL_RE = re.compile(r"phobert[-_]base[-_]v2", re.IGNORECASE)
_MIT_RE = re.compile(r"phobert[-_](?:base|large)(?![-_]?v\d)", re.IGNORECASE)
_LICENCE_NAMES = {"mit": "MIT", "agpl-3.0": "AGPL-3.0", "apache-2.0": "Apache-2.0"}


class PhobertNotAvailable(OSError):
    """The tokenizer (or model) could not be loaded; the message says how to get it."""


class PhobertAdapter:
    """Words from underthesea segmentation, subwords from the slow PhobertTokenizer."""

    kind = "phobert"
    label_all_subwords = False

    def __init__(self, tokenizer: Any, max_position_embeddings: int | None = None) -> None:
        from transformers import PhobertTokenizer

        if not isinstance(tokenizer, PhobertTokenizer):
            raise TypeError(f"PhobertAdapter needs a PhobertTokenizer, got {type(tokenizer).__name__}")
        self.tokenizer = tokenizer
        self.max_tokens = _max_tokens(tokenizer, max_position_embeddings)
        # Saved with the tokenizer, so a folder without config.json still reloads the limit.
        tokenizer.model_max_length = self.max_tokens
        self.cls_id: int = tokenizer.cls_token_id
        self.sep_id: int = tokenizer.sep_token_id
        self.pad_id: int = tokenizer.pad_token_id
        self.unk_id: int = tokenizer.unk_token_id
        # News repeats the same words constantly; the slow tokenizer costs ~20 us a call.
        self._ids: dict[str, list[int]] = {}

    @classmethod
    def from_dir(cls, path_or_hub_id: str | Path) -> PhobertAdapter:
        """Open a local PhoBERT folder, or a hub id through `from_pretrained` (cache or download)."""
        from transformers import AutoConfig, AutoTokenizer

        name = str(path_or_hub_id)
        local = Path(name).is_dir()
        try:
            tokenizer = AutoTokenizer.from_pretrained(name)
        except (OSError, ValueError) as err:
            raise PhobertNotAvailable(_not_available_message(name, local, err)) from err
        try:
            max_positions = AutoConfig.from_pretrained(name).max_position_embeddings
        except (OSError, ValueError):
            max_positions = None  # a tokenizer-only folder: fall back to the saved limit
        return cls(tokenizer, max_positions)

    def words(self, text: str) -> list[Token]:
        return segment_words(text)

    def encode_words(self, text: str, words: list[Token]) -> list[list[int]]:
        return [self._word_ids(phobert_form(text, word)) for word in words]

    def save(self, directory: Path) -> None:
        self.tokenizer.save_pretrained(str(directory))

    def _word_ids(self, form: str) -> list[int]:
        ids = self._ids.get(form)
        if ids is None:
            # split_special_tokens: a literal "<s>" in a news text is text, not a marker.
            tokens = self.tokenizer.tokenize(form, split_special_tokens=True)
            converted = self.tokenizer.convert_tokens_to_ids(tokens)
            ids = converted if isinstance(converted, list) and converted else [self.unk_id]
            self._ids[form] = ids
        return list(ids)


def _max_tokens(tokenizer: Any, max_position_embeddings: int | None) -> int:
    if max_position_embeddings is not None:
        return min(PHOBERT_MAX_TOKENS, max_position_embeddings - 2)
    saved = getattr(tokenizer, "model_max_length", None)
    if isinstance(saved, int) and 0 < saved < PHOBERT_MAX_TOKENS:
        return saved
    return PHOBERT_MAX_TOKENS


def _not_available_message(name: str, local: bool, err: Exception) -> str:
    if local:
        return (
            f"{name} is not a usable PhoBERT folder ({err}). It needs vocab.txt and bpe.codes "
            f"(and config.json plus weights to train); re-download it or point at another folder."
        )
    folder = name.rstrip("/").split("/")[-1]
    return (
        f"cannot load PhoBERT '{name}' from the Hugging Face hub: it is not in the local cache "
        f"and the hub cannot be reached ({type(err).__name__}).\n"
        f"Get the weights on a machine with internet access:\n"
        f"    hf download {name} --local-dir {folder}\n"
        f"(or: git clone https://huggingface.co/{name}), copy the folder here, and pass the "
        f"folder's path (./{folder}) instead of the hub id."
    )


def licence_for(name_or_path: str | Path) -> str | None:
    """The licence of a PhoBERT base: the model card's, else known from its name; None if unknown."""
    path = Path(name_or_path)
    card = _card_licence(path / "README.md") if path.is_dir() else None
    if card:
        return card
    name = str(name_or_path).replace("--", "/")  # hub cache folders: models--vinai--phobert-base-v2
    if _AGPL_RE.search(name):
        return "AGPL-3.0"
    if _MIT_RE.search(name):
        return "MIT"
    return None


def licence_warning(name: str | Path) -> str | None:
    """What the CLI prints before training on or serving an AGPL base; None for other bases."""
    licence = licence_for(name)
    if licence != "AGPL-3.0":
        return None
    return (
        f"warning: {name} is licensed AGPL-3.0. A model fine-tuned from it is a derivative work: "
        f"if you distribute it or let others use it over a network (the chitieu API), you must "
        f"offer them its complete source under the AGPL-3.0. vinai/phobert-base (MIT) has no such "
        f"condition."
    )


def _card_licence(readme: Path) -> str | None:
    """`license:` from a hub model card's YAML front matter (downloaded folders keep README.md)."""
    try:
        text = readme.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    front = re.match(r"---\n(.*?)\n---", text, re.DOTALL)
    if not front:
        return None
    found = re.search(r"^license:\s*['\"]?([\w.\-]+)", front.group(1), re.MULTILINE)
    if not found:
        return None
    value = found.group(1)
    return _LICENCE_NAMES.get(value.lower(), value)


def is_phobert_folder(path: str | Path) -> bool:
    """A PhoBERT base or a model trained from one: its BPE files, or a config naming PhoBERT."""
    path = Path(path)
    if not path.is_dir():
        return False
    if (path / "vocab.txt").is_file() and (path / "bpe.codes").is_file():
        return True
    for name in ("tokenizer_config.json", "config.json"):
        try:
            config = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(config, dict) and "phobert" in str(config.get("tokenizer_class", "")).lower():
            return True
    return False
