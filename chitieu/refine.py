"""Domain constraints applied to decoded entities, before linking.

The guidelines define two labels partly by closed vocabularies, and the model's edges
are weakest exactly there:
- a PROVINCE is one of the province-level names: a predicted PROVINCE that the gazetteer
  does not know (`Hạ Long`, a person's name) is dropped;
- a TARGET_VALUE includes its comparator words and its unit: a predicted value that
  stops at the numeral (`200` of `200 km`, `10,2` of `10,2-10,5%`) or starts after a
  comparator (`27%` of `gần 27%`) is completed over the adjacent words that the
  normaliser reads as comparator, range, scale or unit. Nothing else is added;
- an INDICATOR is labelled only in a sentence where a TARGET_VALUE is set: one predicted
  in a sentence without a value is dropped.
"""

from __future__ import annotations

import re
from typing import Any

from chitieu.provinces import resolve
from chitieu.text import sentences

Entity = dict[str, Any]

_NUM = r"\d+(?:[.,]\d+)*"
_SCALE = r"(?:nghìn tỷ|ngàn tỷ|nghìn tỉ|ngàn tỉ|nghìn|ngàn|triệu|tỷ|tỉ)"
# Units and counted nouns the guidelines name, plus currencies; longest first.
_UNITS = (
    "điểm phần trăm", "lượt khách", "doanh nghiệp", "lao động", "đô la Mỹ", "đô la", "đồng", "USD",
    "VNĐ", "VND", "km", "ha", "tấn", "xã", "hộ", "người", "lần",
)
_UNIT = "(?:" + "|".join(re.escape(u) for u in _UNITS) + r")(?![^\W\d_])"
_PER = r"(?:/(?:người|năm|ha|tháng|quý|hộ)(?![^\W\d_]))*"
# After a numeral: `%` (a noun after `%` is the indicator: `100% xã`), or scale words and a
# unit; per-unit suffixes; a range's second end; `trở lên`.
_AFTER_NUMBER = r"(?:\s*%|(?:\s*" + _SCALE + r"(?![^\W\d_]))*(?:\s*" + _UNIT + r")?)" + _PER
_RANGE_END = r"(?:\s*(?:[-–]|đến|tới)\s*" + _NUM + _AFTER_NUMBER + r")?" + r"(?:\s+trở\s+(?:lên|xuống))?"
_TAIL = re.compile(_AFTER_NUMBER + _RANGE_END, re.IGNORECASE)
# When the predicted value already ends in `%`, only a suffix, a range's end or `trở lên` may follow.
_TAIL_AFTER_PERCENT = re.compile(_PER + _RANGE_END, re.IGNORECASE)
# Comparator words the guidelines list, longest first; matched right before the value.
_COMPARATORS = (
    "đạt và vượt", "không vượt quá", "không quá", "không dưới", "ít nhất", "tối thiểu", "tối đa",
    "xấp xỉ", "khoảng", "chừng", "gần", "trên", "hơn", "vượt", "dưới", "từ",
)
_HEAD = re.compile(r"(?:^|(?<=\s))(" + "|".join(re.escape(c) for c in _COMPARATORS) + r")\s+$", re.IGNORECASE)


def _free(entities: list[Entity], start: int, end: int, me: Entity) -> bool:
    return all(e is me or e["end"] <= start or e["start"] >= end for e in entities)


def complete_value(text: str, entity: Entity, entities: list[Entity]) -> Entity:
    start, end = entity["start"], entity["end"]
    if not re.search(r"\d", text[start:end]):
        return entity
    tail = (_TAIL_AFTER_PERCENT if text[end - 1] == "%" else _TAIL).match(text, end)
    if tail and tail.end() > end and _free(entities, end, tail.end(), entity):
        end = tail.end()
    head = _HEAD.search(text, max(0, start - 20), start)
    if head and _free(entities, head.start(1), start, entity):
        start = head.start(1)
    if (start, end) == (entity["start"], entity["end"]):
        return entity
    return {**entity, "start": start, "end": end, "text": text[start:end]}


def refine(text: str, entities: list[Entity]) -> list[Entity]:
    """Entities after the province and value constraints; offsets index `text`."""
    bounds = sentences(text)
    out: list[Entity] = []
    for entity in entities:
        if entity["label"] == "PROVINCE" and resolve(entity["text"]) is None:
            continue
        out.append(entity)
    for i, entity in enumerate(out):
        if entity["label"] == "TARGET_VALUE":
            out[i] = complete_value(text, entity, out)
    with_values = {_sentence_of(bounds, e["start"]) for e in out if e["label"] == "TARGET_VALUE"}
    return [e for e in out if e["label"] != "INDICATOR" or _sentence_of(bounds, e["start"]) in with_values]


def _sentence_of(bounds: list[tuple[int, int]], pos: int) -> int:
    return next((k for k, (s, e) in enumerate(bounds) if s <= pos < e), -1)
