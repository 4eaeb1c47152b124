"""FastTokenizerAdapter on the trimmed e5-small tokenizer and real article sentences."""

from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from chitieu.encoders import e5
from chitieu.encoders.base import WordPieceAdapter
from chitieu.encoders.fast import ADAPTER_FILE, FastTokenizerAdapter
from chitieu.text import Token, split_words
from tests.tiny_e5 import write_e5_tokenizer

SENTENCES = Path(__file__).parent / "fixtures" / "e5" / "sentences.txt"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tokenizer files and config of the trimmed base (no weights: the adapter never reads them)."""
    path = tmp_path_factory.mktemp("e5-tokenizer")
    write_e5_tokenizer(path)
    return path


@pytest.fixture(scope="module")
def adapter(folder: Path) -> FastTokenizerAdapter:
    return FastTokenizerAdapter.from_dir(folder)


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    return SENTENCES.read_text(encoding="utf-8").split("\n")[:-1]


def test_settings_come_from_the_folder(adapter: FastTokenizerAdapter) -> None:
    assert isinstance(adapter, WordPieceAdapter)
    assert adapter.kind == "e5" and adapter.max_tokens == 512 and adapter.label_all_subwords
    assert (adapter.cls_id, adapter.pad_id, adapter.sep_id) == (0, 1, 2)


def test_every_word_of_real_text_has_pieces_that_spell_it(adapter: FastTokenizerAdapter, sentences: list[str]) -> None:
    text = "\n".join(sentences)
    words = adapter.words(text)
    assert words == split_words(text)
    ids = adapter.encode_words(text, words)
    assert len(ids) == len(words)
    normalizer = adapter.tokenizer.backend_tokenizer.normalizer
    for word, word_ids in zip(words, ids):
        assert text[word.start : word.end] == word.text
        assert word_ids and adapter.unk_id not in word_ids, word
        pieces = adapter.tokenizer.convert_ids_to_tokens(word_ids)
        glued = word.start > 0 and not text[word.start - 1].isspace()
        assert pieces[0].startswith("▁") != glued, (word, pieces)
        spelled = normalizer.normalize_str(word.text).replace(" ", "▁")
        assert "".join(pieces) == ("" if glued else "▁") + spelled, (word, pieces)


def test_glued_words_follow_the_pretraining_segmentation(adapter: FastTokenizerAdapter) -> None:
    text = "Năm 2023, GRDP tăng 9,3% (10.500 tỷ đồng)."
    words = adapter.words(text)
    pieces = [adapter.tokenizer.convert_ids_to_tokens(i) for i in adapter.encode_words(text, words)]
    by_word = dict(zip([w.text for w in words], pieces))
    assert by_word[","] == [","]  # as SentencePiece splits "▁2023," in running text
    assert by_word["%"] == ["%"]
    assert by_word["("] == ["▁("] and by_word["10.500"][0] == "10"
    assert by_word[")"] == [")"] and by_word["."] == ["."]
    assert by_word["2023"] == ["▁2023"]


def _agreement(adapter: FastTokenizerAdapter, sentences: list[str], glue: bool) -> tuple[int, float]:
    """Sentences whose word-by-word ids equal the tokenizer's ids for the whole sentence,
    and the share of whole-sentence pieces matched."""
    same = matched = total = 0
    for sentence in sentences:
        words = adapter.words(sentence)
        if glue:
            ids = adapter.encode_words(sentence, words)
        else:
            ids = [adapter.encode_words(w.text, [Token(0, len(w.text), w.text)])[0] for w in words]
        flat = [i for word_ids in ids for i in word_ids]
        whole = adapter.tokenizer(sentence, add_special_tokens=False)["input_ids"]
        same += flat == whole
        blocks = difflib.SequenceMatcher(a=flat, b=whole, autojunk=False).get_matching_blocks()
        matched += sum(b.size for b in blocks)
        total += len(whole)
    return same, matched / total


def test_word_by_word_ids_stay_close_to_running_text(adapter: FastTokenizerAdapter, sentences: list[str]) -> None:
    same, share = _agreement(adapter, sentences, glue=True)
    naive_same, naive_share = _agreement(adapter, sentences, glue=False)
    assert same >= 0.6 * len(sentences) and share >= 0.98
    assert same > 5 * naive_same and share > naive_share


def test_words_the_vocabulary_cannot_spell_get_unk(adapter: FastTokenizerAdapter) -> None:
    source = e5.read_e5_file(verify=False)
    known = set("".join(source.pieces))
    # Every single-character piece is kept, so only a character XLM-R never had is unknown.
    dropped = next(ch for ch in map(chr, range(0x13000, 0x13430)) if ch not in known)
    text = f"chữ {dropped} và \x01 hết"
    words = adapter.words(text)
    ids = adapter.encode_words(text, words)
    assert [w.text for w in words] == ["chữ", dropped, "và", "\x01", "hết"]
    assert adapter.unk_id in ids[1]
    assert ids[3] == [adapter.unk_id]  # normalised away entirely: still one id
    assert all(ids)


def test_save_and_reopen(adapter: FastTokenizerAdapter, folder: Path, tmp_path: Path, sentences: list[str]) -> None:
    adapter.save(tmp_path)
    assert json.loads((tmp_path / ADAPTER_FILE).read_text()) == {
        "kind": "e5", "max_tokens": 512, "label_all_subwords": True}
    reopened = FastTokenizerAdapter.from_dir(tmp_path)
    text = sentences[0]
    assert reopened.encode_words(text, reopened.words(text)) == adapter.encode_words(text, adapter.words(text))
    assert (reopened.kind, reopened.max_tokens) == ("e5", 512)
