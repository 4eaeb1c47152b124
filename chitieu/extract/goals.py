"""Is a quantity in a sentence a goal, or a result? The guidelines' test, in one place.

The guidelines label only goals: `Tăng trưởng GRDP ước đạt 3,4%`, `15/25 chỉ tiêu đạt`,
`đạt 87% dự toán` and forecasts (`dự báo`, `dự tính`) are not targets; a plan figure quoted
in a results article (`dự toán thu ngân sách (3.400 tỷ đồng)`) is.

The figures the test is asked about are the value expressions (`value_candidates`: a
numeral with a required unit, comparators and ranges, rule V1 of the baseline); `goal_values`
keeps those `is_stated_goal` vouches for. Two users:
- the rule baseline (`chitieu.evaluate.rules`) keeps a value only when `is_stated_goal` finds a goal
  cue for it (`goal_values`);
- the goal vote (`chitieu.extract.goal_classifier`) reads the same value expressions and
  `goal_values` as its rule opinion, and `reports_result` (a result cue and no goal cue) as a
  feature of its classifier.
Positions are offsets into `sentence`, the sentence that holds the value.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from chitieu.lexicon.comparators import SIGN_CHARACTERS, comparator_words
from chitieu.lexicon.cues import GOAL_WORDS, NOT_A_GOAL_PATTERN, PLAN_WORDS
from chitieu.lexicon.numbers import NUMERAL, SCALE
from chitieu.lexicon.units import COUNTED_NOUNS, CURRENCIES, alternation
from chitieu.text import sentences

_PLAN = "(?:" + "|".join(PLAN_WORDS) + ")"
GOAL_RE = re.compile("|".join(GOAL_WORDS) + r"|đến năm 20\d\d", re.IGNORECASE)
_NOT_A_GOAL_RE = re.compile(NOT_A_GOAL_PATTERN, re.IGNORECASE)
# A period already under way or past (`6 tháng đầu năm`, `quý I`, `hiện nay`, `cùng kỳ năm
# ngoái`) dates a result: on train+dev, 54 value expressions the goal check took for goals on
# the strength of a goal word elsewhere in their sentence sit in such a clause, 10 gold goals do.
_RESULT_WORDS = (
    r"ước|đã|đạt được|thu được|thực hiện được|dự báo|dự tính|"
    r"lũy kế|luỹ kế|tính đến|đứng thứ|đứng vị trí|"
    r"tháng đầu năm|quý (?:I|II|III|IV|1|2|3|4)|hiện nay|hiện có|hiện đang|cùng kỳ|năm ngoái|vừa qua"
)
# `so với năm 2023` is a comparison base, common in goals too (`tăng 10% so với năm 2023`):
# enough to doubt a rule's match, not to overrule the model.
RESULT_RE = re.compile(r"(?<!\w)(?:" + _RESULT_WORDS + r"|so với năm)(?!\w)", re.IGNORECASE)
_RESULT_ONLY_RE = re.compile(r"(?<!\w)(?:" + _RESULT_WORDS + r")(?!\w)", re.IGNORECASE)
# `đạt 87% dự toán`, `vượt kế hoạch`: a result measured against a plan, not a goal cue.
_PLAN_SHARE_CUE_RE = re.compile(
    r"(?:\d+(?:[.,]\d+)?\s*%\s*(?:so với\s+)?|(?:đạt|vượt|hoàn thành)(?:\s+và\s+vượt)?\s+(?:mức\s+)?)"
    + _PLAN,
    re.IGNORECASE,
)
# A value followed by its plan word (`87% kế hoạch`) is a share of the plan, a result.
# No `^`: matched with `.match(sentence, end)`, which anchors at `end` without copying the rest.
_PLAN_MEASURES = r"kế hoạch|KH|dự toán|chỉ tiêu"  # what a share of a plan is a share of
PLAN_SHARE_RE = re.compile(r"\s*(?:so với\s+)?(?:" + _PLAN_MEASURES + ")", re.IGNORECASE)
# A plan figure quoted after its plan word: `kế hoạch cả năm là X`, `chỉ tiêu ... giao (X)`.
_PLAN_FIGURE_RE = re.compile(r"(?<!vượt )" + _PLAN + r"[^.;%\d]{0,45}$", re.IGNORECASE)
_PLAN_FIGURE_QUOTED_RE = re.compile(
    _PLAN + r"[^.;%\d()]{0,45}(?:\(|(?<!\w)là|:)\s*$", re.IGNORECASE
)
# `15/25 chỉ tiêu đạt`, `1/25 đạt trên 80%`: a tally of targets met is always a result.
_TALLY_RE = re.compile(r"(?<![\d/])\d+/\d+\s+(?:chỉ tiêu|đạt|nghị quyết|mục tiêu|nhiệm vụ)", re.IGNORECASE)
CLAUSE_BREAK_RE = re.compile(r"[;()\[\]]|,\s|:\s")
_MULTIPLE_RE = re.compile(r"(?<!\w)gấp(?!\w)", re.IGNORECASE)


def has_goal_cue(text: str) -> bool:
    """A goal word or `đến năm 20xx`, not counting a share of a plan (`đạt 87% dự toán`) or a
    military or market target (`chitieu.lexicon.cues.NOT_A_GOAL_PATTERN`)."""
    return GOAL_RE.search(_NOT_A_GOAL_RE.sub(" ", _PLAN_SHARE_CUE_RE.sub(" ", text))) is not None


@dataclass(frozen=True)
class _ClauseCues:
    tally: bool
    goal: bool
    result: bool
    result_only: bool


class SentenceCues:
    """One sentence's clause breaks and cue checks, computed once and shared by all its values.

    A clause and the checks on it depend only on where the sentence's breaks are, so every
    value of a clause reuses one reading of it: work grows with the sentence, not with values
    x sentence (a run-on text of thousands of figures in one sentence).
    Positions are offsets into `sentence`."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        # A break is one of `;()[]` or `,`/`:` plus one white space: breaks never overlap, so
        # the breaks inside sentence[:start] are exactly those that end by `start`.
        breaks = [(m.start(), m.end()) for m in CLAUSE_BREAK_RE.finditer(sentence)]
        self._break_starts = [a for a, _ in breaks]
        self._break_ends = [b for _, b in breaks]
        self._clauses: dict[tuple[int, int], _ClauseCues] = {}
        self._goal_in_sentence: bool | None = None

    def clause_bounds(self, start: int, end: int) -> tuple[int, int]:
        """The clause around `sentence[start:end]`, split at `;`, `, `, `: ` and brackets."""
        k = bisect_right(self._break_ends, start)
        c_start = self._break_ends[k - 1] if k else 0
        j = bisect_left(self._break_starts, end)
        c_end = self._break_starts[j] if j < len(self._break_starts) else len(self.sentence)
        return c_start, c_end

    def _clause(self, c_start: int, c_end: int) -> _ClauseCues:
        cues = self._clauses.get((c_start, c_end))
        if cues is None:
            clause = self.sentence[c_start:c_end]
            cues = _ClauseCues(
                tally=_TALLY_RE.search(clause) is not None,
                goal=has_goal_cue(clause),
                result=RESULT_RE.search(clause) is not None,
                result_only=_RESULT_ONLY_RE.search(clause) is not None,
            )
            self._clauses[(c_start, c_end)] = cues
        return cues

    def _sentence_has_goal_cue(self) -> bool:
        if self._goal_in_sentence is None:
            self._goal_in_sentence = has_goal_cue(self.sentence)
        return self._goal_in_sentence

    def _is_plan_figure(self, start: int) -> bool:
        window = self.sentence[max(0, start - 60) : start]
        return bool(
            _PLAN_FIGURE_QUOTED_RE.search(window) or _PLAN_FIGURE_RE.search(_PLAN_SHARE_CUE_RE.sub(" ", window))
        )

    def _never_a_goal(self, start: int, end: int, clause: _ClauseCues) -> bool:
        """A tally of targets met, or a share of a plan (`87% dự toán`)."""
        # The slice, not pos/endpos: `(?<!\w)` must not see the character before the value.
        is_multiple = _MULTIPLE_RE.search(self.sentence[start:end]) is not None
        return clause.tally or (not is_multiple and PLAN_SHARE_RE.match(self.sentence, end) is not None)

    def is_stated_goal(self, start: int, end: int) -> bool:
        """A goal cue vouches for the value: a plan figure, a goal word in its clause, or one in
        its sentence with no result word in the clause."""
        clause = self._clause(*self.clause_bounds(start, end))
        if self._never_a_goal(start, end, clause):
            return False
        return self._is_plan_figure(start) or clause.goal or (self._sentence_has_goal_cue() and not clause.result)

    def reports_result(self, start: int, end: int) -> bool:
        """The value is a result or an estimate: a tally, a share of a plan, or a clause with a
        result word (`ước`, `đã`, `lũy kế`, `dự báo`...) and neither a goal word nor a plan figure."""
        clause = self._clause(*self.clause_bounds(start, end))
        if self._never_a_goal(start, end, clause):
            return True
        if self._is_plan_figure(start) or clause.goal:
            return False
        return clause.result_only


