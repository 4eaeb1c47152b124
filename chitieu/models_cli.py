"""`chitieu models ...`: list model versions, promote one for `serve`, fit a folder's goal classifier."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from chitieu.model_folder import META_FILE, read_promoted, write_promoted
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
            }
        )
    return out


@app.command("list")
def list_command(directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None) -> None:
    """Every model folder with base, data hash, date and test micro-F1; * marks the promoted one."""
    root = directory or models_dir()
    promoted = read_promoted(root)
    table = Table()
    for column in ("", "name", "base", "data hash", "created", "test micro-F1"):
        table.add_column(column)
    for m in list_models(root):
        mark = "*" if promoted is not None and promoted.name == m["name"] else ""
        f1 = f"{m['test_micro_f1']:.4f}" if m["test_micro_f1"] is not None else "-"
        table.add_row(mark, m["name"], str(m["base"]), str(m["data_hash"]), str(m["created"]), f1)
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
    directory: Annotated[Optional[Path], typer.Option("--dir", help="Models folder")] = None,
) -> None:
    """(Re)fit a model folder's goal classifier (goal_classifier.json), e.g. for a model trained
    before chitieu had one. Fit it on the documents the tagger was trained on: a document it
    saw in training but the classifier did not, or the reverse, skews the vote."""
    from chitieu.corpus import corpus_hash, load_corpus
    from chitieu.goal_classifier import fit_goal_classifier
    from chitieu.paths import annotations_dir

    folder = Path(name) if Path(name).is_dir() else (directory or models_dir()) / name
    if not (folder / META_FILE).exists():
        console.print(f"[red]{folder} is not a model folder[/]; `chitieu models list` shows what there is")
        raise typer.Exit(1)
    corpus = annotations or annotations_dir()
    docs = load_corpus(corpus, split)
    meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
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
    goals.trained_on.update({"data_hash": fingerprint, "split": split})
    path = goals.save(folder)
    path.chmod(0o644)
    # The folder's record says what is in it: `GET /model` and the card read chitieu.json.
    meta["goal_classifier"] = goals.trained_on
    tmp = folder / f".{META_FILE}.tmp"
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    tmp.chmod(0o644)
    os.replace(tmp, folder / META_FILE)
    console.print(f"wrote {path}: {goals.trained_on}")
