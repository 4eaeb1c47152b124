"""Schema-driven fuzzing of every operation, with and without the admin token (schemathesis).

Every generated request, valid or not (positive and negative generation), must get an
answer its operation documents, in the documented content type and shape, and never a
5xx; data the schema forbids must be refused with a 4xx. The default run is bounded
(CHITIEU_FUZZ_EXAMPLES examples per operation, mode and token, 8 by default: seconds);
`make fuzz` runs the same test with many more.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from chitieu.model_folder import write_promoted
from chitieu.serve.app import create_app
from chitieu.serve.settings import Settings
from tests.fakes import TEXT, fake_loader, write_fake_model
from tests.servers import Running, uvicorn_in_thread

TOKEN = "fuzz-token"
EXAMPLES = int(os.environ.get("CHITIEU_FUZZ_EXAMPLES", "8"))
# 413 (a text, batch or body over the configured limits) is a rejection too.
REJECTED = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def fuzz_settings(models: Any) -> Settings:
    # Small limits keep the generated bodies cheap; the contract is the same.
    return Settings(
        models_dir=models, admin_token=TOKEN, device="cpu", max_text_chars=2000, max_batch_documents=3, queue_size=64
    )


# The operations, known before any server runs, so that each is its own test; only those
# that take input can be sent input that breaks their schema.
_PATHS = create_app(fuzz_settings("models")).openapi()["paths"]
CASES = sorted(
    (path, method.upper(), mode)
    for path, methods in _PATHS.items()
    for method, definition in methods.items()
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode is GenerationMode.POSITIVE or definition.get("parameters") or definition.get("requestBody")
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    models = tmp_path_factory.mktemp("fuzz") / "models"
    write_fake_model(models / "model-a", name="fake-a", version="1")
    write_fake_model(models / "model-b", name="fake-b", version="2")
    write_promoted(models, "model-a")
    with uvicorn_in_thread(create_app(fuzz_settings(models), loader=fake_loader)) as running:
        yield running


@pytest.fixture(scope="module")
def api(server: Running) -> Any:
    config = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": REJECTED}}})
    return schemathesis.openapi.from_url(f"{server.base_url}/openapi.json", config=config)


@pytest.mark.parametrize("token", [False, True], ids=["no token", "admin token"])
@pytest.mark.parametrize(
    ("path", "method", "mode"), CASES, ids=[f"{m} {p} {'valid' if g is GenerationMode.POSITIVE else 'invalid'}" for p, m, g in CASES]
)
def test_every_operation_answers_as_documented(
    api: Any, server: Running, path: str, method: str, mode: GenerationMode, token: bool
) -> None:
    operation = api[path][method]
    headers = {"Authorization": f"Bearer {TOKEN}"} if token else None

    @given(case=operation.as_strategy(mode))
    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck), database=None)
    def check(case: Any) -> None:
        case.call_and_validate(base_url=server.base_url, headers=headers, checks=CHECKS)

    check()


def test_the_fuzzed_server_still_serves(server: Running) -> None:
    r = httpx.post(f"{server.base_url}/extract", json={"text": TEXT}, timeout=30)
    assert r.status_code == 200 and r.json()["targets"]
    assert httpx.get(f"{server.base_url}/model", timeout=30).json()["folder"] in {"model-a", "model-b"}