class DocumentCues:
    """SentenceCues for the sentences of one document, built as they are first asked for."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._sentences: dict[tuple[int, int], SentenceCues] = {}

    def sentence(self, s_start: int, s_end: int) -> SentenceCues:
        cues = self._sentences.get((s_start, s_end))
        if cues is None:
            cues = self._sentences[(s_start, s_end)] = SentenceCues(self.text[s_start:s_end])
        return cues


def clause_bounds(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause around `sentence[start:end]`, split at `;`, `, `, `: ` and brackets."""
    return SentenceCues(sentence).clause_bounds(start, end)


def is_stated_goal(sentence: str, start: int, end: int) -> bool:
    """See SentenceCues.is_stated_goal; for many values of one sentence, build SentenceCues once."""
    return SentenceCues(sentence).is_stated_goal(start, end)


def reports_result(sentence: str, start: int, end: int) -> bool:
    """See SentenceCues.reports_result; for many values of one sentence, build SentenceCues once."""
    return SentenceCues(sentence).reports_result(start, end)


# ---- value expressions (rule V1 of chitieu.evaluate.rules): what the goal test is asked about

_CURRENCY = alternation(CURRENCIES)
_COMPARATOR = alternation(comparator_words())
_COUNTED = alternation(COUNTED_NOUNS)
_PER_UNIT = r"(?:\s*/\s*[^\W\d_]\w*){0,2}"
_VALUE_RE = re.compile(
    r"(?<![\w/.,])"
    r"(?:(?P<comp>" + _COMPARATOR + r")\s+|(?P<sign>[" + re.escape(SIGN_CHARACTERS) + r"])\s*)?"
    r"(?:(?P<mult>gấp\s+(?:" + NUMERAL + r"\s+lần|đôi|rưỡi|ba|hai))"
    r"|(?P<num>" + NUMERAL + r")"
    r"(?:(?:\s*%)?\s*(?:[-–—]|đến|tới)\s*" + NUMERAL + r")?"
    r"(?:\s*%" + _PER_UNIT + r"|\s+điểm phần trăm"
    r"|(?:\s+" + SCALE + r")?\s+(?:" + _CURRENCY + r"|" + _COUNTED + r")" + _PER_UNIT + r")"
    r")"
    r"(?:\s+trở\s+(?:lên|xuống))?"
    r"(?![^\W_])",
    re.IGNORECASE,
)


