"""The app factory: `create_app(settings)`; uvicorn can also call it with `--factory`.

Nothing is built at import time. The model loads in the background after startup, so
/health answers at once and /ready turns 200 only once the model is loaded and warmed.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

import chitieu
from chitieu.serve import errors
from chitieu.serve.batcher import Batcher
from chitieu.serve.deps import Service
from chitieu.serve.logging import configure_logging, get_logger
from chitieu.serve.metrics import Metrics
from chitieu.serve.middleware import RequestContext
from chitieu.serve.routes import admin, extract, health, labelstudio
from chitieu.serve.routes.common import described as errors_described
from chitieu.serve.settings import Settings
from chitieu.serve.state import Loader, ModelSlot, load_extractor, public_load_error, startup_model_folder

log = get_logger("app")


async def _initial_load(service: Service) -> None:
    folder: Path | None = None
    try:
        folder = startup_model_folder(service.settings)
        loaded, _ = await service.slot.swap_to(folder)
        service.swapped_in(loaded)
    except asyncio.CancelledError:
        raise
    except Exception as err:  # keep serving /health and /admin/reload; /ready says what to do
        # Anyone may read /ready: it gets what to do, the log keeps paths and exception names.
        service.slot.error = public_load_error(err)
        log.error("model failed to load", extra={"folder": str(folder) if folder else None, "error": f"{type(err).__name__}: {err}"})


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    batcher = Batcher(
        workers=settings.workers,
        queue_size=settings.queue_size,
        micro_batch=settings.micro_batch_windows,
        max_wait_s=settings.max_wait_ms / 1000,
        metrics=app.state.metrics,
        policy=settings.admission_policy(),
        large_document_chars=settings.large_document_chars,
    )
    slot = ModelSlot(app.state.loader, settings.device, settings.micro_batch_windows)
    service = Service(settings, app.state.metrics, slot, batcher)
    app.state.service = service
    loading = asyncio.create_task(_initial_load(service))
    try:
        yield
    finally:
        loading.cancel()
        app.state.service = None
        await asyncio.to_thread(batcher.close)


#: Answers any operation with a body can give before its route runs: the body unparsable
#: (400), over the byte limit (413), compressed (415), not matching the schema (422).
_BODY_ANSWERS = (400, 413, 415, 422)


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """FastAPI's document, plus what only this app's settings know (the configured limits)
    and the answers the middleware and body parser give for every operation with a body."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = FastAPI.openapi(app)
    components = schema["components"]["schemas"]
    for name in ("Document", "ExtractRequest"):
        components[name]["properties"]["text"]["maxLength"] = settings.max_text_chars
    components["BatchRequest"]["properties"]["documents"]["maxItems"] = settings.max_batch_documents
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    described = errors_described()
    for path in schema["paths"].values():
        for operation in path.values():
            if "requestBody" not in operation:
                continue
            for code in _BODY_ANSWERS:
                operation["responses"].setdefault(str(code), {"description": described[code], "content": error})
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None, *, loader: Loader | None = None) -> FastAPI:
    """`loader(folder, device, batch_size)` builds an extractor; the default loads a real model folder."""
    settings = settings or Settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title="chitieu",
        version=chitieu.__version__,
        description="Socio-economic targets (province, official, indicator, value) from Vietnamese provincial news.",
        debug=settings.debug,
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.metrics = Metrics()
    app.state.loader = loader or functools.partial(load_extractor, engine=settings.engine)
    app.state.service = None
    for module in (extract, health, labelstudio, admin):
        app.include_router(module.router)
    errors.install(app)
    app.openapi = lambda: _openapi(app, settings)  # type: ignore[method-assign]
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    # Added last so it is the outermost user middleware: request ids, metrics, body limits,
    # and the JSON 500 for anything unhandled (Starlette's ServerErrorMiddleware never sees it).
    app.add_middleware(RequestContext, metrics=app.state.metrics, max_body_bytes=settings.max_body_bytes)
    return app
