"""Domain constraints applied to decoded entities, before linking.

The guidelines define two labels partly by closed vocabularies, and the model's edges
are weakest exactly there:
- a PROVINCE is one of the province-level names: a predicted PROVINCE that the gazetteer
  does not know (`Hạ Long`, a person's name) is dropped;
- a TARGET_VALUE includes its comparator words and its unit: a predicted value that
  stops at the numeral (`200` of `200 km`, `10,2` of `10,2-10,5%`) or starts after a
  comparator (`27%` of `gần 27%`) is completed over the adjacent words that the
  normaliser reads as comparator, range, scale or unit. Nothing else is added;
- an INDICATOR leaves out framing verbs and comparator words: a predicted indicator that
  starts with `phấn đấu`/`chiếm`/`đạt mức` or ends with `đạt`/`tối thiểu`/`khoảng`... is
  trimmed, so the comparator can go back to the value it belongs to;
- the gold never has two INDICATORs (or two TARGET_VALUEs) separated only by white space:
  such predicted fragments (`số` + `thu ngân sách`) are one span cut in two by the tagger,
  and are joined;
- only goals are TARGET_VALUEs: a predicted value whose clause reports a result or an
  estimate (`ước đạt`, `đã`, `lũy kế`, `dự báo`, a tally `15/25 chỉ tiêu đạt`, a share
  `87% dự toán`) and carries no goal word or plan figure is dropped
  (`chitieu.extract.goals.reports_result`). On the 40 train-only `vnnews-*` articles, which the
  default model never saw, this lifted TARGET_VALUE F1 from 0.490 to 0.506 without losing a
  correct value; run over the gold itself it rejects 8 of the 332 gold values (2.4%), mostly
  future estimates the annotators kept (`sẽ ... ước đạt 200 km`);
- with the model folder's goal classifier, a TARGET_VALUE stays only when two of the
  tagger, the rule goal check and the classifier agree (`chitieu.extract.goal_classifier`);
- an INDICATOR is labelled only in a sentence where a TARGET_VALUE is set: one predicted
  in a sentence without a value is dropped.
"""

from __future__ import annotations

import re

from chitieu.core import Entity
from chitieu.extract.goal_classifier import GoalReader, vote_values
from chitieu.extract.goals import DocumentCues
from chitieu.intervals import Occupied
from chitieu.labels import INDICATOR, PROVINCE, TARGET_VALUE
from chitieu.lexicon.comparators import SIGN_CHARACTERS, comparator_words
from chitieu.lexicon.numbers import NUMERAL, SCALE
from chitieu.lexicon.units import COUNTED_NOUNS, CURRENCIES, PERCENT_POINTS, alternation
from chitieu.provinces import resolve
from chitieu.text import SpanIndex, sentences

# A value's unit: `%` points, a currency, or a counted noun (`chitieu.lexicon.units`).
_UNIT = alternation((PERCENT_POINTS, *CURRENCIES, *COUNTED_NOUNS)) + r"(?![^\W\d_])"
_PER = r"(?:/(?:người|năm|ha|tháng|quý|hộ)(?![^\W\d_]))*"
# After a numeral: `%` (a noun after `%` is the indicator: `100% xã`), or scale words and a
# unit; per-unit suffixes; a range's second end; `trở lên`.
_AFTER_NUMBER = r"(?:\s*%|(?:\s*" + SCALE + r"(?![^\W\d_]))*(?:\s*" + _UNIT + r")?)" + _PER
_RANGE_END = r"(?:\s*(?:[-–]|đến|tới)\s*" + NUMERAL + _AFTER_NUMBER + r")?" + r"(?:\s+trở\s+(?:lên|xuống))?"
_TAIL = re.compile(_AFTER_NUMBER + _RANGE_END, re.IGNORECASE)
# When the predicted value already ends in `%`, only a suffix, a range's end or `trở lên` may follow.
_TAIL_AFTER_PERCENT = re.compile(_PER + _RANGE_END, re.IGNORECASE)
# Comparator words (`chitieu.lexicon.comparators`), longest first; matched right before the value.
_COMPARATORS = comparator_words()
_HEAD = re.compile(
    r"(?:(?:^|(?<=\s))(?P<word>" + "|".join(re.escape(c) for c in _COMPARATORS) + r")\s+"
    r"|(?P<sign>[" + re.escape(SIGN_CHARACTERS) + r"])\s*)$",
    re.IGNORECASE,
)


# Framing words the guidelines leave out of an indicator. `tăng` opens real indicators
# (`tăng trưởng GRDP`), so it is only trimmed at the end; `đạt` is the framing verb
# (`đạt xuất khẩu 10 tỷ USD`) except in `đạt chuẩn ...`, the one indicator the gold opens with it.
_FRAMING_HEAD = re.compile(r"^(?:phấn đấu|đạt mức|chiếm|mức|đạt(?!\s+chuẩn))\s+", re.IGNORECASE)
_FRAMING_TAIL = re.compile(
    r"\s+(?:" + "|".join(re.escape(c) for c in sorted((*_COMPARATORS, "đạt mức", "đạt", "chiếm", "mức", "là", "phấn đấu"), key=len, reverse=True)) + r")$",
    re.IGNORECASE,
)


