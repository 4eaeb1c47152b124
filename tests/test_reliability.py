"""One request must never stall the service (issue 18): each failure it found, as a test.

1. a 16k-character run-on request is answered in under 2 s, and a small request sent
   during it in under 1 s (they took 26 s and ~25 s);
2. a client that disconnects stops using the model and is logged as 499;
3. /admin/reload checks the token before reading the body, caps it, and answers 400 (not
   500) for names the file system refuses;
4. work still running when the shutdown grace ends answers 503 with Retry-After;
5. admission by expected work: what cannot be answered in good time is refused at once
   with 429 and Retry-After, and a short request is not queued behind a long one;
6. the OpenAPI document states the limits and rules the server enforces;
7. the smaller ones: no paths in public 503s, clear 400/415 answers, unknown adapters
   refused, no progress bars in the log.
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from chitieu.extract.goal_classifier import GoalClassifier
from chitieu.model_folder import read_promoted, write_promoted
from chitieu.paths import models_dir as repo_models_dir
from chitieu.serve.admission import Admission, AdmissionPolicy, Overloaded
from chitieu.serve.app import create_app
from chitieu.serve.batcher import Batcher
from chitieu.serve.logging import LOGGER_NAME, JsonFormatter
from chitieu.serve.settings import Settings
from tests.fakes import TEXT, fake_loader, write_fake_model
from tests.servers import uvicorn_in_thread

TOKEN = "reliable-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def run_on(chars: int, unit: str = "Bến Tre 9,3% ") -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


@pytest.fixture
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    write_fake_model(root / "model-a", name="fake-a", version="1")
    write_fake_model(root / "slow", name="slow", version="1", delay=0.05)
    write_promoted(root, "model-a")
    return root


def settings_for(models: Path, **overrides: Any) -> Settings:
    return Settings(**{"models_dir": models, "admin_token": TOKEN, "device": "cpu", **overrides})


@contextmanager
def client_for(settings: Settings, loader: Any = fake_loader) -> Iterator[TestClient]:
    with TestClient(create_app(settings, loader=loader), raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 10
        while client.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, client.get("/ready").json()
            time.sleep(0.02)
        yield client


@contextmanager
def logged() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


def lexicon_with_goal_vote(folder: Path, device: str = "cpu", batch_size: int = 8) -> Any:
    """The lexicon model with the promoted model's real goal classifier: the vote runs too."""
    extractor = fake_loader(folder, device, batch_size)
    promoted = read_promoted(repo_models_dir())
    assert promoted is not None
    extractor.goal_classifier = GoalClassifier.load(promoted)
    return extractor


# --- 1. one long request never stalls the others --------------------------------------------


def test_a_16k_run_on_request_is_fast_and_a_small_one_sent_during_it_is_answered_in_under_1_s(models: Path) -> None:
    with client_for(settings_for(models), loader=lexicon_with_goal_vote) as client:
        text = run_on(16_000)
        big: dict[str, Any] = {}

        def send_big() -> None:
            started = time.perf_counter()
            big["r"] = client.post("/extract", json={"text": text})
            big["seconds"] = time.perf_counter() - started

        thread = threading.Thread(target=send_big)
        thread.start()
        time.sleep(0.1)
        started = time.perf_counter()
        small = client.post("/extract", json={"text": TEXT})
        small_seconds = time.perf_counter() - started
        thread.join(timeout=60)
        assert small.status_code == 200 and small.json()["targets"]
        assert big["r"].status_code == 200 and len(big["r"].json()["entities"]) > 1000
        assert big["seconds"] < 2.0, f"the 16k run-on request took {big['seconds']:.1f} s"
        assert small_seconds < 1.0, f"the small request took {small_seconds:.1f} s"


