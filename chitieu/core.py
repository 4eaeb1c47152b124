"""The typed core: what the extraction stages hand each other, and the output contract.

decode -> refine -> link produce and consume these (offsets into the NFC text until
`chitieu.extract.map_back` moves them into the caller's text); `Extraction` is what
`Extractor.finish` returns, what `chitieu extract` prints and what `POST /extract`
answers (`serve/schemas.py` uses these models, so the CLI and HTTP outputs are one thing
by construction, and the service's OpenAPI schema is theirs).

Every model is frozen: a stage that changes an entity makes a new one (`model_copy`).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chitieu.labels import LABELS

Label = Literal[LABELS]  # type: ignore[valid-type]


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Span(Frozen):
    """A stretch of the text, `[start, end)` in code points."""

    start: int
    end: int


class Entity(Frozen):
    """A labelled span: predicted by the tagger (score its mean tag probability), made by a
    rule (the rule's fixed score), or gold (score 1.0)."""

    label: Label
    start: int = Field(description="Character offset (code points) into the text sent.")
    end: int
    text: str
    score: float

    @classmethod
    def of(cls, text: str, start: int, end: int, label: str, score: float) -> "Entity":
        return cls(label=label, start=start, end=end, text=text[start:end], score=score)

    def moved(self, text: str, start: int, end: int) -> "Entity":
        """The same entity over `[start, end)` of `text`."""
        return self.model_copy(update={"start": start, "end": end, "text": text[start:end]})

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Entity":
        """From the JSON form (`{label, start, end, text, score?}`); score 1.0 when absent (gold)."""
        return cls(label=data["label"], start=data["start"], end=data["end"], text=data["text"], score=data.get("score", 1.0))


class Indicator(Frozen):
    text: str
    start: int
    end: int


class Value(Frozen):
    text: str
    start: int
    end: int
    comparator: str = Field(description="One of >=, >, <, <=, ~, =, range.")
    number: float | None
    min: float | None
    max: float | None
    unit: str | None


class Official(Frozen):
    name: str = Field(description="The fullest form of the name found in the article.")
    role: str | None
    start: int
    end: int


class Province(Frozen):
    name: str
    code: str | None = Field(description="Official two-digit code.")
    successor: str | None = Field(description="The unit it merged into in the July 2025 reform, if any.")
    start: int
    end: int


class Target(Frozen):
    """One goal: a TARGET_VALUE with the indicator, official and province linked to it."""

    indicator: Indicator | None
    value: Value
    official: Official | None
    province: Province | None
    sentence: Span
    score: float


class ModelRef(Frozen):
    name: str
    version: str
    base: str


class Extraction(Frozen):
    """One document's result: the contract of `chitieu extract` and `POST /extract`."""

    id: str | None
    model: ModelRef
    entities: list[Entity]
    targets: list[Target]
