"""`chitieu batch`: extract targets from a corpus into Parquet, locally or on Ray."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from chitieu.batch.job import BatchOptions, BatchRunError, run_batch
from chitieu.batch.output import BatchOutputError
from chitieu.batch.source import BatchInputError
from chitieu.model_folder import ModelFolderError


class EngineChoice(str, Enum):
    local = "local"
    ray = "ray"


def _missing_packages(engine: EngineChoice) -> list[str]:
    needed = ["pyarrow"] + (["ray"] if engine is EngineChoice.ray else [])
    return [name for name in needed if importlib.util.find_spec(name) is None]


def batch_command(
    input_spec: Annotated[str, typer.Argument(metavar="INPUT", help="JSON Lines (.jsonl, .jsonl.gz) or Parquet with id and text: a file, a folder, or a quoted glob")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Output folder: tuples/ and documents/, one Parquet file per partition")],
    engine: Annotated[EngineChoice, typer.Option(help="local: this process; ray: Ray Data actors (RAY_ADDRESS, else a local cluster)")] = EngineChoice.local,
    model: Annotated[Optional[str], typer.Option(help="Model folder, or a name under models/ (default: the promoted model)")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Documents per model call")] = 16,
    partition_size: Annotated[int, typer.Option(min=1, help="Documents per output partition (the unit a rerun skips)")] = 1000,
    limit: Annotated[Optional[int], typer.Option(min=1, help="Only the first N documents of the input")] = None,
    window_batch: Annotated[int, typer.Option(min=1, help="Windows per forward pass (raise it on a GPU)")] = 8,
    device: Annotated[str, typer.Option(help="Local engine: auto, cpu or cuda")] = "auto",
    actors: Annotated[Optional[int], typer.Option(min=1, help="Ray: extraction actors (default: as many as the cluster's CPUs or GPUs hold)")] = None,
    cpus_per_actor: Annotated[float, typer.Option(min=0.0, help="Ray: CPUs each actor reserves (and torch threads)")] = 1.0,
    num_gpus_per_actor: Annotated[float, typer.Option(min=0.0, help="Ray: GPUs per actor; above 0 the model runs on CUDA")] = 0.0,
    num_cpus: Annotated[Optional[int], typer.Option(min=1, help="Ray: CPUs of the local cluster started when RAY_ADDRESS is unset (default: all cores)")] = None,
    progress_interval: Annotated[float, typer.Option(min=0.0, help="Seconds between progress lines")] = 10.0,
) -> None:
    """Extract target tuples from a corpus into Parquet; a rerun resumes where a killed one stopped.

    Progress goes to standard error; a JSON summary (documents, errors, tuples, throughput) to standard output.
    """
    err = Console(stderr=True, soft_wrap=True)
    missing = _missing_packages(engine)
    if missing:
        err.print(f"error: chitieu batch needs {' and '.join(missing)}: pip install 'chitieu\\[batch]'")
        raise typer.Exit(2)
    options = BatchOptions(
        input=input_spec,
        output=output,
        engine="ray" if engine is EngineChoice.ray else "local",
        model=model,
        batch_size=batch_size,
        partition_size=partition_size,
        limit=limit,
        window_batch=window_batch,
        device=device,
        actors=actors,
        cpus_per_actor=cpus_per_actor,
        num_gpus_per_actor=num_gpus_per_actor,
        num_cpus=num_cpus,
        progress_interval=progress_interval,
    )
    try:
        summary = run_batch(options)
    except (BatchInputError, BatchOutputError, ModelFolderError) as e:
        err.print(f"error: {e}")
        raise typer.Exit(2) from e
    except BatchRunError as e:
        err.print(f"error: {e}")
        raise typer.Exit(1) from e
    print(json.dumps(dataclasses.asdict(summary), ensure_ascii=False))
