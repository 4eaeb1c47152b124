"""`chitieu serve`: the HTTP service under uvicorn, one process, one model in memory.

`--workers` is the number of model threads inside the process (not uvicorn worker
processes: each process would hold its own copy of the model). Every other setting comes
from `CHITIEU_*` environment variables (see chitieu.serve.settings.Settings).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer
from pydantic import ValidationError

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
        timeout_graceful_shutdown=30,
    )


if __name__ == "__main__":
    app()
