"""A transparent rule-based extractor: the evaluation baseline and the pre-annotator.

Every span comes from one of the rules below, with that rule's fixed confidence as its
score. Spans never overlap: on a clash the earlier label in PROVINCE, OFFICIAL,
TARGET_VALUE, INDICATOR order wins, then the earlier, longer span.

PROVINCE (0.9): `chitieu.provinces.find_mentions` (names only, HCMC whole, towns that share
a province's name skipped, companies and streets skipped).

OFFICIAL
- O1 (0.85) title first: a head word (`Bí thư`, `Phó Chủ tịch`, `Bộ trưởng`, ... see
  `chitieu.roles.HEADS`), then at most 10 title words with no verb or function word among
  them (`Tỉnh ủy Bến Tre`, `UBND tỉnh -`), then a personal name: 2-4 capitalised syllables
  starting with a common family name (`chitieu.roles.SURNAMES`) and not inside a province
  mention. `Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ` -> `Lê Đức Thọ`.
- O2 (0.8) name first: such a name (after `ông`/`bà`/`đồng chí` or not) followed by `,` or a
  dash and a head word: `Ông Trần Ngọc Tam, Chủ tịch UBND tỉnh` -> `Trần Ngọc Tam`.
- O3 (0.75) later mentions: every other occurrence of a full name found by O1/O2, and
  `ông X`/`bà X`/`đồng chí X` where X is the last one or two syllables of such a name
  (`ông Phong` -> `Phong`).
Bylines and photographers are never matched: they carry no title.

TARGET_VALUE (0.7)
- V1 a value expression (`chitieu.extract.goals.value_candidates`, which the goal vote reads too): optional comparator words or signs (`chitieu.lexicon.comparators`:
  `từ`, `trên`, `khoảng`, `không vượt quá`, `trên dưới`, ..., `≥ ≤ > < ~`), a numeral or a range
  (`8 - 8,5`, `7,5% đến 8%`), an optional scale word, and a unit that is required: `%`, `điểm phần trăm`, a currency, or a
  counted noun from `chitieu.lexicon.units.COUNTED_NOUNS`; then an optional per-unit suffix (`/người/năm`) and
  `trở lên`/`trở xuống`. `gấp N lần` and `gấp đôi` are values too. Bare numbers are not:
  without a unit they are too often dates, counts of tasks or ranks.
- V2 only goals (`chitieu.extract.goals.is_stated_goal`): a plan figure (the value right after `kế hoạch`/`dự toán`/`chỉ tiêu`
  and a few words, `vượt chỉ tiêu` and `87% dự toán` excepted, or quoted after one in
  brackets or after `là`), or the value's clause (split at `;`, `,`, brackets) has a goal cue
  (`phấn đấu`, `mục tiêu`, `chỉ tiêu`, `kế hoạch`, `dự toán`, `đề ra`, `đặt ra`,
  `đến năm 20xx`, `năm 20xx ... đạt`), or its sentence has one and the clause has no result
  cue (`ước`, `đã đạt`, `đạt được`, `thu được`, `thực hiện được`, `so với cùng kỳ`,
  `dự báo`, `dự tính`, `lũy kế`, `tính đến`).
- V3 not in a clause that tallies targets met (`15/25 chỉ tiêu đạt`, `1/25 đạt trên 80%`),
  even with a goal cue; not a share of a plan (`đạt 105% kế hoạch`, `vượt 5% dự toán`), not a date or period
  (`15/01/2023`, `2021 – 2025`), not a count of projects or tasks (they are not in
  `chitieu.lexicon.units.COUNTED_NOUNS`).

INDICATOR (0.5), for each TARGET_VALUE:
- I1 the words just before the value, back to the clause start, a goal cue, a framing verb
  (`đưa`, `nâng`, `đảm bảo`) or another span; with framing words (`đạt`, `đạt mức`,
  `ở mức`, `là`, `chiếm`, `tăng`, `giảm`), time phrases (`năm 2025`,
  `giai đoạn 2021 – 2025`), the comparison base and `của tỉnh`/`toàn tỉnh` trimmed from
  its ends; 1-15 words.
- I2 when nothing is left before the value (`100% hồ sơ ... được xử lý`), the words just
  after it, up to the next punctuation, span or `so với`, 1-15 words.
"""

from __future__ import annotations

import re
from typing import Literal

from chitieu.extract.goals import CLAUSE_BREAK_RE, goal_values
from chitieu.labels import INDICATOR, OFFICIAL, PROVINCE, TARGET_VALUE
from chitieu.lexicon.cues import GOAL_WORDS
from chitieu.provinces import find_mentions, match_key
from chitieu.roles import HEAD_RE, SURNAME_KEYS, has_stop_word
from chitieu.text import sentences

