"""Every failure answers JSON `{"detail": ..., "message": ...}` saying what to change.

Client mistakes are 4xx with the field at fault; only a bug or a broken model gives a
5xx, and then the answer carries the request id to find the logged traceback.
"""

from __future__ import annotations

import sys
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from chitieu.serve.batcher import BatcherClosed, QueueFull
from chitieu.serve.logging import get_logger
from chitieu.serve.middleware import BODY_TOO_LARGE, too_large

log = get_logger("errors")

# FastAPI's answer when reading or decoding the body fails: it does not say what to change.
_BODY_PARSE_ERROR = "There was an error parsing the body"


def _where(loc: Any) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _clean(error: dict[str, Any]) -> dict[str, Any]:
    # `input` can be a whole article: echoing it back (or logging it) helps nobody.
    out = {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type", "")}
    if error.get("type") == "json_invalid":
        out["msg"] = f"invalid JSON: {error.get('ctx', {}).get('error', 'cannot parse')}"
    return out


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [_clean(e) for e in exc.errors()]
    parts = [f"{_where(e['loc'])}: {e['msg']}" for e in errors[:5]]
    if any(e["loc"] == ["body"] for e in errors):
        parts.append("send a JSON object with Content-Type: application/json")
    log.info("invalid request", extra={"errors": [{"loc": e["loc"], "type": e["type"]} for e in errors]})
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": errors, "message": "; ".join(parts)}
    )


def body_parse_message(cause: BaseException | None) -> str:
    """Why a JSON body could not be parsed, and what to send instead (never the body itself)."""
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"the body is not UTF-8 (byte {cause.start} cannot be decoded); "
            "send JSON encoded as UTF-8 with Content-Type: application/json"
        )
    if isinstance(cause, RecursionError):
        return "the JSON nests too deep to read; send a flat JSON object with Content-Type: application/json"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return (
            f"a number in the body has more than {sys.get_int_max_str_digits()} digits; "
            "send shorter numbers, or long ones as strings"
        )
    return "the body could not be read as JSON; send a JSON object encoded as UTF-8 with Content-Type: application/json"


async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail: Any = exc.detail
    status_code = exc.status_code
    if status_code == 400 and detail == _BODY_PARSE_ERROR:
        if BODY_TOO_LARGE in request.scope:  # the middleware cut a streamed body short
            status_code, detail = 413, too_large(request.scope[BODY_TOO_LARGE])
        else:  # FastAPI raises this `from` the parser's own error, which says what went wrong
            detail = body_parse_message(exc.__cause__)
    message = detail if isinstance(detail, str) else str(detail)
    return JSONResponse(status_code=status_code, content={"detail": detail, "message": message}, headers=exc.headers)


async def queue_full(request: Request, exc: QueueFull) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        content={"detail": str(exc), "message": str(exc)},
        headers={"Retry-After": str(exc.retry_after)},
    )


async def closed(request: Request, exc: BatcherClosed) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": str(exc), "message": str(exc)},
        headers={"Retry-After": "5"},
    )


def install(app: FastAPI) -> None:
    # Starlette types handlers as taking Exception; ours take the narrower class they handle.
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(QueueFull, queue_full)  # type: ignore[arg-type]
    app.add_exception_handler(BatcherClosed, closed)  # type: ignore[arg-type]
