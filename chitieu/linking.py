"""From entities to target tuples, following the guidelines' tuple rules.

Each TARGET_VALUE is one tuple:
- indicator: the INDICATOR of its sentence that the guidelines pair with it: the one just
  before it with no other value between them (lists item by item), else the one just
  after it (`trên 98% xã, phường...`), else the nearest earlier one in the sentence (one
  indicator carrying several values), else none;
- official: the speaker of the sentence (an OFFICIAL in it), else the nearest official
  mentioned before it in the paragraph, then in the article, else the first one after it;
  short forms (`ông Dũng`) resolve to the full name mentioned elsewhere in the article;
- province: one named in the sentence, else the article's main province (the one
  mentioned most often; none on a tie), else none;
- a goal repeated in the headline and the body is one tuple.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from typing import Any

from chitieu.normalize import parse_value
from chitieu.provinces import resolve
from chitieu.roles import find_role
from chitieu.text import paragraphs, sentences

Entity = dict[str, Any]


def _containing(spans: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for start, end in spans:
        if start <= pos < end:
            return start, end
    return pos, pos


def _inside(entities: list[Entity], bounds: tuple[int, int]) -> list[Entity]:
    return [e for e in entities if bounds[0] <= e["start"] and e["end"] <= bounds[1]]


def pick_indicator(value: Entity, indicators: list[Entity], values: list[Entity]) -> Entity | None:
    """Indicators and values are those of the value's sentence."""
    before = [i for i in indicators if i["end"] <= value["start"]]
    after = [i for i in indicators if i["start"] >= value["end"]]
    previous_values = [v["end"] for v in values if v["end"] <= value["start"] and v is not value]
    next_values = [v["start"] for v in values if v["start"] >= value["end"] and v is not value]
    last_value_end = max(previous_values, default=-1)
    next_value_start = min(next_values, default=10**12)
    adjacent_before = [i for i in before if i["start"] >= last_value_end]
    if adjacent_before:
        return max(adjacent_before, key=lambda i: i["end"])
    adjacent_after = [i for i in after if i["end"] <= next_value_start]
    if adjacent_after:
        return min(adjacent_after, key=lambda i: i["start"])
    if before:
        return max(before, key=lambda i: i["end"])
    return None


def _name_key(name: str) -> str:
    return unicodedata.normalize("NFC", " ".join(name.split())).casefold()


def full_names(officials: list[Entity]) -> dict[str, Entity]:
    """Map every official mention's text to its fullest mention (`Dũng` -> `Trần Văn Dũng`)."""
    out: dict[str, Entity] = {}
    for mention in officials:
        key = _name_key(mention["text"])
        candidates = [o for o in officials if _name_key(o["text"]).endswith(key) and len(o["text"]) >= len(mention["text"])]
        out[key] = max(candidates, key=lambda o: (len(o["text"]), -o["start"]))
    return out


def pick_official(value: Entity, sentence: tuple[int, int], paragraph: tuple[int, int], officials: list[Entity]) -> Entity | None:
    in_sentence = _inside(officials, sentence)
    if in_sentence:
        before = [o for o in in_sentence if o["end"] <= value["start"]]
        return max(before, key=lambda o: o["end"]) if before else min(in_sentence, key=lambda o: o["start"])
    earlier_in_paragraph = [o for o in _inside(officials, paragraph) if o["end"] <= value["start"]]
    if earlier_in_paragraph:
        return max(earlier_in_paragraph, key=lambda o: o["end"])
    earlier = [o for o in officials if o["end"] <= value["start"]]
    if earlier:
        return max(earlier, key=lambda o: o["end"])
    return min(officials, key=lambda o: o["start"]) if officials else None


def _province_payload(mention: Entity) -> dict[str, Any]:
    unit = resolve(mention["text"])
    return {
        "name": unit.name if unit else mention["text"],
        "code": unit.code if unit else None,
        "successor": unit.successor if unit else None,
        "start": mention["start"],
        "end": mention["end"],
    }


def main_province(provinces: list[Entity]) -> Entity | None:
    """The article's province: the unit mentioned most often, spellings merged.

    A tie means the article is about several places (national and regional news naming
    a few provinces once each), so no province is assumed; its first mention is returned.
    """
    if not provinces:
        return None
    names = [(_province_payload(p)["name"], p) for p in provinces]
    ranked = Counter(name for name, _ in names).most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    return next(p for name, p in names if name == ranked[0][0])


def link_targets(text: str, entities: list[Entity]) -> list[dict[str, Any]]:
    by_label: dict[str, list[Entity]] = {}
    for e in sorted(entities, key=lambda e: e["start"]):
        by_label.setdefault(e["label"], []).append(e)
    values = by_label.get("TARGET_VALUE", [])
    indicators = by_label.get("INDICATOR", [])
    officials = by_label.get("OFFICIAL", [])
    provinces = by_label.get("PROVINCE", [])
    sentence_spans = sentences(text)
    paragraph_spans = paragraphs(text)
    names = full_names(officials)
    article_province = main_province(provinces)

    tuples: list[dict[str, Any]] = []
    for value in values:
        sentence = _containing(sentence_spans, value["start"])
        paragraph = _containing(paragraph_spans, value["start"])
        indicator = pick_indicator(value, _inside(indicators, sentence), _inside(values, sentence))
        official = pick_official(value, sentence, paragraph, officials)
        province_mentions = _inside(provinces, sentence)
        if province_mentions:
            province = min(province_mentions, key=lambda p: abs(p["start"] - value["start"]))
        else:
            province = article_province
        parsed = parse_value(value["text"])
        official_payload = None
        if official is not None:
            full = names.get(_name_key(official["text"]), official)
            role = find_role(text, official["start"], official["end"]) or find_role(text, full["start"], full["end"])
            official_payload = {"name": full["text"], "role": role, "start": official["start"], "end": official["end"]}
        scores = [value["score"]] + ([indicator["score"]] if indicator else [])
        tuples.append(
            {
                "indicator": None
                if indicator is None
                else {"text": indicator["text"], "start": indicator["start"], "end": indicator["end"]},
                "value": {
                    "text": value["text"],
                    "start": value["start"],
                    "end": value["end"],
                    "comparator": parsed.comparator,
                    "number": parsed.number,
                    "min": parsed.min,
                    "max": parsed.max,
                    "unit": parsed.unit,
                },
                "official": official_payload,
                "province": None if province is None else _province_payload(province),
                "sentence": {"start": sentence[0], "end": sentence[1]},
                "score": round(min(scores), 4),
            }
        )
    return deduplicate(tuples)


def tuple_key(t: dict[str, Any]) -> tuple[str, str, str]:
    """What makes two tuples the same goal: indicator, value and province (case-folded)."""
    indicator = _name_key(t["indicator"]["text"]) if t.get("indicator") else ""
    province = (t.get("province") or {}).get("name") or ""
    return indicator, _name_key(t["value"]["text"]), province


def deduplicate(tuples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Keep one tuple per goal: the mention with the most fields filled, else the first."""
    best: dict[tuple[str, str, str], dict[str, Any]] = {}
    for t in tuples:
        key = tuple_key(t)
        filled = sum(t[k] is not None for k in ("indicator", "official", "province"))
        if key not in best or filled > sum(best[key][k] is not None for k in ("indicator", "official", "province")):
            best[key] = t
    kept = {id(t) for t in best.values()}
    return [t for t in tuples if id(t) in kept]
