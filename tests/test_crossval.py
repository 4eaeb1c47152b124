"""Cross-validation of the post-tagger decisions: folds by document, components fitted
without the fold they score, only the chosen documents scored, the tagger run once each."""

from __future__ import annotations

import pytest

import chitieu.evaluate.crossval as crossval
from chitieu.annotate.corpus import Document, Span
from chitieu.evaluate.crossval import CrossValidationOptions, assign_folds, cross_validate
from tests.fakes import LexiconAdapter, LexiconRunner

GOAL = "Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị phấn đấu đạt mức tăng trưởng GRDP 9,3% trở lên."
RESULT = "Năm qua, tăng trưởng GRDP của tỉnh Bến Tre đã đạt 7,1%, thu ngân sách đạt 3.200 tỷ đồng."


def spans(text: str, items: list[tuple[str, str]]) -> list[Span]:
    out, low = [], 0
    for label, words in items:
        start = text.index(words, low)
        out.append(Span(start=start, end=start + len(words), label=label, text=words))
        low = start + len(words)
    return out


def corpus(n: int) -> list[Document]:
    docs = []
    for i in range(n):
        text = f"{GOAL} {RESULT}"
        gold = spans(
            text,
            [
                ("PROVINCE", "Bến Tre"),
                ("OFFICIAL", "Lê Đức Thọ"),
                ("INDICATOR", "tăng trưởng GRDP"),
                ("TARGET_VALUE", "9,3% trở lên"),
                ("PROVINCE", "Bến Tre"),
            ],
        )
        meta = {"campaign": "x"} if i % 2 else {}
        docs.append(Document(id=f"d{i:02d}", text=text, spans=gold, meta=meta))
    return docs


def extractor() -> crossval.Extractor:
    adapter = LexiconAdapter(max_tokens=64)
    return crossval.Extractor(adapter, LexiconRunner(), {"name": "fake", "version": "1"}, max_tokens=64, overlap_tokens=4)


def test_folds_are_seeded_balanced_and_cover_every_document_once():
    ids = [f"d{i}" for i in range(11)]
    folds = assign_folds(ids, 5, seed=3)
    assert set(folds) == set(ids)
    sizes = [list(folds.values()).count(k) for k in range(5)]
    assert max(sizes) - min(sizes) <= 1
    assert assign_folds(list(reversed(ids)), 5, seed=3) == folds  # the order given does not matter
    assert assign_folds(ids, 5, seed=4) != folds
    with pytest.raises(ValueError, match="at least 2 folds"):
        assign_folds(ids, 1, seed=3)
    with pytest.raises(ValueError, match="cannot fill"):
        assign_folds(ids[:3], 5, seed=3)


def test_each_fold_is_fitted_without_its_documents_and_only_chosen_documents_are_scored(monkeypatch):
    docs = corpus(10)
    fitted_on: list[set[str]] = []
    real_fit = crossval.fit_goal_classifier

    def spy(documents, **kwargs):
        fitted_on.append({d.id for d in documents})
        return real_fit(documents, **kwargs)

    monkeypatch.setattr(crossval, "fit_goal_classifier", spy)
    ex = extractor()
    runs: list[str] = []

    def probabilities(doc):
        runs.append(doc.id)
        prepared = ex.prepare(doc.text, doc.id)
        return prepared, ex.run(prepared.windows)

    options = CrossValidationOptions(folds=5, seed=1, ablation=True)
    report = cross_validate(ex, docs, probabilities, options, score_only=lambda d: "campaign" in d.meta)

    folds = assign_folds([d.id for d in docs], 5, 1)
    assert len(fitted_on) == 5
    for k, ids in enumerate(fitted_on):
        assert ids == {i for i, f in folds.items() if f != k}
    scored = {d.id for d in docs if "campaign" in d.meta}
    assert sorted(runs) == sorted(scored)  # the tagger once per scored document, for every system
    assert report["scored_documents"] == 5 and report["documents"] == 10
    assert set(report["systems"]) == {"model", *(f"without {c}" for c in crossval.COMPONENTS)}
    model = report["systems"]["model"]
    assert model["support"]["TARGET_VALUE"] == 5
    assert model["pooled"]["strict:PROVINCE"] == 1.0  # the lexicon tagger finds every province
    assert ex.goal_classifier is None and ex.indicator_chooser is None  # restored


def test_nothing_to_score_is_an_error_that_says_why():
    ex = extractor()
    with pytest.raises(ValueError, match="no document to score"):
        cross_validate(ex, corpus(6), lambda d: (None, []), CrossValidationOptions(folds=2), score_only=lambda d: False)


def test_a_learning_curve_fits_on_nested_seeded_shares(monkeypatch):
    docs = corpus(20)
    fitted: dict[float, list[set[str]]] = {}
    real_fit = crossval.fit_goal_classifier
    ex = extractor()

    def probabilities(doc):
        prepared = ex.prepare(doc.text, doc.id)
        return prepared, ex.run(prepared.windows)

    for fraction in (0.5, 1.0):
        fitted[fraction] = []

        def spy(documents, fraction=fraction, **kwargs):
            fitted[fraction].append({d.id for d in documents})
            return real_fit(documents, **kwargs)

        monkeypatch.setattr(crossval, "fit_goal_classifier", spy)
        report = cross_validate(ex, docs, probabilities, CrossValidationOptions(folds=2, seed=5, fit_fraction=fraction))
        assert report["fit_fraction"] == fraction
    for half, whole in zip(fitted[0.5], fitted[1.0]):
        assert half < whole, "a smaller share is a strict subset of the larger one"
    assert 0.25 < sum(map(len, fitted[0.5])) / sum(map(len, fitted[1.0])) < 0.75
    with pytest.raises(ValueError, match="fit_fraction"):
        cross_validate(ex, docs, probabilities, CrossValidationOptions(folds=2, fit_fraction=0.0))
