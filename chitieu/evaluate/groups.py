"""Scores per group of documents: where each document came from and how it was annotated.

A split mixes documents of different kinds: the provincial `corpus_raw` articles some
rules were written beside, the 2017 articles first picked on 2026-12-01, and each
annotation round's blind test articles. A figure on the whole split can hide a model that
gains on one kind and loses on another, so the report gives each group its own strict F1
from the per-document exact counts (`chitieu.evaluate.bootstrap.document_counts`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from chitieu.annotate.corpus import Document, is_seed
from chitieu.evaluate.bootstrap import Counts
from chitieu.labels import LABELS

#: The measures a group is scored on, in the order the console and the report show them.
GROUP_MEASURES = (*LABELS, "micro", "tuples")


def document_group(doc: Document) -> str:
    """The round that picked a document (`campaign` in its metadata), else its source folder."""
    if doc.meta.get("campaign"):
        return f"round {doc.meta['campaign']}"
    if is_seed(doc):
        return "seeds"
    origin = str(doc.meta.get("origin", ""))
    if origin.startswith("corpus_unlabeled"):
        return "corpus_unlabeled, first picks"
    return origin.split("/")[0] or "other"


def group_scores(groups: Sequence[str], counts: Sequence[Mapping[str, Counts]]) -> dict[str, dict[str, dict[str, float]]]:
    """group -> measure -> {documents, f1, correct, predicted, gold}, groups in order of size."""
    if len(groups) != len(counts):
        raise ValueError(f"{len(groups)} groups but {len(counts)} documents counted")
    totals: dict[str, dict[str, list[int]]] = {}
    sizes: dict[str, int] = {}
    for group, doc in zip(groups, counts):
        sizes[group] = sizes.get(group, 0) + 1
        for measure, values in doc.items():
            total = totals.setdefault(group, {}).setdefault(measure, [0, 0, 0])
            for i in range(3):
                total[i] += values[i]
    out: dict[str, dict[str, dict[str, float]]] = {}
    for group in sorted(totals, key=lambda g: (-sizes[g], g)):
        out[group] = {}
        for measure, (correct, predicted, gold) in totals[group].items():
            f1 = 2 * correct / (predicted + gold) if predicted + gold else 0.0
            out[group][measure] = {"documents": sizes[group], "f1": round(f1, 4), "correct": correct, "predicted": predicted, "gold": gold}
    return out
