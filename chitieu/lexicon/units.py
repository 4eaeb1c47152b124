"""Units a value carries: currencies (with their canonical unit) and counted nouns."""

from __future__ import annotations

import re

PERCENT_POINTS = "điểm phần trăm"

#: Spellings of a currency or percentage and the unit the normaliser reports; longest first.
UNIT_SPELLINGS: tuple[tuple[str, str], ...] = (
    (PERCENT_POINTS, PERCENT_POINTS),
    ("đô la mỹ", "USD"),
    ("đô-la mỹ", "USD"),
    ("đôla mỹ", "USD"),
    ("đô la", "USD"),
    ("đô-la", "USD"),
    ("đôla", "USD"),
    ("usd", "USD"),
    ("us$", "USD"),
    ("$", "USD"),
    ("đồng", "VND"),
    ("vnđ", "VND"),
    ("vnd", "VND"),
    ("đ", "VND"),
    ("%", "%"),
)

#: Currencies as written after a numeral, matched case-insensitively, longest first.
#: Symbols and the bare `đ` are read by the normaliser but do not start a value.
CURRENCIES: tuple[str, ...] = ("đô la Mỹ", "đô la", "đôla", "đồng", "USD", "VNĐ", "VND")

#: Counted nouns a value may end in (`500 doanh nghiệp`, `12.000 ha`): the rule baseline
#: requires one of these (or a currency or `%`) after a numeral, and the refine stage grows
#: a predicted value over one that follows it.
COUNTED_NOUNS: tuple[str, ...] = (
    "doanh nghiệp", "hợp tác xã", "lao động", "việc làm", "lượt khách", "lượt người", "khách",
    "người", "hộ", "xã", "huyện", "ha", "héc-ta", "hécta", "hecta", "km", "tấn", "tạ/ha", "tạ",
    "MW", "kWh", "TEU", "m2", "m3", "chợ", "siêu thị", "trung tâm thương mại", "cây xanh",
    "giường bệnh", "bác sĩ", "căn hộ", "căn nhà", "nhà ở", "sản phẩm OCOP", "sản phẩm",
    "trường", "con", "lần",
)


def alternation(words: tuple[str, ...] | list[str]) -> str:
    """Words as a regex alternation, escaped, longest first (so `đô la Mỹ` wins over `đô la`)."""
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"
