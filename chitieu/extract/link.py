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

from bisect import bisect_left, bisect_right
from collections import Counter

from chitieu.core import Entity, Indicator, Official, Province, Span, Target, Value
from chitieu.extract.normalize import parse_value
from chitieu.labels import INDICATOR, OFFICIAL, PROVINCE, TARGET_VALUE
from chitieu.lexicon.unicode import name_key
from chitieu.provinces import resolve
from chitieu.roles import find_role
from chitieu.text import SpanIndex, paragraphs, sentences


def _inside(entities: list[Entity], bounds: tuple[int, int]) -> list[Entity]:
    return [e for e in entities if bounds[0] <= e.start and e.end <= bounds[1]]


def pick_indicator(
    value: Entity, indicators: list[Entity], values: list[Entity], across_values: bool = True
) -> Entity | None:
    """Indicators and values are those of the value's sentence. `across_values=False`
    leaves out the last resort, an indicator before an earlier value of the sentence."""
    before = [i for i in indicators if i.end <= value.start]
    after = [i for i in indicators if i.start >= value.end]
    previous_values = [v.end for v in values if v.end <= value.start and v is not value]
    next_values = [v.start for v in values if v.start >= value.end and v is not value]
    last_value_end = max(previous_values, default=-1)
    next_value_start = min(next_values, default=10**12)
    adjacent_before = [i for i in before if i.start >= last_value_end]
    if adjacent_before:
        return max(adjacent_before, key=lambda i: i.end)
    adjacent_after = [i for i in after if i.end <= next_value_start]
    if adjacent_after:
        return min(adjacent_after, key=lambda i: i.start)
    if before and across_values:
        return max(before, key=lambda i: i.end)
    return None


def full_names(officials: list[Entity]) -> dict[str, Entity]:
    """Map every official mention's text to its fullest mention (`Dũng` -> `Trần Văn Dũng`):
    the longest (then earliest) mention whose name ends with it and is at least as long as
    its last mention of that name.

    Names are compared once per distinct name and suffix length, not mention by mention, so
    thousands of mentions of a few names cost little."""
    best: dict[str, Entity] = {}  # per name: its longest, then earliest, mention
    last: dict[str, Entity] = {}  # per name: its last mention (whose length sets the bar)
    for mention in officials:
        key = name_key(mention.text)
        last[key] = mention
        held = best.get(key)
        if held is None or (len(mention.text), -mention.start) > (len(held.text), -held.start):
            best[key] = mention
    lengths = sorted({len(k) for k in last})
    endings: dict[str, list[str]] = {}  # name -> the names that end with it
    for longer in best:
        for n in lengths:
            if n > len(longer):
                break
            suffix = longer[len(longer) - n :]
            if suffix in last:
                endings.setdefault(suffix, []).append(longer)
    out: dict[str, Entity] = {}
    for key, mention in last.items():
        fits = [best[k] for k in endings[key] if len(best[k].text) >= len(mention.text)]
        out[key] = max(fits, key=lambda o: (len(o.text), -o.start))
    return out


def pick_official(value: Entity, sentence: tuple[int, int], paragraph: tuple[int, int], officials: list[Entity]) -> Entity | None:
    in_sentence = _inside(officials, sentence)
    if in_sentence:
        before = [o for o in in_sentence if o.end <= value.start]
        return max(before, key=lambda o: o.end) if before else min(in_sentence, key=lambda o: o.start)
    earlier_in_paragraph = [o for o in _inside(officials, paragraph) if o.end <= value.start]
    if earlier_in_paragraph:
        return max(earlier_in_paragraph, key=lambda o: o.end)
    earlier = [o for o in officials if o.end <= value.start]
    if earlier:
        return max(earlier, key=lambda o: o.end)
    return min(officials, key=lambda o: o.start) if officials else None