# ---- figures a goal sentence names that are not the goal (guidelines: a goal replaced by a
# new one is not a target, the one in force is)

# `từ 500.000 ha (theo quy hoạch) lên 600.000 ha`, `từ 30% xuống còn 15%`: the figure a change
# starts from. Matched at the end of the first figure.
_CHANGE_TO_RE = re.compile(
    r"\s*(?:\([^)]{0,40}\)\s*)?(?:(?:tăng|giảm|hạ|nâng)\s+)?(?:lên|xuống|còn)(?:\s+(?:đến|tới|mức|còn))?"
    r"\s+(?:khoảng\s+|dưới\s+|trên\s+)?\d",
    re.IGNORECASE,
)
_FROM_RE = re.compile(r"(?<!\w)từ(?:\s+mức)?\s*$", re.IGNORECASE)
# `đạt A (thay vì B như dự thảo trước)`: B is the figure replaced.
_INSTEAD_OF_RE = re.compile(r"(?<!\w)(?:thay vì|thay cho)(?:\s+mức)?\s*$", re.IGNORECASE)


def is_superseded(text: str, start: int, end: int) -> bool:
    """`text[start:end]` is a figure a goal replaces: the start of a change to another figure
    (`từ 30% xuống còn 15%`; the value may hold its `từ`) or the figure after `thay vì`.
    On train+dev no gold TARGET_VALUE is one."""
    # Searched in place (pos/endpos, not a slice): `(?<!\w)` sees the character before the
    # window, and `$` anchors at `start`. 20 characters reach back over `thay vì mức `.
    window = max(0, start - 20)
    if _INSTEAD_OF_RE.search(text, window, start):
        return True
    starts_from = text[start:end].lower().startswith("từ ") or _FROM_RE.search(text, window, start) is not None
    return starts_from and _CHANGE_TO_RE.match(text, end) is not None


