"""`chitieu models ...`: list model versions, promote one for `serve`, fit a folder's goal
classifier, re-measure its figures with the current pipeline."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from chitieu.model_folder import (
    META_FILE,
    PIPELINE_VERSION,
    ModelFolderError,
    read_meta,
    read_promoted,
    resolve_model_folder,
    write_meta,
    write_promoted,
)
from chitieu.paths import models_dir

app = typer.Typer(help="Model versions: list them, promote one for `serve`, fit a goal classifier.", no_args_is_help=True)
console = Console(soft_wrap=True)


def list_models(directory: Path) -> list[dict[str, Any]]:
    out = []
    for meta_path in sorted(Path(directory).glob(f"*/{META_FILE}")):
        if meta_path.parent.name.startswith("."):
            continue
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        test = meta.get("metrics", {}).get("test", {})
        out.append(
            {
                "name": meta_path.parent.name,
                "base": meta.get("base", {}).get("name"),
                "data_hash": meta.get("data_hash"),
                "created": meta.get("created"),
                "test_micro_f1": test.get("micro_f1"),
                "pipeline": meta.get("metrics_pipeline", 1),
                # The corpus the test figures come from: re-measured, else the one trained on.
                "measured_on": (meta.get("metrics_measured") or {}).get("data_hash") or meta.get("data_hash"),
            }
        )
    return out


@app.command("list")
def list_command(directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None) -> None:
    """Every model folder with base, data hash, date and test micro-F1; * marks the promoted one."""
    root = directory or models_dir()
    promoted = read_promoted(root)
    table = Table()
    for column in ("", "name", "base", "data hash", "created", "test micro-F1", "pipeline"):
        table.add_column(column)
    for m in list_models(root):
        mark = "*" if promoted is not None and promoted.name == m["name"] else ""
        f1 = f"{m['test_micro_f1']:.4f}" if m["test_micro_f1"] is not None else "-"
        pipeline = str(m["pipeline"]) + ("" if m["pipeline"] == PIPELINE_VERSION else " (old: `chitieu models measure`)")
        table.add_row(mark, m["name"], str(m["base"]), str(m["data_hash"]), str(m["created"]), f1, pipeline)
    console.print(table)


@app.command()
def promote(
    name: str,
    directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None,
    force: Annotated[bool, typer.Option(help="Promote even if its test micro-F1 is lower than the current model's")] = False,
) -> None:
    """Make NAME the model `serve` loads (atomic pointer file models/PROMOTED)."""
    root = directory or models_dir()
    models = {m["name"]: m for m in list_models(root)}
    if name not in models:
        console.print(f"[red]no model folder {name!r} in {root}[/]; `chitieu models list` shows what there is")
        raise typer.Exit(1)
    current = read_promoted(root)
    if current is not None and current.name in models and not force:
        measured = {models[current.name]["pipeline"], models[name]["pipeline"]}
        if len(measured) > 1:
            stale = [n for n in (current.name, name) if models[n]["pipeline"] != PIPELINE_VERSION]
            console.print(
                f"[red]refused[/]: the test figures of {current.name} and {name} were measured with different "
                f"pipelines ({models[current.name]['pipeline']} and {models[name]['pipeline']}); run "
                + " and ".join(f"`chitieu models measure {n}`" for n in stale)
                + " first, or pass --force"
            )
            raise typer.Exit(1)
        corpora = {models[current.name]["measured_on"], models[name]["measured_on"]}
        if len(corpora) > 1:
            console.print(
                f"[red]refused[/]: the test figures of {current.name} and {name} were measured on different corpora "
                f"({models[current.name]['measured_on']} and {models[name]['measured_on']}): the test split has changed "
                f"since; run `chitieu models measure` on the older one first, or pass --force"
            )
            raise typer.Exit(1)
        old, new = models[current.name]["test_micro_f1"], models[name]["test_micro_f1"]
        if old is not None and (new is None or new < old):
            console.print(
                f"[red]refused[/]: {name} has test micro-F1 {new} < {old} of the current {current.name}; "
                "pass --force to promote it anyway"
            )
            raise typer.Exit(1)
    write_promoted(root, name)
    console.print(f"promoted {name}; a running service picks it up with POST /admin/reload")


@app.command("fit-goals")
def fit_goals(
    name: Annotated[str, typer.Argument(help="Model folder, or its name under models/")],
    annotations: Annotated[Optional[Path], typer.Option(help="Corpus folder [default: annotations/]")] = None,
    split: Annotated[str, typer.Option(help="Split(s) to fit on: the ones the tagger was trained on")] = "train+dev",
    c: Annotated[float, typer.Option(help="Inverse L2 strength of the logistic regression")] = 1.0,
    indicators: Annotated[bool, typer.Option("--indicators/--no-indicators", help="Also (re)fit the indicator chooser")] = True,
    indicator_l2: Annotated[float, typer.Option(help="L2 strength of the indicator chooser")] = 0.1,
    officials: Annotated[bool, typer.Option("--officials/--no-officials", help="Also (re)fit the official check")] = True,
    as_version: Annotated[
        Optional[str],
        typer.Option("--as", help="Write a new version folder of this name beside it (the tagger copied) instead of changing NAME"),
    ] = None,
    directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None,
) -> None:
    """(Re)fit a model folder's goal classifier (goal_classifier.json), indicator chooser
    (indicator_chooser.json) and official check (official_check.json): for a model trained
    before chitieu had them, or, with `--as NEW`, as a new version on new gold in seconds
    while the tagger's retraining waits. All three read only the text around values and
    names, never the tagger's output, so they may be fitted on more documents than the
    tagger saw; the model card records the documents of each."""
    from chitieu.annotate.corpus import corpus_hash, load_corpus
    from chitieu.extract.goal_classifier import fit_goal_classifier
    from chitieu.paths import annotations_dir

    folder, meta = _folder_and_meta(name, directory)
    if as_version is not None:
        folder, meta = _new_version(folder, meta, as_version)
    corpus = annotations or annotations_dir()
    docs = load_corpus(corpus, split)
    fingerprint = corpus_hash(corpus)
    if meta.get("data_hash") not in (None, fingerprint):
        console.print(
            f"[yellow]note[/]: {folder.name} was trained on data {meta.get('data_hash')}, {corpus} is {fingerprint}; "
            "fit on the corpus it was trained on unless you mean to change that"
        )
    try:
        goals = fit_goal_classifier(docs, c=c)
    except ValueError as error:
        console.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    stamp = {"data_hash": fingerprint, "split": split}
    goals.trained_on.update(stamp)
    path = goals.save(folder)
    # The folder's record says what is in it: `GET /model` reads chitieu.json.
    meta["goal_classifier"] = goals.trained_on
    console.print(f"wrote {path}: {goals.trained_on}")
    if indicators:
        from chitieu.extract.indicators import fit_indicator_chooser

        _refit(folder, meta, "indicator_chooser", "indicator chooser", lambda: fit_indicator_chooser(docs, l2=indicator_l2), stamp)
    if officials:
        from chitieu.extract.officials import fit_official_check

        _refit(folder, meta, "official_check", "official check", lambda: fit_official_check(docs), stamp)
    write_meta(folder, meta)
    card = folder / "README.md"
    if card.exists():
        from chitieu.train.run import refresh_component_lines

        card.write_text(refresh_component_lines(card.read_text(encoding="utf-8"), meta), encoding="utf-8")
    console.print(f"its recorded metrics predate it: `chitieu models measure {folder.name}` re-measures them")


def _refit(folder: Path, meta: dict[str, Any], key: str, what: str, fit: Callable[[], Any], stamp: dict[str, Any]) -> None:
    """Fit an optional component into the folder and record it in `meta[key]`; when the gold
    gives it too little, say so and keep what the folder had (the goal classifier is still
    worth writing)."""
    try:
        component = fit()
    except ValueError as error:
        console.print(f"[yellow]note[/]: no {what} fitted, the folder keeps what it had: {error}")
        return
    component.trained_on.update(stamp)
    console.print(f"wrote {component.save(folder)}: {component.trained_on}")
    meta[key] = component.trained_on


@app.command()
def measure(
    name: Annotated[str, typer.Argument(help="Model folder, or its name under models/")],
    annotations: Annotated[Optional[Path], typer.Option(help="Corpus folder [default: annotations/]")] = None,
    directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None,
) -> None:
    """Re-measure a model's recorded test figures with this chitieu's pipeline, so that
    `promote` compares like with like (chitieu.json and metrics.json; the card keeps its
    training-time table)."""
    from chitieu.annotate.corpus import corpus_hash, load_corpus
    from chitieu.evaluate.metrics import card_scores
    from chitieu.extract.extractor import Extractor
    from chitieu.paths import annotations_dir

    folder, meta = _folder_and_meta(name, directory)
    corpus = annotations or annotations_dir()
    docs = load_corpus(corpus, "test")
    if not docs:
        console.print(f"[red]the test split of {corpus} is empty[/]: run `chitieu annotations split`")
        raise typer.Exit(2)
    extractor = Extractor.load(folder)
    predictions = [r["entities"] for r in extractor.extract_many([(d.id, d.text) for d in docs])]
    old = meta.get("metrics", {}).get("test", {}).get("micro_f1")
    meta.setdefault("metrics", {})["test"] = card_scores(docs, predictions)
    meta["metrics_pipeline"] = PIPELINE_VERSION
    meta["metrics_measured"] = {"on": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data_hash": corpus_hash(corpus)}
    write_meta(folder, meta)
    console.print(f"{folder.name}: test micro-F1 {old} -> {meta['metrics']['test']['micro_f1']} (pipeline {PIPELINE_VERSION})")


@app.command("cv")
def cross_validate_command(
    name: Annotated[str, typer.Argument(help="Model folder, or its name under models/ (its tagger is used as is)")],
    split: Annotated[str, typer.Option(help="Split(s) to cross-validate on")] = "train+dev",
    score_where: Annotated[
        Optional[str],
        typer.Option(help="Score only documents whose meta has this key (e.g. `campaign`: the documents added after the tagger was trained)"),
    ] = None,
    folds: Annotated[int, typer.Option(help="Number of folds (by document)")] = 5,
    seed: Annotated[int, typer.Option(help="Seed of the document-to-fold draw")] = 13,
    ablation: Annotated[bool, typer.Option("--ablation", help="Also score with each post-tagger component off")] = False,
    fit_fraction: Annotated[
        float, typer.Option(help="Fit each fold's components on this share of the other folds (a learning curve: 0.25, 0.5, 1)")
    ] = 1.0,
    out: Annotated[Optional[Path], typer.Option(help="Write the JSON report here")] = None,
    annotations: Annotated[Optional[Path], typer.Option(help="Corpus folder [default: annotations/]")] = None,
    directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None,
) -> None:
    """Cross-validate the post-tagger decisions (goal classifier, indicator chooser, refine
    steps) by document on the training gold: each fold's components are fitted on the other
    folds, the model's tagger is run once per document (cached under runs/tagger-cache/), and
    the folds' outputs are scored together. Choose recipes on this, not on the test split."""
    from chitieu.annotate.corpus import load_corpus
    from chitieu.evaluate.crossval import CrossValidationOptions, cached_probabilities_for, cross_validate
    from chitieu.evaluate.tagger_cache import StaleCacheError
    from chitieu.extract.extractor import Extractor
    from chitieu.paths import REPO_ROOT, annotations_dir

    folder, _ = _folder_and_meta(name, directory)
    docs = load_corpus(annotations or annotations_dir(), split)
    if not docs:
        console.print(f"[red]error[/]: the {split} split is empty: run `chitieu annotations split`")
        raise typer.Exit(2)
    extractor = Extractor.load(folder, device="cpu", engine="fp32")
    options = CrossValidationOptions(folds=folds, seed=seed, ablation=ablation, fit_fraction=fit_fraction)
    probabilities = cached_probabilities_for(extractor, folder, REPO_ROOT / "runs" / "tagger-cache")
    try:
        report = cross_validate(
            extractor, docs, probabilities, options,
            score_only=(lambda d: score_where in d.meta) if score_where else (lambda d: True), log=console.print,
        )
    except (ValueError, StaleCacheError) as error:
        console.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    report.update({"model": folder.name, "split": split, "score_where": score_where})
    table = Table(title=f"{folds}-fold CV on {split} ({report['scored_documents']} of {report['documents']} documents scored)")
    keys = ["strict:INDICATOR", "strict:TARGET_VALUE", "strict:micro", "tuples:with_official", "tuples:lenient"]
    table.add_column("system")
    for key in keys:
        table.add_column(key)
    for system, figures in report["systems"].items():
        table.add_row(system, *(f"{figures['pooled'].get(k, 0.0):.3f}" for k in keys))
    console.print(table)
    if out is not None:
        from chitieu.files import write_text

        write_text(out, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
        console.print(f"wrote {out}")


def _new_version(folder: Path, meta: dict[str, Any], name: str) -> tuple[Path, dict[str, Any]]:
    """A copy of `folder` named `name` beside it, with a record that says what it came from:
    new gold refits the decision components in seconds, and the old version stays servable."""
    import shutil

    target = folder.parent / name
    if not name or Path(name).name != name or name.startswith("."):
        console.print(f"[red]error[/]: --as takes a plain folder name, got {name!r}")
        raise typer.Exit(2)
    if target.exists():
        console.print(f"[red]error[/]: {target} exists: choose another --as name")
        raise typer.Exit(2)
    tmp = folder.parent / f".tmp-{name}"
    shutil.rmtree(tmp, ignore_errors=True)
    # The tagger and its files travel; figures measured on the old version do not.
    shutil.copytree(folder, tmp, ignore=shutil.ignore_patterns("evaluation", "metrics.json"))
    now = datetime.now(timezone.utc)
    meta = {
        **meta,
        "name": name,
        "version": f"{now:%Y.%m.%d.%H%M%S}",
        "created": now.isoformat(timespec="seconds"),
        "derived_from": {"name": meta.get("name", folder.name), "version": meta.get("version")},
        "metrics": {},
    }
    write_meta(tmp, meta)
    card = tmp / "README.md"
    if card.exists():
        card.write_text(
            card.read_text(encoding="utf-8")
            + f"\n## Derived version {name}\n\nMade on {now:%Y-%m-%d} from `{folder.name}` by `chitieu models fit-goals"
            f" {folder.name} --as {name}`: the same tagger, its decision components refit (see `chitieu.json`).\n",
            encoding="utf-8",
        )
    tmp.rename(target)
    console.print(f"new version {target} (tagger of {folder.name}); its metrics are measured by `chitieu models measure {name}`")
    return target, meta


def _folder_and_meta(name: str, directory: Path | None) -> tuple[Path, dict[str, Any]]:
    try:
        folder = resolve_model_folder(name, directory or models_dir())
        return folder, read_meta(folder)
    except ModelFolderError as error:
        console.print(f"[red]{error}[/]")
        raise typer.Exit(1) from error