PROVINCE_SCORE = 0.9
OFFICIAL_TITLE_SCORE = 0.85
OFFICIAL_APPOSITION_SCORE = 0.8
OFFICIAL_REPEAT_SCORE = 0.75
VALUE_SCORE = 0.7
INDICATOR_SCORE = 0.5

_INDICATOR_STOP_RE = re.compile(
    r"(?<!\w)(?:" + "|".join(GOAL_WORDS) + r"|đưa|nâng|đảm bảo|bảo đảm|"
    r"giao|trong đó|cụ thể|với|để|nhằm)(?!\w)",
    re.IGNORECASE,
)
_TIME = r"(?:(?:đến|vào|trong|của|cả)\s+)?(?:năm|giai đoạn|thời kỳ|nhiệm kỳ)\s+\d{4}(?:\s*[-–—]\s*\d{4})?"
_TRAIL_RE = re.compile(
    r"(?:\s+|^)(?:đạt mức|ở mức|đạt|là|chiếm|tăng|giảm|lên|còn|mức|sẽ|phải|có|cho|" + _TIME + r"|so với[^,;]*|"
    r"của tỉnh|của thành phố|toàn tỉnh|toàn thành phố|và|hoặc|\([^()]*\))\s*$",
    re.IGNORECASE,
)
_LEAD_RE = re.compile(
    r"^(?:phấn đấu|đạt|mức|có|các|những|là|và|thì|nhất là|riêng|tổng số|số lượng|" + _TIME + r")\s+",
    re.IGNORECASE,
)
_NAME_WORD_RE = re.compile(r"[^\W\d_]+")
_HONORIFIC = r"(?:ông|bà|Ông|Bà|đồng chí|Đồng chí)"
# Named with a title but holding no current office (guidelines: historical figures).
_HISTORICAL_NAMES = ("Hồ Chí Minh",)
# A title of a company, bank, association or cooperative: its holder is not an official.
_COMPANY_RE = re.compile(
    r"(?<!\w)(?:Công ty|công ty|Cty|CTCP|HĐQT|Tập đoàn|tập đoàn|Hiệp hội|hiệp hội|HTX|Hợp tác xã|"
    r"Ngân hàng|ngân hàng|Phòng Thương mại|VCCI|doanh nghiệp|Doanh nghiệp)(?!\w)"
)

_PRIORITY = {PROVINCE: 0, OFFICIAL: 1, TARGET_VALUE: 2, INDICATOR: 3}


def _span(text: str, start: int, end: int, label: str, score: float) -> dict:
    return {"start": start, "end": end, "label": label, "text": text[start:end], "score": score}


def _is_name_word(word: str) -> bool:
    return word.isalpha() and word[0].isupper() and (len(word) == 1 or word[1:].islower())


def _name_at(text: str, pos: int, blocked: list[tuple[int, int]]) -> tuple[int, int] | None:
    """A 2-4 syllable personal name starting exactly at pos, or None."""
    words = []
    for m in re.finditer(r"\S+", text[pos : pos + 60]):
        w = m.group()
        core = w.rstrip(",.;:!?)”\"-–—/")
        if m.start() != 0 and text[pos + m.start() - 1] not in " ":
            break
        if not _is_name_word(core):
            break
        words.append((pos + m.start(), pos + m.start() + len(core)))
        if core != w or len(words) == 4:
            break
    if len(words) < 2 or match_key(text[words[0][0] : words[0][1]]) not in SURNAME_KEYS:
        return None
    start, end = words[0][0], words[-1][1]
    if any(h.startswith(text[start:end]) for h in _HISTORICAL_NAMES):
        return None
    if any(a < end and start < b for a, b in blocked):
        return None
    return start, end


