"""Agreement between two annotations of the same documents (inter-annotator agreement).

One annotation is the reference; the other is scored against it with the same span and tuple
metrics as a model, so "the model's F1" and "a second annotator's F1" read on one scale. Span
F1 against a reference is symmetric in F1 (precision and recall swap), which makes it the
usual agreement measure for span annotation, where kappa has no well-defined chance term.

A second pass often labels only some labels (`--labels INDICATOR,TARGET_VALUE`). Tuples need
all four, so the labels left out are taken from the reference on both sides: tuple agreement
then measures only the labels compared.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chitieu.annotate.corpus import Document
from chitieu.evaluate.metrics import gold_entities, linked, span_scores, tuple_scores
from chitieu.labels import LABELS


def pair_documents(reference: Sequence[Document], other: Sequence[Document]) -> list[tuple[Document, Document]]:
    """Documents present in both, in the reference's order; the texts must be identical."""
    by_id = {d.id: d for d in other}
    pairs = []
    for doc in reference:
        twin = by_id.get(doc.id)
        if twin is None:
            continue
        if twin.text != doc.text:
            raise ValueError(f"document {doc.id} has different texts in the two annotations: compare annotations of the same text")
        pairs.append((doc, twin))
    if not pairs:
        raise ValueError("the two annotations share no document id: pass two annotations of the same documents")
    return pairs


def agreement(reference: Sequence[Document], other: Sequence[Document], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    unknown = [label for label in labels if label not in LABELS]
    if unknown:
        raise ValueError(f"unknown labels {unknown}: choose from {', '.join(LABELS)}")
    pairs = pair_documents(reference, other)
    context = [label for label in LABELS if label not in labels]
    texts = [ref.text for ref, _ in pairs]
    ref_entities = [gold_entities(ref, labels) for ref, _ in pairs]
    other_entities = [gold_entities(oth, labels) for _, oth in pairs]
    spans = span_scores(texts, ref_entities, other_entities, labels)
    shared = [gold_entities(ref, context) for ref, _ in pairs]
    ref_tuples = [linked(t, sorted(a + c, key=lambda e: e.start)) for t, a, c in zip(texts, ref_entities, shared)]
    other_tuples = [linked(t, sorted(a + c, key=lambda e: e.start)) for t, a, c in zip(texts, other_entities, shared)]
    return {
        "documents": len(pairs),
        "ids": [ref.id for ref, _ in pairs],
        "labels": list(labels),
        "context_from_reference": context,
        **spans,
        "tuples": tuple_scores(ref_tuples, other_tuples),
    }
