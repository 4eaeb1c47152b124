"""The Label Studio ML backend routes with a lexicon model: what Label Studio 1.2x sends and needs.

Label Studio keeps predictions only when /predict answers one result per task, and it
sends the project's label config to /setup (`schema`) and /predict (`label_config`).
The real server is exercised by tests/integration/test_labelstudio_real.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi.testclient import TestClient

from chitieu.annotate.label_config import LABEL_CONFIG, parse_label_config
from chitieu.model_folder import write_promoted
from chitieu.serve.app import create_app
from chitieu.serve.batcher import QueueFull
from chitieu.serve.logging import LOGGER_NAME, JsonFormatter
from chitieu.serve.settings import Settings
from tests.fakes import TEXT, fake_loader, write_fake_model

RENAMED = (
    '<View><Header value="Bài báo"/><Text name="doc" value="$content"/>'
    '<Labels name="ner" toName="doc"><Label value="Province"/><Label value="Quan chức" alias="OFFICIAL"/>'
    '<Label value="target-value"/><Label value="Khác"/></Labels></View>'
)
GENERIC_NER = '<View><Labels name="ner" toName="t"><Label value="LOC"/><Label value="PER"/></Labels><Text name="t" value="$text"/></View>'


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    root = tmp_path / "models"
    write_fake_model(root / "model-a", name="fake-a", version="1")
    write_promoted(root, "model-a")
    settings = Settings(models_dir=root, device="cpu", max_text_chars=2000, max_batch_documents=3)
    with TestClient(create_app(settings, loader=fake_loader), raise_server_exceptions=False) as c:
        for _ in range(500):
            if c.get("/ready").status_code == 200:
                break
        yield c


@contextmanager
def logged() -> Iterator[list[dict[str, Any]]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(LOGGER_NAME)
    logger.addHandler(handler)
    lines: list[dict[str, Any]] = []
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        lines += [json.loads(line) for line in stream.getvalue().splitlines()]


def regions(prediction: dict[str, Any]) -> set[tuple[str, str]]:
    return {(r["value"]["labels"][0], r["value"]["text"]) for r in prediction["result"]}


def test_predict_answers_every_task_and_empties_only_the_bad_ones(client: TestClient) -> None:
    tasks = [
        {"id": 1, "data": {"text": TEXT}},
        {"id": 2, "data": {"text": "   "}},
        {"id": 3, "data": {"body": TEXT}},
        {"id": 4, "data": {"text": "a" * 2001}},
        {"id": 5, "data": {"text": 42}},
        {"id": 6, "data": {"text": "Không có gì."}},
        {"id": 7, "data": {"text": TEXT}},
    ]
    body = {
        "tasks": tasks,
        "model_version": None,
        "project": "3.1700000000",
        "label_config": LABEL_CONFIG,
        "params": {"login": None, "password": None, "context": None},
        "force_reload": False,  # sent by some Label Studio versions: must be accepted
    }
    with logged() as lines:
        r = client.post("/predict", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model_version"] == "fake-a@1"
    results = out["results"]
    assert len(results) == len(tasks)
    for good in (results[0], results[6]):
        assert ("TARGET_VALUE", "9,3% trở lên") in regions(good) and len(good["result"]) == 4
        assert good["model_version"] == "fake-a@1" and 0 < good["score"] <= 1
        for region in good["result"]:
            assert (region["from_name"], region["to_name"], region["type"]) == ("label", "text", "labels")
            assert TEXT[region["value"]["start"] : region["value"]["end"]] == region["value"]["text"]
    for bad in results[1:5]:
        assert bad["result"] == [] and bad["model_version"] == "fake-a@1"
    assert results[5]["result"] == []  # read, and nothing found in it
    reasons = {line["task"]: line["reason"] for line in lines if line["message"] == "task not pre-annotated"}
    assert set(reasons) == {"2", "3", "4", "5"}
    assert "empty" in reasons["2"]
    assert "data.text is missing" in reasons["3"] and "body" in reasons["3"]
    assert "2001 characters" in reasons["4"] and "CHITIEU_MAX_TEXT_CHARS" in reasons["4"]
    assert "int, not text" in reasons["5"]


def test_predict_runs_more_tasks_than_a_batch(client: TestClient) -> None:
    tasks = [{"id": i, "data": {"text": TEXT}} for i in range(7)]  # max_batch_documents is 3
    r = client.post("/predict", json={"tasks": tasks})
    assert r.status_code == 200 and len(r.json()["results"]) == 7
    assert all(len(p["result"]) == 4 for p in r.json()["results"])


def test_predict_writes_in_the_names_of_the_projects_config(client: TestClient) -> None:
    r = client.post("/predict", json={"tasks": [{"id": 1, "data": {"content": TEXT}}], "label_config": RENAMED})
    assert r.status_code == 200, r.text
    (prediction,) = r.json()["results"]
    # INDICATOR has no counterpart in this project: it is not predicted there.
    assert regions(prediction) == {("Province", "Bến Tre"), ("Quan chức", "Lê Đức Thọ"), ("target-value", "9,3% trở lên")}
    assert {(x["from_name"], x["to_name"]) for x in prediction["result"]} == {("ner", "doc")}


def test_setup_refuses_a_config_it_cannot_serve_and_remembers_one_it_can(client: TestClient) -> None:
    with logged() as lines:
        r = client.post("/setup", json={"project": "4.17", "schema": GENERIC_NER, "hostname": "http://ls", "access_token": "t"})
    assert r.status_code == 422
    assert "LOC, PER" in r.json()["message"] and "alias" in r.json()["message"]
    assert any(line["message"] == "label config cannot be served" and line["project"] == "4.17" for line in lines)
    for schema, hint in [
        ("<View/>", "no <Labels> control on a <Text>"),
        ('<View><Labels name="l" toName="t"><Label value="PROVINCE"/></Labels><Text name="t" value="$url" valueType="url"/></View>', "URL"),
        ("<View><Labels", "not well-formed XML"),
    ]:
        r = client.post("/setup", json={"project": "4.17", "schema": schema})
        assert r.status_code == 422 and hint in r.json()["message"], (schema, r.text)

    r = client.post("/setup", json={"project": "5.17", "schema": RENAMED, "extra_params": None})
    assert r.status_code == 200 and r.json() == {"model_version": "fake-a@1"}
    # A /predict without label_config (an older Label Studio, a script) uses what /setup saw.
    r = client.post("/predict", json={"project": "5.17", "tasks": [{"id": 1, "data": {"content": TEXT}}]})
    assert ("Province", "Bến Tre") in regions(r.json()["results"][0])
    r = client.post("/predict", json={"project": "6.17", "tasks": [{"id": 1, "data": {"text": TEXT}}]})
    assert ("PROVINCE", "Bến Tre") in regions(r.json()["results"][0])


def test_predict_with_a_config_it_cannot_serve_is_a_422(client: TestClient) -> None:
    r = client.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXT}}], "label_config": GENERIC_NER})
    assert r.status_code == 422 and r.json()["message"].startswith("label_config: none of the project's labels")


def test_versions_and_label_config_are_served(client: TestClient) -> None:
    # Label Studio sends GET /versions with a JSON body naming the project.
    r = client.request("GET", "/versions", json={"project": "3.17"})
    assert r.status_code == 200 and r.json() == {"versions": ["fake-a@1"]}
    r = client.get("/label-config")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    assert r.text == LABEL_CONFIG
    assert parse_label_config(r.text).unmapped == []
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/predict", "/setup", "/versions", "/label-config", "/webhook"} <= set(paths)


def test_webhook_is_acknowledged(client: TestClient) -> None:
    r = client.post("/webhook", json={"action": "ANNOTATION_CREATED", "annotation": {"id": 1}})
    assert r.status_code == 200 and r.json()["action"] == "ANNOTATION_CREATED"


def test_a_selection_whose_client_has_gone_stops_using_the_model(tmp_path: Path) -> None:
    # Label Studio gives up after ML_TIMEOUT_PREDICT (100 s by default) and closes the
    # connection; the slices not yet run must never reach the model.
    root = tmp_path / "models"
    write_fake_model(root / "slow", name="slow", version="1", delay=0.2)
    write_promoted(root, "slow")
    settings = Settings(models_dir=root, device="cpu", max_batch_documents=2)
    app = create_app(settings, loader=fake_loader)
    tasks = [{"id": i, "data": {"text": TEXT}} for i in range(20)]  # 10 slices of 2, a model call each at least
    with TestClient(app) as client:
        for _ in range(500):
            if client.get("/ready").status_code == 200:
                break
        runner = app.state.service.slot.current.extractor.runner
        warmup_calls = len(runner.calls)

        async def post_then_leave() -> list[int]:
            body = json.dumps({"tasks": tasks}).encode()
            left = anyio.Event()
            sent: list[dict[str, Any]] = []
            delivered = False

            async def receive() -> dict[str, Any]:
                nonlocal delivered
                if not delivered:
                    delivered = True
                    return {"type": "http.request", "body": body, "more_body": False}
                await left.wait()
                return {"type": "http.disconnect"}

            async def send(message: dict[str, Any]) -> None:
                sent.append(message)

            scope = {
                "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
                "path": "/predict", "raw_path": b"/predict", "query_string": b"", "root_path": "",
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
                "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
            }
            async with anyio.create_task_group() as group:
                group.start_soon(app, scope, receive, send)
                while len(runner.calls) == warmup_calls:
                    await anyio.sleep(0.01)
                left.set()  # the client goes while the first slice runs
            await anyio.sleep(1.0)  # long enough for several more slices, had they run
            return [m.get("status", 0) for m in sent if m["type"] == "http.response.start"]

        with logged() as lines:
            statuses = client.portal.call(post_then_leave)
        assert len(runner.calls) - warmup_calls <= 2, runner.calls  # the slice running when it left, at most one more
        assert statuses in ([], [499])
        assert any(line.get("path") == "/predict" and line.get("status") == 499 for line in lines), lines


def test_a_slice_refused_for_a_busy_server_waits_instead_of_losing_the_selection(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    batcher = client.app.state.service.batcher
    real = batcher.extract
    refusals: list[int] = []

    async def busy_once(extractor: Any, docs: Any) -> Any:
        if not refusals:
            refusals.append(len(docs))
            raise QueueFull("the server is busy", retry_after=1)
        return await real(extractor, docs)

    monkeypatch.setattr(batcher, "extract", busy_once)
    tasks = [{"id": i, "data": {"text": TEXT}} for i in range(4)]  # two slices of 3 and 1
    r = client.post("/predict", json={"tasks": tasks})
    assert r.status_code == 200, r.text
    assert refusals == [3] and all(len(p["result"]) == 4 for p in r.json()["results"])


def test_predict_refuses_more_tasks_than_the_limit_saying_what_to_do(tmp_path: Path) -> None:
    root = tmp_path / "models"
    write_fake_model(root / "model-a", name="fake-a", version="1")
    write_promoted(root, "model-a")
    settings = Settings(models_dir=root, device="cpu", max_predict_tasks=2)
    with TestClient(create_app(settings, loader=fake_loader), raise_server_exceptions=False) as c:
        for _ in range(500):
            if c.get("/ready").status_code == 200:
                break
        r = c.post("/predict", json={"tasks": [{"id": i, "data": {"text": TEXT}} for i in range(3)]})
        assert r.status_code == 413 and "CHITIEU_MAX_PREDICT_TASKS" in r.json()["detail"]
        assert c.post("/predict", json={"tasks": [{"id": 1, "data": {"text": TEXT}}]}).status_code == 200