def _province(mention: Entity) -> Province:
    unit = resolve(mention.text)
    return Province(
        name=unit.name if unit else mention.text,
        code=unit.code if unit else None,
        successor=unit.successor if unit else None,
        start=mention.start,
        end=mention.end,
    )


def main_province(provinces: list[Entity]) -> Entity | None:
    """The article's province: the unit mentioned most often, spellings merged.

    A tie means the article is about several places (national and regional news naming
    a few provinces once each), so no province is assumed; its first mention is returned.
    """
    if not provinces:
        return None
    names = [(_province(p).name, p) for p in provinces]
    ranked = Counter(name for name, _ in names).most_common(2)
    if len(ranked) == 2 and ranked[0][1] == ranked[1][1]:
        return None
    return next(p for name, p in names if name == ranked[0][0])


class _Sorted:
    """One label's entities, sorted by start, for the queries linking makes per value.

    Valid only when they are disjoint and non-empty (what the pipeline produces): then ends
    are sorted too, and the few entities `_Neighbours` returns decide the pick functions
    exactly as the whole list would."""

    def __init__(self, entities: list[Entity]) -> None:
        self.entities = entities
        self.starts = [e.start for e in entities]
        self.ends = [e.end for e in entities]

    def inside(self, bounds: tuple[int, int]) -> tuple[int, int]:
        """The index range of the entities within bounds."""
        return bisect_left(self.starts, bounds[0]), bisect_right(self.ends, bounds[1])

    def last_ending_by(self, pos: int, lo: int = 0, hi: int | None = None) -> Entity | None:
        k = bisect_right(self.ends, pos, lo, len(self.ends) if hi is None else hi)
        return self.entities[k - 1] if k > lo else None

    def first_starting_from(self, pos: int, lo: int = 0, hi: int | None = None) -> Entity | None:
        hi = len(self.starts) if hi is None else hi
        k = bisect_left(self.starts, pos, lo, hi)
        return self.entities[k] if k < hi else None


def _disjoint(entities: list[Entity]) -> bool:
    reach = -1
    for e in entities:  # sorted by start
        if e.end <= e.start or e.start < reach:
            return False
        reach = e.end
    return True


def _present(*entities: Entity | None) -> list[Entity]:
    out: list[Entity] = []
    for e in entities:
        if e is not None and all(e is not o for o in out):
            out.append(e)
    return sorted(out, key=lambda e: e.start)


class _Neighbours:
    """For each value, the handful of entities that can decide its indicator, official and
    province (see `_Sorted`), found by bisection instead of scanning the document."""

    def __init__(self, values: list[Entity], indicators: list[Entity], officials: list[Entity], provinces: list[Entity]) -> None:
        self.values, self.indicators = _Sorted(values), _Sorted(indicators)
        self.officials, self.provinces = _Sorted(officials), _Sorted(provinces)

    def around(
        self, value: Entity, sentence: tuple[int, int], paragraph: tuple[int, int]
    ) -> tuple[list[Entity], list[Entity], list[Entity], list[Entity]]:
        start, end = value.start, value.end
        lo, hi = self.values.inside(sentence)
        values = _present(self.values.last_ending_by(start, lo, hi), self.values.first_starting_from(end, lo, hi))
        lo, hi = self.indicators.inside(sentence)
        indicators = _present(
            self.indicators.last_ending_by(start, lo, hi), self.indicators.first_starting_from(end, lo, hi)
        )
        lo, hi = self.officials.inside(sentence)
        p_lo, p_hi = self.officials.inside(paragraph)
        officials = _present(
            self.officials.entities[lo] if lo < hi else None,
            self.officials.last_ending_by(start, lo, hi),
            self.officials.last_ending_by(start, p_lo, p_hi),
            self.officials.last_ending_by(start),
            self.officials.entities[0] if self.officials.entities else None,
        )
        lo, hi = self.provinces.inside(sentence)
        k = bisect_right(self.provinces.starts, start, lo, hi)
        provinces = _present(
            self.provinces.entities[k - 1] if k > lo else None, self.provinces.entities[k] if k < hi else None
        )
        return values, indicators, officials, provinces


