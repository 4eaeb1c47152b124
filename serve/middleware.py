"""Request id, access log and metrics for every HTTP request, as plain ASGI middleware.

Outermost, so that it also sees answers made by the error handlers and CORS, and a crash
anywhere inside still ends as a JSON 500 carrying the request id (never a bare socket close).
"""

from __future__ import annotations

import json
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chitieu.serve.logging import get_logger, request_id_var
from chitieu.serve.metrics import Metrics

log = get_logger("access")

# Ids from clients go into logs and headers: accept only short, plain ones.
_GOOD_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")


def request_id(headers: Headers) -> str:
    given = headers.get("x-request-id", "")
    return given if _GOOD_ID.fullmatch(given) else uuid.uuid4().hex


#: Set in the scope when a streamed body went over the limit (the error handler makes it a 413).
BODY_TOO_LARGE = "chitieu.body_too_large"


class BodyTooLarge(Exception):
    pass


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: Metrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(Headers(scope=scope))
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        received = 0

        async def receive_with_limit() -> Message:
            # Counted as it streams, so a body without Content-Length cannot grow unbounded.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    scope[BODY_TOO_LARGE] = self.max_body_bytes
                    raise BodyTooLarge
            return message

        try:
            if _declared_length(scope) > self.max_body_bytes:
                await _json_error(send_with_id, 413, too_large(self.max_body_bytes))
            else:
                await self.app(scope, receive_with_limit, send_with_id)
        except BodyTooLarge:
            if not response_started:
                await _json_error(send_with_id, 413, too_large(self.max_body_bytes))
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not response_started:
                await _json_error(send_with_id, 500, f"internal error while handling the request; report request id {rid}")
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            # The route template, not the raw path: unknown paths must not grow the label set.
            endpoint = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.observe(method, endpoint, status, seconds)
            client = scope.get("client")
            log.info(
                "request",
                extra={
                    "method": method,
                    "path": scope.get("path"),
                    "endpoint": endpoint,
                    "status": status,
                    "ms": round(seconds * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
            request_id_var.reset(token)


def too_large(limit: int) -> str:
    return f"the request body is over {limit} bytes; send shorter texts or fewer documents per request"



def _declared_length(scope: Scope) -> int:
    try:
        return int(Headers(scope=scope).get("content-length", "0"))
    except ValueError:
        return 0


async def _json_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"detail": message, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
