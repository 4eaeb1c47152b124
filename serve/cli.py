"""`chitieu serve`: the HTTP service under uvicorn, one process, one model in memory.

`--workers` is the number of model threads inside the process (not uvicorn worker
processes: each process would hold its own copy of the model). Every other setting comes
from `CHITIEU_*` environment variables (see chitieu.serve.settings.Settings).
"""

from __future__ import annotations

import math
from enum import Enum
from pathlib import Path
from typing import Any

import typer
from pydantic import ValidationError

from chitieu.files import write_text

app = typer.Typer(help="Run the chitieu HTTP service.", pretty_exceptions_show_locals=False)


class Device(str, Enum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


@app.command("serve")
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on (0.0.0.0 in a container)."),
    port: int = typer.Option(8000, help="TCP port."),
    model: str | None = typer.Option(
        None, help="Model folder name under the models dir, or a path; default: the one in models/PROMOTED."
    ),
    workers: int | None = typer.Option(None, min=1, help="Model worker threads (default 1, CHITIEU_WORKERS)."),
    device: Device | None = typer.Option(None, help="auto, cpu or cuda (CHITIEU_DEVICE)."),
) -> None:
    """Serve /extract, /extract/batch, Label Studio's /predict and the operator endpoints."""
    import uvicorn

    from chitieu.serve.app import create_app
    from chitieu.serve.settings import Settings

    given: dict[str, Any] = {"model": model, "workers": workers, "device": device.value if device else None}
    try:
        settings = Settings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as err:
        raise typer.BadParameter(f"invalid settings (options or CHITIEU_* variables): {err}") from err
    uvicorn.run(
        create_app(settings),
        host=host,
        port=port,
        log_config=None,  # create_app set up JSON logging for uvicorn's loggers already
        access_log=False,  # our middleware logs each request with its id
        # Past the grace, running requests answer 503 with Retry-After (the middleware);
        # admission keeps the admitted backlog within it.
        timeout_graceful_shutdown=math.ceil(settings.shutdown_grace_s),
    )


@app.command("loadtest")
def loadtest(
    minutes: float = typer.Option(5.0, min=0.01, max=60.0, help="How long to drive the load phase."),
    factor: float = typer.Option(2.0, min=0.1, max=20.0, help="Offered load, as a multiple of the measured capacity."),
    model: str | None = typer.Option(None, help="Model to serve (as for `chitieu serve`); default: models/PROMOTED."),
    url: str | None = typer.Option(None, help="Drive a server already running on loopback instead (give --pid too)."),
    pid: int | None = typer.Option(None, help="Process id of the --url server, for its memory."),
    texts: Path | None = typer.Option(None, help="JSONL of {\"text\": ...} to send; default: annotations/corpus.jsonl."),
    documents: int = typer.Option(
        30, min=3, max=1000, help="Corpus articles to use: each is sent once, alone, for the baseline; the load draws from them."
    ),
    capacity_seconds: float = typer.Option(60.0, min=1, max=600, help="Length of the capacity measurement."),
    max_requests: int = typer.Option(20_000, min=1, max=1_000_000, help="At most this many load requests."),
    seed: int = typer.Option(18, help="Seed for the text order and the arrival times."),
    out: Path | None = typer.Option(None, help="Also write the report as JSON here."),
) -> None:
    """Drive a loopback chitieu service at FACTOR x its measured capacity for MINUTES and report:
    results, 429/503 with Retry-After, 5xx, lost, accepted p50/p95 against the unloaded p95,
    memory over time, and whether normal service resumes right after. Exit 1 if a check fails."""
    import asyncio
    import contextlib

    from chitieu.paths import annotations_dir
    from chitieu.serve.loadtest import corpus_texts, drive, report_json, require_loopback, served

    pool = corpus_texts(texts or annotations_dir() / "corpus.jsonl", seed)
    target: contextlib.AbstractContextManager[tuple[str, int]]
    if url is not None:
        if pid is None:
            raise typer.BadParameter("--url needs --pid (the server's process id) to follow its memory")
        try:
            target = contextlib.nullcontext((require_loopback(url), pid))
        except ValueError as err:
            raise typer.BadParameter(str(err)) from err
    else:
        target = served(model, {})
    with target as (base_url, server_pid):
        report = asyncio.run(
            drive(
                base_url, server_pid, pool, minutes=minutes, factor=factor, documents=documents,
                capacity_seconds=capacity_seconds, after_requests=max(3, documents // 3),
                max_requests=max_requests, seed=seed,
            )
        )
    conditions = ", ".join(f"{k} {v}" for k, v in report.conditions.items())
    typer.echo(f"conditions: {conditions}\n")
    typer.echo(report.table())
    typer.echo("\nRSS per minute (max MB): " + ", ".join(f"{m}: {mb:.0f}" for m, mb in report.rss_per_minute()))
    if out is not None:
        write_text(out, report_json(report))
    if not all(report.checks.values()):
        raise typer.Exit(1)


if __name__ == "__main__":
    app()
