"""A real Label Studio with chitieu as its ML backend, both on loopback: `make test-labelstudio`.

Label Studio (pinned in the Makefile, installed in .venv-ls) starts with a fresh data
folder and a legacy API token; chitieu serves the promoted default model. Through Label
Studio's REST API, as a user's script would: a project from chitieu's label config, the
seed articles imported, the backend connected, predictions retrieved and checked region by
region, annotations made and edited, exported as JSON, imported with `chitieu annotations
import`, and the spans compared. Then the failures users hit: bad tasks in a selection,
projects whose config renames things or cannot be served, skipped and unannotated tasks,
several annotations on a task, and the exports chitieu refuses.

About two to three minutes on 2 cores, most of it Label Studio's first start (migrations).
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from chitieu.annotate.corpus import Document, read_documents
from chitieu.annotate.label_config import LABEL_CONFIG
from chitieu.labels import LABELS
from chitieu.paths import annotations_dir

pytestmark = pytest.mark.labelstudio

REPO = Path(__file__).resolve().parents[2]
LS_BIN = Path(os.environ.get("LABEL_STUDIO_BIN", REPO / ".venv-ls" / "bin" / "label-studio"))
CHITIEU = Path(sys.executable).parent / "chitieu"
TOKEN = "chitieu-integration-token-0123456789"
USER, PASSWORD = "admin@chitieu.test", "chitieu-integration-pw"
#: Low enough that an over-limit task is cheap to make, far above the seeds (2-6k characters).
MAX_TEXT_CHARS = 10_000
STARTUP_S = 420


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])

    def wait(self, path: str, deadline: float, headers: dict[str, str] | None = None) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.url + path, headers=headers, timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        pytest.fail(f"{self.name} not answering {path} after {STARTUP_S} s:\n{self.tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def start(name: str, command: list[str], env: dict[str, str], log: Path, url: str) -> Server:
    handle = open(log, "wb")  # noqa: SIM115 (the server writes to it until stopped)
    process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
    return Server(name, url, process, log)


@dataclass
class Servers:
    ls: Server
    chitieu: Server
    api: httpx.Client
    model_version: str


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    if not LS_BIN.exists():
        pytest.fail(f"{LS_BIN} is missing: run `make test-labelstudio`, which installs the pinned Label Studio into .venv-ls")
    root = tmp_path_factory.mktemp("labelstudio")
    ls_port, chitieu_port = free_port(), free_port()
    ls_env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(root / "ls-data"),
        # A backend on loopback or the LAN: allow its private address (ML_BLOCK_LOCAL_IP), and
        # the webhook Label Studio 1.2x creates for it (SSRF_PROTECTION_ENABLED), else POST
        # /api/ml answers 403 although it saved the backend.
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
        "LATEST_VERSION_CHECK": "false",
        "COLLECT_ANALYTICS": "false",
    }
    ls = start(
        "Label Studio",
        [str(LS_BIN), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(ls_port),
         "--username", USER, "--password", PASSWORD, "--user-token", TOKEN, "--enable-legacy-api-token"],
        ls_env,
        root / "label-studio.log",
        f"http://127.0.0.1:{ls_port}",
    )
    chitieu_env = {**os.environ, "CHITIEU_MAX_TEXT_CHARS": str(MAX_TEXT_CHARS), "CHITIEU_LOG_LEVEL": "INFO"}
    chitieu = start(
        "chitieu serve",
        [str(CHITIEU), "serve", "--host", "127.0.0.1", "--port", str(chitieu_port)],
        chitieu_env,
        root / "chitieu.log",
        f"http://127.0.0.1:{chitieu_port}",
    )
    try:
        deadline = time.monotonic() + STARTUP_S
        chitieu.wait("/ready", deadline)
        headers = {"Authorization": f"Token {TOKEN}"}
        ls.wait("/api/current-user/whoami", deadline, headers)
        ready = httpx.get(chitieu.url + "/ready").json()
        version = f"{ready['model']['name']}@{ready['model']['version']}"
        with httpx.Client(base_url=ls.url, headers=headers, timeout=300) as api:
            yield Servers(ls, chitieu, api, version)
    finally:
        chitieu.stop()
        ls.stop()


# --- Label Studio's REST API, as a user's script calls it -----------------------------------


def check(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url}: {response.status_code} {response.text[:2000]}"
    return response.json() if response.content else None


def new_project(s: Servers, title: str, config: str, tasks: list[dict[str, Any]]) -> int:
    project = check(s.api.post("/api/projects", json={"title": title, "label_config": config}), 201)
    imported = check(s.api.post(f"/api/projects/{project['id']}/import", json=tasks), 201)
    assert imported["task_count"] == len(tasks)
    return int(project["id"])


def connect(s: Servers, project: int) -> int:
    backend = check(s.api.post("/api/ml", json={"url": s.chitieu.url, "project": project, "title": "chitieu"}), 201)
    assert backend["readable_state"] == "Connected", backend
    return int(backend["id"])


def retrieve_predictions(s: Servers, project: int) -> list[dict[str, Any]]:
    """The Data Manager's "Retrieve Predictions" on all tasks, then the tasks with what was stored."""
    done = check(s.api.post("/api/dm/actions", params={"id": "retrieve_tasks_predictions", "project": project},
                            json={"selectedItems": {"all": True, "excluded": []}}))
    assert done["detail"].startswith("Retrieved")
    return tasks_of(s, project)


