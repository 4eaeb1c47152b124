"""`chitieu train`: corpus -> versioned model folder, written atomically."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from chitieu.annotate.corpus import Document, corpus_hash, load_corpus, nested_share, read_documents
from chitieu.encoders.base import WordPieceAdapter
from chitieu.encoders.loader import DEFAULT_BASE, E5_LICENCE
from chitieu.evaluate.metrics import card_scores as span_scores
from chitieu.extract.goal_classifier import GoalClassifier, fit_goal_classifier
from chitieu.extract.indicators import IndicatorChooser, fit_indicator_chooser
from chitieu.extract.officials import OfficialCheck, fit_official_check
from chitieu.labels import BIO_TAGS, ID2TAG, LABELS, TAG2ID
from chitieu.model_folder import PIPELINE_VERSION, write_meta
from chitieu.train.data import labelled_windows, report_misaligned
from chitieu.train.options import TrainOptions
from chitieu.windows import Window

log = logging.getLogger(__name__)


def predict_documents(
    docs: Sequence[Document],
    adapter: WordPieceAdapter,
    runner: Callable[[Sequence[Window]], list[np.ndarray]],
    max_tokens: int,
    overlap_tokens: int,
    goal_classifier: GoalClassifier | None = None,
    indicator_chooser: IndicatorChooser | None = None,
    official_check: OfficialCheck | None = None,
) -> list[list[dict[str, Any]]]:
    """Entities for each document through the very stages the service runs."""
    from chitieu.extract.extractor import Extractor

    extractor = Extractor(
        adapter, runner, {}, max_tokens=max_tokens, overlap_tokens=overlap_tokens,
        goal_classifier=goal_classifier, indicator_chooser=indicator_chooser, official_check=official_check,
    )
    return [r["entities"] for r in extractor.extract_many([(d.id, d.text) for d in docs])]


def base_slug(base: str) -> str:
    return Path(base.rstrip("/")).name.replace("_", "-") or "model"


def model_card(meta: dict[str, Any]) -> str:
    lines = [
        f"# {meta['name']}",
        "",
        f"chitieu token classifier (PROVINCE, OFFICIAL, INDICATOR, TARGET_VALUE), base `{meta['base']['name']}`"
        f" (licence: {meta['base'].get('licence') or 'see the base model'}).",
        "",
        f"- trained: {meta['created']} in {meta['training_seconds']:.0f} s on {meta['hardware']}",
        f"- data: `{meta['data_hash']}` ({meta['train_documents']} training documents from split `{meta['options']['train_split']}`"
        + (f" (a {meta['options']['train_fraction']:g} share)" if meta["options"].get("train_fraction", 1) < 1 else "")
        + (f", and {meta['silver_documents']} silver documents for the tagger" if meta.get("silver_documents") else "")
        + "; "
        + (f"early stopping on `{meta['options']['dev_split']}`)" if meta["options"]["dev_split"] != "none" else "fixed epochs, no early stopping)"),
        f"- best epoch {meta['best_epoch']} of {len(meta['history'])}",
        *component_lines(meta),
        "",
        "## Metrics (strict span match)",
        "",
        "Measured when the model was written, with the extraction pipeline of that commit. "
        "`chitieu evaluate` with `--report evaluation` in this folder records later figures "
        "(tuples, baselines, errors) with the pipeline of its own commit.",
        "",
        "| split | label | precision | recall | F1 | support |",
        "|---|---|---|---|---|---|",
    ]
    for split, m in meta["metrics"].items():
        for label, v in m["per_label"].items():
            lines.append(f"| {split} | {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |")
        lines.append(f"| {split} | **micro** | {m['micro_precision']:.3f} | {m['micro_recall']:.3f} | **{m['micro_f1']:.3f}** | |")
    lines += ["", "## Reproduce", "", "```", meta["command"], "```", ""]
    return "\n".join(lines)


#: The card's line for each decision component, by its key in chitieu.json, in card order.
def component_lines(meta: dict[str, Any]) -> list[str]:
    return [
        _goal_line(meta.get("goal_classifier")),
        _chooser_line(meta.get("indicator_chooser")),
        _officials_line(meta.get("official_check")),
    ]


def refresh_component_lines(card: str, meta: dict[str, Any]) -> str:
    """The card with its decision-component lines rewritten from `meta` (after `chitieu
    models fit-goals` refits them): the old lines are dropped wherever they are, and the new
    ones take the place of the first (or follow the `- best epoch` line when the card
    predates them all)."""
    prefixes = ("- goal classifier", "- indicator chooser", "- official check")
    lines = card.split("\n")
    at = next((k for k, line in enumerate(lines) if line.startswith(prefixes)), None)
    if at is None:
        at = next((k + 1 for k, line in enumerate(lines) if line.startswith("- best epoch")), len(lines))
    kept = [line for line in lines[:at] if not line.startswith(prefixes)]
    rest = [line for line in lines[at:] if not line.startswith(prefixes)]
    return "\n".join([*kept, *component_lines(meta), *rest])


def _chooser_line(chooser: dict[str, Any] | None) -> str:
    if not chooser:
        return "- indicator chooser: none (INDICATORs are the tagger's alone)"
    return (
        f"- indicator chooser (`indicator_chooser.json`): fitted on {chooser.get('documents')} documents "
        f"({chooser.get('values')} gold values, {chooser.get('values_with_indicator')} with an indicator among their candidates); "
        "gives an indicator to each value the tagger left without one"
    )


def _officials_line(officials: dict[str, Any] | None) -> str:
    if not officials:
        return "- official check: none (OFFICIALs are the tagger's alone)"
    return (
        f"- official check (`official_check.json`): fitted on {officials.get('documents')} documents "
        f"({officials.get('officials')} gold OFFICIALs among {officials.get('mentions')} name mentions); "
        "drops OFFICIALs whose holder reads as no government or Party official"
    )


def _goal_line(goals: dict[str, Any] | None) -> str:
    if not goals:
        return "- goal classifier: none (TARGET_VALUEs are the tagger's alone)"
    return (
        f"- goal classifier (`goal_classifier.json`): fitted on {goals.get('documents')} documents "
        f"({goals.get('candidates')} value expressions, {goals.get('goals')} goals); votes on TARGET_VALUEs "
        "with the tagger and the rule goal check"
    )


def base_build_stamp(base_path: str) -> dict[str, Any] | None:
    """What the built e5-small base was made from (source and vocabulary hashes), and for a
    base `chitieu base adapt` wrote, what it was adapted on; None for other bases."""
    from chitieu.encoders.adapt import ADAPT_FILE
    from chitieu.encoders.e5 import STAMP_FILE

    stamp, adapted = Path(base_path) / STAMP_FILE, Path(base_path) / ADAPT_FILE
    if not stamp.is_file():
        return None
    out: dict[str, Any] = json.loads(stamp.read_text(encoding="utf-8"))
    if adapted.is_file():
        out["adapted"] = json.loads(adapted.read_text(encoding="utf-8"))
    return out


def hardware() -> str:
    import torch

    if torch.cuda.is_available():
        return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    return f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"


def read_silver(path: Path, annotations: Path) -> list[Document]:
    """The silver documents of `path`; an id that is also in the corpus is refused, since a
    model's labels on a gold (or test) article would leak into training or contradict its gold."""
    silver = read_documents(path)
    gold_ids = {d.id for d in load_corpus(annotations)}
    clash = sorted(d.id for d in silver if d.id in gold_ids)
    if clash:
        raise ValueError(
            f"{len(clash)} silver documents are corpus documents ({', '.join(clash[:3])}...): "
            "draw silver again with `chitieu annotations silver` against the current corpus"
        )
    return silver


