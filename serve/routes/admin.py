"""Operator endpoints behind a bearer token: swap the served model without a restart."""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from chitieu.serve.deps import ServiceDep
from chitieu.serve.logging import get_logger
from chitieu.serve.routes.common import errors, read_json_body
from chitieu.serve.schemas import ReloadRequest, ReloadResponse
from chitieu.serve.settings import SettingsDep
from chitieu.serve.state import BadModelName, LoadFailed, ModelNotFound, WarmupFailed, safe_model_folder

log = get_logger("admin")
router = APIRouter(prefix="/admin", tags=["admin"])
# auto_error=False: we answer a missing or malformed header ourselves, with a message.
bearer = HTTPBearer(auto_error=False, description="CHITIEU_ADMIN_TOKEN")


def require_admin(
    settings: SettingsDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    if settings.admin_token is None or not settings.admin_token.get_secret_value():
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "admin endpoints are disabled; start the server with CHITIEU_ADMIN_TOKEN set"
        )
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "send the admin token as `Authorization: Bearer <token>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected = settings.admin_token.get_secret_value().encode()
    if not secrets.compare_digest(credentials.credentials.encode(), expected):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "wrong admin token")


#: An admin body is a model name: a few hundred bytes; anything much larger is refused unread.
ADMIN_BODY_BYTES = 4096


@router.post(
    "/reload",
    response_model=ReloadResponse,
    dependencies=[Depends(require_admin)],
    responses=errors(400, 401, 403, 404, 413, 415, 422, 500),
    summary="Load a model folder, warm it up and swap it in",
    # The body is read by the route itself, after the token check; this documents it.
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": ReloadRequest.model_json_schema()}}}
    },
)
async def reload(request: Request, settings: SettingsDep, service: ServiceDep) -> Any:
    """The token is checked before the body is read (a dependency), and the body is read
    only up to ADMIN_BODY_BYTES: an unauthenticated client gets 401/403 whatever it sends."""
    body = await read_json_body(request, ReloadRequest, ADMIN_BODY_BYTES)
    try:
        folder = safe_model_folder(settings.models_dir, body.model)
    except BadModelName as err:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(err)) from None
    except ModelNotFound as err:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(err)) from None
    started = time.monotonic()
    try:
        loaded, previous = await service.slot.swap_to(folder)
    except (LoadFailed, WarmupFailed) as err:
        serving = service.slot.current
        kept = f"; still serving {serving.folder.name}" if serving else ""
        # The old model was never replaced. A folder that does not load is the caller's
        # choice (422); a model that loads but cannot run is a server-side failure (500).
        code = status.HTTP_422_UNPROCESSABLE_CONTENT if isinstance(err, LoadFailed) else 500
        service.metrics.reloads.labels("failed").inc()
        log.warning("reload failed", extra={"model": body.model, "error": str(err)})
        raise HTTPException(code, f"cannot load model {body.model!r}: {err}{kept}") from None
    service.metrics.reloads.labels("ok").inc()
    service.swapped_in(loaded)
    log.info("model swapped", extra={"model": folder.name, "previous": previous.folder.name if previous else None})
    return {
        "model": {**loaded.extractor.info, "folder": folder.name, "loaded_at": loaded.loaded_at},
        "previous": previous.folder.name if previous else None,
        "seconds": round(time.monotonic() - started, 3),
    }
