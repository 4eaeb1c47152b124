"""The framing words the guidelines leave out of an INDICATOR, at its end.

`Shortest phrase that still identifies the measure; leave out verbs and framing words
(phấn đấu, đạt, chiếm, mức, đạt mức)`, and `tăng`/`giảm` stay out of both spans. They stand
between an indicator and its value (`tỷ lệ hộ nghèo giảm còn 3%`, `diện tích hồ tiêu duy trì
ổn định ở mức ...`), so a span that runs on to the value ends with them: none of the 770 gold
INDICATORs of train+dev does. `tăng` opens real indicators (`tăng trưởng GRDP`), so these
words are only ever cut from the end.
"""

from __future__ import annotations

import re

from chitieu.lexicon.comparators import comparator_words

FRAMING_WORDS: frozenset[str] = frozenset(
    {
        *comparator_words(),
        "đạt mức", "đạt", "chiếm", "mức", "ở mức", "là", "phấn đấu", "tăng", "giảm", "giảm còn", "còn",
        "lên", "xuống", "duy trì", "duy trì ổn định", "bằng",
    }
)
_TAIL_RE = re.compile(
    r"(?:\s+(?:" + "|".join(re.escape(w) for w in sorted(FRAMING_WORDS, key=len, reverse=True)) + r"))+$",
    re.IGNORECASE,
)


def without_framing_tail(phrase: str) -> str:
    """`phrase` less the framing words it ends with; unchanged when they are all of it
    (`mức tăng` is an indicator of its own)."""
    m = _TAIL_RE.search(phrase)
    if m is None or _TAIL_RE.fullmatch(" " + phrase[: m.start()].strip()):
        return phrase
    return phrase[: m.start()]
