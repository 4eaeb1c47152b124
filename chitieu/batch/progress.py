"""What a running batch job has done: documents, tuples, errors, throughput."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TextIO

from chitieu.batch.rows import DocumentResult


@dataclass(frozen=True)
class Summary:
    output: str
    engine: str
    documents: int  # extracted by this run (not counting partitions finished before)
    ok: int
    errors: int
    tuples: int
    partitions_written: int
    partitions_skipped: int
    partitions: int
    seconds: float  # from the first document read to the last partition written
    documents_per_second: float


@dataclass
class Progress:
    output: str
    engine: str
    total_documents: int
    partitions: int
    skipped_partitions: int
    skipped_documents: int
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    interval: float = 10.0  # seconds between progress lines
    documents: int = 0
    errors: int = 0
    tuples: int = 0
    written: int = 0
    started: float = field(default_factory=time.monotonic)
    _last_line: float = 0.0

    def start(self) -> None:
        """Start the clock: the engine is about to load the model and read the first partition."""
        self.started = self._last_line = time.monotonic()
        print(
            f"batch: {self.total_documents:,} documents in {self.partitions:,} partitions; "
            f"{self.skipped_partitions:,} partitions ({self.skipped_documents:,} documents) already written",
            file=self.stream,
            flush=True,
        )

    def add(self, results: Sequence[DocumentResult]) -> None:
        self.documents += len(results)
        self.errors += sum(r.document.status == "error" for r in results)
        self.tuples += sum(len(r.tuples) for r in results)
        self._maybe_report()

    def partition_written(self) -> None:
        self.written += 1
        self._maybe_report()

    def _maybe_report(self) -> None:
        # The last line is the caller's `report()` once everything is written.
        unfinished = self.skipped_documents + self.documents < self.total_documents
        if unfinished and time.monotonic() - self._last_line >= self.interval:
            self.report()

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.documents / elapsed if elapsed > 0 else 0.0

    def report(self) -> None:
        self._last_line = time.monotonic()
        done = self.skipped_documents + self.documents
        left = self.total_documents - done
        eta = f", about {_duration(left / self.rate)} left" if self.rate > 0 and left > 0 else ""
        print(
            f"batch: {done:,}/{self.total_documents:,} documents, {self.tuples:,} tuples, {self.errors:,} errors, "
            f"{self.skipped_partitions + self.written:,}/{self.partitions:,} partitions, {self.rate:.2f} documents/s{eta}",
            file=self.stream,
            flush=True,
        )

    def summary(self) -> Summary:
        elapsed = time.monotonic() - self.started
        return Summary(
            output=self.output,
            engine=self.engine,
            documents=self.documents,
            ok=self.documents - self.errors,
            errors=self.errors,
            tuples=self.tuples,
            partitions_written=self.written,
            partitions_skipped=self.skipped_partitions,
            partitions=self.partitions,
            seconds=round(elapsed, 3),
            documents_per_second=round(self.rate, 3),
        )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
