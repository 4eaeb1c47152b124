"""Label Studio ML backend: pre-annotations from the served model (label_studio_ml/api.py).

Label Studio sends each project's labeling config, as `schema` to /setup and as
`label_config` to /predict. /setup answers 422 with the reason when chitieu cannot serve
it (chitieu.annotate.label_config says what can be served), and remembers the project's mapping;
/predict writes its regions in the project's names: its `<Labels>` and `<Text>`, its text
field (`$content`) and its label values. Offsets are code points, as
`chitieu annotations` exports them.

Label Studio stores predictions only when it gets one result per task, in order, so a
task that cannot be read (no text in its field, blank text, over the size limit) gets an
empty result and a log line with the reason, and the others get theirs. A selection is
run in slices of `max_batch_documents`; a slice refused for a busy server waits and is
tried again rather than losing the selection. A client that has gone (Label Studio's
ML_TIMEOUT_PREDICT ran out) has its request cancelled by the middleware, and the
batcher drops the work it has not started.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, HTTPException, Request, Response, status

from chitieu.annotate.formats.labelstudio import prediction
from chitieu.annotate.label_config import DEFAULT_MAPPING, LABEL_CONFIG, LabelConfigError, LabelMapping, cached_label_config
from chitieu.serve.batcher import QueueFull
from chitieu.serve.deps import ModelDep, ServiceDep
from chitieu.serve.logging import get_logger
from chitieu.serve.routes.common import errors, log_documents
from chitieu.serve.schemas import (
    PredictRequest,
    PredictResponse,
    SetupRequest,
    SetupResponse,
    VersionsResponse,
    check_text,
)
from chitieu.serve.settings import Settings, SettingsDep

router = APIRouter(tags=["label-studio"])
log = get_logger("labelstudio")


class ProjectConfigs:
    """Each Label Studio project's mapping, as its last /setup sent it (the most recent projects)."""

    def __init__(self, limit: int = 1000) -> None:
        self.limit = limit
        self._by_project: OrderedDict[str, LabelMapping] = OrderedDict()

    def remember(self, project: str, mapping: LabelMapping) -> None:
        self._by_project[project] = mapping
        self._by_project.move_to_end(project)
        while len(self._by_project) > self.limit:
            self._by_project.popitem(last=False)

    def get(self, project: str) -> LabelMapping | None:
        return self._by_project.get(project)


def get_projects(request: Request) -> ProjectConfigs:
    # Per app, like the service: made on first use so that the app factory need not know it.
    projects: ProjectConfigs | None = getattr(request.app.state, "labelstudio_projects", None)
    if projects is None:
        projects = request.app.state.labelstudio_projects = ProjectConfigs()
    return projects


ProjectsDep = Annotated[ProjectConfigs, Depends(get_projects)]


def model_version(info: dict[str, Any]) -> str:
    return f"{info['name']}@{info['version']}"


def project_mapping(config: str, field: str, project: str | None) -> LabelMapping:
    """The project's mapping, or 422 saying why chitieu cannot serve its config (logged too:
    Label Studio shows only the status line, not this detail)."""
    try:
        return cached_label_config(config)
    except LabelConfigError as err:
        log.warning("label config cannot be served", extra={"project": project, "reason": str(err)})
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field}: {err}") from None


class Unusable(ValueError):
    """A task that cannot be pre-annotated; the message is the reason."""


def task_text(data: dict[str, Any], mapping: LabelMapping, settings: Settings) -> str:
    field = mapping.text_field
    text: object = data.get(field)
    if text is None:
        others = ", ".join(sorted(k for k, v in data.items() if isinstance(v, str))) or "none"
        raise Unusable(f"data.{field} is missing (the label config reads ${field}; text fields in the task: {others})")
    if not isinstance(text, str):
        raise Unusable(f"data.{field} is a {type(text).__name__}, not text")
    try:
        check_text(text)
    except ValueError as err:
        raise Unusable(f"data.{field}: {err}") from None
    if len(text) > settings.max_text_chars:
        raise Unusable(
            f"data.{field} has {len(text)} characters, over the limit of {settings.max_text_chars} "
            "(CHITIEU_MAX_TEXT_CHARS); split the article into several tasks"
        )
    return text