def test_a_short_request_does_not_wait_for_a_long_documents_windows(tmp_path: Path) -> None:
    extractor = fake_loader(write_fake_model(tmp_path / "slow", delay=0.02))
    long_text = "\n".join([TEXT] * 50)
    n_windows = len(extractor.prepare(long_text).windows)

    async def body() -> tuple[float, float]:
        batcher = Batcher(workers=1, micro_batch=2, max_wait_s=0)
        try:
            started = time.perf_counter()
            long_task = asyncio.create_task(batcher.extract(extractor, [("long", long_text)]))
            await asyncio.sleep(0.1)
            small_started = time.perf_counter()
            await batcher.extract(extractor, [("short", TEXT)])
            small = time.perf_counter() - small_started
            await long_task
            return small, time.perf_counter() - started
        finally:
            await asyncio.to_thread(batcher.close)

    small, long_ = asyncio.run(body())
    assert n_windows >= 40 and long_ >= n_windows / 2 * 0.02
    # Round-robin: the short request's window rides in the next model call or the one after.
    assert small < 0.25, f"{small:.2f} s for one window while a {n_windows}-window document ran ({long_:.2f} s)"


# --- 2. a client that has gone stops using the model -----------------------------------------


def test_a_client_that_disconnects_stops_using_the_model_and_is_logged_as_499(models: Path) -> None:
    settings = settings_for(models, model="slow", micro_batch_windows=1)
    app = create_app(settings, loader=fake_loader)
    long_text = "\n".join([TEXT] * 60)
    with logged() as stream, uvicorn_in_thread(app) as running:
        runner = app.state.service.slot.current.extractor.runner
        n_windows = len(app.state.service.slot.current.extractor.prepare(long_text).windows)
        runner.calls.clear()
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{running.base_url}/extract", json={"text": long_text}, timeout=0.5)
        time.sleep(0.5)  # the disconnect reaches the server; at most the call in progress ends
        after_disconnect = len(runner.calls)
        time.sleep(1.0)
        assert len(runner.calls) == after_disconnect, "the model kept running windows for a client that left"
        assert after_disconnect < n_windows / 3, (after_disconnect, n_windows)
        assert app.state.service.batcher.pending == 0
        metrics = httpx.get(f"{running.base_url}/metrics").text
        assert 'chitieu_requests_total{endpoint="/extract",method="POST",status="499"} 1.0' in metrics
        assert httpx.post(f"{running.base_url}/extract", json={"text": TEXT}, timeout=30).status_code == 200
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    gone = [x for x in lines if x["message"] == "client gone"]
    assert len(gone) == 1 and gone[0]["status"] == 499 and gone[0]["endpoint"] == "/extract"


# --- 3. /admin/reload -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"model": "a" * 256}).encode(),
        json.dumps({"model": "é" * 200}).encode(),  # 400 bytes in UTF-8
        b'{"model": "ab\\ud800cd"}',  # a lone surrogate
        json.dumps({"model": "model-a\x00"}).encode(),
    ],
    ids=["256 bytes", "400 bytes of UTF-8", "lone surrogate", "NUL"],
)
def test_reload_answers_400_for_names_the_file_system_refuses(models: Path, body: bytes) -> None:
    with client_for(settings_for(models)) as client:
        r = client.post("/admin/reload", content=body, headers={**AUTH, "content-type": "application/json"})
        assert r.status_code == 400, r.text
        assert "models directory" in r.json()["message"]
        assert client.get("/model").json()["folder"] == "model-a"


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({}, b"{not json", 401),
        ({}, b"x" * 20_000, 401),
        ({"Authorization": "Bearer wrong"}, b'{"model": "' + b"\xff" * 10 + b'"}', 403),
        (AUTH, json.dumps({"model": "a" * 5000}).encode(), 413),
        (AUTH, b"{not json", 422),
    ],
    ids=["no token, bad JSON", "no token, big body", "wrong token, bad bytes", "token, body over 4 KiB", "token, bad JSON"],
)
def test_reload_checks_the_token_before_reading_the_body(models: Path, headers: dict[str, str], body: bytes, status: int) -> None:
    with client_for(settings_for(models)) as client:
        r = client.post("/admin/reload", content=body, headers={**headers, "content-type": "application/json"})
        assert r.status_code == status, r.text
        assert isinstance(r.json()["message"], str)


def test_reload_with_a_form_content_type_says_to_send_json(models: Path) -> None:
    with client_for(settings_for(models)) as client:
        r = client.post("/admin/reload", content=b'{"model": "model-a"}', headers={**AUTH, "content-type": "application/x-www-form-urlencoded"})
        assert r.status_code == 422 and "Content-Type: application/json" in r.json()["message"]
        r = client.post("/admin/reload", json={"model": "model-a"}, headers=AUTH)
        assert r.status_code == 200 and r.json()["model"]["folder"] == "model-a"


