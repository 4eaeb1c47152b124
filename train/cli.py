"""`chitieu train`: the typed options of TrainOptions as command-line flags."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from chitieu.paths import annotations_dir, models_dir
from chitieu.train.options import TrainOptions

err = Console(stderr=True)


def train_command(
    base: Annotated[str, typer.Option(help="e5-small (offline default, MIT), vinai/phobert-base (MIT), vinai/phobert-base-v2 (AGPL-3.0), or a local folder")] = "e5-small",
    annotations: Annotated[Optional[Path], typer.Option(help="Corpus folder (corpus.jsonl + splits.json) [default: annotations/]")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Folder that receives the versioned model folder [default: models/]")] = None,
    name: Annotated[Optional[str], typer.Option(help="Model folder name [default: <base>-<date>-<data hash>]")] = None,
    train_split: Annotated[str, typer.Option(help="Split(s) to train on, e.g. train or train+dev")] = "train",
    dev_split: Annotated[str, typer.Option(help="Split for early stopping, or none for fixed epochs")] = "dev",
    train_fraction: Annotated[float, typer.Option(help="Share of the training documents to use (nested subsets, for learning curves)")] = 1.0,
    epochs: int = 12,
    patience: int = 3,
    batch_size: int = 8,
    lr_encoder: float = 3e-5,
    lr_head: float = 1e-3,
    max_tokens: Annotated[int, typer.Option(help="Window length in subwords (capped by the base)")] = 256,
    overlap_tokens: int = 32,
    freeze_embeddings: bool = True,
    oversample_targets: Annotated[int, typer.Option(help="Repeat windows with targets/indicators this many times per epoch")] = 4,
    o_weight: Annotated[float, typer.Option(help="Loss weight of the O tag")] = 0.3,
    goal_classifier: Annotated[bool, typer.Option(help="Fit the goal classifier that votes on TARGET_VALUEs with the tagger and the rules")] = True,
    goal_c: Annotated[float, typer.Option(help="Inverse L2 strength of the goal classifier")] = 1.0,
    indicator_chooser: Annotated[bool, typer.Option(help="Fit the indicator chooser that gives values the tagger left bare an indicator")] = True,
    indicator_l2: Annotated[float, typer.Option(help="L2 strength of the indicator chooser")] = 0.1,
    seed: int = 13,
    threads: Annotated[Optional[int], typer.Option(help="CPU threads [default: all cores]")] = None,
    save_dtype: Annotated[str, typer.Option(help="fp16 or fp32 weights on disk")] = "fp16",
    max_steps: Annotated[Optional[int], typer.Option(help="Stop after this many steps (smoke runs)")] = None,
    overwrite: bool = False,
) -> None:
    """Fine-tune a base encoder on the gold corpus and write a versioned model folder."""
    from chitieu.train.run import train

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    from chitieu.encoders.phobert import licence_warning

    warning = licence_warning(base)
    if warning:
        err.print(f"[bold yellow]licence[/]: {warning}")
    kwargs = dict(
        base=base, annotations=annotations or annotations_dir(), out=out or models_dir(), name=name, train_split=train_split, dev_split=dev_split, train_fraction=train_fraction,
        epochs=epochs, patience=patience, batch_size=batch_size, lr_encoder=lr_encoder, lr_head=lr_head,
        max_tokens=max_tokens, overlap_tokens=overlap_tokens, freeze_embeddings=freeze_embeddings,
        oversample_targets=oversample_targets, o_weight=o_weight, goal_classifier=goal_classifier, goal_c=goal_c,
        indicator_chooser=indicator_chooser, indicator_l2=indicator_l2, seed=seed,
        save_dtype=save_dtype, max_steps=max_steps, overwrite=overwrite,
    )
    if threads is not None:
        kwargs["threads"] = threads
    try:
        opts = TrainOptions(**kwargs)  # type: ignore[arg-type]
    except ValueError as error:
        err.print(f"[red]error[/]: {error}")
        raise typer.Exit(2) from error
    folder = train(opts, command="chitieu train " + shlex.join(sys.argv[2:]) if len(sys.argv) > 2 else "chitieu train")
    print(folder)