async def extract_waiting(service: ServiceDep, model: ModelDep, docs: list[tuple[str | None, str]]) -> list[dict[str, Any]]:
    """One slice; a busy server is waited for, since Label Studio cannot retry a selection."""
    while True:
        try:
            return await service.batcher.extract(model.extractor, docs)
        except QueueFull as err:
            log.info("predict slice waits for capacity", extra={"documents": len(docs), "retry_after": err.retry_after})
            await asyncio.sleep(err.retry_after)


@router.post(
    "/predict",
    response_model=PredictResponse,
    responses=errors(400, 413, 422, 503),
    summary="Pre-annotate tasks: one result per task, empty for a task that cannot be read",
)
async def predict(
    body: PredictRequest, settings: SettingsDep, service: ServiceDep, model: ModelDep, projects: ProjectsDep
) -> Any:
    if len(body.tasks) > settings.max_predict_tasks:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(body.tasks)} tasks in one /predict; this service answers at most "
            f"{settings.max_predict_tasks} (CHITIEU_MAX_PREDICT_TASKS): select fewer tasks in Label Studio",
        )
    project = None if body.project is None else str(body.project)
    if body.label_config:
        mapping = project_mapping(body.label_config, "label_config", project)
    else:
        mapping = (projects.get(project) if project is not None else None) or DEFAULT_MAPPING
    version = model_version(model.extractor.info)
    results: list[dict[str, Any]] = [{"result": [], "score": 0.0, "model_version": version} for _ in body.tasks]
    good: list[tuple[int, str | None, str]] = []
    for n, task in enumerate(body.tasks):
        task_id = None if task.id is None else str(task.id)
        try:
            good.append((n, task_id, task_text(task.data, mapping, settings)))
        except Unusable as err:
            log.warning("task not pre-annotated", extra={"task": task_id, "project": project, "reason": str(err)})
    docs = [(task_id, text) for _, task_id, text in good]
    log_documents(settings, docs)
    step = settings.max_batch_documents
    for k in range(0, len(good), step):
        extracted = await extract_waiting(service, model, docs[k : k + step])
        for (n, _, text), out in zip(good[k : k + step], extracted):
            results[n] = prediction(text, out["entities"], version, mapping)
    return {"results": results, "model_version": version}


@router.post(
    "/setup",
    response_model=SetupResponse,
    responses=errors(422, 503),
    summary="Label Studio connects a project: 422 when its label config cannot be served",
)
async def setup(body: SetupRequest, model: ModelDep, projects: ProjectsDep) -> Any:
    project = None if body.project is None else str(body.project)
    if body.label_schema is not None:
        mapping = project_mapping(body.label_schema, "schema", project)
        if project is not None:
            projects.remember(project, mapping)
        log.info(
            "label studio project connected",
            extra={"project": project, "mapping": mapping.describe(), "not_predicted": mapping.unmapped},
        )
    return {"model_version": model_version(model.extractor.info)}


@router.get("/versions", response_model=VersionsResponse, responses=errors(503), summary="Model versions (Label Studio asks)")
async def versions(model: ModelDep) -> Any:
    # One model is served at a time; others are swapped in with /admin/reload.
    return {"versions": [model_version(model.extractor.info)]}


@router.get(
    "/label-config",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}, "description": "The labeling config to paste in Label Studio"}},
    summary="Label Studio labeling config for chitieu's labels",
)
async def label_config() -> Response:
    return Response(LABEL_CONFIG, media_type="application/xml")


@router.post("/webhook", summary="Label Studio events (acknowledged; training happens offline)")
async def webhook(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return {"status": "ok", "action": body.get("action")}
