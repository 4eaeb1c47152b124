"""Stage 7, map back: entities and targets from the NFC text into the caller's offsets.

Reads `Prepared.to_original` and `Prepared.original` (stage 1), the entities and the
targets (stage 6); writes the same entities and targets with every offset, and the quoted
text of entities, indicators and values, in the text the caller sent. Stages 3-6 work on
the NFC text because their vocabularies are NFC.
"""

from __future__ import annotations

from typing import TypeVar

from chitieu.core import Entity, Indicator, Official, Province, Span, Target, Value
from chitieu.extract.prepare import Prepared

#: A located part of a target (what map_back moves into the caller's offsets).
T = TypeVar("T", Indicator, Value, Official, Province, Span)


def map_back(prepared: Prepared, entities: list[Entity], targets: list[Target]) -> tuple[list[Entity], list[Target]]:
    """Entities and targets with every offset (and quoted text) in the text the caller sent."""
    if prepared.to_original is None:
        return entities, targets
    where = prepared.to_original

    def moved(part: T | None, quote: bool) -> T | None:
        if part is None:
            return None
        start, end = where[part.start], where[part.end]
        update: dict[str, object] = {"start": start, "end": end}
        if quote:
            update["text"] = prepared.original[start:end]
        return part.model_copy(update=update)

    new_entities = [e.moved(prepared.original, where[e.start], where[e.end]) for e in entities]
    new_targets = [
        t.model_copy(
            update={
                "indicator": moved(t.indicator, True),
                "value": moved(t.value, True),
                "official": moved(t.official, False),
                "province": moved(t.province, False),
                "sentence": moved(t.sentence, False),
            }
        )
        for t in targets
    ]
    return new_entities, new_targets