def test_the_readme_reload_example_sends_json() -> None:
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    lines = readme.splitlines()
    calls = [k for k, line in enumerate(lines) if "/admin/reload" in line and line.lstrip().startswith("curl")]
    # A curl command may go on over continuation lines (ending in a backslash).
    commands = []
    for k in calls:
        command = lines[k]
        while command.endswith("\\") and k + 1 < len(lines):
            k += 1
            command = command[:-1] + lines[k]
        commands.append(command)
    assert commands and all("content-type: application/json" in c.lower() for c in commands), commands


# --- 4. shutdown ------------------------------------------------------------------------------


def test_work_still_running_when_the_shutdown_grace_ends_answers_503_with_retry_after(models: Path) -> None:
    settings = settings_for(models, model="slow", micro_batch_windows=1, shutdown_grace_s=1.0)
    app = create_app(settings, loader=fake_loader)
    long_text = "\n".join([TEXT] * 80)  # over 4 s of model calls
    answer: dict[str, Any] = {}
    with uvicorn_in_thread(app, timeout_graceful_shutdown=settings.shutdown_grace_s) as running:

        def send() -> None:
            answer["r"] = httpx.post(f"{running.base_url}/extract", json={"text": long_text}, timeout=30)

        thread = threading.Thread(target=send)
        thread.start()
        deadline = time.monotonic() + 10
        while app.state.service.batcher.pending == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        started = time.monotonic()
        running.server.should_exit = True  # what SIGTERM does
        thread.join(timeout=30)
        running.thread.join(timeout=30)
        assert time.monotonic() - started < 5
    r = answer["r"]
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] and "shutting down" in r.json()["message"]


def test_the_admitted_backlog_fits_the_drain_budget() -> None:
    admission = Admission(AdmissionPolicy(latency_budget_s=100, max_slowdown=100, drain_budget_s=2.0, initial_rate=1000))
    first = admission.admit(["a" * 500])  # 1,000 units: 1 s
    with pytest.raises(Overloaded) as refused:
        admission.admit(["a" * 1000])  # 1.5 s more: 2.5 s > 2 s
    assert refused.value.retry_after >= 1
    admission.release(first, completed=True)
    assert admission.admit(["a" * 5000]).cost == 5500  # an idle service takes anything


# --- 5. admission by expected work ---------------------------------------------------------------


def test_admission_compares_the_expected_time_with_the_budget() -> None:
    policy = AdmissionPolicy(latency_budget_s=0.5, max_slowdown=2.0, drain_budget_s=100, document_overhead_chars=0, initial_rate=1000)
    admission = Admission(policy)
    big = admission.admit(["x" * 10_000])  # 10 s alone
    small = admission.admit(["x" * 200])  # beside it: 0.2 + 0.2 s <= 0.5 s
    assert admission.documents == 2
    with pytest.raises(Overloaded, match="busy") as refused:
        admission.admit(["x" * 300])  # 0.2 + 0.3 + 0.3 = 0.8 s > max(0.5, 0.6)
    assert 1 <= refused.value.retry_after <= 60
    admission.release(small, completed=True)
    admission.release(big, completed=False)
    assert admission.documents == 0 and admission.backlog_units == 0


def test_a_request_nearly_done_weighs_little_on_the_next_admission() -> None:
    policy = AdmissionPolicy(latency_budget_s=0, max_slowdown=1.5, drain_budget_s=100, document_overhead_chars=0, initial_rate=1000)
    admission = Admission(policy)
    first = admission.admit(["x" * 1000])
    with pytest.raises(Overloaded):
        admission.admit(["x" * 1000])  # 1 s + 1 s > 1.5 x 1 s
    first.windows, first.windows_done = 10, 8  # the batcher counts the model's progress
    assert admission.backlog_units == pytest.approx(200)
    admission.admit(["x" * 1000])  # 0.2 s + 1 s


