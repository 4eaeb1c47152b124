"""Label Studio ML backend: pre-annotations from the served model (label_studio_ml/api.py).

Regions use the project's label config from chitieu.formats.labelstudio (`label` on
`text`) and code-point offsets, as `chitieu annotations` exports them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException, status

from chitieu.formats.labelstudio import prediction_task
from chitieu.serve.deps import ModelDep, ServiceDep
from chitieu.serve.routes.common import check_sizes, errors, log_documents
from chitieu.serve.schemas import PredictRequest, PredictResponse, SetupRequest, SetupResponse, check_text
from chitieu.serve.settings import SettingsDep

router = APIRouter(tags=["label-studio"])


def model_version(info: dict[str, Any]) -> str:
    return f"{info['name']}@{info['version']}"


def task_text(n: int, data: dict[str, Any]) -> str:
    text: object = data.get("text")
    if not isinstance(text, str):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            f"tasks.{n}.data.text is missing or not a string; the label config must read the article from $text",
        )
    try:
        return check_text(text)
    except ValueError as err:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"tasks.{n}.data.text: {err}") from None


@router.post(
    "/predict", response_model=PredictResponse, responses=errors(400, 413, 422, 429, 503), summary="Pre-annotate tasks"
)
async def predict(body: PredictRequest, settings: SettingsDep, service: ServiceDep, model: ModelDep) -> Any:
    texts = [task_text(n, task.data) for n, task in enumerate(body.tasks)]
    for text in texts:
        check_sizes(settings, [text])
    version = model_version(model.extractor.info)
    docs = [(None if t.id is None else str(t.id), text) for t, text in zip(body.tasks, texts)]
    log_documents(settings, docs)
    results: list[dict[str, Any]] = []
    # Label Studio sends whole selections at once: run them in admissible slices.
    step = settings.max_batch_documents
    for k in range(0, len(docs), step):
        extracted = await service.batcher.extract(model.extractor, docs[k : k + step])
        for (doc_id, text), out in zip(docs[k : k + step], extracted):
            results.append(prediction_task(doc_id or "", text, out["entities"], version)["predictions"][0])
    return {"results": results, "model_version": version}


@router.post("/setup", response_model=SetupResponse, responses=errors(422, 503), summary="Label Studio connects")
async def setup(body: SetupRequest, model: ModelDep) -> Any:
    return {"model_version": model_version(model.extractor.info)}


@router.post("/webhook", summary="Label Studio events (acknowledged; training happens offline)")
async def webhook(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
    return {"status": "ok", "action": body.get("action")}
