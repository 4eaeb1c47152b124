"""Micro-batching of model windows across concurrent requests, off the event loop.

A request is admitted (or refused with `QueueFull` when `queue_size` documents are already
in flight: the backlog is bounded), its documents are prepared on a small thread pool, and
their windows join one shared queue. Model worker threads take up to `micro_batch` windows
from whichever requests are waiting, make one `extractor.run` call, and hand every window
its probabilities; when a document has all of them it is finished (decode + link) on the
pool again. The event loop only awaits futures.

Every window remembers the extractor that prepared it and is only ever batched with
windows of the same extractor, so a model swapped in mid-request never sees token ids
from another model's tokenizer; in-flight requests finish on the model they started with.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from chitieu.pipeline import Prepared
from chitieu.serve.logging import get_logger
from chitieu.serve.metrics import Metrics
from chitieu.windows import Window

log = get_logger("batcher")


class Extracting(Protocol):
    """The staged interface of chitieu.extractor.Extractor that the service relies on."""

    @property
    def info(self) -> dict[str, Any]: ...

    def prepare(self, text: str, doc_id: str | None = None) -> Prepared: ...

    def run(self, windows: Sequence[Window]) -> list[np.ndarray]: ...

    def finish(self, prepared: Prepared, probs: Sequence[np.ndarray]) -> dict[str, Any]: ...


class QueueFull(RuntimeError):
    def __init__(self, pending: int, asked: int, limit: int, retry_after: int = 1) -> None:
        super().__init__(
            f"the server is busy ({pending} documents in flight, limit {limit}); retry after {retry_after} s"
            + (" or send smaller batches" if asked > 1 else "")
        )
        self.retry_after = retry_after


class BatcherClosed(RuntimeError):
    pass


@dataclass(eq=False)
class _Job:
    extractor: Extracting
    n_windows: int
    future: concurrent.futures.Future[list[np.ndarray]] = field(default_factory=concurrent.futures.Future)
    probs: list[np.ndarray | None] = field(default_factory=list)
    remaining: int = 0

    def __post_init__(self) -> None:
        self.probs = [None] * self.n_windows
        self.remaining = self.n_windows


@dataclass(eq=False)
class _Item:
    job: _Job
    index: int
    window: Window


class Batcher:
    def __init__(
        self,
        *,
        workers: int = 1,
        queue_size: int = 64,
        micro_batch: int = 8,
        max_wait_s: float = 0.005,
        metrics: Metrics | None = None,
    ) -> None:
        self.queue_size = queue_size
        self.micro_batch = micro_batch
        self.max_wait_s = max_wait_s
        self.metrics = metrics
        self._items: deque[_Item] = deque()
        self._cond = threading.Condition()
        self._pending = 0
        self._closed = False
        # Tokenising and decoding are per document and cheap next to the model, but still
        # too slow for the event loop on a 100k-character article.
        self._cpu = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chitieu-cpu")
        self._threads = [
            threading.Thread(target=self._work, name=f"chitieu-model-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pending(self) -> int:
        return self._pending

    async def extract(self, extractor: Extracting, docs: Sequence[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Results in the order of `docs`; raises QueueFull without queueing anything."""
        self._admit(len(docs))
        futures: list[concurrent.futures.Future[list[np.ndarray]]] = []
        try:
            prepared = await asyncio.gather(*(self._on_cpu(extractor.prepare, text, doc_id) for doc_id, text in docs))
            for p in prepared:  # appended one by one so `finally` can cancel a partial enqueue
                futures.append(self._enqueue(extractor, p))
            probs = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
            return list(await asyncio.gather(*(self._on_cpu(extractor.finish, p, pr) for p, pr in zip(prepared, probs))))
        finally:
            # A cancelled request (client gone) drops its windows from the queue.
            for f in futures:
                f.cancel()
            self._release(len(docs))

    def _on_cpu(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        try:
            return asyncio.get_running_loop().run_in_executor(self._cpu, fn, *args)
        except RuntimeError as err:  # the pool is shut down
            raise BatcherClosed("the server is shutting down; retry on another instance") from err

    def _admit(self, n: int) -> None:
        with self._cond:
            if self._closed:
                raise BatcherClosed("the server is shutting down; retry on another instance")
            if self._pending + n > self.queue_size:
                if self.metrics:
                    self.metrics.rejected.inc(n)
                raise QueueFull(self._pending, n, self.queue_size)
            self._pending += n
            self._gauge()

    def _release(self, n: int) -> None:
        with self._cond:
            self._pending -= n
            self._gauge()
            self._cond.notify_all()  # close() may be waiting for the last request

    def _gauge(self) -> None:
        if self.metrics:
            self.metrics.queue_depth.set(self._pending)
            self.metrics.queued_windows.set(len(self._items))

    def _enqueue(self, extractor: Extracting, prepared: Prepared) -> concurrent.futures.Future[list[np.ndarray]]:
        job = _Job(extractor, len(prepared.windows))
        if not prepared.windows:
            job.future.set_result([])
            return job.future
        with self._cond:
            if self._closed:
                raise BatcherClosed("the server is shutting down; retry on another instance")
            self._items.extend(_Item(job, i, w) for i, w in enumerate(prepared.windows))
            self._gauge()
            self._cond.notify(len(prepared.windows))
        return job.future

    def _take(self, extractor: Extracting | None, limit: int) -> list[_Item]:
        """Up to `limit` queued windows of one extractor (the oldest window's when None), FIFO."""
        taken: list[_Item] = []
        kept: deque[_Item] = deque()
        while self._items:
            item = self._items.popleft()
            if item.job.future.done():  # cancelled or already failed: nothing to compute
                continue
            if extractor is None:
                extractor = item.job.extractor
            if len(taken) < limit and item.job.extractor is extractor:
                taken.append(item)
            else:
                kept.append(item)
                if len(taken) >= limit:
                    break
        kept.extend(self._items)
        self._items = kept
        return taken

    def _next_batch(self) -> list[_Item] | None:
        with self._cond:
            batch: list[_Item] = []
            while not batch:
                while not self._items and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return None
                batch = self._take(None, self.micro_batch)
            # Wait a little for other requests' windows to fill the batch: one call on 8
            # windows costs far less than 8 calls on one.
            deadline = time.monotonic() + self.max_wait_s
            while len(batch) < self.micro_batch and not self._closed:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                if not self._items:
                    self._cond.wait(left)
                batch += self._take(batch[0].job.extractor, self.micro_batch - len(batch))
                if self._items and len(batch) < self.micro_batch:
                    break  # what is left belongs to another model; don't hold these back
            self._gauge()
            return batch

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            extractor = batch[0].job.extractor
            try:
                probs = extractor.run([item.window for item in batch])
                if len(probs) != len(batch):
                    raise RuntimeError(f"the model returned {len(probs)} results for {len(batch)} windows")
            except Exception as err:  # the model failing must fail its requests, not the worker
                log.exception("model call failed", extra={"windows": len(batch)})
                for item in batch:
                    _settle(item.job.future, error=err)
                continue
            if self.metrics:
                self.metrics.batch_windows.observe(len(batch))
            with self._cond:
                for item, p in zip(batch, probs):
                    job = item.job
                    job.probs[item.index] = p
                    job.remaining -= 1
                    if job.remaining == 0:
                        _settle(job.future, result=job.probs)

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new work, fail queued windows, let running requests end, stop the threads.

        Blocks up to about 2 x timeout: call it from a thread, never from the event loop
        (the requests it waits for need the loop to finish).
        """
        with self._cond:
            self._closed = True
            leftover = list(self._items)
            self._items.clear()
            self._cond.notify_all()
        for item in leftover:
            _settle(item.job.future, error=BatcherClosed("the server shut down before this request ran"))
        for thread in self._threads:
            thread.join(timeout=timeout)
        with self._cond:
            self._cond.wait_for(lambda: self._pending == 0, timeout=timeout)
        self._cpu.shutdown(wait=False, cancel_futures=True)


def _settle(
    future: concurrent.futures.Future[list[np.ndarray]],
    *,
    result: Any = None,
    error: BaseException | None = None,
) -> None:
    # A request may cancel its future from the event loop at any moment.
    try:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except concurrent.futures.InvalidStateError:
        pass
