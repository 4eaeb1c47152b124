"""Words that mark a goal or a plan (`chitieu.extract.goals` reads them; the rules stop an indicator at them)."""

from __future__ import annotations

#: The plan a figure may be measured against or quoted from.
PLAN_WORDS: tuple[str, ...] = ("kế hoạch", "dự toán", "chỉ tiêu")
#: Words that state a goal in a clause or sentence (`đến năm 20xx` is matched as a pattern).
GOAL_WORDS: tuple[str, ...] = ("phấn đấu", "mục tiêu", "chỉ tiêu", "kế hoạch", "dự toán", "đề ra", "đặt ra")
