"""The extraction contract over HTTP: one document, or a batch answered in order."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from chitieu.serve.deps import ModelDep, ServiceDep
from chitieu.serve.routes.common import check_sizes, errors, log_documents
from chitieu.serve.schemas import BatchRequest, BatchResponse, ExtractRequest, ExtractResponse
from chitieu.serve.settings import SettingsDep

router = APIRouter(tags=["extract"])


@router.post(
    "/extract",
    response_model=ExtractResponse,
    responses=errors(400, 413, 422, 429, 503),
    summary="Entities and target tuples of one article",
)
async def extract(body: ExtractRequest, settings: SettingsDep, service: ServiceDep, model: ModelDep) -> Any:
    check_sizes(settings, [body.text])
    docs = [(body.id, body.text)]
    log_documents(settings, docs)
    [result] = await service.batcher.extract(model.extractor, docs)
    return result


@router.post(
    "/extract/batch",
    response_model=BatchResponse,
    responses=errors(400, 413, 422, 429, 503),
    summary="Several articles in one request, answered in the same order",
)
async def extract_batch(body: BatchRequest, settings: SettingsDep, service: ServiceDep, model: ModelDep) -> Any:
    check_sizes(settings, [d.text for d in body.documents])
    docs = [(d.id, d.text) for d in body.documents]
    log_documents(settings, docs)
    return {"results": await service.batcher.extract(model.extractor, docs)}
