"""`chitieu extract`: the extraction contract for files or standard input."""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from chitieu.model_folder import ModelFolderError, resolve_model_folder
from chitieu.paths import models_dir


class OutputFormat(str, Enum):
    json = "json"
    jsonl = "jsonl"
    table = "table"


def _value_cell(value: dict[str, Any]) -> str:
    if value["number"] is not None:
        number = f"{value['number']:,.6g}"
    elif value["min"] is not None:
        number = f"{value['min']:,.6g}..{value['max']:,.6g}"
    else:
        number = "?"
    return f"{value['comparator']} {number} {value['unit'] or ''}".strip()


def print_table(result: dict[str, Any], console: Console) -> None:
    table = Table(title=f"{result['id'] or '-'}: {len(result['targets'])} targets")
    for column in ("province", "official", "indicator", "value", "normalised", "score"):
        table.add_column(column)
    for t in result["targets"]:
        official = t["official"]
        table.add_row(
            (t["province"] or {}).get("name", "") or "",
            f"{official['name']} ({official['role'] or '?'})" if official else "",
            (t["indicator"] or {}).get("text", "") or "",
            t["value"]["text"],
            _value_cell(t["value"]),
            f"{t['score']:.2f}",
        )
    console.print(table)


def extract_command(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Text files (UTF-8); `-` or none reads standard input")] = None,
    model: Annotated[Optional[str], typer.Option(help="Model folder, or a name under models/ [default: the promoted model]")] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", help="json (one document each), jsonl, or a table")] = OutputFormat.json,
    device: Annotated[str, typer.Option(help="auto, cpu or cuda")] = "auto",
) -> None:
    """Extract entities and target tuples from articles."""
    from chitieu.extract.extractor import Extractor

    try:
        folder = resolve_model_folder(model, models_dir())
        extractor = Extractor.load(folder, device=device)
    except ModelFolderError as err:
        Console(stderr=True, soft_wrap=True).print(f"error: {err}")
        raise typer.Exit(2) from err
    inputs = files or [Path("-")]
    docs = []
    for path in inputs:
        if str(path) == "-":
            docs.append(("stdin", sys.stdin.read()))
        else:
            docs.append((path.stem, path.read_text(encoding="utf-8")))
    console = Console()
    for result in extractor.extract_many(docs):
        if fmt is OutputFormat.table:
            print_table(result, console)
        elif fmt is OutputFormat.jsonl:
            print(json.dumps(result, ensure_ascii=False))
        else:
            print(json.dumps(result, ensure_ascii=False, indent=1))