def link_targets(text: str, entities: list[Entity], sentence_spans: list[tuple[int, int]] | None = None) -> list[Target]:
    """One Target per TARGET_VALUE (rules in the module docstring); `sentence_spans`: the
    text's sentences, when the caller has read them already."""
    by_label: dict[str, list[Entity]] = {}
    for e in sorted(entities, key=lambda e: e.start):
        by_label.setdefault(e.label, []).append(e)
    values = by_label.get(TARGET_VALUE, [])
    indicators = by_label.get(INDICATOR, [])
    officials = by_label.get(OFFICIAL, [])
    provinces = by_label.get(PROVINCE, [])
    sentence_index = SpanIndex(sentences(text) if sentence_spans is None else sentence_spans)
    paragraph_spans = SpanIndex(paragraphs(text))
    names = full_names(officials)
    article_province = main_province(provinces)
    # Overlapping spans (hand-made input) are linked by scanning, as before; the pipeline's
    # are disjoint and take the bisection path, linear in the document.
    near = _Neighbours(values, indicators, officials, provinces) if all(map(_disjoint, by_label.values())) else None
    tuples: list[Target] = []
    for value in values:
        sentence = sentence_index.containing(value.start)
        paragraph = paragraph_spans.containing(value.start)
        if near is not None:
            near_values, near_indicators, near_officials, near_provinces = near.around(value, sentence, paragraph)
        else:
            near_values, near_indicators, near_officials, near_provinces = values, indicators, officials, provinces
        indicator = pick_indicator(value, _inside(near_indicators, sentence), _inside(near_values, sentence))
        official = pick_official(value, sentence, paragraph, near_officials)
        province_mentions = _inside(near_provinces, sentence)
        province: Entity | None
        if province_mentions:
            province = min(province_mentions, key=lambda p: abs(p.start - value.start))
        else:
            province = article_province
        parsed = parse_value(value.text)
        linked_official = None
        if official is not None:
            full = names.get(name_key(official.text), official)
            role = find_role(text, official.start, official.end) or find_role(text, full.start, full.end)
            linked_official = Official(name=full.text, role=role, start=official.start, end=official.end)
        scores = [value.score] + ([indicator.score] if indicator else [])
        tuples.append(
            Target(
                indicator=None if indicator is None else Indicator(text=indicator.text, start=indicator.start, end=indicator.end),
                value=Value(
                    text=value.text,
                    start=value.start,
                    end=value.end,
                    comparator=parsed.comparator,
                    number=parsed.number,
                    min=parsed.min,
                    max=parsed.max,
                    unit=parsed.unit,
                ),
                official=linked_official,
                province=None if province is None else _province(province),
                sentence=Span(start=sentence[0], end=sentence[1]),
                score=round(min(scores), 4),
            )
        )
    return deduplicate(tuples)


def goal_key(indicator: str | None, value: str, province: str | None) -> tuple[str, str, str]:
    """What makes two tuples the same goal: indicator text, value text and province name
    (texts case-folded); `tuple_key` for a Target, the metrics for tuples in JSON form."""
    return name_key(indicator) if indicator else "", name_key(value), province or ""


def tuple_key(t: Target) -> tuple[str, str, str]:
    return goal_key(t.indicator.text if t.indicator else None, t.value.text, t.province.name if t.province else None)


def _filled(t: Target) -> int:
    return sum(part is not None for part in (t.indicator, t.official, t.province))


def deduplicate(tuples: list[Target]) -> list[Target]:
    """Keep one tuple per goal: the mention with the most fields filled, else the first."""
    best: dict[tuple[str, str, str], Target] = {}
    for t in tuples:
        key = tuple_key(t)
        if key not in best or _filled(t) > _filled(best[key]):
            best[key] = t
    kept = {id(t) for t in best.values()}
    return [t for t in tuples if id(t) in kept]
