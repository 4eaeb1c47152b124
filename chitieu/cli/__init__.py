"""The `chitieu` command: one entry point whose subcommands group the work."""

from __future__ import annotations

import typer

from chitieu.annotate.cli import app as annotations_app
from chitieu.batch.cli import batch_command
from chitieu.cli.bench import bench_command
from chitieu.cli.extract import extract_command
from chitieu.cli.models import app as models_app
from chitieu.encoders.cli import app as base_app
from chitieu.evaluate.cli import evaluate as evaluate_command
from chitieu.serve.cli import app as serve_app
from chitieu.train.cli import train_command

app = typer.Typer(
    help="chitieu: socio-economic targets from Vietnamese provincial news.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(annotations_app, name="annotations")
app.add_typer(base_app, name="base")
app.add_typer(models_app, name="models")
app.add_typer(serve_app)  # a one-command app merges in: `chitieu serve`
app.command("train")(train_command)
app.command("evaluate")(evaluate_command)
app.command("extract")(extract_command)
app.command("batch")(batch_command)
app.command("bench")(bench_command)


def main() -> None:
    app()

