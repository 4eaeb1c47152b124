"""Admission by expected work: a request gets in only if it can be answered in good time.

Counting documents (the old rule: 64 in flight, whatever their length) let a queue of
long articles build up to tens of seconds of waiting while throughput stayed that of two
requests. Here each request costs its characters plus a fixed overhead per document (cost
units), the service measures how many units it completes per second while busy
(`Throughput`), and a request is admitted only when, served fairly alongside the admitted
ones (the batcher gives every request its turn at the model), it is expected to finish
within `max(latency_budget_s, max_slowdown x its own time alone)` (the admitted requests
counted by the work they have left), and the whole admitted
backlog fits `drain_budget_s` (the shutdown grace, so SIGTERM never strands admitted work).
Everything else is refused at once with 429 and a Retry-After of the time the backlog
needs to drain. An idle service admits any request, however long: nothing could serve it
sooner.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AdmissionPolicy:
    #: Every admitted request may take this long, whatever its size (seconds).
    latency_budget_s: float = 0.4
    #: ...or this many times its time alone, when that is longer. The processor-sharing
    #: estimate runs short of the real wait (HTTP, tokenising and decoding also share the
    #: cores): at 0.5 s and 1.5x, a 5-minute run at 2x capacity kept accepted p95 at 2.1x
    #: the unloaded p95 (`chitieu loadtest`, 2026-12-06).
    max_slowdown: float = 1.25
    #: The admitted backlog must drain within this (the shutdown grace, less a margin).
    drain_budget_s: float = 24.0
    #: Fixed cost of a document, in characters: tokenising, one more window, linking.
    document_overhead_chars: int = 500
    #: Units per second assumed until the first measurement (a warm-up replaces it).
    initial_rate: float = 5000.0


class Overloaded(RuntimeError):
    """Refused without queueing anything; `retry_after` is whole seconds (at least 1)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(eq=False)
class Ticket:
    """One admitted request: its cost in units, its documents, and how far the model is
    through its windows (the batcher counts them), so that a request nearly done weighs
    little on the next admission."""

    cost: float
    documents: int
    admitted_at: float = field(default_factory=time.monotonic)
    windows: int = 0
    windows_done: int = 0

    def remaining(self) -> float:
        if self.windows <= 0:
            return self.cost
        return self.cost * max(0.0, 1.0 - self.windows_done / self.windows)


class Throughput:
    """Cost units completed per second of busy time, averaged over recent requests.

    Busy time is wall time with at least one request in flight, so concurrent requests
    share it: under load this is the service's throughput, alone it is one request's speed.
    Until something is measured, the policy's initial rate stands in.
    """

    def __init__(self, initial_rate: float, decay: float = 0.9) -> None:
        self.decay = decay
        self.initial_rate = initial_rate
        self._units = 0.0
        self._seconds = 0.0

    @property
    def rate(self) -> float:
        return self._units / self._seconds if self._seconds > 0 else self.initial_rate

    def seed(self, units: float, seconds: float) -> None:
        """Start again from one measurement (a newly loaded model's warm-up)."""
        if seconds > 0 and units > 0:
            self._units, self._seconds = units, seconds

    def add(self, units: float, busy_seconds: float) -> None:
        if busy_seconds <= 0:
            return
        self._units = self.decay * self._units + units
        self._seconds = self.decay * self._seconds + busy_seconds


class Admission:
    """Thread-safe bookkeeping of admitted tickets against an AdmissionPolicy."""

    def __init__(self, policy: AdmissionPolicy | None = None, max_documents: int = 64) -> None:
        """Without a policy, only `max_documents` limits admission (the work is still measured)."""
        self.by_work = policy is not None
        self.policy = policy or AdmissionPolicy()
        self.max_documents = max_documents
        self.throughput = Throughput(self.policy.initial_rate)
        self._lock = threading.Lock()
        self._tickets: set[Ticket] = set()
        self._documents = 0
        self._last_event = time.monotonic()
        self._busy_since_completion = 0.0

    # -- what the batcher and metrics read ---------------------------------------------

    @property
    def documents(self) -> int:
        return self._documents

    @property
    def backlog_units(self) -> float:
        return sum(t.remaining() for t in list(self._tickets))

    def backlog_seconds(self) -> float:
        return self.backlog_units / self.throughput.rate

    def cost(self, texts: list[str]) -> float:
        return float(sum(len(t) for t in texts) + self.policy.document_overhead_chars * len(texts))

    # -- admitting and releasing ------------------------------------------------------

    def admit(self, texts: list[str]) -> Ticket:
        """A ticket for these documents, or Overloaded (nothing was taken)."""
        cost = self.cost(texts)
        with self._lock:
            self._tick()
            rate = self.throughput.rate
            backlog = sum(t.remaining() for t in self._tickets)
            if self._documents + len(texts) > self.max_documents:
                raise Overloaded(
                    f"the server is busy ({self._documents} documents in flight, limit {self.max_documents}); "
                    f"retry after the Retry-After seconds" + (" or send smaller batches" if len(texts) > 1 else ""),
                    self._retry_after(backlog, rate),
                )
            if self.by_work and self._tickets:
                alone = cost / rate
                # Served in turns beside the admitted ones, it waits for each of them up to
                # its own size (processor sharing), then for itself.
                shared = (sum(min(t.remaining(), cost) for t in self._tickets) + cost) / rate
                allowed = max(self.policy.latency_budget_s, self.policy.max_slowdown * alone)
                if shared > allowed or (backlog + cost) / rate > self.policy.drain_budget_s:
                    raise Overloaded(
                        f"the server is busy: this request would take about {shared:.1f} s behind the "
                        f"{len(self._tickets)} admitted (it is allowed {allowed:.1f} s); retry after the "
                        "Retry-After seconds" + (" or send smaller batches" if len(texts) > 1 else ""),
                        self._retry_after(backlog, rate),
                    )
            ticket = Ticket(cost, len(texts))
            self._tickets.add(ticket)
            self._documents += len(texts)
            return ticket

    def release(self, ticket: Ticket, completed: bool) -> None:
        """The request ended; a completed one's cost and busy time teach the throughput."""
        with self._lock:
            if ticket not in self._tickets:
                return
            self._tick()
            self._tickets.discard(ticket)
            self._documents -= ticket.documents
            if completed:
                self.throughput.add(ticket.cost, self._busy_since_completion)
            # A cancelled or failed request did an unknown share of its work: its busy time
            # teaches nothing, and must not be billed to the next request that completes.
            self._busy_since_completion = 0.0

    def _tick(self) -> None:
        now = time.monotonic()
        if self._tickets:
            self._busy_since_completion += now - self._last_event
        self._last_event = now

    @staticmethod
    def _retry_after(backlog: float, rate: float) -> int:
        return min(60, max(1, math.ceil(backlog / rate)))