def train(opts: TrainOptions, command: str = "chitieu train") -> Path:
    """Train, evaluate and write `opts.out / name` atomically; returns the folder."""
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification

    from chitieu.encoders.loader import open_adapter, resolve_base
    from chitieu.train.loop import fit, set_seed

    started = datetime.now(timezone.utc)
    fingerprint = corpus_hash(opts.annotations) or "unknown"
    name = opts.name or f"{base_slug(opts.base)}-{started:%Y%m%d-%H%M%S}-{fingerprint[:8]}"
    if (opts.out / name).exists() and not opts.overwrite:
        raise FileExistsError(f"{opts.out / name} exists: choose another --name or pass --overwrite")
    base_path = resolve_base(opts.base)
    adapter = open_adapter(base_path)
    max_tokens = min(opts.max_tokens, adapter.max_tokens)
    train_docs = nested_share(load_corpus(opts.annotations, opts.train_split), opts.train_fraction)
    dev_docs = load_corpus(opts.annotations, opts.dev_split) if opts.early_stopping else []
    if not train_docs or (opts.early_stopping and not dev_docs):
        raise ValueError(f"split {opts.train_split!r} or {opts.dev_split!r} is empty in {opts.annotations}: run `chitieu annotations split`")
    silver_docs = read_silver(opts.silver, opts.annotations) if opts.silver is not None else []
    data = labelled_windows(train_docs + silver_docs, adapter, max_tokens, opts.overlap_tokens)
    report_misaligned(data, opts.base)
    log.info(
        "%d training documents (%d of them silver) -> %d windows of <= %d tokens",
        len(train_docs) + len(silver_docs), len(silver_docs), len(data.windows), max_tokens,
    )

    config = AutoConfig.from_pretrained(
        base_path, num_labels=len(BIO_TAGS), id2label=dict(ID2TAG), label2id=dict(TAG2ID),
        attention_probs_dropout_prob=opts.attention_dropout,
    )
    if opts.layers is not None:
        if opts.layers > config.num_hidden_layers:
            raise ValueError(f"--layers {opts.layers}: the base {opts.base} has only {config.num_hidden_layers} layers")
        # from_pretrained then loads the bottom layers' weights and ignores the rest; the
        # saved config says how many there are, so the folder loads anywhere as it is.
        config.num_hidden_layers = opts.layers
    set_seed(opts.seed)  # the new head is initialised here: same seed, same model
    model = AutoModelForTokenClassification.from_pretrained(base_path, config=config, dtype=torch.float32)

    def evaluate_dev(runner: Callable[[Sequence[Window]], list[np.ndarray]]) -> dict[str, Any]:
        return span_scores(dev_docs, predict_documents(dev_docs, adapter, runner, max_tokens, opts.overlap_tokens))

    result = fit(model, data.windows, adapter.pad_id, opts, evaluate_dev if opts.early_stopping else None)

    from chitieu.extract.run import TorchRunner

    runner = TorchRunner.for_model(result.model, adapter.pad_id, "cpu", opts.batch_size * 2)
    stamp = {"data_hash": fingerprint, "split": opts.train_split}
    # Each is fitted in seconds on the same documents; too little gold leaves it out with a warning.
    goals = _fitted(
        opts.goal_classifier, lambda: fit_goal_classifier(train_docs, c=opts.goal_c, seed=opts.seed), stamp,
        "no goal classifier in this model, TARGET_VALUEs are the tagger's alone",
    )
    chooser = _fitted(
        opts.indicator_chooser, lambda: fit_indicator_chooser(train_docs, l2=opts.indicator_l2), stamp,
        "no indicator chooser in this model, INDICATORs are the tagger's alone",
    )
    officials = _fitted(
        opts.official_check, lambda: fit_official_check(train_docs, seed=opts.seed), stamp,
        "no official check in this model, OFFICIALs are the tagger's alone",
    )
    components = (goals, chooser, officials)
    metrics = {}
    if dev_docs:
        metrics["dev"] = span_scores(dev_docs, predict_documents(dev_docs, adapter, runner, max_tokens, opts.overlap_tokens, *components))
    if opts.evaluate_test:
        test_docs = load_corpus(opts.annotations, "test")
        if test_docs:
            metrics["test"] = span_scores(test_docs, predict_documents(test_docs, adapter, runner, max_tokens, opts.overlap_tokens, *components))

    build = base_build_stamp(base_path)
    licence = None
    if adapter.kind == "phobert":
        from chitieu.encoders.phobert import licence_for

        licence = licence_for(opts.base)
    elif opts.base == DEFAULT_BASE or build is not None:
        # e5-small, or a base `chitieu base adapt` continued from it: the same weights' licence.
        licence = E5_LICENCE
    meta = {
        "name": name,
        "version": f"{started:%Y.%m.%d.%H%M%S}",
        "created": started.isoformat(timespec="seconds"),
        "base": {"name": opts.base, "kind": adapter.kind, "licence": licence, "build": build},
        "labels": list(LABELS),
        "data_hash": fingerprint,
        "train_documents": len(train_docs),
        "silver_documents": len(silver_docs),
        "train_windows": len(data.windows),
        "misaligned_spans": len(data.misaligned),
        "options": {**opts.to_json(), "max_tokens": max_tokens},
        "best_epoch": result.best_epoch,
        "history": result.history,
        "training_seconds": round(result.seconds, 1),
        "hardware": hardware(),
        "metrics": metrics,
        "metrics_pipeline": PIPELINE_VERSION,
        "goal_classifier": goals.trained_on if goals is not None else None,
        "indicator_chooser": chooser.trained_on if chooser is not None else None,
        "official_check": officials.trained_on if officials is not None else None,
        "command": command,
    }
    return write_model_folder(result.model, adapter, meta, opts, *components)


