"""Micro-batching of model windows across concurrent requests, off the event loop, fairly.

A request is first admitted by its expected work (`chitieu.serve.admission`: refused at
once with `QueueFull` when it could not be answered in good time). Its documents are
prepared on a CPU lane, and their windows wait in the request's own queue. Model worker
threads take up to `micro_batch` windows round-robin across the waiting requests (one
window from each in turn), make one `extractor.run` call, and hand every window its
probabilities; when a document has all of them it is finished (decode, refine, link) on
a CPU lane again. The event loop only awaits futures.

No request waits behind another's whole document: a short request's window goes into the
next model call even while a 100,000-character article is being read, and documents of
`large_document_chars` or more are prepared and finished on their own lane, so a long
post-processing never holds up a short one.

Cancellation: `extract` is a coroutine; cancelling the task that awaits it (the client
has gone: `chitieu.serve.middleware` does this for every route when the connection
drops) removes the request's windows from the queues, so the model never runs them, drops
its CPU steps that have not started, and frees its admission at once. Routes need nothing
more than `await service.batcher.extract(...)`; `/predict` gets the same for free.

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

from chitieu.extract.prepare import Prepared
from chitieu.serve.admission import Admission, AdmissionPolicy, Overloaded, Ticket
from chitieu.serve.logging import get_logger
from chitieu.serve.metrics import Metrics
from chitieu.windows import Window

log = get_logger("batcher")


class Extracting(Protocol):
    """The staged interface of chitieu.extract.extractor.Extractor that the service relies on."""

    @property
    def info(self) -> dict[str, Any]: ...

    def prepare(self, text: str, doc_id: str | None = None) -> Prepared: ...

    def run(self, windows: Sequence[Window]) -> list[np.ndarray]: ...

    def finish(self, prepared: Prepared, probs: Sequence[np.ndarray]) -> dict[str, Any]: ...


class QueueFull(RuntimeError):
    """Refused at admission (429); nothing was queued."""

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BatcherClosed(RuntimeError):
    pass


@dataclass(eq=False)
class _Job:
    """One document's windows and the future of their probabilities."""

    extractor: Extracting
    n_windows: int
    ticket: Ticket
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


@dataclass(eq=False)
class _Turn:
    """One request's windows waiting for the model, in document order; requests take turns."""

    extractor: Extracting
    ticket: Ticket
    items: deque[_Item] = field(default_factory=deque)


