"""Scores of predicted entities and tuples against the gold corpus; pure functions.

`DEFINITIONS` states what every figure means; reports print it beside the numbers.
Entities and tuples pass between these functions as the typed core (`core.Entity`,
`core.Target`); system outputs in their JSON form are read into it at the edge
(`evaluate_predictions`, `card_scores`), and the figures come out as JSON-ready dicts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from seqeval.metrics import classification_report
from seqeval.scheme import IOB2

from chitieu.annotate.corpus import Document
from chitieu.core import Entity, Target, Value
from chitieu.evaluate.bootstrap import document_counts, paired_bootstrap
from chitieu.evaluate.groups import document_group, group_scores
from chitieu.extract.link import goal_key, link_targets
from chitieu.extract.normalize import parse_value
from chitieu.labels import LABELS, TARGET_VALUE
from chitieu.lexicon.unicode import name_key
from chitieu.text import split_words

MISSED = "missed"
SPURIOUS = "spurious"
VALUE_FIELDS = ("comparator", "number", "min", "max", "unit")

DEFINITIONS: dict[str, str] = {
    "strict span": "seqeval, mode strict, scheme IOB2, over word-level BIO built from the character spans "
    "(chitieu.text.split_words, cut further at every span edge so that word-level equality is character-offset "
    "equality): a predicted span counts only when its start, end and label equal a gold span's. Macro = mean over "
    "the labels that occur in gold or predictions (seqeval's rule).",
    "lenient span": "same label and any character overlap. Precision = predicted spans overlapping a gold span of "
    "their label / predicted spans; recall = gold spans overlapped by a predicted span of their label / gold spans "
    "(not one-to-one).",
    "confusion": "each gold span is counted once, under the label of the predicted span that overlaps it most "
    "(column 'missed' when none does); each predicted span overlapping no gold span is counted once in row 'spurious'.",
    "tuples": "gold tuples = chitieu.extract.link.link_targets over the gold spans; predicted tuples = the system's targets "
    "(for baselines, link_targets over their entities). A predicted tuple matches a gold one when their "
    "chitieu.extract.link.tuple_key (indicator text, value text, province name; case-folded) are equal and their "
    "officials' names agree (both none, or equal case-folded); each gold tuple matches at most once. "
    "'without official' repeats the count on tuple_key alone. 'lenient' forgives edges: values match when their "
    "normalised comparator, number, min, max and unit are equal (or, unparsed, their folded texts), indicators "
    "when both are empty or one folded text contains the other; province and official must still agree.",
    "normalisation": "for each gold TARGET_VALUE, the predicted tuple value with the same start and end ('exact'), "
    "else the one overlapping it most ('overlap'); correct when its comparator, number, min, max and unit equal "
    "chitieu.extract.normalize.parse_value of the gold text. 'exact' is 1.0 by construction (same text, same parser); "
    "'overlap' shows what boundary errors cost the normalised value.",
    "document errors": "correct = exact match; boundary = overlap, same label, other edges; label = overlap, other "
    "label; missed = gold span no prediction overlaps; spurious = prediction overlapping no gold span.",
    "overlapping predictions": "BIO cannot hold overlapping spans: of two overlapping predictions the higher-scored "
    "(then longer, then earlier) is kept; the count dropped is reported.",
}


def _r(x: float) -> float:
    return round(float(x), 4)


def prf(tp_pred: int, n_pred: int, tp_gold: int, n_gold: int) -> dict[str, float]:
    """Precision from the predicted side, recall from the gold side (equal counts when one-to-one)."""
    p = tp_pred / n_pred if n_pred else 0.0
    r = tp_gold / n_gold if n_gold else 0.0
    return {"precision": _r(p), "recall": _r(r), "f1": _r(2 * p * r / (p + r) if p + r else 0.0)}


class Located(Protocol):
    """Anything over `[start, end)` of a text: an entity, a target's value."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


def overlaps(a: Located, b: Located) -> bool:
    return a.start < b.end and b.start < a.end


def overlap_size(a: Located, b: Located) -> int:
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def entities_from_json(text: str, entities: Sequence[dict[str, Any]], labels: Sequence[str] = LABELS) -> list[Entity]:
    """Entities of `text` in their JSON form (`{label, start, end, text?, score?}`; text
    read from `text` and score 1.0 when absent) of the evaluated labels, as the typed core;
    others are left out here, as `clean_predictions` would."""
    return [
        Entity(label=e["label"], start=e["start"], end=e["end"], text=e["text"] if "text" in e else text[e["start"] : e["end"]], score=e.get("score", 1.0))
        for e in entities
        if e["label"] in labels
    ]


