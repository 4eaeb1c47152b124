"""Liveness, readiness, the model card and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST

from chitieu.serve.deps import ModelDep, ServiceDep
from chitieu.serve.routes.common import errors
from chitieu.serve.schemas import Health, ModelInfo, Ready

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health, summary="Process alive (Label Studio reads status UP)")
async def health(service: ServiceDep) -> Any:
    loaded = service.slot.current
    return {"status": "UP", "ready": loaded is not None, "model": loaded.folder.name if loaded else None}


# Label Studio's own ML backends answer health on `/` too; some versions probe it.
router.add_api_route("/", health, methods=["GET"], response_model=Health, include_in_schema=False)


@router.get(
    "/ready",
    response_model=Ready,
    responses={503: {"description": "Model not loaded and warmed up yet (or loading failed)."}},
    summary="Model loaded and warmed up",
)
async def ready(service: ServiceDep) -> Any:
    loaded = service.slot.current
    if loaded is None:
        state = "failed" if service.slot.error else "loading"
        detail = service.slot.error or "the model is loading"
        return JSONResponse(
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            content={"status": state, "detail": detail, "message": detail},
            headers={"Retry-After": "5"},
        )
    info = loaded.extractor.info
    return {
        "status": "ready",
        "model": {"name": info["name"], "version": info["version"], "base": info["base"]},
        "folder": loaded.folder.name,
    }


@router.get("/model", response_model=ModelInfo, responses=errors(503), summary="The model being served and its card")
async def model(loaded: ModelDep) -> Any:
    return {**loaded.extractor.info, "folder": loaded.folder.name, "loaded_at": loaded.loaded_at}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
    summary="Prometheus metrics",
)
async def metrics(service: ServiceDep) -> Response:
    return Response(service.metrics.render(), media_type=CONTENT_TYPE_LATEST)
