"""The paired bootstrap of `chitieu evaluate --compare`: hand-made per-document counts."""

import pytest

from chitieu.core import Entity
from chitieu.evaluate.bootstrap import document_counts, paired_bootstrap


def test_document_counts_are_exact_spans_per_label_and_in_all() -> None:
    text = "Bến Tre phấn đấu tăng trưởng 9%"
    gold = [Entity.of(text, 0, 7, "PROVINCE", 1.0), Entity.of(text, 17, 28, "INDICATOR", 1.0), Entity.of(text, 29, 31, "TARGET_VALUE", 1.0)]
    predicted = [Entity.of(text, 0, 7, "PROVINCE", 0.9), Entity.of(text, 22, 28, "INDICATOR", 0.9), Entity.of(text, 29, 31, "TARGET_VALUE", 0.9)]
    counts = document_counts(gold, predicted, ("PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE"), tuples=(0, 1, 1))
    assert counts["PROVINCE"] == (1, 1, 1)
    assert counts["INDICATOR"] == (0, 1, 1), "an edge mismatch is not an exact span"
    assert counts["OFFICIAL"] == (0, 0, 0)
    assert counts["micro"] == (2, 3, 3)
    assert counts["tuples"] == (0, 1, 1)


def test_a_difference_on_every_document_is_certain_and_one_document_is_luck() -> None:
    a = [{"micro": (1, 2, 2)} for _ in range(40)]
    better_everywhere = [{"micro": (2, 2, 2)} for _ in range(40)]
    out = paired_bootstrap(a, better_everywhere)["micro"]
    assert out["diff"] == 0.5 and out["low"] > 0 and out["b_better"] == 1.0

    one_lucky_document = [{"micro": (1, 2, 2)} for _ in range(39)] + [{"micro": (2, 2, 2)}]
    out = paired_bootstrap(a, one_lucky_document)["micro"]
    assert out["diff"] > 0 and out["low"] == 0.0, "resamples without the lucky document show no difference"
    assert 0.5 < out["b_better"] < 1.0


def test_same_seed_same_interval_and_systems_must_share_documents() -> None:
    a = [{"micro": (i % 3, 3, 3)} for i in range(30)]
    b = [{"micro": ((i + 1) % 3, 3, 3)} for i in range(30)]
    assert paired_bootstrap(a, b) == paired_bootstrap(a, b)
    flipped = paired_bootstrap(b, a)["micro"]
    forward = paired_bootstrap(a, b)["micro"]
    assert flipped["diff"] == -forward["diff"]
    with pytest.raises(ValueError, match="same split"):
        paired_bootstrap(a, b[:-1])
    assert paired_bootstrap([], []) == {}