def gold_entities(doc: Document, labels: Sequence[str] = LABELS) -> list[Entity]:
    """The gold spans as entities (score 1.0), text read from the document."""
    out = [Entity.of(doc.text, s.start, s.end, s.label, 1.0) for s in doc.spans if s.label in labels]
    return sorted(out, key=lambda e: (e.start, e.end))


def clean_predictions(entities: Sequence[Entity], labels: Sequence[str] = LABELS) -> tuple[list[Entity], int]:
    """Predictions of the evaluated labels, empty and overlapping ones dropped.

    BIO cannot hold overlapping spans, so of two overlapping predictions the higher
    score (then the longer, then the earlier) stays; the number dropped is reported.
    """
    wanted = [e for e in entities if e.label in labels and e.end > e.start]
    ranked = sorted(wanted, key=lambda e: (-e.score, -(e.end - e.start), e.start))
    kept: list[Entity] = []
    for e in ranked:
        if not any(overlaps(e, k) for k in kept):
            kept.append(e)
    kept.sort(key=lambda e: (e.start, e.end))
    return kept, len(wanted) - len(kept)


def bio_sequence(text: str, entities: Sequence[Entity], cuts: Sequence[int] = ()) -> list[str]:
    """IOB2 tags over the words of `text`, each word also cut at every offset in `cuts`.

    Pass the edges of both gold and predicted spans as `cuts` so that both sequences
    share one tokenisation in which every span is a whole number of tokens.
    """
    points = {0, len(text)} | set(cuts)
    for e in entities:
        points.update((e.start, e.end))
    for w in split_words(text):
        points.update((w.start, w.end))
    edges = sorted(p for p in points if 0 <= p <= len(text))
    tags: list[str] = []
    by_start = {e.start: e for e in entities}
    current: Entity | None = None
    for a, _ in zip(edges, edges[1:]):
        if current is not None and a >= current.end:
            current = None
        if a in by_start:
            current = by_start[a]
            tags.append(f"B-{current.label}")
        elif current is not None:
            tags.append(f"I-{current.label}")
        else:
            tags.append("O")
    return tags