# `46.632,8 tỷ đồng, đạt 87,7% kế hoạch`: a figure followed by the share of its plan it
# reaches is an amount reached, a result. Matched at the end of the figure.
_SHARE_OF_PLAN_AFTER_RE = re.compile(
    r"\s*,?\s*(?:và\s+)?(?:đạt|bằng|vượt|tương đương|tương ứng|chiếm)\s+(?:khoảng\s+|gần\s+|hơn\s+|trên\s+)?"
    r"\d[\d.,]*\s*%\s*(?:so với\s+)?(?:" + _PLAN_MEASURES + "|mục tiêu)",
    re.IGNORECASE,
)


def reaches_share_of_plan(text: str, end: int) -> bool:
    """The figure ending at `end` is followed by the share of the plan it reaches (`...,
    đạt 87,7% kế hoạch`): the guidelines' `đạt 87% dự toán` is no target, nor is the amount
    it measures. On train+dev no gold TARGET_VALUE is one, 47 other value expressions are."""
    return _SHARE_OF_PLAN_AFTER_RE.match(text, end) is not None


class ValueCandidate(NamedTuple):
    """A value expression (rule V1) and the sentence it sits in, in offsets of the text."""

    start: int
    end: int
    sentence_start: int
    sentence_end: int


_PERIOD_RE = re.compile(r"\d{4}\s*[-–—]\s*\d{4}\b")


def value_candidates(text: str, sentence_spans: list[tuple[int, int]] | None = None) -> list[ValueCandidate]:
    """Every value expression of rule V1, goal or not; periods such as `2021 - 2025` excluded.
    `sentence_spans`: the text's sentences, when the caller has read them already."""
    out = []
    for s_start, s_end in sentences(text) if sentence_spans is None else sentence_spans:
        sentence = text[s_start:s_end]
        for m in _VALUE_RE.finditer(sentence):
            if m.group("num") and _PERIOD_RE.match(sentence, m.start("num")):
                continue
            out.append(ValueCandidate(s_start + m.start(), s_start + m.end(), s_start, s_end))
    return out


def goal_values(
    text: str, candidates: Sequence[ValueCandidate] | None = None, cues: DocumentCues | None = None
) -> list[tuple[int, int]]:
    """The (start, end) of the value expressions (`value_candidates`, unless given) that
    rules V2 and V3 read as goals. `cues` shares one reading of each sentence with other stages."""
    cues = cues or DocumentCues(text)
    out = []
    for c in value_candidates(text) if candidates is None else candidates:
        if cues.sentence(c.sentence_start, c.sentence_end).is_stated_goal(c.start - c.sentence_start, c.end - c.sentence_start):
            out.append((c.start, c.end))
    return out