Component = TypeVar("Component", GoalClassifier, IndicatorChooser, OfficialCheck)


def _fitted(wanted: bool, fit: Callable[[], Component], stamp: dict[str, Any], missing: str) -> Component | None:
    """A decision component fitted and stamped with its data, or None (with `missing` and
    the reason logged) when it is not wanted or the gold gives it too little to learn."""
    if not wanted:
        return None
    try:
        component = fit()
    except ValueError as error:
        log.warning("%s: %s", missing, error)
        return None
    component.trained_on.update(stamp)
    return component


def write_model_folder(
    model: Any,
    adapter: WordPieceAdapter,
    meta: dict[str, Any],
    opts: TrainOptions,
    goals: GoalClassifier | None = None,
    chooser: IndicatorChooser | None = None,
    officials: OfficialCheck | None = None,
) -> Path:
    """Build the folder beside its destination, then rename: never a half-written model.

    With --overwrite the old folder is renamed aside first and removed only once the new
    one is in place, so a reader finds the old or the new model, never a partial one.
    """
    import torch

    final = opts.out / meta["name"]
    if final.exists() and not opts.overwrite:
        raise FileExistsError(f"{final} exists: choose another --name or pass --overwrite")
    opts.out.mkdir(parents=True, exist_ok=True)
    stamp = f"{os.getpid()}-{int(time.time())}"
    tmp = opts.out / f".tmp-{meta['name']}-{stamp}"
    aside = opts.out / f".old-{meta['name']}-{stamp}"
    try:
        if opts.save_dtype == "fp16":
            model = model.to(torch.float16)
        model.save_pretrained(str(tmp), safe_serialization=True)
        adapter.save(tmp)
        if goals is not None:
            goals.save(tmp)
        if chooser is not None:
            chooser.save(tmp)
        if officials is not None:
            officials.save(tmp)
        write_meta(tmp, meta)
        (tmp / "README.md").write_text(model_card(meta), encoding="utf-8")
        for path in tmp.rglob("*"):
            # save_pretrained writes private files; a service running as another user must read them.
            path.chmod(0o755 if path.is_dir() else 0o644)
        tmp.chmod(0o755)
        if final.exists():
            os.replace(final, aside)
        os.replace(tmp, final)
    finally:
        for leftover in (tmp, aside):
            if leftover.exists():
                shutil.rmtree(leftover, ignore_errors=True)
    log.info("model written to %s", final)
    return final
