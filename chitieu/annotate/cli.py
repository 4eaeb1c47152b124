"""`chitieu annotations ...`: validate, count, split, import, export, pre-annotate, agree."""

from __future__ import annotations

import json
import sys
from collections import Counter
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from chitieu.annotate.corpus import CORPUS_FILE, SPLIT_NAMES, Document, load_corpus, read_documents, read_splits, require_split_name, update_splits, write_documents
from chitieu.annotate.validate import check_document, validate_path
from chitieu.files import write_text
from chitieu.labels import LABELS, TARGET_VALUE
from chitieu.lexicon.unicode import nfc
from chitieu.paths import annotations_dir

if TYPE_CHECKING:
    from chitieu.annotate.formats.common import ConversionReport

app = typer.Typer(help="The gold corpus: validate, stats, split, import, export, preannotate, agree.", no_args_is_help=True)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


class Format(str, Enum):
    labelstudio = "labelstudio"
    doccano = "doccano"
    conll = "conll"


def _dir(path: Optional[Path]) -> Path:
    return path if path is not None else annotations_dir()


@app.command()
def validate(path: Annotated[Optional[Path], typer.Argument(help="Corpus folder or JSONL file [default: annotations/]")] = None) -> None:
    """Check every document against the schema and the guidelines' hard rules; exit 1 on any problem."""
    target = _dir(path)
    if not target.exists():
        err_console.print(f"{target} does not exist: pass a corpus folder or a JSONL file")
        raise typer.Exit(2)
    docs, problems = validate_path(target)
    for problem in problems:
        print(problem)
    spans = sum(len(d.spans) for d in docs)
    print(f"{len(docs)} documents, {spans} spans, {len(problems)} problems", file=sys.stderr)
    raise typer.Exit(1 if problems else 0)


def corpus_stats(directory: Path) -> dict:
    docs = {d.id: d for d in load_corpus(directory)}
    splits = read_splits(directory)
    out: dict = {"documents": len(docs), "spans": dict.fromkeys(LABELS, 0), "splits": {}}
    for name in SPLIT_NAMES:
        counts = Counter(s.label for doc_id in splits[name] if doc_id in docs for s in docs[doc_id].spans)
        with_targets = sum(1 for i in splits[name] if i in docs and any(s.label == TARGET_VALUE for s in docs[i].spans))
        out["splits"][name] = {
            "documents": len(splits[name]),
            "documents_with_targets": with_targets,
            "spans": {label: counts.get(label, 0) for label in LABELS},
        }
        for label in LABELS:
            out["spans"][label] += counts.get(label, 0)
    return out


