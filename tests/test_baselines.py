"""Baselines return entities whose offsets point exactly at their text in the article."""

from __future__ import annotations

import pytest

from chitieu.annotate.corpus import read_documents
from chitieu.evaluate.baselines import align_tokens, available_baselines, chunks, underthesea_entities
from chitieu.paths import REPO_ROOT
from chitieu.text import sentences

CORPUS = REPO_ROOT / "annotations" / "corpus.jsonl"


def test_align_tokens_tolerates_whitespace_and_respelling() -> None:
    text = "Bến  Tre\tphát triển văn hoá."
    # underthesea joins syllables with one space and respells `hoá` as `hóa`
    assert align_tokens(text, ["Bến Tre", "phát triển", "văn hóa", "."]) == [(0, 8), (9, 19), (20, 27), (27, 28)]


def test_align_tokens_marks_tokens_it_cannot_place() -> None:
    assert align_tokens("ab cd", ["ab", "zz", "cd"]) == [(0, 2), None, (3, 5)]


def test_chunks_open_on_a_stray_inside_tag() -> None:
    assert chunks(["B-PER", "I-PER", "O", "I-LOC", "B-LOC", "I-PER"]) == [("PER", 0, 1), ("LOC", 3, 3), ("LOC", 4, 4), ("PER", 5, 5)]


def _real_sentences(n_docs: int = 2, per_doc: int = 6) -> list[str]:
    if not CORPUS.exists():
        pytest.skip(f"{CORPUS} is missing")
    out = []
    for doc in read_documents(CORPUS)[:n_docs]:
        out += [doc.text[a:b] for a, b in sentences(doc.text)[:per_doc]]
    return out


def _check_aligned(text: str, entities: list[dict], labels: set[str]) -> None:
    for e in entities:
        assert text[e["start"] : e["end"]] == e["text"]
        assert e["label"] in labels
        assert not text[e["start"]].isspace() and not text[e["end"] - 1].isspace()


def test_underthesea_offsets_on_corpus_sentences() -> None:
    text = " \n".join(_real_sentences())
    entities = underthesea_entities(text)
    assert entities, "underthesea found nothing in a dozen news sentences"
    _check_aligned(text, entities, {"PROVINCE", "OFFICIAL"})


def test_underthesea_reads_a_title_and_name() -> None:
    text = "Ông Trần Ngọc Tam, Chủ tịch UBND tỉnh Bến Tre cho biết, năm 2023 là năm bản lề."
    entities = underthesea_entities(text)
    assert {"start": 4, "end": 17, "label": "OFFICIAL", "text": "Trần Ngọc Tam", "score": 1.0} in entities


def test_rule_baseline_offsets_on_corpus_sentences() -> None:
    rules = next(b for b in available_baselines() if b.name == "rules")
    text = " \n".join(_real_sentences())
    entities = rules.predict(text)
    # Aligned offsets prove nothing about an empty answer: the rules must find something.
    assert entities, "the rule baseline found nothing in a dozen news sentences"
    _check_aligned(text, entities, {"PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE"})


def test_underthesea_baseline_declares_its_labels() -> None:
    baseline = next(b for b in available_baselines() if b.name == "underthesea")
    assert baseline.labels == ("PROVINCE", "OFFICIAL")
    assert not baseline.links_tuples
    assert "only PROVINCE and OFFICIAL" in baseline.note
