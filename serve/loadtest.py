"""`chitieu loadtest`: drive a chitieu service on loopback at twice its measured capacity.

Phases, all against one server on 127.0.0.1 (the command starts `chitieu serve` itself on
a free port unless given the URL of one already running on loopback):
1. unloaded: each document of a pool (`documents` articles of the corpus) once,
   one at a time, for the unloaded p50/p95; every later phase draws from the same pool;
2. capacity: two clients back to back (a closed loop), answers per second;
3. load: arrivals at `factor` x capacity (Poisson, seeded) for `minutes`, each request
   with a timeout, bounded by `max_requests`;
4. after: requests one at a time again, to see that normal service resumes at once.
The server's resident memory is sampled every second throughout (Linux /proc).

Every load request ends in exactly one column: a result (200), a refusal that carries
Retry-After (429, 503), one without it, another 4xx, a 5xx, or lost (no answer: timeout,
connection error). Texts are the annotated corpus's articles, shuffled with a seed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
MAX_MINUTES = 60.0
#: Seconds a load request may take before it counts as lost.
REQUEST_TIMEOUT_S = 120.0


@dataclass
class Latencies:
    count: int
    p50: float | None
    p95: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> "Latencies":
        ordered = sorted(seconds)
        return cls(len(ordered), _quantile(ordered, 0.5), _quantile(ordered, 0.95))


@dataclass
class LoadOutcome:
    """What the load phase's requests got, one column each."""

    sent: int = 0
    results: int = 0
    refused_429: int = 0
    unavailable_503: int = 0
    refusals_without_retry_after: int = 0
    other_4xx: int = 0
    server_errors: int = 0
    lost: int = 0
    accepted_seconds: list[float] = field(default_factory=list)
    refused_seconds: list[float] = field(default_factory=list)


