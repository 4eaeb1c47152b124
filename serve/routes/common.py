"""Pieces shared by the routes: documented error answers and input checks that need settings."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel

from chitieu.serve.logging import get_logger
from chitieu.serve.settings import Settings

log = get_logger("extract")


class ErrorBody(BaseModel):
    detail: Any
    message: str


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    described = {
        400: "The body is not UTF-8 JSON.",
        401: "No bearer token (or a malformed Authorization header).",
        403: "Wrong token, or admin endpoints disabled (no CHITIEU_ADMIN_TOKEN).",
        404: "No such model folder.",
        413: "A text is over max_text_chars, a batch over max_batch_documents, or the body too large.",
        422: "The body does not match the schema (empty text, wrong types, unknown fields, invalid JSON).",
        429: "Too many documents in flight; retry after the Retry-After header's seconds.",
        503: "No model is loaded yet (or the server is shutting down); see Retry-After.",
    }
    return {code: {"model": ErrorBody, "description": described[code]} for code in codes}


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
