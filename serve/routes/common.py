"""Pieces shared by the routes: documented error answers, input checks that need settings,
and reading a JSON body by hand (for routes that must check something before the body).

Work for a client that has gone is cancelled for every route by the middleware
(`chitieu.serve.middleware`): a route that awaits `service.batcher.extract(...)` (as
/extract and /predict do) stops using the model as soon as its client disconnects, and the
request is logged with status 499. Nothing is needed in the route, as long as it awaits
the batcher rather than running the model itself; a route that loops over slices should
await each slice in turn (the cancellation lands at the next await).
"""

from __future__ import annotations

import email.message
import json
from typing import Any, TypeVar

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from chitieu.serve.errors import body_parse_message
from chitieu.serve.logging import get_logger
from chitieu.serve.settings import Settings

log = get_logger("extract")


class ErrorBody(BaseModel):
    detail: Any
    message: str


def described() -> dict[int, str]:
    """What each error status means, in the OpenAPI document."""
    return {
        400: "The body is not UTF-8 JSON.",
        401: "No bearer token (or a malformed Authorization header).",
        403: "Wrong token, or admin endpoints disabled (no CHITIEU_ADMIN_TOKEN).",
        404: "No such model folder.",
        413: "A text is over max_text_chars, a batch over max_batch_documents, or the body too large.",
        415: "The body is compressed (Content-Encoding); send it uncompressed.",
        422: "The body does not match the schema (empty text, wrong types, unknown fields, invalid JSON).",
        429: "Busy: the request could not be answered in good time beside the admitted ones; retry after Retry-After seconds.",
        500: "The model loads but cannot run; the previous model keeps serving.",
        503: "No model is loaded yet (or the server is shutting down); see Retry-After.",
    }


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    meaning = described()
    return {code: {"model": ErrorBody, "description": meaning[code]} for code in codes}


def check_sizes(settings: Settings, texts: list[str]) -> None:
    """413 for a batch or a text over the configured limits (which the schema cannot know)."""
    if len(texts) > settings.max_batch_documents:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(texts)} documents in one request, over the limit of {settings.max_batch_documents}; "
            "split them into several requests",
        )
    for n, text in enumerate(texts):
        if len(text) > settings.max_text_chars:
            where = "text" if len(texts) == 1 else f"document {n}"
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE,
                f"{where} has {len(text)} characters, over the limit of {settings.max_text_chars}; "
                "split the article into parts",
            )


def log_documents(settings: Settings, docs: list[tuple[str | None, str]]) -> None:
    # Sizes only: article text goes to the logs in debug mode alone.
    extra: dict[str, Any] = {"documents": len(docs), "chars": [len(t) for _, t in docs]}
    if settings.debug:
        extra["texts"] = [t for _, t in docs]
        extra["ids"] = [i for i, _ in docs]
    log.info("extract", extra=extra)


Body = TypeVar("Body", bound=BaseModel)


async def read_json_body(request: Request, model: type[Body], limit: int) -> Body:
    """The body as `model`, read up to `limit` bytes (413 beyond), with the answers FastAPI
    gives a body parameter: 400 when it cannot be parsed, 422 when it does not fit `model`."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, f"the request body is over {limit} bytes; this endpoint takes a small JSON object"
            )
        chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    data: Any = raw  # as FastAPI: a body that is not declared JSON is not parsed as JSON
    content_type = request.headers.get("content-type")
    declared = email.message.Message()
    declared["content-type"] = content_type or "application/json"
    subtype = declared.get_content_subtype()
    if declared.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json")):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as err:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body", err.pos), "msg": "JSON decode error", "ctx": {"error": err.msg}}]
            ) from None
        except (UnicodeDecodeError, RecursionError, ValueError) as err:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, body_parse_message(err)) from None
    try:
        return model.model_validate(data)
    except ValidationError as err:
        located = [{**e, "loc": ("body", *e["loc"])} for e in err.errors(include_url=False)]
        raise RequestValidationError(located) from None
