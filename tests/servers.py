"""A real uvicorn on a free loopback port, for tests that need real sockets (disconnects,
shutdown, schema fuzzing over HTTP)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


@dataclass
class Running:
    app: FastAPI
    server: uvicorn.Server
    base_url: str
    thread: threading.Thread


@contextmanager
def uvicorn_in_thread(app: FastAPI, *, ready_timeout: float = 30.0, **config: Any) -> Iterator[Running]:
    """Serve `app` until the block ends (or the test sets `server.should_exit`); waits for /ready."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", **config))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            try:
                if httpx.get(f"{base_url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"the server at {base_url} was not ready after {ready_timeout} s")
            time.sleep(0.05)
        yield Running(app, server, base_url, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()
