"""The load command's harness, for a few seconds against the lexicon model (the real run is
`make loadtest`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from chitieu.model_folder import write_promoted
from chitieu.serve.app import create_app
from chitieu.serve.loadtest import Latencies, drive, report_json, require_loopback
from chitieu.serve.settings import Settings
from tests.fakes import TEXT, fake_loader, write_fake_model
from tests.servers import uvicorn_in_thread


@pytest.mark.slow  # a load run by nature (seconds of traffic on two cores); `pytest -m slow`
def test_a_short_load_run_reports_every_column_and_holds(tmp_path: Path) -> None:
    models = tmp_path / "models"
    write_fake_model(models / "slow", name="slow", delay=0.01)
    write_promoted(models, "slow")
    app = create_app(Settings(models_dir=models, device="cpu", latency_budget_s=0.05), loader=fake_loader)
    texts = [TEXT, "\n".join([TEXT] * 3), "Không có gì."]
    with uvicorn_in_thread(app) as running:
        report = asyncio.run(
            drive(
                running.base_url, os.getpid(), texts, minutes=0.05, factor=3.0, documents=6,
                capacity_seconds=1.0, after_requests=3,
            )
        )
    load = report.load
    assert load.sent > 0 and load.sent == load.results + load.refused_429 + load.unavailable_503 + load.other_4xx + load.server_errors + load.lost + load.refusals_without_retry_after
    assert load.server_errors == 0 and load.lost == 0 and load.refusals_without_retry_after == 0
    assert report.capacity_rps > 0 and report.offered_rps == pytest.approx(3 * report.capacity_rps)
    assert report.after_all_ok and report.rss_mb
    table = report.table()
    for column in ("429 with Retry-After", "5xx", "lost (no answer)", "accepted p50 / p95 under load", "RSS start / max / end"):
        assert column in table
    assert '"accepted_seconds"' not in report_json(report)


@pytest.mark.parametrize("url", ["http://10.0.0.5:8000", "https://example.org", "http://0.0.0.0:8000"])
def test_only_loopback_servers_are_driven(url: str) -> None:
    with pytest.raises(ValueError, match="only drives a server on this machine"):
        require_loopback(url)
    assert require_loopback("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"


def test_quantiles() -> None:
    assert Latencies.of([]) == Latencies(0, None, None)
    summary = Latencies.of([float(i) for i in range(1, 101)])
    assert (summary.p50, summary.p95) == (50.0, 95.0)
