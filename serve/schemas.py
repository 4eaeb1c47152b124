"""Request and response bodies; the response models are the extraction contract in OpenAPI."""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, field_validator

from chitieu.core import Entity, Extraction, Indicator, ModelRef, Official, Province, Span, Target, Value
from chitieu.nfc import nfc_with_map
from chitieu.serve.state import MODEL_NAME_PATTERN

__all__ = [
    "Entity", "Extraction", "ExtractResponse", "Indicator", "IndicatorRef", "ModelRef", "Official", "Province", "SentenceRef",
    "Span", "Target", "Value",
]

EXAMPLE_TEXT = "Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị phấn đấu đạt mức tăng trưởng GRDP từ 9,3% trở lên."


def check_text(value: str) -> str:
    if not value.strip():
        raise ValueError("text is empty or only whitespace; send the article text")
    # A lone surrogate (from a JSON "\ud800" escape) is not text and cannot be encoded back
    # to UTF-8 in the answer; refusing it here keeps it from becoming a 500 later.
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise ValueError(f"text has an unpaired surrogate at position {err.start}; send valid Unicode") from None
    if not unicodedata.is_normalized("NFC", value):
        nfc_with_map(value)  # NfcOffsetError (a ValueError: 422 with its message) when offsets cannot be exact
    return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Declared for clients and schema-driven tests; `check_text` enforces it, with its message.
NON_BLANK = r"\S"


class Document(Strict):
    text: str = Field(
        description="The article text (plain text; paragraphs separated by newlines), not blank; at most "
        "max_text_chars characters (413 beyond).",
        json_schema_extra={"pattern": NON_BLANK},
    )
    id: str | None = Field(None, max_length=256, description="Your id for the document, echoed back.")

    @field_validator("text")
    @classmethod
    def _text(cls, value: str) -> str:
        return check_text(value)


class ExtractRequest(Document):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"id": "doc-1", "text": EXAMPLE_TEXT}]})


class BatchRequest(Strict):
    documents: list[Document] = Field(
        min_length=1, description="Answered in the same order; at most max_batch_documents (413 beyond)."
    )


# The extraction contract is the typed core's (chitieu.core): the CLI prints what these
# models dump, so the HTTP answer and the CLI output are one thing.
class ExtractResponse(Extraction):
    """One document's entities and targets (chitieu.core.Extraction)."""


IndicatorRef = Indicator
SentenceRef = Span


class BatchResponse(BaseModel):
    results: list[ExtractResponse]


class Health(BaseModel):
    status: Literal["UP"] = "UP"
    ready: bool
    model: str | None = Field(description="Folder name of the model being served.")


class Ready(BaseModel):
    status: Literal["ready"] = "ready"
    model: ModelRef
    folder: str


class ModelInfo(BaseModel):
    name: str
    version: str
    base: str
    labels: list[str]
    metrics: dict[str, Any] = Field(description="Evaluation figures from the model card (chitieu.json).")
    goal_classifier: dict[str, Any] | None = Field(
        default=None, description="What the goal classifier that votes on TARGET_VALUEs was fitted on; null when the model has none."
    )
    indicator_chooser: dict[str, Any] | None = Field(
        default=None, description="What the indicator chooser was fitted on; null when the model has none."
    )
    official_check: dict[str, Any] | None = Field(
        default=None, description="What the check that drops OFFICIALs who hold no office was fitted on; null when the model has none."
    )
    engine: str = Field(description="The tagger's arithmetic: int8 (ONNX Runtime), fp32, bf16 or fp16 (chitieu.engines).")
    folder: str
    loaded_at: float = Field(description="Unix time the model was swapped in.")


class ReloadRequest(Strict):
    model: str = Field(
        description="A folder name directly under the models directory (400 for anything else, 404 when absent).",
        examples=["e5-small-2025-11"],
        # Declared here, enforced by state.safe_model_folder (a 400 that says the rule).
        json_schema_extra={"pattern": MODEL_NAME_PATTERN, "minLength": 1, "maxLength": 200},
    )


class ReloadResponse(BaseModel):
    model: ModelInfo
    previous: str | None
    seconds: float


# Label Studio ML backend (label_studio_ml/api.py). Its requests carry fields that vary
# between Label Studio versions, so these bodies accept unknown fields instead of failing.


# Strict ids: JSON `false` is not project 0 (lax mode would turn a bool into an int).
Id = StrictInt | StrictStr | None


class LSTask(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: Id = None
    data: dict[str, Any]


class PredictRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    tasks: list[LSTask]
    model_version: str | None = None
    project: Id = None
    label_config: str | None = None
    params: dict[str, Any] | None = None


class LSValue(BaseModel):
    start: int
    end: int
    text: str
    labels: list[str] = Field(description="The project's value for the label (chitieu's name unless its config renames it).")


class LSRegion(BaseModel):
    from_name: str
    to_name: str
    type: Literal["labels"]
    value: LSValue
    score: float | None = None


class LSPrediction(BaseModel):
    result: list[LSRegion]
    score: float
    model_version: str


class PredictResponse(BaseModel):
    results: list[LSPrediction]
    model_version: str


class SetupRequest(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    project: Id = None
    label_schema: str | None = Field(None, alias="schema")
    hostname: str | None = None
    access_token: str | None = Field(None, repr=False)
    model_version: str | None = None


class SetupResponse(BaseModel):
    model_version: str


class VersionsResponse(BaseModel):
    versions: list[str] = Field(description="The model version being served (others are loaded with /admin/reload).")
