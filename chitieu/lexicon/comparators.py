"""Comparator words and signs, and the comparator each means (`chitieu.extract.normalize.COMPARATORS`).

Words come before the numeral (`không vượt quá 5%`); `trở lên`/`trở xuống` come after it.
A bare `từ X` (with no end point) is ">="; `từ A đến B` is a range.
"""

from __future__ import annotations

#: (words, comparator), longest first within overlapping words (`trên dưới` before `trên`).
COMPARATOR_WORDS: tuple[tuple[str, str], ...] = (
    ("trên dưới", "~"),
    ("không vượt quá", "<="),
    ("không quá", "<="),
    ("không cao hơn", "<="),
    ("tối đa", "<="),
    ("không dưới", ">="),
    ("không thấp hơn", ">="),
    ("ít nhất", ">="),
    ("tối thiểu", ">="),
    ("đạt và vượt", ">="),
    ("xấp xỉ", "~"),
    ("khoảng", "~"),
    ("chừng", "~"),
    ("gần", "~"),
    ("cao hơn", ">"),
    ("thấp hơn", "<"),
    ("trên", ">"),
    ("hơn", ">"),
    ("vượt", ">"),
    ("dưới", "<"),
    ("từ", ">="),
)

#: Comparator signs as written (`≥ 95%`) and what they mean.
COMPARATOR_SIGNS: tuple[tuple[str, str], ...] = (
    ("≥", ">="),
    ("≤", "<="),
    (">=", ">="),
    ("<=", "<="),
    (">", ">"),
    ("<", "<"),
    ("~", "~"),
)
#: The one-character signs, for a regex character class.
SIGN_CHARACTERS = "≥≤><~"

#: After the numeral: `X trở lên` is ">=", `X trở xuống` is "<=".
AT_LEAST_AFTER = r"trở\s+lên"
AT_MOST_AFTER = r"trở\s+xuống"


def comparator_words() -> tuple[str, ...]:
    """The words alone, longest first."""
    return tuple(sorted((w for w, _ in COMPARATOR_WORDS), key=len, reverse=True))