def tasks_of(s: Servers, project: int) -> list[dict[str, Any]]:
    page = check(s.api.get("/api/tasks", params={"project": project, "fields": "all", "page_size": 1000}))
    return sorted(page["tasks"], key=lambda t: t["id"])


def annotate(s: Servers, task: int, result: list[dict[str, Any]], **flags: Any) -> int:
    return int(check(s.api.post(f"/api/tasks/{task}/annotations", json={"result": result, **flags}), 201)["id"])


def export(s: Servers, project: int, kind: str, path: Path, **params: str) -> Path:
    response = s.api.get(f"/api/projects/{project}/export", params={"exportType": kind, **params})
    assert response.status_code == 200, response.text[:500]
    path.write_bytes(response.content)
    return path


def chitieu_import(export_file: Path, into: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    into.mkdir(parents=True, exist_ok=True)
    command = [str(CHITIEU), "annotations", "import", str(export_file), "--into", str(into), *extra]
    if "--format" not in extra:
        command += ["--format", "labelstudio"]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def spans(result: list[dict[str, Any]]) -> set[tuple[int, int, str]]:
    return {(r["value"]["start"], r["value"]["end"], r["value"]["labels"][0]) for r in result}


def seeds() -> list[Document]:
    return [d for d in read_documents(annotations_dir() / "corpus.jsonl") if d.meta.get("source") == "seed"]


def region(text: str, start: int, end: int, label: str) -> dict[str, Any]:
    return {"from_name": "label", "to_name": "text", "type": "labels",
            "value": {"start": start, "end": end, "text": text[start:end], "labels": [label]}}


def free_region(text: str, result: list[dict[str, Any]], pieces: tuple[str, ...]) -> dict[str, Any]:
    """An INDICATOR region on the first of `pieces` that overlaps no region of `result` (spans may not overlap)."""
    taken = [(r["value"]["start"], r["value"]["end"]) for r in result]
    for piece in pieces:
        for match in re.finditer(re.escape(piece), text):
            if all(match.end() <= start or match.start() >= end for start, end in taken):
                return region(text, match.start(), match.end(), "INDICATOR")
    raise AssertionError(f"none of {pieces} is free in the text")


def logged(s: Servers, message: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in s.chitieu.log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == message]


# --- the path a user takes -------------------------------------------------------------------


def test_predictions_are_exact_and_annotations_survive_export_and_import(servers: Servers, tmp_path: Path) -> None:
    s = servers
    config = httpx.get(s.chitieu.url + "/label-config").text
    assert config == LABEL_CONFIG  # the same as `chitieu annotations label-config`
    docs = seeds()
    project = new_project(s, "chitieu seeds", config, [{"text": d.text, "doc_id": d.id} for d in docs])
    backend = connect(s, project)
    # Label Studio asks the backend for its versions (404 made it show "Upgrade your ML backend").
    assert check(s.api.get(f"/api/ml/{backend}/versions")) == {"versions": [s.model_version]}

    tasks = retrieve_predictions(s, project)
    assert len(tasks) == len(docs)
    regions = 0
    for task in tasks:
        (prediction,) = task["predictions"]
        assert prediction["model_version"] == s.model_version
        text = task["data"]["text"]
        for r in prediction["result"]:
            value = r["value"]
            assert text[value["start"] : value["end"]] == value["text"], (task["data"]["doc_id"], value)
            assert (r["from_name"], r["to_name"], r["type"]) == ("label", "text", "labels")
            assert value["labels"][0] in LABELS
        regions += len(prediction["result"])
    assert regions >= 5 * len(tasks), f"only {regions} regions stored"
    print(f"\n{regions} predicted regions stored in {len(tasks)} tasks, every one slicing its task text exactly")

    # Annotators accept the pre-annotations; on one task they fix some: drop a region,
    # relabel one, add one the model missed.
    expected: dict[str, set[tuple[int, int, str]]] = {}
    for task in tasks:
        result = task["predictions"][0]["result"]
        annotation = annotate(s, task["id"], result)
        expected[task["data"]["doc_id"]] = spans(result)
        if task is tasks[0]:
            text = task["data"]["text"]
            dropped, relabelled, *kept = result
            relabelled = {**relabelled, "value": {**relabelled["value"], "labels": ["INDICATOR" if relabelled["value"]["labels"][0] != "INDICATOR" else "OFFICIAL"]}}
            added = free_region(text, [relabelled, *kept], ("kinh tế", "ngân sách", "du lịch", "xuất khẩu", "nông nghiệp"))
            edited = [relabelled, *kept, added]
            check(s.api.patch(f"/api/annotations/{annotation}", json={"result": edited}))
            expected[task["data"]["doc_id"]] = spans(edited)

    exported = export(s, project, "JSON", tmp_path / "export.json")
    into = tmp_path / "corpus"
    done = chitieu_import(exported, into)
    assert done.returncode == 0, done.stderr
    imported = {d.id: d for d in read_documents(into / "corpus.jsonl")}
    assert set(imported) == {d.id for d in docs}
    for doc in docs:
        assert imported[doc.id].text == doc.text
        assert {(sp.start, sp.end, sp.label) for sp in imported[doc.id].spans} == expected[doc.id], doc.id
    print(f"{sum(map(len, expected.values()))} spans in {len(docs)} documents identical after LS export -> chitieu import")

    # And back: chitieu's export imports into Label Studio with every span where it was.
    back = tmp_path / "back.json"
    done = subprocess.run([str(CHITIEU), "annotations", "export", "--format", "labelstudio", "--out", str(back),
                           "--annotations", str(into)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    again = new_project(s, "chitieu round trip", config, json.loads(back.read_text(encoding="utf-8")))
    for task in tasks_of(s, again):
        (annotation,) = task["annotations"]
        assert spans(annotation["result"]) == expected[task["data"]["doc_id"]]


# --- the failures users hit ------------------------------------------------------------------


def test_bad_tasks_get_empty_predictions_and_the_others_theirs(servers: Servers) -> None:
    s = servers
    good = seeds()[:2]
    tasks = [
        {"text": good[0].text, "doc_id": "good-1"},
        {"text": "   ", "doc_id": "blank"},
        {"text": "Tỉnh Bến Tre đạt 9%. " * (MAX_TEXT_CHARS // 20 + 1), "doc_id": "too-long"},
        {"text": good[1].text, "doc_id": "good-2"},
    ]
    project = new_project(s, "bad tasks", LABEL_CONFIG, tasks)
    connect(s, project)
    stored = {t["data"]["doc_id"]: t for t in retrieve_predictions(s, project)}
    for doc_id in ("good-1", "good-2"):
        (prediction,) = stored[doc_id]["predictions"]
        assert len(prediction["result"]) > 0, doc_id
    for doc_id in ("blank", "too-long"):
        (prediction,) = stored[doc_id]["predictions"]
        assert prediction["result"] == [], doc_id
    reasons = {line["task"]: line["reason"] for line in logged(s, "task not pre-annotated")}
    assert "empty" in reasons[str(stored["blank"]["id"])]
    assert f"over the limit of {MAX_TEXT_CHARS}" in reasons[str(stored["too-long"]["id"])]


RENAMED = """<View>
  <Header value="Bài báo"/>
  <Text name="doc" value="$content"/>
  <Labels name="ner" toName="doc">
    <Label value="Province"/><Label value="Official"/><Label value="Chỉ số" alias="INDICATOR"/><Label value="target value"/>
  </Labels>
</View>"""
GENERIC_NER = """<View>
  <Labels name="label" toName="text"><Label value="LOC"/><Label value="PER"/><Label value="ORG"/></Labels>
  <Text name="text" value="$text"/>
</View>"""


def test_a_renamed_config_is_served_in_its_names_and_one_it_cannot_serve_is_refused(servers: Servers) -> None:
    s = servers
    doc = seeds()[0]
    project = new_project(s, "renamed", RENAMED, [{"content": doc.text}])
    connect(s, project)
    (task,) = retrieve_predictions(s, project)
    (prediction,) = task["predictions"]
    names = {"PROVINCE": "Province", "OFFICIAL": "Official", "INDICATOR": "Chỉ số", "TARGET_VALUE": "target value"}
    assert prediction["result"], "nothing predicted"
    for r in prediction["result"]:
        assert (r["from_name"], r["to_name"]) == ("ner", "doc")
        assert r["value"]["labels"][0] in names.values()
        assert doc.text[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"]

    refused = new_project(s, "generic NER", GENERIC_NER, [{"text": doc.text}])
    response = s.api.post("/api/ml", json={"url": s.chitieu.url, "project": refused, "title": "chitieu"})
    assert response.status_code == 400 and "422" in response.text, response.text
    (line,) = [l for l in logged(s, "label config cannot be served") if l["project"].startswith(f"{refused}.")]
    assert "LOC, ORG, PER" in line["reason"]


def test_import_skips_unannotated_and_skipped_tasks_and_reports_dropped_annotations(servers: Servers, tmp_path: Path) -> None:
    s = servers
    docs = seeds()[:4]
    project = new_project(s, "skips", LABEL_CONFIG, [{"text": d.text, "doc_id": d.id} for d in docs])
    annotated, skipped, _untouched, twice = tasks_of(s, project)
    gold = [region(docs[0].text, sp.start, sp.end, sp.label) for sp in docs[0].spans[:3]]
    annotate(s, annotated["id"], gold)
    annotate(s, skipped["id"], [], was_cancelled=True)
    first = docs[3].spans[0]
    truth = annotate(s, twice["id"], [region(docs[3].text, first.start, first.end, first.label)], ground_truth=True)
    later = annotate(s, twice["id"], [])  # newer, but not the ground truth

    every = export(s, project, "JSON", tmp_path / "all.json", download_all_tasks="true")
    done = chitieu_import(every, tmp_path / "corpus")
    assert done.returncode == 0, done.stderr
    assert "2 tasks skipped (1 with only cancelled (skipped) annotations, 1 with no annotation)" in done.stderr
    assert f"kept annotation {truth}" in done.stderr and f"dropped {later}" in done.stderr
    imported = {d.id: d for d in read_documents(tmp_path / "corpus" / "corpus.jsonl")}
    assert set(imported) == {docs[0].id, docs[3].id}
    assert [(sp.start, sp.end, sp.label) for sp in imported[docs[0].id].spans] == sorted(spans(gold))

    json_min = export(s, project, "JSON_MIN", tmp_path / "min.json")
    done = chitieu_import(json_min, tmp_path / "min")
    assert done.returncode == 2 and "export JSON, not JSON_MIN" in done.stderr
    conll = export(s, project, "CONLL2003", tmp_path / "export.conll")
    done = chitieu_import(conll, tmp_path / "conll", "--format", "conll")
    assert done.returncode == 2 and "export JSON from Label Studio instead" in done.stderr