@dataclass
class Report:
    conditions: dict[str, Any]
    unloaded: Latencies
    capacity_rps: float
    offered_rps: float
    load: LoadOutcome
    accepted: Latencies
    after: Latencies
    after_all_ok: bool
    rss_mb: list[tuple[float, float]]
    checks: dict[str, bool]

    def table(self) -> str:
        """The issue's table, in Markdown."""
        o = self.load
        rss = [mb for _, mb in self.rss_mb]
        rows = [
            ("requests sent under load", str(o.sent)),
            ("results (200)", str(o.results)),
            ("429 with Retry-After", str(o.refused_429)),
            ("503 with Retry-After", str(o.unavailable_503)),
            ("refusals without Retry-After", str(o.refusals_without_retry_after)),
            ("other 4xx", str(o.other_4xx)),
            ("5xx", str(o.server_errors)),
            ("lost (no answer)", str(o.lost)),
            ("unloaded p50 / p95", f"{_s(self.unloaded.p50)} / {_s(self.unloaded.p95)} ({self.unloaded.count} requests)"),
            ("capacity (closed loop, 2 clients)", f"{self.capacity_rps:.2f} requests/s"),
            ("offered load", f"{self.offered_rps:.2f} requests/s for {self.conditions['minutes']} min"),
            ("accepted p50 / p95 under load", f"{_s(self.accepted.p50)} / {_s(self.accepted.p95)}"),
            ("refusals answered within (max)", _s(max(o.refused_seconds)) if o.refused_seconds else "-"),
            ("RSS start / max / end", f"{rss[0]:.0f} / {max(rss):.0f} / {rss[-1]:.0f} MB" if rss else "-"),
            ("after the load: p50 / p95, all 200", f"{_s(self.after.p50)} / {_s(self.after.p95)}, {self.after_all_ok}"),
        ]
        lines = ["| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)]
        lines += ["", "| check | holds |", "|---|---|", *(f"| {k} | {'yes' if v else 'NO'} |" for k, v in self.checks.items())]
        return "\n".join(lines)

    def rss_per_minute(self) -> list[tuple[int, float]]:
        by_minute: dict[int, float] = {}
        for t, mb in self.rss_mb:
            by_minute[int(t // 60)] = max(by_minute.get(int(t // 60), 0.0), mb)
        return sorted(by_minute.items())


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f} s"


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def require_loopback(url: str) -> str:
    host = urlsplit(url).hostname or ""
    if host not in LOOPBACK_HOSTS and f"[{host}]" not in LOOPBACK_HOSTS:
        raise ValueError(f"the load test only drives a server on this machine (127.0.0.1, localhost, ::1), not {host!r}")
    return url.rstrip("/")


def corpus_texts(path: Path, seed: int = 18) -> list[str]:
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not texts:
        raise ValueError(f"{path} holds no documents; pass --texts with a JSONL file of {{\"text\": ...}} lines")
    random.Random(seed).shuffle(texts)
    return texts


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def _sample_rss(pid: int, started: float, into: list[tuple[float, float]], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            into.append((round(time.monotonic() - started, 1), round(rss_mb(pid), 1)))
        except (OSError, RuntimeError):
            return  # the process is gone; the report shows what was sampled
        try:
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        except TimeoutError:
            pass


async def _one_at_a_time(client: Any, url: str, texts: Iterator[str], count: int) -> tuple[list[float], bool]:
    seconds, all_ok = [], True
    for _ in range(count):
        started = time.monotonic()
        r = await client.post(f"{url}/extract", json={"text": next(texts)}, timeout=REQUEST_TIMEOUT_S)
        seconds.append(time.monotonic() - started)
        all_ok = all_ok and r.status_code == 200
    return seconds, all_ok


async def _closed_loop(client: Any, url: str, texts: Iterator[str], clients: int, duration_s: float) -> float:
    deadline = time.monotonic() + duration_s
    done = 0
    started = time.monotonic()

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            r = await client.post(f"{url}/extract", json={"text": next(texts)}, timeout=REQUEST_TIMEOUT_S)
            if r.status_code == 200:
                done += 1
            elif r.status_code == 429:
                await asyncio.sleep(0.05)

    await asyncio.gather(*(worker() for _ in range(clients)))
    return done / (time.monotonic() - started)


async def _open_loop(
    client: Any, url: str, texts: Iterator[str], rate: float, duration_s: float, max_requests: int, seed: int
) -> LoadOutcome:
    outcome = LoadOutcome()
    rng = random.Random(seed)
    tasks: set[asyncio.Task[None]] = set()

    async def send(text: str) -> None:
        started = time.monotonic()
        try:
            r = await client.post(f"{url}/extract", json={"text": text}, timeout=REQUEST_TIMEOUT_S)
        except Exception:  # timeout, reset, refused: no answer came back
            outcome.lost += 1
            return
        seconds = time.monotonic() - started
        code = r.status_code
        if code == 200:
            outcome.results += 1
            outcome.accepted_seconds.append(seconds)
        elif code in (429, 503):
            if "retry-after" not in r.headers:
                outcome.refusals_without_retry_after += 1
            elif code == 429:
                outcome.refused_429 += 1
            else:
                outcome.unavailable_503 += 1
            outcome.refused_seconds.append(seconds)
        elif code >= 500:
            outcome.server_errors += 1
        else:
            outcome.other_4xx += 1

    deadline = time.monotonic() + duration_s
    next_at = time.monotonic()
    while next_at < deadline and outcome.sent < max_requests:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        task = asyncio.create_task(send(next(texts)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        outcome.sent += 1
        next_at += rng.expovariate(rate)
    if tasks:
        await asyncio.gather(*tasks)
    return outcome


async def drive(
    url: str,
    pid: int,
    texts: Sequence[str],
    *,
    minutes: float = 5.0,
    factor: float = 2.0,
    documents: int = 30,
    capacity_seconds: float = 60.0,
    after_requests: int = 10,
    max_requests: int = 20_000,
    seed: int = 18,
) -> Report:
    """Run the four phases against the server at `url` (process `pid`) and report."""
    import httpx

    if not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"minutes must be in (0, {MAX_MINUTES}], got {minutes}")
    url = require_loopback(url)
    # One pool for every phase: the unloaded phase sends each of its documents once, and the
    # load draws from the same documents, so that the two p95s compare like with like.
    pool = list(texts[:documents])
    cycle = _cycle(pool, seed)
    conditions = {
        "minutes": minutes,
        "factor": factor,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
        "documents": len(pool),
        "mean_chars": round(sum(map(len, pool)) / len(pool)),
        "max_chars": max(map(len, pool)),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    samples: list[tuple[float, float]] = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pid, time.monotonic(), samples, stop))
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
    try:
        async with httpx.AsyncClient(limits=limits, timeout=REQUEST_TIMEOUT_S) as client:
            conditions["model"] = (await client.get(f"{url}/model")).json().get("folder")
            unloaded, _ = await _one_at_a_time(client, url, iter(pool), len(pool))
            capacity = await _closed_loop(client, url, cycle, 2, capacity_seconds)
            offered = factor * capacity
            load = await _open_loop(client, url, cycle, offered, minutes * 60, max_requests, seed)
            conditions["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
            after, after_ok = await _one_at_a_time(client, url, cycle, after_requests)
    finally:
        stop.set()
        await sampler
    unloaded_summary, accepted = Latencies.of(unloaded), Latencies.of(load.accepted_seconds)
    after_summary = Latencies.of(after)
    half = len(samples) // 2
    first, second = [mb for _, mb in samples[:half]], [mb for _, mb in samples[half:]]
    checks = {
        "no 5xx": load.server_errors == 0,
        "nothing lost": load.lost == 0,
        "every refusal carries Retry-After": load.refusals_without_retry_after == 0,
        "every request answered (a result or a refusal)": load.results + load.refused_429 + load.unavailable_503 == load.sent,
        "accepted p95 within 2x the unloaded p95": accepted.p95 is not None
        and unloaded_summary.p95 is not None
        and accepted.p95 <= 2 * unloaded_summary.p95,
        # Bounded: the second half of the run holds no more than the first half plus 10%.
        "RSS bounded": bool(first and second) and max(second) <= 1.1 * max(first),
        "normal service right after": after_ok
        and after_summary.p95 is not None
        and unloaded_summary.p95 is not None
        and after_summary.p95 <= 2 * unloaded_summary.p95,
    }
    return Report(conditions, unloaded_summary, capacity, offered, load, accepted, after_summary, after_ok, samples, checks)


def _cycle(texts: Sequence[str], seed: int) -> Iterator[str]:
    """The texts over and over, each round in a new seeded order."""
    rng = random.Random(seed)
    order = list(texts)
    while True:
        rng.shuffle(order)
        yield from order


@contextmanager
def served(model: str | None, env: dict[str, str], ready_timeout: float = 600.0) -> Iterator[tuple[str, int]]:
    """`chitieu serve` on a free loopback port, as a child process; (url, pid) once ready."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "chitieu.cli", "serve", "--host", "127.0.0.1", "--port", str(port)]
    if model:
        command += ["--model", model]
    log = open(os.devnull, "wb")  # the server's JSON log would drown the report
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + ready_timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"`chitieu serve` exited with {process.returncode}; run it by hand to see why")
            try:
                if httpx.get(f"{url}/ready", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server was not ready after {ready_timeout:.0f} s")
            time.sleep(0.5)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def report_json(report: Report) -> str:
    data = asdict(report)
    data["load"].pop("accepted_seconds")
    data["load"].pop("refused_seconds")
    return json.dumps(data, indent=1)