def span_scores(texts: Sequence[str], gold: Sequence[Sequence[Entity]], predicted: Sequence[Sequence[Entity]], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Strict (seqeval) and lenient span scores per label, micro and macro.

    `gold` and `predicted` hold one entity list per text; predictions must not overlap
    (see `clean_predictions`).
    """
    y_true, y_pred = [], []
    for text, g, p in zip(texts, gold, predicted, strict=True):
        cuts = [x for e in list(g) + list(p) for x in (e.start, e.end)]
        y_true.append(bio_sequence(text, g, cuts))
        y_pred.append(bio_sequence(text, p, cuts))
    n_gold = {label: sum(e.label == label for doc in gold for e in doc) for label in labels}
    n_pred = {label: sum(e.label == label for doc in predicted for e in doc) for label in labels}
    exact = {label: 0 for label in labels}
    for g, p in zip(gold, predicted):
        found = {(e.start, e.end, e.label) for e in p}
        for e in g:
            exact[e.label] += (e.start, e.end, e.label) in found

    report: dict[str, Any] = {}
    if any(n_gold.values()) or any(n_pred.values()):
        report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    zero = {"precision": 0.0, "recall": 0.0, "f1-score": 0.0}
    strict: dict[str, Any] = {"per_label": {}}
    for label in labels:
        row = report.get(label, zero)
        strict["per_label"][label] = {
            "precision": _r(row["precision"]),
            "recall": _r(row["recall"]),
            "f1": _r(row["f1-score"]),
            "support": n_gold[label],
            "predicted": n_pred[label],
            "correct": exact[label],
        }
    for avg in ("micro", "macro"):
        row = report.get(f"{avg} avg", zero)
        strict[avg] = {"precision": _r(row["precision"]), "recall": _r(row["recall"]), "f1": _r(row["f1-score"])}
    strict["micro"].update(support=sum(n_gold.values()), predicted=sum(n_pred.values()), correct=sum(exact.values()))

    lenient: dict[str, Any] = {"per_label": {}}
    totals = [0, 0, 0, 0]
    for label in labels:
        hit_pred = sum(
            any(overlaps(e, x) for x in g if x.label == label) for g, p in zip(gold, predicted) for e in p if e.label == label
        )
        hit_gold = sum(
            any(overlaps(e, x) for x in p if x.label == label) for g, p in zip(gold, predicted) for e in g if e.label == label
        )
        counts = (hit_pred, n_pred[label], hit_gold, n_gold[label])
        totals = [t + c for t, c in zip(totals, counts)]
        lenient["per_label"][label] = {**prf(*counts), "support": n_gold[label], "predicted": n_pred[label]}
    lenient["micro"] = prf(*totals)
    present = [label for label in labels if n_gold[label] or n_pred[label]]
    lenient["macro"] = {
        k: _r(sum(lenient["per_label"][label][k] for label in present) / len(present)) if present else 0.0
        for k in ("precision", "recall", "f1")
    }
    return {"strict": strict, "lenient": lenient}


def confusion(gold: Sequence[Sequence[Entity]], predicted: Sequence[Sequence[Entity]], labels: Sequence[str] = LABELS) -> dict[str, Any]:
    """Rows: gold label or `spurious`; columns: predicted label or `missed`."""
    rows = list(labels) + [SPURIOUS]
    cols = list(labels) + [MISSED]
    matrix = {r: {c: 0 for c in cols} for r in rows}
    for g, p in zip(gold, predicted):
        for e in g:
            touching = [x for x in p if overlaps(e, x)]
            if touching:
                best = max(touching, key=lambda x: (overlap_size(e, x), x.label == e.label))
                matrix[e.label][best.label] += 1
            else:
                matrix[e.label][MISSED] += 1
        for x in p:
            if not any(overlaps(e, x) for e in g):
                matrix[SPURIOUS][x.label] += 1
    return {"rows": rows, "columns": cols, "matrix": matrix}


def _fold(name: str | None) -> str | None:
    return None if name is None else name_key(name)


def _indicator_text(t: Target) -> str | None:
    return None if t.indicator is None else t.indicator.text


def _province_name(t: Target) -> str:
    return (None if t.province is None else t.province.name) or ""


def tuple_key(t: Target) -> tuple[str, str, str]:
    """`chitieu.extract.link.goal_key` of a tuple."""
    return goal_key(_indicator_text(t), t.value.text, None if t.province is None else t.province.name)


def linked(text: str, entities: Sequence[Entity]) -> list[Target]:
    """`chitieu.extract.link.link_targets` over entities (gold or a baseline's)."""
    return link_targets(text, list(entities))


def official_name(t: Target) -> str | None:
    return _fold(None if t.official is None else t.official.name)


def _value_key(t: Target) -> tuple[Any, ...]:
    parsed = parse_value(t.value.text)
    if parsed.number is None and parsed.min is None:
        return ("text", _fold(t.value.text))
    return (parsed.comparator, parsed.number, parsed.min, parsed.max, parsed.unit)


def _indicators_agree(a: Target, b: Target) -> bool:
    x, y = (_fold(_indicator_text(t)) for t in (a, b))
    if x is None or y is None:
        return x is None and y is None
    return x in y or y in x


def lenient_match(g: Target, t: Target) -> bool:
    """Same figure for the same measure, province and official, edges of the spans forgiven."""
    return (
        _province_name(g) == _province_name(t)
        and official_name(g) == official_name(t)
        and _value_key(g) == _value_key(t)
        and _indicators_agree(g, t)
    )


#: (matched (gold, predicted) pairs, missed gold tuples, spurious predicted tuples)
TupleMatch = tuple[list[tuple[Target, Target]], list[Target], list[Target]]


def match_tuples(
    gold: Sequence[Target], predicted: Sequence[Target], with_official: bool = True, lenient: bool = False
) -> TupleMatch:
    """(matched (gold, predicted) pairs, missed gold tuples, spurious predicted tuples)."""
    free = list(gold)
    pairs, spurious = [], []
    for t in predicted:
        if lenient:
            hit = next((g for g in free if lenient_match(g, t)), None)
        else:
            key, name = tuple_key(t), official_name(t)
            hit = next((g for g in free if tuple_key(g) == key and (not with_official or official_name(g) == name)), None)
        if hit is None:
            spurious.append(t)
        else:
            free.remove(hit)
            pairs.append((hit, t))
    return pairs, free, spurious


def tuple_scores(gold: Sequence[Sequence[Target]], predicted: Sequence[Sequence[Target]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, with_official, lenient in (("with_official", True, False), ("without_official", False, False), ("lenient", True, True)):
        tp = sum(len(match_tuples(g, p, with_official, lenient)[0]) for g, p in zip(gold, predicted, strict=True))
        n_gold = sum(map(len, gold))
        n_pred = sum(map(len, predicted))
        out[name] = {**prf(tp, n_pred, tp, n_gold), "support": n_gold, "predicted": n_pred, "correct": tp}
    return out


def _same_number(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def value_agrees(predicted: Value, gold_text: str) -> bool:
    """Do a predicted value's comparator, number, min, max and unit equal the gold text's parse?"""
    truth = parse_value(gold_text)
    for field in VALUE_FIELDS:
        mine, right = getattr(predicted, field), getattr(truth, field)
        same = _same_number(mine, right) if field in ("number", "min", "max") else mine == right
        if not same:
            return False
    return True


def normalisation_scores(gold: Sequence[Sequence[Entity]], predicted_tuples: Sequence[Sequence[Target]]) -> dict[str, Any]:
    counts = {"exact": [0, 0], "overlap": [0, 0]}  # [values compared, values correct]
    for g, tuples in zip(gold, predicted_tuples, strict=True):
        values = {(t.value.start, t.value.end): t.value for t in tuples}.values()
        for e in g:
            if e.label != TARGET_VALUE:
                continue
            same = [v for v in values if v.start == e.start and v.end == e.end]
            if same:
                kind, value = "exact", same[0]
            else:
                touching = [v for v in values if overlaps(e, v)]
                if not touching:
                    continue
                kind, value = "overlap", max(touching, key=lambda v: overlap_size(e, v))
            counts[kind][0] += 1
            counts[kind][1] += value_agrees(value, e.text)
    return {k: {"values": n, "correct": ok, "accuracy": _r(ok / n) if n else None} for k, (n, ok) in counts.items()}


def _brief(e: Entity) -> dict[str, Any]:
    return {"start": e.start, "end": e.end, "label": e.label, "text": e.text}


def _brief_tuple(t: Target) -> dict[str, Any]:
    return {
        "indicator": _indicator_text(t),
        "value": t.value.text,
        "value_start": t.value.start,
        "value_end": t.value.end,
        "province": None if t.province is None else t.province.name,
        "official": None if t.official is None else t.official.name,
    }


def document_errors(
    doc_id: str,
    gold: Sequence[Entity],
    predicted: Sequence[Entity],
    tuple_match: TupleMatch | None = None,
) -> dict[str, Any]:
    """What went wrong in one document, every gold and predicted span in exactly one place;
    with `tuple_match` (`match_tuples` of the document's gold and predicted tuples), the
    tuples missed and spurious too.

    correct: exact match. boundary: overlap, same label, other edges. label: overlap,
    other label. missed: gold overlapped by no prediction. spurious: prediction
    overlapping no gold span. A gold span overlapped by two predictions is in two pairs.
    """
    exact = {(e.start, e.end, e.label) for e in gold}
    out: dict[str, Any] = {"id": doc_id, "correct": [], "boundary": [], "label": [], "missed": [], "spurious": []}
    for p in predicted:
        if (p.start, p.end, p.label) in exact:
            out["correct"].append(_brief(p))
            continue
        touching = [g for g in gold if overlaps(g, p)]
        if not touching:
            out["spurious"].append(_brief(p))
        for g in touching:
            kind = "boundary" if g.label == p.label else "label"
            out[kind].append({"gold": _brief(g), "predicted": _brief(p)})
    out["missed"] = [_brief(g) for g in gold if not any(overlaps(g, p) for p in predicted)]
    if tuple_match is not None:
        _, missed, spurious = tuple_match
        out["missed_tuples"] = [_brief_tuple(t) for t in missed]
        out["spurious_tuples"] = [_brief_tuple(t) for t in spurious]
    out["errors"] = sum(len(out[k]) for k in ("boundary", "label", "missed", "spurious", "missed_tuples", "spurious_tuples") if k in out)
    return out


def evaluate_predictions(
    docs: Sequence[Document],
    predictions: Sequence[dict[str, Any]],
    labels: Sequence[str] = LABELS,
    with_tuples: bool = True,
) -> dict[str, Any]:
    """Every figure for one system on one set of documents.

    `predictions[i]` is the system's output for `docs[i]` in its JSON form (it may come
    from disk): `{"entities": [...]}` and, for a model, `"targets"` as `Extractor.extract`
    returns them; when targets are absent they are linked from the entities with
    chitieu.extract.link.link_targets. They are read into the typed core here.
    """
    if len(docs) != len(predictions):
        raise ValueError(f"{len(docs)} documents but {len(predictions)} predictions")
    gold = [gold_entities(d, labels) for d in docs]
    predicted, dropped = [], 0
    for d, out in zip(docs, predictions):
        kept, n = clean_predictions(entities_from_json(d.text, out.get("entities", []), labels), labels)
        predicted.append(kept)
        dropped += n
    texts = [d.text for d in docs]
    result: dict[str, Any] = {
        "documents": len(docs),
        "labels": list(labels),
        "dropped_overlapping_predictions": dropped,
        **span_scores(texts, gold, predicted, labels),
        "confusion": confusion(gold, predicted, labels),
    }
    gold_tuples: list[list[Target]] | None = None
    pred_tuples: list[list[Target]] | None = None
    if with_tuples and TARGET_VALUE in labels:
        gold_tuples = [linked(d.text, g) for d, g in zip(docs, gold)]
        pred_tuples = [
            [Target.model_validate(t) for t in out["targets"]] if out.get("targets") is not None else linked(d.text, p)
            for d, out, p in zip(docs, predictions, predicted)
        ]
        result["tuples"] = tuple_scores(gold_tuples, pred_tuples)
        result["normalisation"] = normalisation_scores(gold, pred_tuples)
    else:
        result["tuples"] = None
        result["normalisation"] = None
    # The strict match of each document, once, for its counts and its error list.
    matches: list[TupleMatch | None] = (
        [match_tuples(g, p) for g, p in zip(gold_tuples, pred_tuples)]
        if gold_tuples is not None and pred_tuples is not None
        else [None] * len(docs)
    )
    result["document_counts"] = [
        document_counts(g, p, labels, None if m is None else (len(m[0]), len(m[0]) + len(m[2]), len(m[0]) + len(m[1])))
        for g, p, m in zip(gold, predicted, matches)
    ]
    result["groups"] = group_scores([document_group(d) for d in docs], result["document_counts"])
    result["errors"] = [document_errors(d.id, g, p, m) for d, g, p, m in zip(docs, gold, predicted, matches)]
    return result


def compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Side-by-side F1 (and P, R) of two evaluations of the same documents, with B - A, and
    (`bootstrap`) the 95% interval of each strict B - A over resampled documents."""

    def row(x: dict[str, Any], y: dict[str, Any]) -> dict[str, Any]:
        return {k: {"a": x[k], "b": y[k], "diff": _r(y[k] - x[k])} for k in ("precision", "recall", "f1")}

    labels = [label for label in a["labels"] if label in b["labels"]]
    out: dict[str, Any] = {
        "per_label": {
            label: {
                "strict": row(a["strict"]["per_label"][label], b["strict"]["per_label"][label]),
                "lenient": row(a["lenient"]["per_label"][label], b["lenient"]["per_label"][label]),
                "support": a["strict"]["per_label"][label]["support"],
            }
            for label in labels
        },
        "micro": {"strict": row(a["strict"]["micro"], b["strict"]["micro"]), "lenient": row(a["lenient"]["micro"], b["lenient"]["micro"])},
        "macro": {"strict": row(a["strict"]["macro"], b["strict"]["macro"]), "lenient": row(a["lenient"]["macro"], b["lenient"]["macro"])},
        "tuples": None,
    }
    if a.get("tuples") and b.get("tuples"):
        out["tuples"] = {k: row(a["tuples"][k], b["tuples"][k]) for k in ("with_official", "without_official")}
    # Older report.json files have no per-document counts: the comparison then has no interval.
    if a.get("document_counts") and b.get("document_counts"):
        out["bootstrap"] = paired_bootstrap(a["document_counts"], b["document_counts"])
    return out


def card_scores(docs: Sequence[Document], predictions: Sequence[Sequence[dict[str, Any]]]) -> dict[str, Any]:
    """The strict (seqeval) span figures kept in a model's card and chitieu.json: micro and
    per label. `predictions[i]`: the entities of `docs[i]` in their JSON form."""
    predicted = [entities_from_json(d.text, p) for d, p in zip(docs, predictions, strict=True)]
    return card_from_strict(span_scores([d.text for d in docs], [gold_entities(d) for d in docs], predicted)["strict"])


def card_from_strict(strict: dict[str, Any]) -> dict[str, Any]:
    """The card's figures from the strict part of `span_scores` (or of an evaluation report)."""
    per_label = {
        label: {k: strict["per_label"][label][k] for k in ("precision", "recall", "f1", "support")} for label in LABELS
    }
    return {
        "micro_precision": strict["micro"]["precision"],
        "micro_recall": strict["micro"]["recall"],
        "micro_f1": strict["micro"]["f1"],
        "per_label_f1": {label: v["f1"] for label, v in per_label.items()},
        "per_label": per_label,
    }
