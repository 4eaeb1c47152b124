"""The framing words the guidelines leave out of an INDICATOR, at its end and at its start.

`Shortest phrase that still identifies the measure; leave out verbs and framing words
(phấn đấu, đạt, chiếm, mức, đạt mức)`, and `tăng`/`giảm` stay out of both spans. They stand
between an indicator and its value (`tỷ lệ hộ nghèo giảm còn 3%`, `diện tích hồ tiêu duy trì
ổn định ở mức ...`), so a span that runs on to the value ends with them: none of the 770 gold
INDICATORs of train+dev does. `tăng` opens real indicators (`tăng trưởng GRDP`), so these
words are only cut from the end (the few cut from the start are below).

Function words that cannot end a noun phrase (`của`, `với`, `tại`, `phải`, `so`, `và`, ...)
are cut the same way: the tagger, deciding word by word, runs on into them (`tăng trưởng
của`, `tỷ lệ nội địa hóa với`, `khu vực I phải`), and none of the gold INDICATORs of
train+dev ends with one.

At the start, fewer words are framing: `mức` (not `mức độ`, a level), the plural markers `các`
and `những`, `bao gồm (cả)` and `tiếp tục` stand before a measure (`mức tăng trưởng GRDP`,
`bao gồm cả nhà ở xã hội`, `tiếp tục bao phủ BHYT`), and 4 of the 770 gold INDICATORs of
train+dev start with one (`các khoản vay`, `tiếp tục đầu tư`). `tăng`, `tổng`, `số` and `tỷ
trọng` open real indicators and stay, and so does `mức` before a single syllable (`mức sống`,
`mức lương`, `mức sinh` are measures of their own).
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
#: Function words no noun phrase ends with; cut from an indicator's end with the framing words.
DANGLING_WORDS: frozenset[str] = frozenset(
    {"của", "với", "tại", "phải", "so", "và", "cho", "ở", "trong", "được", "có", "từ", "đến", "thì", "sẽ", "vào", "theo", "các", "những"}
)
#: Every word `without_framing_tail` cuts from the end of an indicator.
TAIL_WORDS: frozenset[str] = FRAMING_WORDS | DANGLING_WORDS
_TAIL_RE = re.compile(
    r"(?:\s+(?:" + "|".join(re.escape(w) for w in sorted(TAIL_WORDS, key=len, reverse=True)) + r"))+$",
    re.IGNORECASE,
)


#: Words `without_framing_head` cuts from the start of an indicator.
HEAD_WORDS: tuple[str, ...] = ("mức", "các", "những", "bao gồm cả", "bao gồm", "tiếp tục")
_HEAD_RE = re.compile(r"^(?:(?:" + "|".join(HEAD_WORDS) + r")(?!\s+độ(?!\w))\s+)+", re.IGNORECASE)


def without_framing_head(phrase: str) -> str:
    """`phrase` less the framing words it starts with (`HEAD_WORDS`); unchanged when what would
    remain is one syllable or less (`mức sống`) or only framing (`mức tăng`)."""
    m = _HEAD_RE.match(phrase)
    if m is None:
        return phrase
    rest = phrase[m.end() :]
    if len(rest.split()) < 2 or _TAIL_RE.fullmatch(" " + rest.strip()):
        return phrase
    return rest


def without_framing_tail(phrase: str) -> str:
    """`phrase` less the framing and function words it ends with (`TAIL_WORDS`); unchanged when they are all of it
    (`mức tăng` is an indicator of its own)."""
    m = _TAIL_RE.search(phrase)
    if m is None or _TAIL_RE.fullmatch(" " + phrase[: m.start()].strip()):
        return phrase
    return phrase[: m.start()]
