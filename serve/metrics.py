"""Prometheus metrics in a registry owned by one app (several apps can live in one process)."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, generate_latest

# Extraction latency spans milliseconds (short text, warm model) to tens of seconds (a
# 100k-character article on CPU), so the buckets reach far past the prometheus defaults.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "chitieu_requests_total", "HTTP requests answered", ["method", "endpoint", "status"], registry=self.registry
        )
        self.latency = Histogram(
            "chitieu_request_duration_seconds",
            "Time to answer an HTTP request",
            ["method", "endpoint", "status"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "chitieu_queue_depth", "Documents admitted and not yet answered", registry=self.registry
        )
        self.queued_windows = Gauge(
            "chitieu_queued_windows", "Windows waiting for a model worker", registry=self.registry
        )
        self.rejected = Counter(
            "chitieu_rejected_total", "Documents refused at admission (429: busy)", registry=self.registry
        )
        self.backlog_seconds = Gauge(
            "chitieu_backlog_seconds", "Expected seconds to answer the admitted requests", registry=self.registry
        )
        self.throughput = Gauge(
            "chitieu_throughput_units_per_second",
            "Measured speed: characters (plus a fixed overhead per document) answered per busy second",
            registry=self.registry,
        )
        self.batch_windows = Histogram(
            "chitieu_model_batch_windows",
            "Windows per model call (micro-batch fill)",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.model_info = Info("chitieu_model", "The model being served", registry=self.registry)
        self.reloads = Counter("chitieu_reloads_total", "Model reloads by outcome", ["outcome"], registry=self.registry)

    def set_model(self, info: dict[str, Any], folder: str) -> None:
        self.model_info.info(
            {"name": str(info.get("name")), "version": str(info.get("version")), "base": str(info.get("base")), "engine": str(info.get("engine")), "folder": folder}
        )

    def observe(self, method: str, endpoint: str, status: int, seconds: float) -> None:
        self.requests.labels(method, endpoint, str(status)).inc()
        self.latency.labels(method, endpoint, str(status)).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
