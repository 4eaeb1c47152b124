"""Request id, access log and metrics for every HTTP request, as plain ASGI middleware.

Outermost, so that it also sees answers made by the error handlers and CORS, and a crash
anywhere inside still ends as a JSON 500 carrying the request id (never a bare socket close).

It also ends work nobody waits for, for every route alike:
- a client that disconnects once its body is read (a timeout, a closed tab) cancels its
  request: the cancellation reaches `Batcher.extract`, which drops the request's windows
  before the model sees them; the request is logged and counted with status 499;
- a request still running when the server's shutdown grace runs out (uvicorn then cancels
  it) answers 503 with Retry-After, not uvicorn's plain-text 500;
- a compressed body (`Content-Encoding: gzip`) is refused with 415, saying so.
"""

from __future__ import annotations

import asyncio
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
#: What the logs and metrics record for a request whose client went away before its answer.
CLIENT_GONE = 499
#: Seconds a client is asked to wait before retrying on a server that is shutting down.
SHUTDOWN_RETRY_AFTER = 5


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
        response_done = False
        client_gone = False
        body_read = asyncio.Event()
        task = asyncio.current_task()

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started, response_done
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                response_done = True
            await send(message)

        received = 0

        async def receive_with_limit() -> Message:
            # Counted as it streams, so a body without Content-Length cannot grow unbounded.
            nonlocal received, client_gone
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    scope[BODY_TOO_LARGE] = self.max_body_bytes
                    raise BodyTooLarge
                if not message.get("more_body", False):
                    body_read.set()
            elif message["type"] == "http.disconnect" and not response_done:
                client_gone = True
            return message

        async def watch_the_client() -> None:
            # Once the route has the whole body, the next message can only be the client
            # leaving (or, after the answer, the end of the exchange).
            nonlocal client_gone
            await body_read.wait()
            message = await receive()
            if message["type"] == "http.disconnect" and not response_done and task is not None:
                client_gone = True
                task.cancel()

        watcher = asyncio.create_task(watch_the_client())
        try:
            encoding = Headers(scope=scope).get("content-encoding", "identity").strip().lower()
            if _declared_length(scope) > self.max_body_bytes:
                await _json_error(send_with_id, 413, too_large(self.max_body_bytes))
            elif encoding not in ("", "identity"):
                await _json_error(send_with_id, 415, unsupported_encoding(encoding))
            else:
                await self.app(scope, receive_with_limit, send_with_id)
        except BodyTooLarge:
            if not response_started:
                await _json_error(send_with_id, 413, too_large(self.max_body_bytes))
        except asyncio.CancelledError:
            if task is not None:
                task.uncancel()  # handled here: the answer (or its absence) is decided below
            if not client_gone and not response_started:
                # uvicorn cancels what still runs when the shutdown grace is over.
                message = f"the server is shutting down; retry after {SHUTDOWN_RETRY_AFTER} s (on another instance if there is one)"
                await _json_error(send_with_id, 503, message, {"Retry-After": str(SHUTDOWN_RETRY_AFTER)})
        except Exception:
            log.exception("unhandled error", extra={"path": scope.get("path")})
            if not response_started:
                await _json_error(send_with_id, 500, f"internal error while handling the request; report request id {rid}")
        finally:
            watcher.cancel()
            if client_gone and not response_done:
                status = CLIENT_GONE
            seconds = time.perf_counter() - started
            route = scope.get("route")
            # The route template, not the raw path: unknown paths must not grow the label set.
            endpoint = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.observe(method, endpoint, status, seconds)
            client = scope.get("client")
            log.info(
                "client gone" if status == CLIENT_GONE else "request",
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


def unsupported_encoding(encoding: str) -> str:
    shown = encoding if re.fullmatch(r"[a-z0-9, .\-]{1,40}", encoding) else "this"
    return f"Content-Encoding {shown} is not supported; send the JSON body uncompressed (no Content-Encoding header)"


def _declared_length(scope: Scope) -> int:
    try:
        return int(Headers(scope=scope).get("content-length", "0"))
    except ValueError:
        return 0


async def _json_error(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"detail": message, "message": message}).encode()
    extra = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra],
        }
    )
    await send({"type": "http.response.body", "body": body})