class Batcher:
    def __init__(
        self,
        *,
        workers: int = 1,
        queue_size: int = 64,
        micro_batch: int = 8,
        max_wait_s: float = 0.005,
        metrics: Metrics | None = None,
        policy: AdmissionPolicy | None = None,
        large_document_chars: int = 8_000,
    ) -> None:
        self.queue_size = queue_size
        self.micro_batch = micro_batch
        self.max_wait_s = max_wait_s
        self.metrics = metrics
        self.large_document_chars = large_document_chars
        self.admission = Admission(policy, max_documents=queue_size)
        self._turns: deque[_Turn] = deque()
        self._cond = threading.Condition()
        self._closed = False
        # Tokenising and decoding are per document and cheap next to the model, but still
        # too slow for the event loop on a 100k-character article; long documents get their
        # own lane so that they never hold up short ones.
        self._cpu = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chitieu-cpu")
        self._cpu_large = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chitieu-cpu-large")
        self._threads = [
            threading.Thread(target=self._work, name=f"chitieu-model-{i}", daemon=True) for i in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pending(self) -> int:
        """Documents admitted and not yet answered."""
        return self.admission.documents

    @property
    def queued_windows(self) -> int:
        with self._cond:
            return sum(len(t.items) for t in self._turns)

    def calibrate(self, texts: list[str], seconds: float) -> None:
        """Seed the throughput estimate with one measured extraction (the model's warm-up)."""
        self.admission.throughput.seed(self.admission.cost(texts), seconds)
        self._gauge()

    async def extract(self, extractor: Extracting, docs: Sequence[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Results in the order of `docs`; raises QueueFull without queueing anything."""
        ticket = self._admit([text for _, text in docs])
        turn = _Turn(extractor, ticket)
        futures: list[concurrent.futures.Future[list[np.ndarray]]] = []
        completed = False
        try:
            prepared = await asyncio.gather(
                *(self._on_cpu(len(text), extractor.prepare, text, doc_id) for doc_id, text in docs)
            )
            for p in prepared:  # appended one by one so `finally` can cancel a partial enqueue
                futures.append(self._enqueue(turn, p))
            probs = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
            results = await asyncio.gather(
                *(self._on_cpu(len(p.text), extractor.finish, p, pr) for p, pr in zip(prepared, probs))
            )
            completed = True
            return list(results)
        finally:
            # A cancelled request (client gone) drops its windows from the queue.
            for f in futures:
                f.cancel()
            self._drop(turn)
            self.admission.release(ticket, completed)
            self._gauge()
            with self._cond:
                self._cond.notify_all()  # close() may be waiting for the last request

    def _on_cpu(self, size: int, fn: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
        pool = self._cpu_large if size >= self.large_document_chars else self._cpu
        try:
            return asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except RuntimeError as err:  # the pool is shut down
            raise BatcherClosed("the server is shutting down; retry on another instance") from err

    def _admit(self, texts: list[str]) -> Ticket:
        if self._closed:
            raise BatcherClosed("the server is shutting down; retry on another instance")
        try:
            ticket = self.admission.admit(texts)
        except Overloaded as err:
            if self.metrics:
                self.metrics.rejected.inc(len(texts))
            raise QueueFull(str(err), err.retry_after) from None
        self._gauge()
        return ticket

    def _gauge(self) -> None:
        if self.metrics:
            self.metrics.queue_depth.set(self.admission.documents)
            self.metrics.queued_windows.set(sum(len(t.items) for t in self._turns))
            self.metrics.backlog_seconds.set(self.admission.backlog_seconds())
            self.metrics.throughput.set(self.admission.throughput.rate)

    def _enqueue(self, turn: _Turn, prepared: Prepared) -> concurrent.futures.Future[list[np.ndarray]]:
        job = _Job(turn.extractor, len(prepared.windows), turn.ticket)
        turn.ticket.windows += len(prepared.windows)
        if not prepared.windows:
            job.future.set_result([])
            return job.future
        with self._cond:
            if self._closed:
                raise BatcherClosed("the server is shutting down; retry on another instance")
            if not turn.items:
                self._turns.append(turn)
            turn.items.extend(_Item(job, i, w) for i, w in enumerate(prepared.windows))
            self._cond.notify(len(prepared.windows))
        self._gauge()
        return job.future

    def _drop(self, turn: _Turn) -> None:
        with self._cond:
            if turn.items:
                turn.items.clear()
                try:
                    self._turns.remove(turn)
                except ValueError:
                    pass

    def _take(self, extractor: Extracting | None, limit: int) -> list[_Item]:
        """Up to `limit` queued windows of one extractor (the first waiting request's when
        None), one from each request in turn; requests served go to the back of the line."""
        taken: list[_Item] = []
        served: list[_Turn] = []
        while len(taken) < limit:
            progressed = False
            for turn in list(self._turns):
                if len(taken) >= limit:
                    break
                while turn.items and turn.items[0].job.future.done():  # cancelled or failed
                    turn.items.popleft()
                if not turn.items:
                    self._turns.remove(turn)
                    continue
                if extractor is None:
                    extractor = turn.extractor
                if turn.extractor is not extractor:
                    continue
                taken.append(turn.items.popleft())
                progressed = True
                if turn not in served:
                    served.append(turn)
            if not progressed:
                break
        for turn in served:
            if turn in self._turns:
                self._turns.remove(turn)
                if turn.items:
                    self._turns.append(turn)
        return taken

    def _next_batch(self) -> list[_Item] | None:
        with self._cond:
            batch: list[_Item] = []
            while not batch:
                while not self._turns and not self._closed:
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
                if not self._turns:
                    self._cond.wait(left)
                batch += self._take(batch[0].job.extractor, self.micro_batch - len(batch))
                if self._turns and len(batch) < self.micro_batch:
                    break  # what is left belongs to another model; don't hold these back
            return batch

    def _work(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._gauge()
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
                    job.ticket.windows_done += 1
                    if job.remaining == 0:
                        _settle(job.future, result=job.probs)

    def close(self, timeout: float = 30.0) -> None:
        """Refuse new work, fail queued windows, let running requests end, stop the threads.

        Blocks up to about 2 x timeout: call it from a thread, never from the event loop
        (the requests it waits for need the loop to finish).
        """
        with self._cond:
            self._closed = True
            leftover = [item for turn in self._turns for item in turn.items]
            self._turns.clear()
            self._cond.notify_all()
        for item in leftover:
            _settle(item.job.future, error=BatcherClosed("the server shut down before this request ran"))
        for thread in self._threads:
            thread.join(timeout=timeout)
        with self._cond:
            self._cond.wait_for(lambda: self.admission.documents == 0, timeout=timeout)
        self._cpu.shutdown(wait=False, cancel_futures=True)
        self._cpu_large.shutdown(wait=False, cancel_futures=True)


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
