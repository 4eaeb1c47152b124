"""`chitieu evaluate`: a model (and baselines) on a gold split -> report.json + report.html.

The lead mounts the command with `app.command("evaluate")(evaluate)`; `app` here is a
one-command typer app so the module also runs alone (`python -m chitieu.evaluate.cli`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table
from tqdm import tqdm

from chitieu.annotate.corpus import Document, corpus_hash, load_corpus
from chitieu.evaluate.baselines import Baseline, available_baselines
from chitieu.evaluate.groups import GROUP_MEASURES
from chitieu.evaluate.metrics import compare, evaluate_predictions
from chitieu.evaluate.report import build_report, write_report
from chitieu.labels import LABELS
from chitieu.model_folder import ModelFolderError, read_meta, resolve_model_folder
from chitieu.paths import annotations_dir, models_dir

app = typer.Typer(help="Evaluate a model against the gold corpus.", pretty_exceptions_show_locals=False)
console = Console()
err_console = Console(stderr=True)

DEFAULT_CHUNK = 8


def resolve_model(model: str | None) -> Path:
    """A model folder from a path, a name under the models folder, or the promoted model."""
    return resolve_model_folder(model, models_dir())


def load_extractor(folder: Path) -> Any:
    """Separate so tests can put a fake extractor in its place."""
    from chitieu.extract.extractor import Extractor

    return Extractor.load(folder)


def model_predictions(extractor: Any, docs: Sequence[Document], chunk: int = DEFAULT_CHUNK, desc: str = "model") -> tuple[list[dict[str, Any]], float]:
    """`extractor.extract_many` over the documents in chunks, with a progress bar; (outputs, seconds)."""
    out: list[dict[str, Any]] = []
    started = time.perf_counter()
    with tqdm(total=len(docs), desc=desc, unit="doc", file=sys.stderr, disable=None) as bar:
        for k in range(0, len(docs), chunk):
            part = docs[k : k + chunk]
            out.extend(extractor.extract_many([(d.id, d.text) for d in part]))
            bar.update(len(part))
    return out, time.perf_counter() - started


def baseline_predictions(baseline: Baseline, docs: Sequence[Document]) -> tuple[list[dict[str, Any]], float]:
    out = []
    started = time.perf_counter()
    for doc in tqdm(docs, desc=baseline.name, unit="doc", file=sys.stderr, disable=None):
        out.append({"entities": baseline.predict(doc.text)})
    return out, time.perf_counter() - started


def model_info(extractor: Any, folder: Path) -> dict[str, Any]:
    meta = getattr(extractor, "meta", {}) or {}
    info = dict(getattr(extractor, "info", {}) or {})
    info.pop("metrics", None)
    return {
        "name": info.get("name") or meta.get("name") or folder.name,
        "version": info.get("version") or meta.get("version"),
        "base": info.get("base") or (meta.get("base") or {}).get("name"),
        "folder": str(folder),
        "train_documents": meta.get("train_documents"),
        "data_hash": meta.get("data_hash"),
        "created": meta.get("created"),
        "engine": info.get("engine"),
    }


def evaluate_model(extractor: Any, folder: Path, docs: Sequence[Document], chunk: int = DEFAULT_CHUNK) -> dict[str, Any]:
    info = model_info(extractor, folder)
    outputs, seconds = model_predictions(extractor, docs, chunk, desc=info["name"])
    return {
        "name": info["name"],
        "kind": "model",
        "model": info,
        "note": None,
        "labels": list(LABELS),
        "seconds": round(seconds, 2),
        "metrics": evaluate_predictions(docs, outputs),
    }


def ablation_systems(extractor: Any, folder: Path, docs: Sequence[Document], chunk: int = DEFAULT_CHUNK) -> list[dict[str, Any]]:
    """The model with each post-tagger component switched off in turn, then with all of them
    off (the tagger alone). The tagger runs once per document; only the finish stage repeats."""
    from chitieu.extract.stages import COMPONENTS

    info = model_info(extractor, folder)
    variants: list[tuple[str, frozenset[str]]] = [(f"- {c}", frozenset({c})) for c in COMPONENTS]
    variants.append(("tagger alone", frozenset(COMPONENTS)))
    outputs: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
    started = time.perf_counter()
    for k in range(0, len(docs), chunk):
        part = docs[k : k + chunk]
        prepared = [extractor.prepare(d.text, d.id) for d in part]
        probs = extractor.run([w for p in prepared for w in p.windows])
        at = 0
        for p in prepared:
            mine = probs[at : at + len(p.windows)]
            at += len(p.windows)
            for name, skip in variants:
                outputs[name].append(extractor.finish(p, mine, skip))
    seconds = time.perf_counter() - started
    return [
        {
            "name": f"{info['name']} {name}",
            "kind": "ablation",
            "model": {**info, "train_documents": None},
            "note": f"the model with {'every post-tagger component' if name == 'tagger alone' else name[2:]} switched off",
            "labels": list(LABELS),
            "seconds": round(seconds, 2),
            "metrics": evaluate_predictions(docs, outputs[name]),
        }
        for name, _ in variants
    ]


def record_test_figures(folder: Path, system: dict[str, Any], data_hash: str | None) -> None:
    """The model's card figures from this evaluation of the test split, stamped with the
    pipeline version and corpus: what `chitieu models measure` records, without a second run."""
    from datetime import datetime, timezone

    from chitieu.evaluate.metrics import card_from_strict
    from chitieu.model_folder import PIPELINE_VERSION, write_meta

    meta = read_meta(folder)
    meta.setdefault("metrics", {})["test"] = card_from_strict(system["metrics"]["strict"])
    meta["metrics_pipeline"] = PIPELINE_VERSION
    meta["metrics_measured"] = {"on": datetime.now(timezone.utc).isoformat(timespec="seconds"), "data_hash": data_hash}
    write_meta(folder, meta)
    err_console.print(f"recorded test micro-F1 {meta['metrics']['test']['micro_f1']} in {folder / 'chitieu.json'}")


def evaluate_baseline(baseline: Baseline, docs: Sequence[Document]) -> dict[str, Any]:
    outputs, seconds = baseline_predictions(baseline, docs)
    return {
        "name": baseline.name,
        "kind": "baseline",
        "model": None,
        "note": baseline.note,
        "labels": list(baseline.labels),
        "seconds": round(seconds, 2),
        "metrics": evaluate_predictions(docs, outputs, labels=baseline.labels, with_tuples=baseline.links_tuples),
    }


def curve_point(system: dict[str, Any], split: str) -> dict[str, Any] | None:
    train_documents = (system.get("model") or {}).get("train_documents")
    if train_documents is None:
        return None
    strict = system["metrics"]["strict"]
    return {
        "model": system["name"],
        "split": split,
        "train_documents": train_documents,
        "micro_f1": strict["micro"]["f1"],
        "per_label_f1": {label: v["f1"] for label, v in strict["per_label"].items()},
    }


def print_summary(report: dict[str, Any]) -> None:
    for split, section in report["splits"].items():
        table = Table(title=f"{split}: {section['documents']} documents, strict F1 (lenient)")
        table.add_column("system")
        for label in LABELS:
            table.add_column(label, justify="right")
        table.add_column("micro", justify="right")
        table.add_column("macro", justify="right")
        table.add_column("tuples", justify="right")
        for s in section["systems"]:
            m = s["metrics"]
            cells = []
            for label in LABELS:
                strict, lenient = m["strict"]["per_label"].get(label), m["lenient"]["per_label"].get(label)
                cells.append("–" if strict is None else f"{strict['f1']:.3f} ({lenient['f1']:.3f})")
            tuples = m.get("tuples")
            table.add_row(
                s["name"],
                *cells,
                f"{m['strict']['micro']['f1']:.3f} ({m['lenient']['micro']['f1']:.3f})",
                f"{m['strict']['macro']['f1']:.3f}",
                "–" if not tuples else f"{tuples['with_official']['f1']:.3f} ({tuples['lenient']['f1']:.3f})",
            )
        console.print(table)
        groups = section["systems"][0]["metrics"].get("groups") or {}
        if len(groups) > 1:
            first = section["systems"][0]["name"]
            table = Table(title=f"{split}: {first} by document group, strict F1 (gold)")
            table.add_column("group")
            table.add_column("documents", justify="right")
            for measure in GROUP_MEASURES:
                table.add_column(measure, justify="right")
            for group, scores in groups.items():
                cells = [f"{scores[m]['f1']:.3f} ({scores[m]['gold']})" if m in scores else "–" for m in GROUP_MEASURES]
                table.add_row(group, str(next(iter(scores.values()))["documents"]), *cells)
            console.print(table)
        intervals = (section.get("compare") or {}).get("bootstrap")
        if intervals:
            a, b = (s["name"] for s in section["systems"][:2])
            table = Table(title=f"{split}: {b} - {a}, strict F1, 95% interval over resampled documents")
            for column in ("measure", "B - A", "95% interval", "B higher in"):
                table.add_column(column, justify="right")
            for name, v in intervals.items():
                table.add_row(name, f"{v['diff']:+.3f}", f"{v['low']:+.3f} to {v['high']:+.3f}", f"{v['b_better']:.1%}")
            console.print(table)


def _split_names(values: Sequence[str]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


@app.command()
def evaluate(
    model: Annotated[Optional[str], typer.Argument(help="Model folder or name under models/ [default: the promoted model]")] = None,
    split: Annotated[Optional[list[str]], typer.Option("--split", help="test, dev, train, all or e.g. train+dev; repeat for several [default: test]")] = None,
    annotations: Annotated[Optional[Path], typer.Option("--annotations", help="Corpus folder [default: annotations/]")] = None,
    report: Annotated[Optional[Path], typer.Option("--report", help="Report folder [default: reports/<model>-<split>/]")] = None,
    compare_models: Annotated[
        Optional[tuple[str, str]], typer.Option("--compare", help="Two models A B on the same split(s), side by side with B - A and its 95% interval over resampled documents")
    ] = None,
    baselines: Annotated[bool, typer.Option("--baselines/--no-baselines", help="Also score the rule and underthesea baselines")] = True,
    models_for_curve: Annotated[
        Optional[list[str]],
        typer.Option("--models-for-curve", help="Models (with train_documents in chitieu.json) for F1 against training size; repeat or comma-separate"),
    ] = None,
    chunk: Annotated[int, typer.Option("--chunk", min=1, help="Documents per extract_many call")] = DEFAULT_CHUNK,
    ablation: Annotated[bool, typer.Option("--ablation", help="Also score the model with each post-tagger component off")] = False,
    record: Annotated[
        bool, typer.Option("--record", help="Record the test figures in the model folder, as `chitieu models measure` does")
    ] = False,
) -> None:
    """Score a model against gold spans and tuples; write report.json and report.html."""
    corpus = annotations if annotations is not None else annotations_dir()
    splits = _split_names(split or []) or ["test"]
    try:
        if compare_models:
            if model is not None:
                raise ModelFolderError("pass either MODEL or --compare A B, not both")
            folders = [resolve_model(compare_models[0]), resolve_model(compare_models[1])]
        else:
            folders = [resolve_model(model)]
        curve_folders = []
        for entry in _split_names(models_for_curve or []):
            folder = resolve_model(entry)
            if read_meta(folder).get("train_documents") is None:
                err_console.print(f"[yellow]note:[/yellow] {folder} has no train_documents in chitieu.json; left out of the curve")
                continue
            curve_folders.append(folder)
        docs_by_split = {name: load_corpus(corpus, name) for name in splits}
    except (ModelFolderError, FileNotFoundError, ValueError) as err:
        err_console.print(f"[red]error:[/red] {err}")
        raise typer.Exit(2) from err
    for name, docs in docs_by_split.items():
        if not docs:
            err_console.print(f"[red]error:[/red] split {name!r} of {corpus} has no documents: run `chitieu annotations split`")
            raise typer.Exit(2)

    loaded: dict[Path, Any] = {}

    def extractor_for(folder: Path) -> Any:
        key = folder.resolve()
        if key not in loaded:
            try:
                loaded[key] = load_extractor(folder)
            except ModelFolderError as err:
                err_console.print(f"[red]error:[/red] {err}")
                raise typer.Exit(2) from err
        return loaded[key]

    chosen_baselines = available_baselines() if baselines else []
    if baselines and not any(b.name == "rules" for b in chosen_baselines):
        err_console.print("[yellow]note:[/yellow] chitieu.evaluate.rules is not importable; the rule baseline is skipped")

    sections: dict[str, dict[str, Any]] = {}
    curve: list[dict[str, Any]] = []
    for name, docs in docs_by_split.items():
        systems = [evaluate_model(extractor_for(f), f, docs, chunk) for f in folders]
        if ablation:
            systems += [a for f in folders for a in ablation_systems(extractor_for(f), f, docs, chunk)]
        systems += [evaluate_baseline(b, docs) for b in chosen_baselines]
        section: dict[str, Any] = {"documents": len(docs), "systems": systems, "compare": None}
        if compare_models:
            section["compare"] = compare(systems[0]["metrics"], systems[1]["metrics"])
        sections[name] = section
        if name != splits[0]:
            continue  # one curve, on the first split
        curve_systems = list(systems[: len(folders)])
        for folder in curve_folders:
            if folder.resolve() in {f.resolve() for f in folders}:
                continue
            curve_systems.append(evaluate_model(extractor_for(folder), folder, docs, chunk))
        curve += [p for p in (curve_point(s, name) for s in curve_systems) if p is not None]

    data_hash = corpus_hash(corpus)
    for s in sections[splits[0]]["systems"]:
        trained_on = (s.get("model") or {}).get("data_hash")
        if trained_on and data_hash and trained_on != data_hash:
            err_console.print(
                f"[yellow]note:[/yellow] {s['name']} was trained on data {trained_on}, the corpus is now {data_hash}; "
                "documents may have moved between splits since"
            )
    result = build_report(
        sections,
        annotations=str(corpus),
        data_hash=data_hash,
        curve=curve if len(curve) >= 2 else None,
        command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
    )
    if report is None:
        first = sections[splits[0]]["systems"]
        label = first[0]["name"] if not compare_models else f"{first[0]['name']}-vs-{first[1]['name']}"
        report = Path("reports") / f"{label}-{'_'.join(splits)}"
    if record:
        if "test" not in sections or compare_models:
            err_console.print("[yellow]note:[/yellow] --record needs one model and the test split; nothing recorded")
        else:
            record_test_figures(folders[0], sections["test"]["systems"][0], data_hash)
    texts = {d.id: d.text for docs in docs_by_split.values() for d in docs}
    json_path, html_path = write_report(result, report, texts)
    print_summary(result)
    print(f"report: {json_path}\n        {html_path}")  # plain print: paths must not be wrapped


if __name__ == "__main__":
    app()
