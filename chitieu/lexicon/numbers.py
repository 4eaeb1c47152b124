"""Numerals and the words that scale or multiply them."""

from __future__ import annotations

#: A numeral as written (`34.000`, `9,3`, `1.234,5`); `chitieu.extract.normalize` reads its value.
NUMERAL = r"\d+(?:[.,]\d+)*"

#: Scale words after a numeral and what they multiply it by; longest first, so
#: `nghìn tỷ` wins over `nghìn`.
SCALES: tuple[tuple[str, int], ...] = (
    ("nghìn tỷ", 10**12),
    ("nghìn tỉ", 10**12),
    ("ngàn tỷ", 10**12),
    ("ngàn tỉ", 10**12),
    ("triệu", 10**6),
    ("nghìn", 10**3),
    ("ngàn", 10**3),
    ("tỷ", 10**9),
    ("tỉ", 10**9),
)
#: The scale words as a regex alternation (no group, no word boundary), longest first.
SCALE = "(?:" + "|".join(word for word, _ in SCALES) + ")"

#: `gấp đôi` = 2 times, `gấp rưỡi` = 1.5 times ...
MULTIPLIER_WORDS: dict[str, float] = {"đôi": 2, "hai": 2, "ba": 3, "bốn": 4, "năm": 5, "rưỡi": 1.5}
