"""Is a quantity in a sentence a goal, or a result? The guidelines' test, in one place.

The guidelines label only goals: `Tăng trưởng GRDP ước đạt 3,4%`, `15/25 chỉ tiêu đạt`,
`đạt 87% dự toán` and forecasts (`dự báo`, `dự tính`) are not targets; a plan figure quoted
in a results article (`dự toán thu ngân sách (3.400 tỷ đồng)`) is. Two users:
- the rule baseline (`chitieu.rules`) keeps a value only when `is_stated_goal` finds a goal
  cue for it;
- the model's refine stage (`chitieu.refine`) drops a predicted value only when
  `reports_result` finds a result cue and no goal cue: the model has already judged the
  value, and the cue lists are too short to overrule it on their own.
Positions are offsets into `sentence`, the sentence that holds the value.
"""

from __future__ import annotations

import re

GOAL_RE = re.compile(
    r"phấn đấu|mục tiêu|chỉ tiêu|kế hoạch|dự toán|đề ra|đặt ra|đến năm 20\d\d",
    re.IGNORECASE,
)
_RESULT_WORDS = (
    r"ước|đã|đạt được|thu được|thực hiện được|so với cùng kỳ|so cùng kỳ|dự báo|dự tính|"
    r"lũy kế|luỹ kế|tính đến|đứng thứ|đứng vị trí"
)
# `so với năm 2023` is a comparison base, common in goals too (`tăng 10% so với năm 2023`):
# enough to doubt a rule's match, not to overrule the model.
RESULT_RE = re.compile(r"(?<!\w)(?:" + _RESULT_WORDS + r"|so với năm)(?!\w)", re.IGNORECASE)
_RESULT_ONLY_RE = re.compile(r"(?<!\w)(?:" + _RESULT_WORDS + r")(?!\w)", re.IGNORECASE)
# `đạt 87% dự toán`, `vượt kế hoạch`: a result measured against a plan, not a goal cue.
_PLAN_SHARE_CUE_RE = re.compile(
    r"(?:\d+(?:[.,]\d+)?\s*%\s*(?:so với\s+)?|(?:đạt|vượt|hoàn thành)(?:\s+và\s+vượt)?\s+(?:mức\s+)?)"
    r"(?:kế hoạch|dự toán|chỉ tiêu)",
    re.IGNORECASE,
)
# A value followed by its plan word (`87% kế hoạch`) is a share of the plan, a result.
PLAN_SHARE_RE = re.compile(r"^\s*(?:so với\s+)?(?:kế hoạch|KH|dự toán|chỉ tiêu)", re.IGNORECASE)
# A plan figure quoted after its plan word: `kế hoạch cả năm là X`, `chỉ tiêu ... giao (X)`.
_PLAN_FIGURE_RE = re.compile(r"(?<!vượt )(?:kế hoạch|dự toán|chỉ tiêu)[^.;%\d]{0,45}$", re.IGNORECASE)
_PLAN_FIGURE_QUOTED_RE = re.compile(
    r"(?:kế hoạch|dự toán|chỉ tiêu)[^.;%\d()]{0,45}(?:\(|(?<!\w)là|:)\s*$", re.IGNORECASE
)
# `15/25 chỉ tiêu đạt`, `1/25 đạt trên 80%`: a tally of targets met is always a result.
_TALLY_RE = re.compile(r"(?<![\d/])\d+/\d+\s+(?:chỉ tiêu|đạt|nghị quyết|mục tiêu|nhiệm vụ)", re.IGNORECASE)
CLAUSE_BREAK_RE = re.compile(r"[;()\[\]]|,\s|:\s")


def has_goal_cue(text: str) -> bool:
    return GOAL_RE.search(_PLAN_SHARE_CUE_RE.sub(" ", text)) is not None


def clause_bounds(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The clause around `sentence[start:end]`, split at `;`, `, `, `: ` and brackets."""
    before = [m.end() for m in CLAUSE_BREAK_RE.finditer(sentence, 0, start)]
    after = CLAUSE_BREAK_RE.search(sentence, end)
    return (before[-1] if before else 0), (after.start() if after else len(sentence))


def _is_plan_figure(sentence: str, start: int) -> bool:
    window = sentence[max(0, start - 60) : start]
    return bool(
        _PLAN_FIGURE_QUOTED_RE.search(window) or _PLAN_FIGURE_RE.search(_PLAN_SHARE_CUE_RE.sub(" ", window))
    )


def _never_a_goal(sentence: str, start: int, end: int, clause: str) -> bool:
    """A tally of targets met, or a share of a plan (`87% dự toán`)."""
    is_multiple = re.search(r"(?<!\w)gấp(?!\w)", sentence[start:end], re.IGNORECASE) is not None
    return _TALLY_RE.search(clause) is not None or (not is_multiple and PLAN_SHARE_RE.match(sentence[end:]) is not None)


def is_stated_goal(sentence: str, start: int, end: int) -> bool:
    """A goal cue vouches for the value: a plan figure, a goal word in its clause, or one in its
    sentence with no result word in the clause."""
    c_start, c_end = clause_bounds(sentence, start, end)
    clause = sentence[c_start:c_end]
    if _never_a_goal(sentence, start, end, clause):
        return False
    return (
        _is_plan_figure(sentence, start)
        or has_goal_cue(clause)
        or (has_goal_cue(sentence) and RESULT_RE.search(clause) is None)
    )


def reports_result(sentence: str, start: int, end: int) -> bool:
    """The value is a result or an estimate: a tally, a share of a plan, or a clause with a result
    word (`ước`, `đã`, `lũy kế`, `dự báo`...) and neither a goal word nor a plan figure."""
    c_start, c_end = clause_bounds(sentence, start, end)
    clause = sentence[c_start:c_end]
    if _never_a_goal(sentence, start, end, clause):
        return True
    if _is_plan_figure(sentence, start) or has_goal_cue(clause):
        return False
    return _RESULT_ONLY_RE.search(clause) is not None