def trim_indicator(text: str, entity: Entity) -> Entity | None:
    """The indicator without leading or trailing framing words; None when nothing is left."""
    start, end = entity.start, entity.end
    while True:
        span = text[start:end]
        head, tail = _FRAMING_HEAD.match(span), _FRAMING_TAIL.search(span)
        if head:
            start += head.end()
        elif tail:
            end = start + tail.start()
        else:
            break
        if start >= end:
            return None
    if (start, end) == (entity.start, entity.end):
        return entity
    return entity.moved(text, start, end)


def join_fragments(text: str, entities: list[Entity]) -> list[Entity]:
    """Join INDICATOR or TARGET_VALUE spans of the same label separated only by white space."""
    out: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (e.start, e.end)):
        last = out[-1] if out else None
        if (
            last is not None
            and entity.label == last.label in (INDICATOR, TARGET_VALUE)
            and last.end <= entity.start
            and not text[last.end : entity.start].strip()
            and "\n" not in text[last.end : entity.start]
        ):
            out[-1] = last.moved(text, last.start, entity.end).model_copy(update={"score": min(last.score, entity.score)})
            continue
        out.append(entity)
    return out


def complete_value(text: str, entity: Entity, entities: list[Entity], occupied: Occupied | None = None) -> Entity:
    """The value grown over the comparator before it and the unit, range or `trở lên` after
    it, where those words are free of other entities. `occupied` holds the ranges of
    `entities` (refine keeps one for the whole document); a value's own range never counts,
    as only the words next to it are asked about."""
    occupied = occupied or Occupied((e.start, e.end) for e in entities)
    start, end = entity.start, entity.end
    if not re.search(r"\d", text[start:end]):
        return entity
    tail = (_TAIL_AFTER_PERCENT if text[end - 1] == "%" else _TAIL).match(text, end)
    if tail and tail.end() > end and not occupied.overlaps(end, tail.end()):
        end = tail.end()
    head = _HEAD.search(text, max(0, start - 20), start)
    if head:
        head_start = head.start("word") if head.group("word") else head.start("sign")
        if not occupied.overlaps(head_start, start):
            start = head_start
    if (start, end) == (entity.start, entity.end):
        return entity
    return entity.moved(text, start, end)


#: The refine stage's steps, in order, by the names `skip` (and `chitieu evaluate --ablation`) use.
REFINE_STEPS = (
    "province-gazetteer", "indicator-trim", "join-fragments", "value-completion", "result-check", "goal-vote",
    "indicator-needs-value",
)


def refine(
    text: str,
    entities: list[Entity],
    goal_classifier: GoalReader | None = None,
    skip: frozenset[str] = frozenset(),
    sentence_spans: list[tuple[int, int]] | None = None,
) -> list[Entity]:
    """Entities after the province and value constraints; offsets index `text`. With a goal
    classifier, TARGET_VALUEs are then put to the vote of `chitieu.extract.goal_classifier`. `skip`
    names steps of `REFINE_STEPS` to leave out, for ablations; `sentence_spans` are the
    text's sentences when the caller has read them already (`Prepared.sentences`).

    Sentences, their clauses and cue words are read once per document (`DocumentCues`) and
    entities are found by bisection, so the time grows with the document, not with its
    values x its length."""
    unknown = skip - set(REFINE_STEPS)
    if unknown:
        raise ValueError(f"unknown refine steps {sorted(unknown)}: use names from {', '.join(REFINE_STEPS)}")
    sentence_spans = sentences(text) if sentence_spans is None else sentence_spans
    bounds = SpanIndex(sentence_spans)
    cues = DocumentCues(text)
    out: list[Entity] = []
    for entity in entities:
        if entity.label == PROVINCE and "province-gazetteer" not in skip and resolve(entity.text) is None:
            continue
        if entity.label == INDICATOR and "indicator-trim" not in skip:
            trimmed = trim_indicator(text, entity)
            if trimmed is None:
                continue
            entity = trimmed
        out.append(entity)
    if "join-fragments" not in skip:
        out = join_fragments(text, out)
    occupied = Occupied((e.start, e.end) for e in out)
    for i, entity in enumerate(out):
        if entity.label == TARGET_VALUE and "value-completion" not in skip:
            out[i] = complete_value(text, entity, out, occupied)
            # The words a value grew over were free; later values must not take them.
            if out[i].start < entity.start:
                occupied.add(out[i].start, entity.start)
            if out[i].end > entity.end:
                occupied.add(entity.end, out[i].end)
    if "result-check" not in skip:
        out = [e for e in out if e.label != TARGET_VALUE or not _is_result(bounds, cues, e)]
    if goal_classifier is not None and "goal-vote" not in skip:
        out = vote_values(text, out, goal_classifier, cues, sentence_spans)
    if "indicator-needs-value" in skip:
        return out
    with_values = {bounds.index(e.start) for e in out if e.label == TARGET_VALUE}
    return [e for e in out if e.label != INDICATOR or bounds.index(e.start) in with_values]


def _is_result(bounds: SpanIndex, cues: DocumentCues, entity: Entity) -> bool:
    k = bounds.index(entity.start)
    if k < 0:
        return False
    s_start, s_end = bounds.spans[k]
    return cues.sentence(s_start, s_end).reports_result(entity.start - s_start, min(entity.end, s_end) - s_start)
