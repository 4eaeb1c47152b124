"""Cross-validation of the post-tagger decisions, by document, on the training gold.

The test split may score each candidate default once; choosing between recipes needs a
measure that can be run as often as needed. The post-tagger components that are fitted
(goal classifier, indicator chooser) and the rule steps around them are cheap to refit, so
they are measured here by k-fold cross-validation: each fold's components are fitted on
the other folds' gold, and the fold is extracted with the model's tagger (its window
probabilities cached on disk, `chitieu.evaluate.tagger_cache`), then every fold's output is scored
together against the gold.

The tagger itself is not refitted per fold (hours on 2 cores), so a document the tagger was
trained on would flatter every figure: `score_only` names the documents to score (those
the tagger never saw), while fitting uses every document outside the fold.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chitieu.annotate.corpus import Document, nested_share
from chitieu.evaluate.metrics import evaluate_predictions
from chitieu.extract.extractor import Extractor
from chitieu.extract.goal_classifier import fit_goal_classifier
from chitieu.extract.indicators import fit_indicator_chooser
from chitieu.extract.officials import fit_official_check
from chitieu.extract.stages import COMPONENTS
from chitieu.labels import LABELS


@dataclass(frozen=True)
class CrossValidationOptions:
    folds: int = field(default=5, metadata={"help": "Number of folds (by document)"})
    seed: int = field(default=13, metadata={"help": "Seed of the document-to-fold draw"})
    goal_c: float = field(default=1.0, metadata={"help": "Inverse L2 strength of the goal classifier"})
    indicator_l2: float = field(default=0.1, metadata={"help": "L2 strength of the indicator chooser"})
    ablation: bool = field(default=False, metadata={"help": "Also score with each post-tagger component off"})
    fit_fraction: float = field(
        default=1.0, metadata={"help": "Fit each fold's components on this share of the other folds (a learning curve)"}
    )


def assign_folds(doc_ids: Sequence[str], folds: int, seed: int) -> dict[str, int]:
    """id -> fold: a seeded shuffle dealt round-robin, so folds differ in size by at most one."""
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    if len(doc_ids) < folds:
        raise ValueError(f"{len(doc_ids)} documents cannot fill {folds} folds: use fewer folds or more documents")
    order = sorted(doc_ids)
    random.Random(seed).shuffle(order)
    return {doc_id: k % folds for k, doc_id in enumerate(order)}


def summary(result: dict[str, Any]) -> dict[str, float]:
    """The figures a recipe is chosen on: strict and lenient F1 per label, micro, tuples."""
    out: dict[str, float] = {}
    for mode in ("strict", "lenient"):
        for label in LABELS:
            out[f"{mode}:{label}"] = result[mode]["per_label"][label]["f1"]
        out[f"{mode}:micro"] = result[mode]["micro"]["f1"]
    tuples = result.get("tuples") or {}
    for name in ("with_official", "lenient"):
        if name in tuples:
            out[f"tuples:{name}"] = tuples[name]["f1"]
    return out


def cross_validate(
    extractor: Extractor,
    docs: Sequence[Document],
    probabilities: Callable[[Document], tuple[Any, list[np.ndarray]]],
    options: CrossValidationOptions,
    score_only: Callable[[Document], bool] = lambda doc: True,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Fit, extract and score every fold; the pooled figures of each system (the model, and
    with `options.ablation` the model without each of `COMPONENTS`) and each fold's.

    `probabilities(doc)` gives the prepared document and its tagger output (cached by the
    caller). The extractor's goal classifier and indicator chooser are replaced fold by fold
    and restored at the end."""
    fold_of = assign_folds([d.id for d in docs], options.folds, options.seed)
    if not 0.0 < options.fit_fraction <= 1.0:
        raise ValueError(f"fit_fraction must be in (0, 1], got {options.fit_fraction}")
    systems: dict[str, frozenset[str]] = {"model": frozenset()}
    if options.ablation:
        systems.update({f"without {name}": frozenset({name}) for name in COMPONENTS})
    outputs: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in systems}
    scored = [d for d in docs if score_only(d)]
    if not scored:
        raise ValueError("no document to score: every document was excluded by score_only")
    kept = (extractor.goal_classifier, extractor.indicator_chooser, extractor.official_check)
    try:
        for k in range(options.folds):
            fit_on = nested_share([d for d in docs if fold_of[d.id] != k], options.fit_fraction)
            extractor.goal_classifier = fit_goal_classifier(fit_on, c=options.goal_c)
            extractor.indicator_chooser = fit_indicator_chooser(fit_on, l2=options.indicator_l2)
            extractor.official_check = fit_official_check(fit_on)
            held_out = [d for d in scored if fold_of[d.id] == k]
            log(f"fold {k + 1}/{options.folds}: fitted on {len(fit_on)} documents, scoring {len(held_out)}")
            for doc in held_out:
                prepared, probs = probabilities(doc)
                for name, skip in systems.items():
                    outputs[name][doc.id] = extractor.finish(prepared, probs, skip)
    finally:
        extractor.goal_classifier, extractor.indicator_chooser, extractor.official_check = kept
    report: dict[str, Any] = {
        "folds": options.folds,
        "fit_fraction": options.fit_fraction,
        "seed": options.seed,
        "documents": len(docs),
        "scored_documents": len(scored),
        "systems": {},
    }
    for name in systems:
        pooled = evaluate_predictions(scored, [outputs[name][d.id] for d in scored])
        per_fold = []
        for k in range(options.folds):
            fold_docs = [d for d in scored if fold_of[d.id] == k]
            if fold_docs:
                per_fold.append(summary(evaluate_predictions(fold_docs, [outputs[name][d.id] for d in fold_docs])))
        report["systems"][name] = {
            "pooled": summary(pooled),
            "support": {label: pooled["strict"]["per_label"][label]["support"] for label in LABELS},
            "fold_spread": {
                key: {"min": min(f[key] for f in per_fold), "max": max(f[key] for f in per_fold)} for key in per_fold[0]
            },
        }
    return report


def cached_probabilities_for(extractor: Extractor, folder: Path, cache: Path) -> Callable[[Document], tuple[Any, list[np.ndarray]]]:
    """`probabilities` for `cross_validate`: the extractor's tagger through the disk cache."""
    from chitieu.evaluate.tagger_cache import cached_probabilities

    def probabilities(doc: Document) -> tuple[Any, list[np.ndarray]]:
        prepared = extractor.prepare(doc.text, doc.id)
        return prepared, cached_probabilities(extractor, folder, cache, prepared)

    return probabilities
