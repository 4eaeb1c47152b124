"""The PhoBERT path end to end on a tiny PhoBERT-format model built from real text."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer, PhobertTokenizer

from chitieu.encoders.base import WordPieceAdapter
from chitieu.encoders.phobert import (
    PhobertAdapter,
    PhobertNotAvailable,
    is_phobert_folder,
    licence_for,
    licence_warning,
)
from chitieu.encoders.segment import phobert_form
from chitieu.windows import make_windows
from tests.phobert_tiny import build_tiny_phobert, learn_bpe

FIXTURE = Path(__file__).parent / "fixtures" / "phobert" / "paragraphs.json"
PARAGRAPHS = [p["text"] for p in json.loads(FIXTURE.read_text(encoding="utf-8"))["paragraphs"]]
# Learn BPE from all but one paragraph, so encoding that one meets unseen words.
TRAIN, HELD_OUT = PARAGRAPHS[1:], PARAGRAPHS[0]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_phobert(tmp_path_factory.mktemp("phobert") / "tiny", TRAIN)


@pytest.fixture(scope="module")
def adapter(tiny: Path) -> PhobertAdapter:
    return PhobertAdapter.from_dir(tiny)


def test_learn_bpe_follows_fastbpe() -> None:
    # Sennrich et al.'s example; ties go to the smaller pair.
    merges = learn_bpe(Counter({"low": 5, "lower": 2, "newest": 6, "widest": 3}), 4)
    assert merges[:3] == [("e", "s", 9), ("es", "t</w>", 9), ("l", "o", 7)]
    assert learn_bpe(Counter({"ab": 1}), 10) == []  # pairs seen once are not merged


def test_tiny_folder_files_are_in_fastbpe_format(tiny: Path) -> None:
    codes = (tiny / "bpe.codes").read_text(encoding="utf-8").splitlines()
    assert codes
    for line in codes:
        left, right, count = line.split(" ")
        assert int(count) >= 2 and "@@" not in left + right
    counts = [int(n) for n in (line.rsplit(" ", 1)[1] for line in (tiny / "vocab.txt").read_text(encoding="utf-8").splitlines())]
    assert counts == sorted(counts, reverse=True)
    config = json.loads((tiny / "config.json").read_text(encoding="utf-8"))
    assert config["max_position_embeddings"] == 258
    assert (config["pad_token_id"], config["bos_token_id"], config["eos_token_id"], config["type_vocab_size"]) == (1, 0, 2, 1)
    assert config["tokenizer_class"] == "PhobertTokenizer"


def test_tokenizer_reads_the_merges_back(tiny: Path) -> None:
    tokenizer = AutoTokenizer.from_pretrained(str(tiny))
    assert isinstance(tokenizer, PhobertTokenizer)
    assert (tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id) == (0, 1, 2, 3)
    merged = 0
    for text in TRAIN:
        for form in text.split():
            pieces = tokenizer.tokenize(form)
            assert tokenizer.unk_token not in pieces, (form, pieces)
            assert tokenizer.convert_tokens_to_string(pieces) == form
            merged += len(pieces) < len(form)
    assert merged > 0
    # Frequent words of the training text became single tokens.
    assert tokenizer.tokenize("ngân_sách") == ["ngân_sách"]


def test_model_loads_through_the_token_classification_path(tiny: Path) -> None:
    model = AutoModelForTokenClassification.from_pretrained(str(tiny), num_labels=9)
    assert type(model).__name__ == "RobertaForTokenClassification"
    assert model.config.num_labels == 9 and model.config.max_position_embeddings == 258


def test_adapter_is_a_wordpiece_adapter(adapter: PhobertAdapter) -> None:
    assert isinstance(adapter, WordPieceAdapter)
    assert adapter.kind == "phobert"
    assert adapter.max_tokens == 256
    assert adapter.label_all_subwords is False
    assert (adapter.cls_id, adapter.sep_id, adapter.pad_id) == (0, 2, 1)


def test_adapter_encodes_a_real_paragraph(adapter: PhobertAdapter) -> None:
    words = adapter.words(HELD_OUT)
    ids = adapter.encode_words(HELD_OUT, words)
    assert len(ids) == len(words) > 80
    assert all(word_ids for word_ids in ids)
    tokenizer = adapter.tokenizer
    known = 0
    for word, word_ids in zip(words, ids):
        pieces = tokenizer.convert_ids_to_tokens(word_ids)
        if tokenizer.unk_token not in pieces:
            assert tokenizer.convert_tokens_to_string(pieces) == phobert_form(HELD_OUT, word)
            known += 1
    assert known / len(words) > 0.9
    assert any(len(word_ids) > 1 for word_ids in ids)


def test_unknown_characters_get_unk(adapter: PhobertAdapter) -> None:
    text = "đạt 😀 và <s>"
    ids = adapter.encode_words(text, adapter.words(text))
    assert [adapter.unk_id] in ids
    assert [adapter.cls_id] not in ids  # a literal "<s>" is text, not the start marker


def test_forward_pass_on_windows(tiny: Path, adapter: PhobertAdapter) -> None:
    text = "\n".join(PARAGRAPHS)
    pieces = adapter.encode_words(text, adapter.words(text))
    windows = make_windows(
        pieces,
        cls_id=adapter.cls_id,
        sep_id=adapter.sep_id,
        max_tokens=adapter.max_tokens,
        overlap_tokens=32,
        label_all_subwords=adapter.label_all_subwords,
    )
    assert len(windows) > 1
    model = AutoModelForTokenClassification.from_pretrained(str(tiny), num_labels=9).eval()
    longest = max(windows, key=lambda w: len(w.input_ids))
    assert len(longest.input_ids) <= 256
    with torch.inference_mode():
        logits = model(input_ids=torch.tensor([longest.input_ids])).logits
    assert logits.shape == (1, len(longest.input_ids), 9)


def test_max_tokens_is_the_model_limit(tiny: Path, adapter: PhobertAdapter) -> None:
    model = AutoModelForTokenClassification.from_pretrained(str(tiny), num_labels=9).eval()
    ids = [adapter.cls_id] + [5] * (adapter.max_tokens - 2) + [adapter.sep_id]
    with torch.inference_mode():
        assert model(input_ids=torch.tensor([ids])).logits.shape[1] == 256
        with pytest.raises((IndexError, RuntimeError), match="out of"):
            model(input_ids=torch.tensor([ids + [adapter.sep_id]]))


def test_save_and_reopen(adapter: PhobertAdapter, tmp_path: Path) -> None:
    adapter.save(tmp_path)
    assert is_phobert_folder(tmp_path)
    again = PhobertAdapter.from_dir(tmp_path)  # tokenizer files only: no config.json
    assert again.max_tokens == adapter.max_tokens
    words = again.words(HELD_OUT)
    assert again.encode_words(HELD_OUT, words) == adapter.encode_words(HELD_OUT, words)


def test_open_adapter_picks_phobert(tiny: Path) -> None:
    from chitieu.encoders.loader import open_adapter

    assert isinstance(open_adapter(str(tiny)), PhobertAdapter)


def test_hub_id_offline_says_how_to_get_the_weights(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.chdir(tmp_path)  # so "vinai/phobert-base" cannot be a local folder
    with pytest.raises(PhobertNotAvailable) as raised:
        PhobertAdapter.from_dir("vinai/phobert-base")
    message = str(raised.value)
    assert "hf download vinai/phobert-base --local-dir phobert-base" in message
    assert "instead of the hub id" in message


def test_broken_local_folder_is_reported(tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_text("a 1\n", encoding="utf-8")
    with pytest.raises(PhobertNotAvailable, match="not a usable PhoBERT folder"):
        PhobertAdapter.from_dir(tmp_path)


@pytest.mark.parametrize(
    ("name", "licence"),
    [
        ("vinai/phobert-base", "MIT"),
        ("vinai/phobert-large", "MIT"),
        ("vinai/phobert-base-v2", "AGPL-3.0"),
        ("/data/models/phobert-base-v2", "AGPL-3.0"),
        ("~/.cache/huggingface/hub/models--vinai--phobert-base-v2/snapshots/2b51e36", "AGPL-3.0"),
        ("~/.cache/huggingface/hub/models--vinai--phobert-base/snapshots/c1e37c5", "MIT"),
        ("intfloat/multilingual-e5-small", None),
    ],
)
def test_licence_for_known_bases(name: str, licence: str | None) -> None:
    assert licence_for(name) == licence


def test_licence_from_model_card(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("---\nlicense: agpl-3.0\nlanguage: vi\n---\n# PhoBERT\n", encoding="utf-8")
    assert licence_for(tmp_path) == "AGPL-3.0"


def test_licence_warning_only_for_agpl() -> None:
    warning = licence_warning("vinai/phobert-base-v2")
    assert warning is not None and "AGPL-3.0" in warning and "vinai/phobert-base" in warning
    assert licence_warning("vinai/phobert-base") is None
    assert licence_warning("e5-small") is None


def test_is_phobert_folder(tmp_path: Path, tiny: Path) -> None:
    assert is_phobert_folder(tiny)
    assert not is_phobert_folder(tmp_path / "missing")
    plain = tmp_path / "e5"
    plain.mkdir()
    (plain / "config.json").write_text(json.dumps({"model_type": "bert", "tokenizer_class": "XLMRobertaTokenizer"}))
    assert not is_phobert_folder(plain)
    named = tmp_path / "trained"
    named.mkdir()
    (named / "config.json").write_text(json.dumps({"model_type": "roberta", "tokenizer_class": "PhobertTokenizer"}))
    assert is_phobert_folder(named)