def test_the_batcher_counts_each_requests_windows(tmp_path: Path) -> None:
    extractor = fake_loader(write_fake_model(tmp_path / "a"))
    text = "\n".join([TEXT] * 5)

    async def body() -> None:
        batcher = Batcher(workers=1, micro_batch=2, max_wait_s=0)
        seen: list[Any] = []
        admit = batcher.admission.admit

        def spy(texts: list[str]) -> Any:
            seen.append(admit(texts))
            return seen[-1]

        batcher.admission.admit = spy  # type: ignore[method-assign]
        try:
            await batcher.extract(extractor, [("a", text), ("b", TEXT)])
        finally:
            await asyncio.to_thread(batcher.close)
        [ticket] = seen
        assert ticket.windows == len(extractor.prepare(text).windows) + 1 == ticket.windows_done

    asyncio.run(body())


def test_throughput_is_learnt_from_completed_requests() -> None:
    admission = Admission(AdmissionPolicy(document_overhead_chars=0, initial_rate=1_000_000))
    for _ in range(30):
        ticket = admission.admit(["x" * 1000])
        time.sleep(0.01)
        admission.release(ticket, completed=True)
    assert 20_000 < admission.throughput.rate < 150_000  # ~1000 units per ~10 ms


def test_requests_beyond_the_latency_budget_get_429_at_once_and_the_rest_are_answered(models: Path) -> None:
    settings = settings_for(models, model="slow", latency_budget_s=0.2, max_slowdown=2.0, workers=1)
    with client_for(settings) as client:
        def send(i: int) -> tuple[int, float, str | None]:
            started = time.perf_counter()
            r = client.post("/extract", json={"text": TEXT, "id": str(i)})
            return r.status_code, time.perf_counter() - started, r.headers.get("Retry-After")

        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(send, range(16)))
        codes = [code for code, _, _ in answers]
        assert set(codes) <= {200, 429} and codes.count(200) >= 1 and codes.count(429) >= 1, codes
        refused = [(seconds, retry) for code, seconds, retry in answers if code == 429]
        assert all(retry is not None and int(retry) >= 1 for _, retry in refused)
        assert max(seconds for seconds, _ in refused) < 1.0  # refused at once, not after waiting
        metrics = client.get("/metrics").text
        assert f"chitieu_rejected_total {float(codes.count(429))}" in metrics
        assert "chitieu_backlog_seconds 0.0" in metrics
        assert client.post("/extract", json={"text": TEXT}).status_code == 200  # normal service right after


# --- 6. the contract says what the server enforces -------------------------------------------------


def test_the_openapi_document_states_the_limits_and_rules(models: Path) -> None:
    with client_for(settings_for(models, max_text_chars=1234, max_batch_documents=5)) as client:
        spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for name in ("ExtractRequest", "Document"):
        assert schemas[name]["properties"]["text"]["pattern"] == r"\S"
        assert schemas[name]["properties"]["text"]["maxLength"] == 1234
    assert schemas["BatchRequest"]["properties"]["documents"]["maxItems"] == 5
    reload_body = spec["paths"]["/admin/reload"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    model = reload_body["properties"]["model"]
    assert model["pattern"].startswith("^[A-Za-z0-9]") and model["maxLength"] == 200
    for path in ("/setup", "/webhook", "/predict", "/extract", "/admin/reload"):
        assert {"400", "413", "415", "422"} <= set(spec["paths"][path]["post"]["responses"]), path


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/predict", {"tasks": [{"id": 1, "data": {"text": TEXT}}], "project": False}),
        ("/setup", {"project": False}),
        ("/predict", {"tasks": [{"id": True, "data": {"text": TEXT}}]}),
    ],
    ids=["predict project false", "setup project false", "task id true"],
)
def test_booleans_are_not_ids(models: Path, path: str, body: dict[str, Any]) -> None:
    with client_for(settings_for(models)) as client:
        r = client.post(path, json=body)
        assert r.status_code == 422, r.text


# --- 7. the smaller ones -------------------------------------------------------------------------


