"""Who sets a goal: the guidelines count a state's targets, not a company's.

"A figure is a target when a state body sets it or an official announces it as the
state's ... It is not when a company (state-owned included, unless a ministry or the
Government assigns the figure), a bank, an industry association or a private person sets
it" (annotations/GUIDELINES.md, the 2026-12-06d adjudication: the commonest confusion).
The goal readers see `đặt mục tiêu`, `phấn đấu`, `kế hoạch` and cannot tell `Samsung
phấn đấu` from `tỉnh phấn đấu`. What they miss is the subject: a sentence that names a
company before its figure and no state body at all (`Mục tiêu của công ty là năm nay sẽ
tăng 50%`, `Tập đoàn Guangdong Wen ... đặt mục tiêu nâng con số này lên 27,5 triệu con`).

A news agency (`hãng tin`) is no company here. Banks are left out of the company words: central banks set targets (`Ngân hàng T.Ư Mỹ đặt
mục tiêu giữ tỷ lệ lạm phát ở mức 1,4%`). A state word anywhere before the figure
(`UBND`, `Bộ`, `giao`, `tỉnh`, ...) keeps it: a province requiring a company to reach a
figure sets a target.
"""

from __future__ import annotations

import re

#: A company as the subject: its kind, its board and shareholders, its own accounts.
COMPANY_WORDS: tuple[str, ...] = (
    "[Cc]ông ty", "[Tt]ập đoàn", "CTCP", "[Dd]oanh nghiệp này", "Doanh nghiệp", "[Hh]ãng(?! tin| thông tấn)", "[Cc]ổ đông",
    "[Hh]ội đồng [Qq]uản trị", "HĐQT", "[Ll]ợi nhuận (?:trước|sau) thuế", "[Cc]ổ tức",
)  # fmt: skip
#: A state body, or the state assigning the figure. A source the figure is quoted from (`Theo
#: Công ty Chứng khoán SSI, Việt Nam đặt mục tiêu ...`) is read as the subject; such quotes are
#: forecasts more often than goals, and a country's name is not among these words.
STATE_WORDS: tuple[str, ...] = (
    "UBND", "HĐND", "[Tt]ỉnh", "[Tt]hành phố", "TP", "[Cc]hính phủ", "[Cc]hính quyền", "Bộ", "Thủ tướng",
    "giao(?! dịch| thông| lưu)", "Nghị quyết", "Quốc hội", "[Hh]uyện", "Sở", "Tổng cục", "[Nn]hà nước", "Đảng", "ngành",
)  # fmt: skip

_COMPANY_RE = re.compile(r"(?<!\w)(?:" + "|".join(COMPANY_WORDS) + r")(?!\w)")
_STATE_RE = re.compile(r"(?<!\w)(?:" + "|".join(STATE_WORDS) + r")(?!\w)")


def set_by_company(before: str) -> bool:
    """Whether the words of a sentence before a figure name a company and no state body."""
    return _COMPANY_RE.search(before) is not None and _STATE_RE.search(before) is None