class RuleExtractor:
    """Spans for the four labels by the rules in the module docstring."""

    def __init__(self, era: Literal["old", "new"] = "old") -> None:
        self.era = era

    def predict(self, text: str) -> list[dict]:
        spans = [_span(text, a, b, PROVINCE, PROVINCE_SCORE) for a, b, _ in find_mentions(text, self.era)]
        province_ranges = [(s["start"], s["end"]) for s in spans]
        spans += self._officials(text, province_ranges)
        values = self._values(text)
        spans += values
        taken = _resolve_overlaps(spans)
        spans = taken + self._indicators(text, [s for s in taken if s["label"] == TARGET_VALUE], taken)
        return sorted(_resolve_overlaps(spans), key=lambda s: (s["start"], s["end"]))

    # ---- OFFICIAL -------------------------------------------------------------------

    def _officials(self, text: str, blocked: list[tuple[int, int]]) -> list[dict]:
        found: dict[tuple[int, int], float] = {}
        key = match_key(text)
        for head in HEAD_RE.finditer(key):
            for m in re.finditer(r"(?<!\S)\S", text[head.end() : head.end() + 120]):
                pos = head.end() + m.start()
                between = text[head.end() : pos]
                if re.search(r"[;:()\n“”\"]|\.\s", between) or has_stop_word(between) or len(between.split()) > 10:
                    break
                if _COMPANY_RE.search(between) or re.search(r"(?i)tổng\s+$", key[max(0, head.start() - 6) : head.start()]):
                    break
                name = _name_at(text, pos, blocked)
                if name:
                    found.setdefault(name, OFFICIAL_TITLE_SCORE)
                    break
        for m in re.finditer(r"(?<!\S)\S", text):
            name = _name_at(text, m.start(), blocked)
            if not name or name in found:
                continue
            after = text[name[1] : name[1] + 40]
            sep = re.match(r"\s*(?:,|[-–—])\s*", after)
            title = text[name[1] + sep.end() : name[1] + sep.end() + 80] if sep else ""
            if sep and HEAD_RE.match(match_key(title)) and not _COMPANY_RE.search(" ".join(title.split()[:8])):
                found[name] = OFFICIAL_APPOSITION_SCORE
        spans = [_span(text, a, b, OFFICIAL, s) for (a, b), s in found.items()]
        full_names = {text[a:b] for a, b in found}
        short_forms = set()
        for n in full_names:
            parts = n.split()
            short_forms.update({parts[-1], " ".join(parts[-2:])})
        for n in full_names:
            for m in re.finditer(r"(?<!\w)" + re.escape(n) + r"(?!\w)", text):
                if (m.start(), m.end()) not in found:
                    spans.append(_span(text, m.start(), m.end(), OFFICIAL, OFFICIAL_REPEAT_SCORE))
        if short_forms:
            alternatives = "|".join(re.escape(s) for s in sorted(short_forms, key=len, reverse=True))
            for m in re.finditer(r"(?<!\w)" + _HONORIFIC + r"\s+(" + alternatives + r")(?![\w])(?!\s+[A-ZĐ])", text):
                spans.append(_span(text, m.start(1), m.end(1), OFFICIAL, OFFICIAL_REPEAT_SCORE))
        return spans

    # ---- TARGET_VALUE ---------------------------------------------------------------

    def _values(self, text: str) -> list[dict]:
        return [_span(text, start, end, TARGET_VALUE, VALUE_SCORE) for start, end in goal_values(text)]

    # ---- INDICATOR ------------------------------------------------------------------

    def _indicators(self, text: str, values: list[dict], taken: list[dict]) -> list[dict]:
        out: list[dict] = []
        occupied = sorted((s["start"], s["end"]) for s in taken)
        for value in values:
            span = self._indicator_before(text, value, occupied) or self._indicator_after(text, value, occupied)
            if span:
                out.append(_span(text, span[0], span[1], INDICATOR, INDICATOR_SCORE))
                occupied.append(span)
                occupied.sort()
        return out

    def _indicator_before(self, text: str, value: dict, occupied: list[tuple[int, int]]) -> tuple[int, int] | None:
        end = value["start"]
        start = _sentence_start(text, end)
        breaks = [m.end() for m in CLAUSE_BREAK_RE.finditer(text, start, end)]
        breaks += [m.end() for m in _INDICATOR_STOP_RE.finditer(text, start, end)]
        breaks += [b for a, b in occupied if start <= b <= end]
        start = max([start, *breaks])
        return _trim(text, start, end)

    def _indicator_after(self, text: str, value: dict, occupied: list[tuple[int, int]]) -> tuple[int, int] | None:
        start = value["end"]
        stop = re.search(r"[,;.:()\n“”\"]|(?<!\w)so với(?!\w)", text[start:])
        end = start + stop.start() if stop else len(text)
        for a, _ in occupied:
            if start <= a < end:
                end = a
        return _trim(text, start, end)


def _sentence_start(text: str, pos: int) -> int:
    for a, b in sentences(text):
        if a <= pos <= b:
            return a
    return max(text.rfind("\n", 0, pos) + 1, 0)


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim framing words, time phrases and edge punctuation; None if 0 or >15 words remain."""
    edge = " ,-–—\n\t"
    while True:
        while start < end and text[start] in edge:
            start += 1
        while end > start and text[end - 1] in edge:
            end -= 1
        piece = text[start:end]
        trail = _TRAIL_RE.search(piece)
        if piece and trail:
            end = start + trail.start()
            continue
        lead = _LEAD_RE.match(piece)
        if lead:
            start += lead.end()
            continue
        break
    words = _NAME_WORD_RE.findall(text[start:end])
    if not 1 <= len(words) <= 15:
        return None
    return start, end


def _resolve_overlaps(spans: list[dict]) -> list[dict]:
    chosen: list[dict] = []
    for s in sorted(spans, key=lambda s: (_PRIORITY[s["label"]], s["start"], -(s["end"] - s["start"]))):
        if all(s["end"] <= c["start"] or c["end"] <= s["start"] for c in chosen):
            chosen.append(s)
    return chosen
