"""Baselines the trained model must beat, each a function text -> entities.

- `rules`: the hand-written extractor (`chitieu.evaluate.rules.RuleExtractor`), all four labels.
- `underthesea`: underthesea's CRF NER, run sentence by sentence, its PER read as
  OFFICIAL and its LOC as PROVINCE. It knows nothing of INDICATOR or TARGET_VALUE, so it
  is scored on PROVINCE and OFFICIAL only and has no tuples.

Entities are `{start, end, label, text, score}` in offsets of the text given, like the
model's, so the same metrics apply to all of them.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from seqeval.metrics.sequence_labeling import get_entities

from chitieu.labels import LABELS, OFFICIAL, PROVINCE
from chitieu.lexicon.unicode import base_letter
from chitieu.text import sentences

Entity = dict[str, Any]

UNDERTHESEA_LABELS: dict[str, str] = {"PER": OFFICIAL, "LOC": PROVINCE}

# Administrative words and honorifics the guidelines leave outside a span; underthesea
# often takes them in. Ho Chi Minh City is labelled whole, so `thành phố`/`TP` before it stays.
_LEADING_WORDS = re.compile(
    r"^(?:(?:tỉnh|thành phố|tp\.?|thủ đô)\s+(?!hồ chí minh)|(?:ông|bà|đồng chí)\s+)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Baseline:
    name: str
    predict: Callable[[str], list[Entity]]
    labels: tuple[str, ...]
    note: str
    links_tuples: bool = True


def align_tokens(text: str, tokens: Sequence[str]) -> list[tuple[int, int] | None]:
    """Offsets in `text` of each token a tokenizer returned, in order.

    Tokenizers drop or rewrite whitespace (`Bến  Tre` comes back as `Bến Tre`) and
    underthesea also normalises some spellings (tone placement, `ð`), so tokens are
    matched on their non-space characters: exactly when the characters agree, else by
    a diff of base letters. A token none of whose characters can be found gets None.
    """
    positions = [i for i, c in enumerate(text) if not c.isspace()]
    source = "".join(text[i] for i in positions)
    pieces = ["".join(t.split()) for t in tokens]
    target = "".join(pieces)
    bounds, k = [], 0
    for piece in pieces:
        bounds.append((k, k + len(piece)))
        k += len(piece)
    if source == target:
        return [(positions[a], positions[b - 1] + 1) if b > a else None for a, b in bounds]

    matcher = difflib.SequenceMatcher(None, "".join(map(base_letter, source)), "".join(map(base_letter, target)), autojunk=False)
    to_source: dict[int, int] = {}
    for block in matcher.get_matching_blocks():
        for d in range(block.size):
            to_source[block.b + d] = block.a + d
    out: list[tuple[int, int] | None] = []
    for a, b in bounds:
        found = [to_source[j] for j in range(a, b) if j in to_source]
        out.append((positions[found[0]], positions[found[-1]] + 1) if found else None)
    return out


def chunks(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """(type, first token, last token) from BIO tags; an I- that does not continue opens a chunk."""
    return [(kind, first, last) for kind, first, last in get_entities(list(tags))]


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    match = _LEADING_WORDS.match(text[start:end])
    if match and match.end() < end - start:
        start += match.end()
    while start < end and not (text[start].isalnum()):
        start += 1
    while end > start and not (text[end - 1].isalnum() or text[end - 1] in "%"):
        end -= 1
    return start, end


@lru_cache(maxsize=1)
def _underthesea_ner() -> Callable[[str], list[tuple[str, ...]]]:
    try:
        from underthesea import ner
    except ImportError as err:  # pragma: no cover - underthesea is a dependency
        raise RuntimeError("the underthesea baseline needs `pip install underthesea`") from err
    return ner


def underthesea_entities(text: str) -> list[Entity]:
    """underthesea's PER/LOC as OFFICIAL/PROVINCE, leading titles and honorifics trimmed."""
    ner = _underthesea_ner()
    entities: list[Entity] = []
    for s_start, s_end in sentences(text):
        sentence = text[s_start:s_end]
        rows = ner(sentence)
        offsets = align_tokens(sentence, [row[0] for row in rows])
        for kind, first, last in chunks([row[-1] for row in rows]):
            label = UNDERTHESEA_LABELS.get(kind)
            if label is None:
                continue
            placed = [o for o in offsets[first : last + 1] if o is not None]
            if not placed:
                continue
            start, end = _trim(sentence, placed[0][0], placed[-1][1])
            if start >= end:
                continue
            start, end = start + s_start, end + s_start
            entities.append({"start": start, "end": end, "label": label, "text": text[start:end], "score": 1.0})
    return entities


@lru_cache(maxsize=1)
def _rule_extractor() -> Any:
    from chitieu.evaluate.rules import RuleExtractor

    return RuleExtractor()


def rule_entities(text: str) -> list[Entity]:
    return _rule_extractor().predict(text)


def available_baselines() -> list[Baseline]:
    """The baselines that can run here; the rule baseline needs `chitieu.evaluate.rules`."""
    out = []
    try:
        import chitieu.evaluate.rules  # noqa: F401

        out.append(Baseline("rules", rule_entities, LABELS, "hand-written rules (chitieu.evaluate.rules), all labels; tuples linked from its entities"))
    except ImportError:
        pass
    out.append(
        Baseline(
            "underthesea",
            underthesea_entities,
            (PROVINCE, OFFICIAL),
            "underthesea CRF NER: PER as OFFICIAL, LOC as PROVINCE; covers only PROVINCE and OFFICIAL, "
            "so its micro/macro are over those two labels and it has no tuples",
            links_tuples=False,
        )
    )
    return out
