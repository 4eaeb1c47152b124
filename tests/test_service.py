"""The HTTP service with TestClient and a lexicon model (real Extractor stages, no torch).

Every endpoint, every bad-input case (never a 500 for input), auth and safe names on
/admin/reload, swapping models under load, metrics and JSON logs.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chitieu.model_folder import write_promoted
from chitieu.serve.app import create_app
from chitieu.serve.logging import LOGGER_NAME, JsonFormatter
from chitieu.serve.settings import Settings
from tests.fakes import TEXT, fake_loader, write_fake_model

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    write_fake_model(root / "model-a", name="fake-a", version="1")
    write_fake_model(root / "model-b", name="fake-b", version="2")
    (root / "broken").mkdir()
    (root / "broken" / "chitieu.json").write_text("{not json", encoding="utf-8")
    (root / "empty").mkdir()
    write_promoted(root, "model-a")
    return root


def wait_ready(client: TestClient, timeout: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get("/ready")
        if r.status_code == 200:
            return r.json()
        time.sleep(0.02)
    raise AssertionError(f"not ready after {timeout}s: {r.json()}")


@contextmanager
def serving(models_dir: Path, loader: Any = fake_loader, ready: bool = True, **overrides: Any) -> Iterator[TestClient]:
    settings = Settings(**{"models_dir": models_dir, "admin_token": TOKEN, "device": "cpu", **overrides})
    with TestClient(create_app(settings, loader=loader), raise_server_exceptions=False) as client:
        if ready:
            wait_ready(client)
        yield client


@pytest.fixture
def client(models_dir: Path) -> Iterator[TestClient]:
    with serving(models_dir, max_text_chars=2000, max_batch_documents=3) as c:
        yield c


# --- endpoints ---------------------------------------------------------------------------


def test_extract_returns_the_contract(client: TestClient) -> None:
    r = client.post("/extract", json={"text": TEXT, "id": "doc-1"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "doc-1"
    assert body["model"] == {"name": "fake-a", "version": "1", "base": "lexicon"}
    assert {(e["label"], e["text"]) for e in body["entities"]} == {
        ("PROVINCE", "Bến Tre"),
        ("OFFICIAL", "Lê Đức Thọ"),
        ("INDICATOR", "tăng trưởng GRDP"),
        ("TARGET_VALUE", "9,3% trở lên"),
    }
    for e in body["entities"]:
        assert TEXT[e["start"] : e["end"]] == e["text"]
    [target] = body["targets"]
    assert target["indicator"]["text"] == "tăng trưởng GRDP"
    assert target["value"]["comparator"] == ">=" and target["value"]["number"] == 9.3 and target["value"]["unit"] == "%"
    assert target["official"]["name"] == "Lê Đức Thọ"
    assert target["province"]["name"] == "Bến Tre" and target["province"]["code"] == "83"
    assert target["sentence"] == {"start": 0, "end": len(TEXT)}


def test_extract_without_id_answers_null_id(client: TestClient) -> None:
    r = client.post("/extract", json={"text": "Tỉnh không đặt chỉ tiêu nào."})
    assert r.status_code == 200 and r.json()["id"] is None and r.json()["targets"] == []


def test_batch_answers_in_order(client: TestClient) -> None:
    docs = [{"id": "x", "text": TEXT}, {"id": "y", "text": "Không có gì."}, {"text": TEXT + "\n" + TEXT}]
    r = client.post("/extract/batch", json={"documents": docs})
    assert r.status_code == 200, r.text
    results = r.json()["results"]
    assert [x["id"] for x in results] == ["x", "y", None]
    assert [len(x["targets"]) for x in results] == [1, 0, 1]  # the repeated goal is one tuple
    assert results[0] == client.post("/extract", json=docs[0]).json()


def test_health_ready_and_model(client: TestClient) -> None:
    for path in ("/health", "/"):
        r = client.get(path)
        assert r.status_code == 200 and r.json() == {"status": "UP", "ready": True, "model": "model-a"}
    assert client.get("/ready").json() == {
        "status": "ready",
        "model": {"name": "fake-a", "version": "1", "base": "lexicon"},
        "folder": "model-a",
    }
    info = client.get("/model").json()
    assert info["name"] == "fake-a" and info["version"] == "1" and info["base"] == "lexicon"
    assert info["labels"] == ["PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE"]
    assert info["metrics"] == {"f1": 0.5} and info["folder"] == "model-a"
    assert info["engine"] == "lexicon", "/model says which arithmetic is served"
    assert info["goal_classifier"] is None, "the lexicon fake has no goal classifier"
    assert info["indicator_chooser"] is None and info["official_check"] is None, "nor the other two components"


def test_ready_is_503_until_the_model_is_warm(models_dir: Path) -> None:
    release = threading.Event()

    def slow_loader(folder: Path, device: str, batch_size: int):
        release.wait(timeout=10)
        return fake_loader(folder, device, batch_size)

    with serving(models_dir, loader=slow_loader, ready=False) as client:
        r = client.get("/ready")
        assert r.status_code == 503 and r.json()["status"] == "loading" and r.headers["Retry-After"]
        assert client.get("/health").json() == {"status": "UP", "ready": False, "model": None}
        r = client.post("/extract", json={"text": TEXT})
        assert r.status_code == 503 and "loading" in r.json()["message"] and "Retry-After" in r.headers
        release.set()
        wait_ready(client)
        assert client.post("/extract", json={"text": TEXT}).status_code == 200


def test_without_a_promoted_model_ready_says_what_to_do(models_dir: Path) -> None:
    (models_dir / "PROMOTED").unlink()
    with serving(models_dir, ready=False) as client:
        deadline = time.monotonic() + 5
        while client.get("/ready").json().get("status") == "loading" and time.monotonic() < deadline:
            time.sleep(0.02)
        r = client.get("/ready")
        assert r.status_code == 503 and r.json()["status"] == "failed"
        assert "PROMOTED" in r.json()["detail"] and "CHITIEU_MODEL" in r.json()["detail"]
        assert client.get("/health").status_code == 200
        assert client.post("/extract", json={"text": TEXT}).status_code == 503
        # An operator can still fix it without a restart.
        r = client.post("/admin/reload", json={"model": "model-b"}, headers=AUTH)
        assert r.status_code == 200 and wait_ready(client)["folder"] == "model-b"


def test_settings_can_name_the_model(models_dir: Path) -> None:
    with serving(models_dir, model="model-b") as client:
        assert client.get("/model").json()["name"] == "fake-b"
    with serving(models_dir, model=str(models_dir / "model-b")) as client:
        assert client.get("/model").json()["folder"] == "model-b"


def test_openapi_documents_every_endpoint_and_the_contract(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for path, method in [
        ("/extract", "post"),
        ("/extract/batch", "post"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/model", "get"),
        ("/metrics", "get"),
        ("/predict", "post"),
        ("/setup", "post"),
        ("/webhook", "post"),
        ("/admin/reload", "post"),
    ]:
        assert method in spec["paths"][path], path
    ok = spec["paths"]["/extract"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert ok["$ref"].endswith("/ExtractResponse")
    target = spec["components"]["schemas"]["Target"]["properties"]
    assert set(target) == {"indicator", "value", "official", "province", "sentence", "score"}
    assert set(spec["components"]["schemas"]["Value"]["properties"]) == {
        "text", "start", "end", "comparator", "number", "min", "max", "unit"
    }
    assert {"413", "422", "429", "503"} <= set(spec["paths"]["/extract"]["post"]["responses"])


# --- bad input: always 4xx with a message, never 500 -------------------------------------

BAD_REQUESTS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("empty text", "/extract", {"json": {"text": ""}}, 422, "empty"),
    ("whitespace text", "/extract", {"json": {"text": " \n\t "}}, 422, "empty"),
    ("missing text", "/extract", {"json": {"id": "x"}}, 422, "body.text"),
    ("text not a string", "/extract", {"json": {"text": 42}}, 422, "valid string"),
    ("id not a string", "/extract", {"json": {"text": TEXT, "id": 7}}, 422, "body.id"),
    ("unknown field", "/extract", {"json": {"text": TEXT, "lang": "vi"}}, 422, "body.lang"),
    ("text over the limit", "/extract", {"json": {"text": "a" * 2001}}, 413, "2001 characters"),
    ("invalid JSON", "/extract", {"content": b'{"text": "abc"', "headers": {"content-type": "application/json"}}, 422, "invalid JSON"),
    ("not UTF-8", "/extract", {"content": b'{"text": "B\xe9n Tre \xff"}', "headers": {"content-type": "application/json"}}, 400, "UTF-8"),
    ("JSON array", "/extract", {"json": [TEXT]}, 422, "JSON object"),
    ("no content type", "/extract", {"content": json.dumps({"text": TEXT}).encode()}, 422, "Content-Type"),
    ("lone surrogate", "/extract", {"content": b'{"text": "ab \\ud800 cd"}', "headers": {"content-type": "application/json"}}, 422, "surrogate"),
    ("batch over the limit", "/extract/batch", {"json": {"documents": [{"text": TEXT}] * 4}}, 413, "4 documents"),
    ("empty batch", "/extract/batch", {"json": {"documents": []}}, 422, "body.documents"),
    ("batch text empty", "/extract/batch", {"json": {"documents": [{"text": TEXT}, {"text": " "}]}}, 422, "body.documents.1.text"),
    ("batch text too long", "/extract/batch", {"json": {"documents": [{"text": TEXT}, {"text": "b" * 2001}]}}, 413, "document 1"),
    ("batch not a list", "/extract/batch", {"json": {"documents": {"text": TEXT}}}, 422, "body.documents"),
    ("batch unknown field", "/extract/batch", {"json": {"documents": [{"text": TEXT}], "x": 1}}, 422, "body.x"),
    ("body over the byte limit", "/extract", {"content": b'{"text": "' + b"a" * 200_000 + b'"}', "headers": {"content-type": "application/json"}}, 413, "bytes"),
    ("streamed body over the byte limit", "/extract", {"content": iter([b'{"text": "', b"a" * 200_000, b'"}']), "headers": {"content-type": "application/json"}}, 413, "bytes"),
    ("predict tasks missing", "/predict", {"json": {"project": "1"}}, 422, "body.tasks"),
    ("reload without model", "/admin/reload", {"json": {}, "headers": AUTH}, 422, "body.model"),
]


@pytest.mark.parametrize(("path", "kwargs", "status", "hint"), [b[1:] for b in BAD_REQUESTS], ids=[b[0] for b in BAD_REQUESTS])
def test_bad_input_is_a_4xx_saying_what_to_change(
    models_dir: Path, path: str, kwargs: dict[str, Any], status: int, hint: str
) -> None:
    # A small max_batch_documents keeps the body byte limit small enough to hit cheaply.
    with serving(models_dir, max_text_chars=2000, max_batch_documents=3) as client:
        r = client.post(path, **kwargs)
        assert r.status_code == status, r.text
        body = r.json()
        assert isinstance(body["message"], str) and hint in body["message"], body
        assert "X-Request-ID" in r.headers
        # Still healthy afterwards.
        assert client.post("/extract", json={"text": TEXT}).status_code == 200


def test_validation_errors_do_not_echo_the_article(client: TestClient) -> None:
    r = client.post("/extract", json={"text": TEXT, "extra": "x"})
    assert r.status_code == 422 and TEXT not in r.text


def test_text_whose_offsets_cannot_stay_exact_through_nfc_is_a_422(client: TestClient) -> None:
    r = client.post("/extract", json={"text": "Bến Tre \u1100\u1161"})
    assert r.status_code == 422 and "NFC-normalised" in r.json()["message"], r.text


def test_full_queue_answers_429_with_retry_after(models_dir: Path) -> None:
    with serving(models_dir, queue_size=1, max_batch_documents=1) as client:
        runner = client.app.state.service.slot.current.extractor.runner
        runner.gate = threading.Event()
        first: dict[str, Any] = {}
        worker = threading.Thread(target=lambda: first.update(r=client.post("/extract", json={"text": TEXT})))
        worker.start()
        deadline = time.monotonic() + 5
        while client.app.state.service.batcher.pending == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        r = client.post("/extract", json={"text": TEXT})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1 and "busy" in r.json()["message"]
        r = client.post("/extract/batch", json={"documents": [{"text": TEXT}]})
        assert r.status_code == 429
        runner.gate.set()
        worker.join(timeout=10)
        assert first["r"].status_code == 200
        assert client.post("/extract", json={"text": TEXT}).status_code == 200
        metrics = client.get("/metrics").text
        assert "chitieu_rejected_total 2.0" in metrics


def test_a_failing_model_is_a_500_with_the_request_id(client: TestClient) -> None:
    client.app.state.service.slot.current.extractor.runner.fail = RuntimeError("CUDA error: device-side assert")
    r = client.post("/extract", json={"text": TEXT}, headers={"X-Request-ID": "abc-123"})
    assert r.status_code == 500 and "abc-123" in r.json()["message"] and r.headers["X-Request-ID"] == "abc-123"
    client.app.state.service.slot.current.extractor.runner.fail = None
    assert client.post("/extract", json={"text": TEXT}).status_code == 200


# Label Studio's routes: tests/test_labelstudio_backend.py


# --- admin reload --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status", "hint"),
    [
        ({}, 401, "Bearer"),
        ({"Authorization": TOKEN}, 401, "Bearer"),
        ({"Authorization": f"Basic {TOKEN}"}, 401, "Bearer"),
        ({"Authorization": "Bearer"}, 401, "Bearer"),
        ({"Authorization": "Bearer wrong"}, 403, "wrong admin token"),
    ],
)
def test_reload_needs_the_token(client: TestClient, headers: dict[str, str], status: int, hint: str) -> None:
    r = client.post("/admin/reload", json={"model": "model-b"}, headers=headers)
    assert r.status_code == status and hint in r.json()["message"]
    assert client.get("/model").json()["folder"] == "model-a"


def test_reload_is_disabled_without_a_configured_token(models_dir: Path) -> None:
    with serving(models_dir, admin_token=None) as client:
        r = client.post("/admin/reload", json={"model": "model-b"}, headers=AUTH)
        assert r.status_code == 403 and "CHITIEU_ADMIN_TOKEN" in r.json()["message"]


@pytest.mark.parametrize("name", ["../model-b", "model-a/../model-b", "/etc", "..", ".", "a\\b", "", " model-b", "outside"])
def test_reload_refuses_names_that_leave_the_models_dir(client: TestClient, models_dir: Path, tmp_path: Path, name: str) -> None:
    outside = write_fake_model(tmp_path / "elsewhere", name="evil")
    (models_dir / "outside").symlink_to(outside, target_is_directory=True)
    r = client.post("/admin/reload", json={"model": name}, headers=AUTH)
    assert r.status_code == 400, r.text
    assert "models directory" in r.json()["message"]
    assert client.get("/model").json()["name"] == "fake-a"


def test_reload_to_a_missing_folder_is_404_listing_what_exists(client: TestClient) -> None:
    r = client.post("/admin/reload", json={"model": "model-z"}, headers=AUTH)
    assert r.status_code == 404 and "model-b" in r.json()["message"]


@pytest.mark.parametrize(("folder", "hint"), [("broken", "cannot load"), ("empty", "chitieu.json missing")])
def test_a_failed_reload_keeps_the_old_model(client: TestClient, folder: str, hint: str) -> None:
    r = client.post("/admin/reload", json={"model": folder}, headers=AUTH)
    assert r.status_code == 422 and hint in r.json()["message"] and "still serving model-a" in r.json()["message"]
    assert client.get("/ready").status_code == 200
    r = client.post("/extract", json={"text": TEXT})
    assert r.status_code == 200 and r.json()["model"]["name"] == "fake-a"
    assert 'chitieu_reloads_total{outcome="failed"} 1.0' in client.get("/metrics").text


def test_a_crash_during_warm_up_keeps_the_old_model(models_dir: Path) -> None:
    def loader(folder: Path, device: str, batch_size: int):
        extractor = fake_loader(folder, device, batch_size)
        if folder.name == "model-b":
            extractor.runner.fail = MemoryError("out of memory")
        return extractor

    with serving(models_dir, loader=loader) as client:
        r = client.post("/admin/reload", json={"model": "model-b"}, headers=AUTH)
        assert r.status_code == 500 and "out of memory" in r.json()["message"]
        assert client.get("/model").json()["folder"] == "model-a"


def test_reload_swaps_under_concurrent_requests_without_failures(models_dir: Path) -> None:
    # Admission is kept out of the way: a reload's load pauses the model, the measured
    # throughput drops, and a 429 with Retry-After is then the right answer under load
    # (tested on its own below). This test is about the swap losing or failing nothing.
    with serving(models_dir, workers=2, latency_budget_s=60.0) as client:
        statuses: list[int] = []
        names: list[str] = []
        stop = threading.Event()

        def hammer() -> None:
            while not stop.is_set():
                r = client.post("/extract/batch", json={"documents": [{"text": TEXT}, {"text": TEXT + "\n" + TEXT}]})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    names.extend(x["model"]["name"] for x in r.json()["results"])

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for target in ("model-b", "model-a", "model-b"):
            answered = len(names)
            r = client.post("/admin/reload", json={"model": target}, headers=AUTH)
            assert r.status_code == 200, r.text
            assert r.json()["model"]["folder"] == target
            # Wait until a request is answered by the new model: fixed sleeps let a loaded
            # machine (training on both cores) reload twice before any request ran.
            deadline = time.monotonic() + 10
            while "fake-" + target[-1] not in names[answered:] and time.monotonic() < deadline:
                time.sleep(0.02)
        stop.set()
        for t in threads:
            t.join(timeout=10)
        assert statuses and set(statuses) == {200}
        assert {"fake-a", "fake-b"} <= set(names)
        assert client.get("/model").json()["name"] == "fake-b"
        metrics = client.get("/metrics").text
        assert 'chitieu_model_info{base="lexicon",engine="lexicon",folder="model-b",name="fake-b",version="2"} 1.0' in metrics
        assert 'chitieu_reloads_total{outcome="ok"} 3.0' in metrics


# --- metrics, request ids, logs, CORS -------------------------------------------------------------


def test_metrics_count_requests_per_endpoint_and_status(models_dir: Path) -> None:
    with serving(models_dir) as client, serving(models_dir) as other:
        client.post("/extract", json={"text": TEXT})
        client.post("/extract", json={"text": ""})
        client.get("/nowhere")
        r = client.get("/metrics")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        text = r.text
        assert 'chitieu_requests_total{endpoint="/extract",method="POST",status="200"} 1.0' in text
        assert 'chitieu_requests_total{endpoint="/extract",method="POST",status="422"} 1.0' in text
        assert 'chitieu_requests_total{endpoint="unmatched",method="GET",status="404"} 1.0' in text
        assert 'chitieu_request_duration_seconds_count{endpoint="/extract",method="POST",status="200"} 1.0' in text
        assert "chitieu_queue_depth 0.0" in text
        assert 'chitieu_model_info{base="lexicon",engine="lexicon",folder="model-a",name="fake-a",version="1"} 1.0' in text
        # Each app has its own registry.
        assert 'endpoint="/extract"' not in other.get("/metrics").text


def test_request_ids_are_kept_or_made(client: TestClient) -> None:
    r = client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert r.headers["X-Request-ID"] == "trace-42"
    r = client.get("/health", headers={"X-Request-ID": "bad id\nwith newline"})
    assert r.headers["X-Request-ID"] != "bad id\nwith newline" and len(r.headers["X-Request-ID"]) == 32
    assert client.get("/health").headers["X-Request-ID"] != client.get("/health").headers["X-Request-ID"]


@contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    try:
        yield stream
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("debug", [False, True])
def test_logs_are_json_lines_with_request_ids_and_text_only_in_debug(models_dir: Path, debug: bool) -> None:
    with serving(models_dir, debug=debug) as client, captured_logs() as stream:
        client.post("/extract", json={"text": TEXT}, headers={"X-Request-ID": "req-1"})
        client.post("/extract", json={"text": "", "id": "x"}, headers={"X-Request-ID": "req-2"})
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [x for x in lines if x["message"] == "request"]
    assert [(x["request_id"], x["status"], x["endpoint"]) for x in access] == [("req-1", 200, "/extract"), ("req-2", 422, "/extract")]
    extract_log = next(x for x in lines if x["message"] == "extract")
    assert extract_log["request_id"] == "req-1" and extract_log["chars"] == [len(TEXT)]
    assert ("Lê Đức Thọ" in stream.getvalue()) is debug


def test_cors_when_origins_are_configured(models_dir: Path) -> None:
    with serving(models_dir, cors_origins=["https://ls.example"]) as client:
        r = client.options(
            "/predict", headers={"Origin": "https://ls.example", "Access-Control-Request-Method": "POST"}
        )
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "https://ls.example"
        r = client.options("/predict", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
        assert r.status_code == 400


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHITIEU_MODELS_DIR", str(tmp_path))
    monkeypatch.setenv("CHITIEU_MAX_BATCH_DOCUMENTS", "5")
    monkeypatch.setenv("CHITIEU_ADMIN_TOKEN", "zq-9f1")
    monkeypatch.setenv("CHITIEU_CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("CHITIEU_DEVICE", "cpu")
    settings = Settings()
    assert settings.models_dir == tmp_path and settings.max_batch_documents == 5 and settings.device == "cpu"
    assert settings.admin_token is not None and settings.admin_token.get_secret_value() == "zq-9f1"
    assert "zq-9f1" not in repr(settings)
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    monkeypatch.setenv("CHITIEU_DEVICE", "tpu")
    with pytest.raises(ValueError, match="device"):
        Settings()


def test_a_queue_smaller_than_a_batch_is_refused_at_start() -> None:
    from pydantic import ValidationError

    from chitieu.serve.settings import Settings

    with pytest.raises(ValidationError, match="CHITIEU_QUEUE_SIZE=4 is below CHITIEU_MAX_BATCH_DOCUMENTS=8"):
        Settings(queue_size=4, max_batch_documents=8)
