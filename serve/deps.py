"""What routes get through `Depends`: the per-app service objects built at startup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status

from chitieu.serve.batcher import Batcher
from chitieu.serve.metrics import Metrics
from chitieu.serve.settings import Settings
from chitieu.serve.state import WARMUP_TEXT, Loaded, ModelSlot


@dataclass
class Service:
    settings: Settings
    metrics: Metrics
    slot: ModelSlot
    batcher: Batcher

    def swapped_in(self, loaded: Loaded) -> None:
        """Bookkeeping after a model is swapped in: its metrics, and the admission's first
        guess of its speed (its warm-up), until served requests measure it."""
        self.metrics.set_model(loaded.extractor.info, loaded.folder.name)
        self.batcher.calibrate([WARMUP_TEXT], loaded.warm_seconds)


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
        if service.slot.error:  # already free of paths and exception names (state.public_load_error)
            detail = f"no model is loaded: {service.slot.error}"
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail, headers={"Retry-After": "5"})
    return loaded


ModelDep = Annotated[Loaded, Depends(require_model)]
