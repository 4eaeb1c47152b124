"""Words that mark a goal or a plan (`chitieu.extract.goals` reads them; the rules stop an indicator at them)."""

from __future__ import annotations

#: The plan a figure may be measured against or quoted from.
PLAN_WORDS: tuple[str, ...] = ("kế hoạch", "dự toán", "chỉ tiêu")
#: Words that state a goal in a clause or sentence (`đến năm 20xx` is matched as a pattern).
GOAL_WORDS: tuple[str, ...] = ("phấn đấu", "mục tiêu", "chỉ tiêu", "kế hoạch", "dự toán", "đề ra", "đặt ra")
#: `mục tiêu` that is no goal: a military or a market target (`hạ gục các mục tiêu di chuyển`,
#: `cách mục tiêu chỉ 3.000 km`, `mục tiêu kế tiếp ... ngưỡng fibonacci`). A regular
#: expression, masked before the goal words are looked for; on train+dev no gold goal's
#: sentence holds one.
NOT_A_GOAL_PATTERN: str = (
    r"(?<!\w)(?:tấn công|hạ gục|bắn|đánh trúng|tiêu diệt|phá hủy|phá huỷ|cách|phát hiện|đánh chặn)"
    r"\s+(?:các\s+|những\s+|mọi\s+)?mục tiêu(?!\w)"
    r"|(?<!\w)mục tiêu\s+(?:trên không|dưới đất|trên mặt đất|trên biển|mặt nước|quân sự|(?:của\s+)?đối phương|kế tiếp"
    r"|giá(?!\w)(?!\s*trị(?!\w)))(?!\w)"
)