@app.command()
def stats(
    path: Annotated[Optional[Path], typer.Argument(help="Corpus folder [default: annotations/]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Documents and spans per label per split."""
    data = corpus_stats(_dir(path))
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"{data['documents']} documents")
    table.add_column("split")
    table.add_column("docs", justify="right")
    table.add_column("with targets", justify="right")
    for label in LABELS:
        table.add_column(label, justify="right")
    for name, s in data["splits"].items():
        table.add_row(name, str(s["documents"]), str(s["documents_with_targets"]), *(str(s["spans"][l]) for l in LABELS))
    table.add_row("all", str(data["documents"]), "", *(str(data["spans"][l]) for l in LABELS))
    console.print(table)


@app.command()
def split(
    path: Annotated[Optional[Path], typer.Argument(help="Corpus folder [default: annotations/]")] = None,
    to: Annotated[Optional[str], typer.Option(help="Put every new document in this split instead of hashing its id")] = None,
) -> None:
    """Assign new documents to train/dev/test (by id hash; seeds never in test); keep existing ones."""
    directory = _dir(path)
    try:
        splits = update_splits(read_documents(directory / CORPUS_FILE), directory, to)
    except ValueError as error:
        err_console.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    print(", ".join(f"{k}: {len(v)}" for k, v in splits.items()))


class AnnotationChoice(str, Enum):
    ground_truth = "ground-truth"
    latest = "latest"


def _read_any(
    fmt: Format, file: Path, offsets: str, rule: AnnotationChoice, label_config: Optional[Path]
) -> tuple[list[Document], "ConversionReport"]:
    from chitieu.annotate.formats import conll, doccano, labelstudio
    from chitieu.annotate.label_config import DEFAULT_MAPPING, parse_label_config

    if fmt is Format.labelstudio:
        mapping = DEFAULT_MAPPING
        if label_config is not None:
            mapping = parse_label_config(label_config.read_text(encoding="utf-8"))
        return labelstudio.import_tasks(file, offsets=offsets, rule=rule.value, mapping=mapping)  # type: ignore[arg-type]
    if fmt is Format.doccano:
        return doccano.import_lines(file)
    return conll.import_file(file)


@app.command("import")
def import_(
    file: Path,
    fmt: Annotated[Format, typer.Option("--format", help="Format of FILE (Label Studio: its JSON export)")],
    into: Annotated[Optional[Path], typer.Option(help="Corpus folder to merge into [default: the repository's annotations/]")] = None,
    offsets: Annotated[str, typer.Option(help="Label Studio offsets: auto, codepoint or utf16")] = "auto",
    annotation: Annotated[
        AnnotationChoice,
        typer.Option(help="Label Studio tasks annotated several times: keep the ground truth, else the latest; or the latest"),
    ] = AnnotationChoice.ground_truth,
    label_config: Annotated[
        Optional[Path],
        typer.Option(help="The Label Studio project's labeling config (XML), when its text field or label names are not chitieu's"),
    ] = None,
    replace: Annotated[bool, typer.Option(help="Replace documents whose id already exists")] = False,
    dry_run: Annotated[bool, typer.Option(help="Report only; write nothing")] = False,
    to: Annotated[Optional[str], typer.Option(help="Put the new documents in this split instead of hashing their ids")] = None,
) -> None:
    """Merge annotations exported from Label Studio (JSON export), doccano or CoNLL into the corpus."""
    from chitieu.annotate.formats.common import ConversionReport  # noqa: F401

    if to is not None:
        try:
            require_split_name(to)  # before anything is written, not when the splits are
        except ValueError as error:
            err_console.print(f"[red]error[/]: {error}")
            raise typer.Exit(2) from error
    directory = _dir(into)
    corpus_path = directory / CORPUS_FILE
    where = f"{corpus_path}" + ("" if into is not None else " (the repository's gold corpus; --into DIR imports elsewhere)")
    print(f"importing {file} into {where}", file=sys.stderr)
    try:
        docs, report = _read_any(fmt, file, offsets, annotation, label_config)
    except (ValueError, OSError) as error:  # a wrong or lossy format, a bad label config, unreadable file
        err_console.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    for line in report.problems:
        err_console.print(f"[yellow]warning[/]: {line}")
    for skipped in report.skipped:
        err_console.print(f"skipped {skipped.where}: {skipped.reason}")
    for line in report.dropped:
        err_console.print(f"several annotations: {line}")
    bad = [(d.id, m) for d in docs for m in check_document(d)]
    for doc_id, message in bad:
        err_console.print(f"[red]{file}[/]: [{doc_id}] {message}")
    print(f"read {report.summary()}", file=sys.stderr)
    if bad:
        err_console.print("nothing imported: fix the problems above and import again")
        raise typer.Exit(1)
    if not docs:
        err_console.print(f"nothing imported: {file} holds no annotated document")
        raise typer.Exit(1)
    existing = read_documents(corpus_path) if corpus_path.exists() else []
    known = {d.id for d in existing}
    clashes = [d.id for d in docs if d.id in known]
    if clashes and not replace:
        err_console.print(f"ids already in the corpus: {', '.join(clashes[:10])}; pass --replace to overwrite them")
        raise typer.Exit(1)
    new_ids = {d.id for d in docs}
    merged = [d for d in existing if d.id not in new_ids] + docs
    if dry_run:
        print(f"would write {len(merged)} documents to {corpus_path}")
        return
    write_documents(merged, corpus_path)
    splits = update_splits(merged, directory, to)
    print(f"wrote {len(merged)} documents to {corpus_path}; splits: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items()))


@app.command("label-config")
def label_config_() -> None:
    """Print the Label Studio labeling config for chitieu's labels (paste it in the project's Labeling Interface)."""
    from chitieu.annotate.label_config import LABEL_CONFIG

    print(LABEL_CONFIG, end="")


@app.command()
def export(
    fmt: Annotated[Format, typer.Option("--format", help="Output format")],
    out: Annotated[Path, typer.Option(help="Output file")],
    path: Annotated[Optional[Path], typer.Option("--annotations", help="Corpus folder [default: annotations/]")] = None,
    split_name: Annotated[str, typer.Option("--split", help="train, dev, test, train+dev or all")] = "all",
    doccano_form: Annotated[str, typer.Option(help="doccano form: label or entities")] = "label",
) -> None:
    """Write the corpus (or one split) as Label Studio tasks, doccano JSONL or CoNLL."""
    from chitieu.annotate.formats import conll, doccano, labelstudio

    docs = load_corpus(_dir(path), split_name)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt is Format.labelstudio:
        write_text(out, json.dumps(labelstudio.export_tasks(docs), ensure_ascii=False, indent=1))
        print(f"{len(docs)} tasks written to {out}")
    elif fmt is Format.doccano:
        lines = doccano.export_lines(docs, form=doccano_form)  # type: ignore[arg-type]
        write_text(out, "".join(json.dumps(l, ensure_ascii=False) + "\n" for l in lines))
        print(f"{len(docs)} documents written to {out}")
    else:
        content, report = conll.export_documents(docs)
        for line in report.problems:
            err_console.print(f"[yellow]warning[/]: {line}")
        write_text(out, content)
        print(f"{report.summary()} written to {out}")


@app.command()
def preannotate(
    texts: Annotated[list[Path], typer.Argument(help="UTF-8 text files, one article each")],
    out: Annotated[Path, typer.Option(help="Label Studio tasks JSON to write")],
    model: Annotated[Optional[Path], typer.Option(help="Model folder [default: the promoted model; rules if none]")] = None,
    rules: Annotated[bool, typer.Option(help="Use the transparent rule extractor even if a model exists")] = False,
) -> None:
    """Label Studio tasks with predictions, so a new article is corrected rather than annotated from scratch."""
    from chitieu.annotate.formats.labelstudio import prediction_task
    from chitieu.annotate.label_config import LABEL_CONFIG
    from chitieu.predictors import load_span_predictor

    predictor, version = load_span_predictor(model, force_rules=rules)
    tasks = []
    for path in texts:
        text = nfc(path.read_text(encoding="utf-8"))
        tasks.append(prediction_task(path.stem, text, predictor(text), version))
    write_text(out, json.dumps(tasks, ensure_ascii=False, indent=1))
    err_console.print(f"{len(tasks)} tasks with predictions from {version} written to {out}")
    err_console.print("Label Studio labeling config for these tasks:\n" + LABEL_CONFIG)


@app.command()
def silver(
    out: Annotated[Path, typer.Option(help="JSON Lines file of silver documents to write (for `chitieu train --silver`)")],
    model: Annotated[Optional[str], typer.Option(help="Model folder or its name under models/ [default: the promoted model]")] = None,
    articles: Annotated[int, typer.Option(help="Unlabelled articles to draw and label")] = 300,
    min_confidence: Annotated[float, typer.Option(help="Keep a document only when every TARGET_VALUE and INDICATOR is this sure")] = 0.5,
    seed: Annotated[int, typer.Option(help="Seed of the draw")] = 13,
    annotations: Annotated[Optional[Path], typer.Option(help="Corpus whose stories are excluded [default: annotations/]")] = None,
) -> None:
    """Label a seeded draw of unlabelled goal articles (../shared/corpus_unlabeled) with a
    model's whole pipeline, for self-training: no corpus story is drawn, and a document is
    kept only when all its values and indicators pass --min-confidence."""
    from chitieu.annotate.silver import draw_articles, label_articles
    from chitieu.encoders.e5 import held_aside, unlabeled_articles
    from chitieu.extract.extractor import Extractor
    from chitieu.extract.goals import goal_values
    from chitieu.model_folder import ModelFolderError, resolve_model_folder
    from chitieu.paths import models_dir

    try:
        folder = resolve_model_folder(model, models_dir())
        corpus = read_documents(_dir(annotations) / CORPUS_FILE)
        source = ((i, t) for i, t in unlabeled_articles() if not held_aside(i))
        draw = draw_articles(source, corpus, articles, seed, qualifies=lambda text: bool(goal_values(text)))
    except (FileNotFoundError, ValueError, ModelFolderError) as error:
        err_console.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    err_console.print(f"{draw.qualifying} of {draw.read} unlabelled articles qualify; labelling {len(draw.drawn)} with {folder.name}")
    extractor = Extractor.load(folder, device="auto")
    docs = label_articles(
        extractor.extract_many, draw.drawn, min_confidence, folder.name,
        progress=lambda done: err_console.print(f"  {done}/{len(draw.drawn)}") if done % 80 == 0 else None,
    )
    write_documents(docs, out)
    spans = Counter(s.label for d in docs for s in d.spans)
    err_console.print(f"{len(docs)} of {len(draw.drawn)} documents kept (every value and indicator >= {min_confidence}): {dict(spans)} -> {out}")


def _annotation_file(path: Path) -> Path:
    return path / CORPUS_FILE if path.is_dir() else path


@app.command()
def agree(
    reference: Annotated[Path, typer.Argument(help="Reference annotation: corpus folder or chitieu JSONL")],
    other: Annotated[Path, typer.Argument(help="Second annotation of (some of) the same documents")],
    labels: Annotated[str, typer.Option(help="Comma-separated labels to compare; the rest come from the reference")] = ",".join(LABELS),
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Inter-annotator agreement: span and tuple F1 of OTHER against REFERENCE on their shared documents."""
    from chitieu.annotate.agreement import agreement

    chosen = [label.strip() for label in labels.split(",") if label.strip()]
    try:
        result = agreement(read_documents(_annotation_file(reference)), read_documents(_annotation_file(other)), chosen)
    except (ValueError, FileNotFoundError) as error:
        err_console.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    if as_json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return
    table = Table(title=f"agreement on {result['documents']} documents (F1; precision/recall of the second against the reference)")
    for column in ("label", "strict F1", "P / R", "lenient F1", "reference", "second"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label in chosen:
        s, l = result["strict"]["per_label"][label], result["lenient"]["per_label"][label]
        table.add_row(label, f"{s['f1']:.3f}", f"{s['precision']:.3f} / {s['recall']:.3f}", f"{l['f1']:.3f}", str(s["support"]), str(s["predicted"]))
    t = result["tuples"]
    table.add_row("tuples", f"{t['with_official']['f1']:.3f}", f"{t['with_official']['precision']:.3f} / {t['with_official']['recall']:.3f}",
                  f"{t['lenient']['f1']:.3f}", str(t["with_official"]["support"]), str(t["with_official"]["predicted"]))
    console.print(table)
