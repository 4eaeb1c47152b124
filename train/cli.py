"""`chitieu train`: every field of `TrainOptions` as a command-line flag.

The flags are built from the dataclass (name, type, default, help), so an option added to
`TrainOptions` is a flag at once and the two never disagree. Fields whose default is
computed (`annotations`, `out`, `threads`) show as optional flags and keep that default
when left out.
"""

from __future__ import annotations

import inspect
import logging
import shlex
import sys
import types
import typing
from dataclasses import MISSING, fields
from typing import Annotated, Any, Optional

import typer
from rich.console import Console

from chitieu.train.options import TrainOptions

err = Console(stderr=True)


def _flag(name: str, kind: Any, default: Any, help: str) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=Annotated[kind, typer.Option(help=help)]
    )


def _parameters() -> list[inspect.Parameter]:
    hints = typing.get_type_hints(TrainOptions)
    out = []
    for f in fields(TrainOptions):
        kind = hints[f.name]
        optional = isinstance(kind, types.UnionType) and type(None) in typing.get_args(kind)
        if optional:
            (kind,) = [a for a in typing.get_args(kind) if a is not type(None)]
        if f.default is MISSING:  # a computed default: None on the command line means "compute it"
            out.append(_flag(f.name, Optional[kind], None, f.metadata.get("help", "")))
        else:
            out.append(_flag(f.name, Optional[kind] if optional else kind, f.default, f.metadata.get("help", "")))
    return out


def train_command(**flags: Any) -> None:
    """Fine-tune a base encoder on the gold corpus and write a versioned model folder."""
    from chitieu.encoders.phobert import licence_warning
    from chitieu.train.run import train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    warning = licence_warning(flags["base"])
    if warning:
        err.print(f"[bold yellow]licence[/]: {warning}")
    computed = {f.name for f in fields(TrainOptions) if f.default is MISSING}
    kwargs = {name: value for name, value in flags.items() if not (name in computed and value is None)}
    try:
        opts = TrainOptions(**kwargs)
    except ValueError as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    folder = train(opts, command="chitieu train " + shlex.join(sys.argv[2:]) if len(sys.argv) > 2 else "chitieu train")
    print(folder)


train_command.__signature__ = inspect.Signature(_parameters())  # type: ignore[attr-defined]
