"""The service's settings: one class, read from `CHITIEU_*` environment variables.

Built by whoever starts the app (the CLI, a test, uvicorn's factory) and handed to
`create_app`; routes get it through `Depends(get_settings)`, never from a module global,
so tests can run several differently configured apps in one process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from chitieu.engines import EngineChoice
from chitieu.paths import models_dir as default_models_dir
from chitieu.serve.admission import AdmissionPolicy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHITIEU_", extra="ignore", validate_default=True)

    #: A folder name under `models_dir`, or a path to a model folder; unset = models/PROMOTED.
    model: str | None = None
    models_dir: Path = Field(default_factory=default_models_dir)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    #: The tagger's arithmetic (chitieu.engines): auto, fp32, int8 (CPU), bf16, fp16 (GPU).
    engine: EngineChoice = "auto"
    max_text_chars: int = Field(default=100_000, ge=1)
    max_batch_documents: int = Field(default=16, ge=1)
    #: Tasks in one Label Studio `/predict`, at most (413 beyond): a selection is answered in one
    #: response, and Label Studio gives up after ML_TIMEOUT_PREDICT (100 s by default).
    max_predict_tasks: int = Field(default=1000, ge=1)
    #: Threads running the model (and as many for tokenising/decoding).
    workers: int = Field(default=1, ge=1, le=64)
    #: Documents admitted and not yet answered, at most; beyond this requests get 429.
    queue_size: int = Field(default=64, ge=1)
    #: Admission by expected work (chitieu.serve.admission): a request is admitted when it is
    #: expected to finish within max(latency_budget_s, max_slowdown x its time alone) beside
    #: the admitted ones; others get 429 with Retry-After at once.
    latency_budget_s: float = Field(default=AdmissionPolicy.latency_budget_s, ge=0)
    max_slowdown: float = Field(default=AdmissionPolicy.max_slowdown, ge=1)
    #: How long SIGTERM waits for running requests (then they answer 503); the admitted
    #: backlog is kept within 80% of it.
    shutdown_grace_s: float = Field(default=30.0, gt=0, le=600)
    #: Documents at least this long (9 in 10 articles are shorter) are tokenised and
    #: post-processed on their own threads, so they never hold up short ones.
    large_document_chars: int = Field(default=8_000, ge=1)
    #: Windows per model call, pooled across concurrent requests.
    micro_batch_windows: int = Field(default=8, ge=1)
    #: How long a worker waits for more windows to fill a micro-batch.
    max_wait_ms: float = Field(default=5.0, ge=0)
    #: Bearer token for /admin/*; unset disables the admin endpoints.
    admin_token: SecretStr | None = None
    #: JSON list or comma-separated (`CHITIEU_CORS_ORIGINS=https://a,https://b`).
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    #: Debug logs may carry article text; leave off in production.
    debug: bool = False

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                import json

                return json.loads(text)
            return [v.strip() for v in text.split(",") if v.strip()]
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _queue_holds_a_batch(self) -> "Settings":
        if self.queue_size < self.max_batch_documents:
            raise ValueError(
                f"CHITIEU_QUEUE_SIZE={self.queue_size} is below CHITIEU_MAX_BATCH_DOCUMENTS={self.max_batch_documents}: "
                "a full batch could never be admitted; raise the queue size or lower the batch limit"
            )
        return self

    def admission_policy(self) -> AdmissionPolicy:
        return AdmissionPolicy(
            latency_budget_s=self.latency_budget_s,
            max_slowdown=self.max_slowdown,
            drain_budget_s=0.8 * self.shutdown_grace_s,
        )

    @property
    def max_body_bytes(self) -> int:
        """Largest body worth reading: a full batch of maximal texts (4 UTF-8 bytes a char) plus JSON."""
        return self.max_batch_documents * (self.max_text_chars * 4 + 1024) + 64 * 1024


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
