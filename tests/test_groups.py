"""Scores per document group in `chitieu evaluate`: the group of a document and the sums."""

import pytest

from chitieu.annotate.corpus import Document
from chitieu.evaluate.groups import document_group, group_scores


@pytest.mark.parametrize(
    ("doc_id", "meta", "group"),
    [
        ("vnnews-1", {"campaign": "2026-12-05", "origin": "corpus_unlabeled/vn_news_2017.jsonl.gz#vnnews-1"}, "round 2026-12-05"),
        ("vnnews-2", {"origin": "corpus_unlabeled/vn_news_2017.jsonl.gz#vnnews-2"}, "corpus_unlabeled, first picks"),
        ("raw-001", {"origin": "corpus_raw/001.txt"}, "corpus_raw"),
        ("seed-001", {"source": "seed"}, "seeds"),
        ("x", {}, "other"),
    ],
)
def test_a_document_belongs_to_its_round_else_its_source(doc_id, meta, group) -> None:
    assert document_group(Document(id=doc_id, text="x", meta=meta)) == group


def test_group_scores_sum_counts_per_group_largest_first() -> None:
    counts = [{"micro": (1, 2, 2), "tuples": (1, 1, 1)}, {"micro": (2, 2, 2), "tuples": (0, 1, 0)}, {"micro": (0, 0, 4), "tuples": (0, 0, 1)}]
    out = group_scores(["a", "b", "b"], counts)
    assert list(out) == ["b", "a"]
    assert out["b"]["micro"] == {"documents": 2, "f1": round(4 / 8, 4), "correct": 2, "predicted": 2, "gold": 6}
    assert out["a"]["tuples"]["f1"] == 1.0
    with pytest.raises(ValueError, match="groups"):
        group_scores(["a"], counts)
