"""What routes get through `Depends`: the per-app service objects built at startup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from chitieu.serve.batcher import Batcher
from chitieu.serve.metrics import Metrics
from chitieu.serve.settings import Settings
from chitieu.serve.state import Loaded, ModelSlot


@dataclass
class Service:
    settings: Settings
    metrics: Metrics
    slot: ModelSlot
    batcher: Batcher


def get_service(request: Request) -> Service:
    service: Service | None = getattr(request.app.state, "service", None)
    if service is None:  # only if the app was used without its lifespan (never under uvicorn)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "the service is starting; retry shortly",
                            headers={"Retry-After": "1"})
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def require_model(service: ServiceDep) -> Loaded:
    """The model to use for this whole request (read once, so a swap cannot split a request)."""
    loaded = service.slot.current
    if loaded is None:
        detail = "the model is still loading; retry shortly"
        if service.slot.error:
            detail = f"no model is loaded ({service.slot.error}); an operator must fix it or POST /admin/reload"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers={"Retry-After": "5"})
    return loaded


ModelDep = Annotated[Loaded, Depends(require_model)]