def test_public_503s_say_what_to_do_without_paths_or_exception_names(models: Path) -> None:
    (models / "broken").mkdir()
    (models / "broken" / "chitieu.json").write_text("{not json", encoding="utf-8")
    write_promoted(models, "broken")
    app = create_app(settings_for(models), loader=fake_loader)
    with TestClient(app, raise_server_exceptions=False) as client:
        deadline = time.monotonic() + 10
        while client.get("/ready").json()["status"] == "loading":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        answers = [client.get("/ready"), client.post("/extract", json={"text": TEXT}), client.get("/model")]
    for r in answers:
        assert r.status_code == 503 and r.headers["Retry-After"]
        text = r.text
        assert str(models) not in text and "Error" not in text and "/admin/reload" in text, text


def test_a_failed_load_is_logged_with_its_cause(models: Path) -> None:
    (models / "broken").mkdir()
    (models / "broken" / "chitieu.json").write_text("{not json", encoding="utf-8")
    write_promoted(models, "broken")
    app = create_app(settings_for(models), loader=fake_loader)  # sets up logging: attach after it
    with logged() as stream:
        with TestClient(app, raise_server_exceptions=False) as client:
            deadline = time.monotonic() + 10
            while client.get("/ready").json()["status"] == "loading":
                assert time.monotonic() < deadline
                time.sleep(0.02)
    failed = [json.loads(line) for line in stream.getvalue().splitlines() if "model failed to load" in line]
    assert failed and failed[0]["folder"].endswith("broken") and "JSONDecodeError" in failed[0]["error"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "hint"),
    [
        (b'{"text": ' + b"7" * 5000 + b"}", {"content-type": "application/json"}, 400, "digits"),
        (b'{"text": "' + b"\xff" + b'"}', {"content-type": "application/json"}, 400, "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, {"content-type": "application/json"}, 400, "nests too deep"),
        (gzip.compress(json.dumps({"text": TEXT}).encode()), {"content-type": "application/json", "content-encoding": "gzip"}, 415, "gzip"),
    ],
    ids=["5000-digit number", "not UTF-8", "nesting", "gzip body"],
)
def test_unreadable_bodies_are_named(models: Path, body: bytes, headers: dict[str, str], status: int, hint: str) -> None:
    with client_for(settings_for(models)) as client:
        r = client.post("/extract", content=body, headers=headers)
        assert r.status_code == status and hint in r.json()["message"], r.text


def test_a_model_folder_with_an_unknown_adapter_kind_is_not_served(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chitieu.extract.extractor import Extractor
    from chitieu.serve.state import load_extractor

    def load(directory: Path, device: str = "auto", batch_size: int = 8, engine: str = "auto") -> Any:
        extractor = fake_loader(directory, device, batch_size)
        extractor.adapter.kind = "bogus" if directory.name == "model-b" else "e5"
        return extractor

    monkeypatch.setattr(Extractor, "load", staticmethod(load))
    with client_for(settings_for(models), loader=load_extractor) as client:
        write_fake_model(models / "model-b", name="fake-b")
        r = client.post("/admin/reload", json={"model": "model-b"}, headers=AUTH)
        assert r.status_code == 422 and "adapter kind is 'bogus'" in r.json()["message"]
        assert client.get("/model").json()["folder"] == "model-a"


def test_progress_bars_are_off_before_a_model_loads(models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from transformers.utils import logging as hf_logging

    from chitieu.extract.extractor import Extractor
    from chitieu.serve.state import load_extractor

    seen: list[bool] = []

    def load(directory: Path, device: str = "auto", batch_size: int = 8, engine: str = "auto") -> Any:
        seen.append(hf_logging.is_progress_bar_enabled())
        extractor = fake_loader(directory, device, batch_size)
        extractor.adapter.kind = "e5"
        return extractor

    hf_logging.enable_progress_bar()
    monkeypatch.setattr(Extractor, "load", staticmethod(load))
    try:
        load_extractor(models / "model-a", "cpu", 8)
    finally:
        hf_logging.enable_progress_bar()
    assert seen == [False]


@pytest.mark.slow
def test_loading_the_default_model_draws_no_progress_bar(default_model_dir: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from chitieu.serve.state import load_extractor

    extractor = load_extractor(default_model_dir, "cpu", 8)
    assert extractor.info["name"]
    err = capfd.readouterr().err
    assert "Loading weights" not in err and "it/s]" not in err, err[-500:]
