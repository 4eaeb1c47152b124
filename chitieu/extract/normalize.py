"""Turn a TARGET_VALUE string into a comparator, a number (or a range) and a unit.

The rules follow the guidelines' number conventions:

Numerals (`parse_number`)
- Vietnamese style first: `.` groups thousands, `,` marks decimals: `34.000` = 34000,
  `9,3` = 9.3, `1.234,5` = 1234.5, `1.234.567` = 1234567.
- A single `,` is always a decimal comma (`1,234` = 1.234): that is how Vietnamese
  writes it, and our texts are Vietnamese.
- A single `.` followed by exactly three digits, after one to three digits that are not a
  lone `0`, is a thousands dot: `1.234` = 1234. This is the one ambiguous case and it is read the
  Vietnamese way. Any other single `.` can only be a decimal point: `3.5` = 3.5,
  `7.25` = 7.25, `0.500` = 0.5.
- ASCII grouping is accepted where nothing else fits: several commas in 3-digit groups
  (`1,234,567`), or both separators with `.` last (`1,234.5`).
- Anything else (`1.23.4`, `12,34,5`) is not a number: None, never a guess.

Values (`parse_value`)
- Scale words after the numeral multiply it: `nghìn`/`ngàn` 1e3, `triệu` 1e6,
  `tỷ`/`tỉ` 1e9, `nghìn tỷ`/`ngàn tỷ` 1e12. `number` is in plain units of `unit`:
  `34.000 tỷ đồng` -> 3.4e13 VND.
- Units: `%`; `đồng`, `VNĐ`, `VND`, `đ` -> "VND"; `USD`, `đô la (Mỹ)`, `US$`, `$` -> "USD";
  `điểm phần trăm`; `lần` (also `gấp đôi` = 2 lần, `gấp ba` = 3 lần); anything else after
  the number (`doanh nghiệp`, `lượt khách`, `tấn`, `ha`) is kept as written, whitespace
  collapsed. A noun after `%` (`100% xã`) says what the share is of: the unit stays "%". A per-unit suffix stays on the unit: `88 triệu đồng/người/năm` -> unit
  "VND/người/năm", `7%/năm` -> "%/năm".
- Comparators (words before the number, `trở lên`/`trở xuống` after it):
  `trên dưới`, `khoảng`, `gần`, `xấp xỉ`, `chừng` "~";
  `ít nhất`, `tối thiểu`, `không dưới`, `không thấp hơn`, `đạt và vượt`, `X trở lên`,
  and a bare `từ X` (with no end point) ">=";
  `không quá`, `không vượt quá`, `tối đa`, `không cao hơn`, `X trở xuống` "<=";
  `trên`, `hơn`, `cao hơn`, `vượt` ">"; `dưới`, `thấp hơn` "<"; the signs `≥ ≤ > < ~`
  as themselves; nothing "=".
- Ranges: `từ A đến B`, `A - B` (any dash, any spacing), `A tới B` -> comparator "range",
  `min`/`max` set, `number` None. The unit and a scale word after B apply to A unless A
  carries its own (`3-4 tỷ đồng` = 3e9..4e9; `500 triệu - 1 tỷ đồng` = 5e8..1e9).
  An approximate range (`khoảng 45-47%`) is still a range.
- Dates and periods (`năm 2025`, `15/01/2023`, `2021 - 2025`), fractions (`15/25`), and
  text with a second, unexplained number come back with number None (unit kept when
  known): a missing number is better than a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from chitieu.lexicon.comparators import AT_LEAST_AFTER, AT_MOST_AFTER, COMPARATOR_SIGNS, COMPARATOR_WORDS
from chitieu.lexicon.numbers import MULTIPLIER_WORDS, NUMERAL, SCALES
from chitieu.lexicon.unicode import nfc
from chitieu.lexicon.units import UNIT_SPELLINGS

COMPARATORS: tuple[str, ...] = (">=", ">", "<", "<=", "~", "=", "range")


@dataclass(frozen=True, slots=True)
class NormalizedValue:
    comparator: str
    number: float | None
    min: float | None
    max: float | None
    unit: str | None


_NUM = NUMERAL
_NUM_RE = re.compile(_NUM)

_SCALE_RE = re.compile(r"\s*(" + "|".join(re.escape(s) for s, _ in SCALES) + r")(?![^\W\d_])", re.IGNORECASE)
_SCALE_OF = {s: v for s, v in SCALES}

_RANGE_SEP_RE = re.compile(r"\s*(?:[-–—]|đến|tới)\s*", re.IGNORECASE)

# Comparator words before the number, then signs; first hit wins.
_PREFIX_CUES: tuple[tuple[str, str], ...] = (*COMPARATOR_WORDS, *COMPARATOR_SIGNS)


# Words that make a number a date or a period, not a quantity.
_DATE_PREFIX_RE = re.compile(
    r"(?:^|\s)(?:năm|ngày|tháng|quý|giai đoạn|thời kỳ|nhiệm kỳ|lần thứ|khóa|khoá)\s*$", re.IGNORECASE
)
_STRAY_TAIL_RE = re.compile(r"\s*(?:so với|so cùng kỳ|trở lại).*$", re.IGNORECASE)


def _decimal(s: str) -> Decimal | None:
    """A numeral as an exact Decimal, by the rules in the module docstring."""
    s = s.strip()
    if not re.fullmatch(NUMERAL, s):
        return None
    dots, commas = s.count("."), s.count(",")

    def groups_ok(parts: list[str]) -> bool:
        """Thousands groups: a leading 1-3 digit group that is not `0`, then 3-digit groups."""
        return parts[0] != "0" and len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:])
    try:
        if not dots and not commas:
            return Decimal(s)
        if dots and commas:
            # Whichever separator comes last is the decimal mark; the other groups thousands.
            dec, grp = (",", ".") if s.rfind(",") > s.rfind(".") else (".", ",")
            if s.count(dec) != 1:
                return None
            whole, frac = s.split(dec)
            if not groups_ok(whole.split(grp)):
                return None
            return Decimal(whole.replace(grp, "") + "." + frac)
        sep = "." if dots else ","
        parts = s.split(sep)
        if len(parts) > 2:
            return Decimal("".join(parts)) if groups_ok(parts) else None
        whole, frac = parts
        if sep == ",":
            return Decimal(whole + "." + frac)
        if len(frac) == 3 and groups_ok(parts):
            return Decimal(whole + frac)
        return Decimal(whole + "." + frac)
    except InvalidOperation:
        return None


def parse_number(s: str) -> float | None:
    """A lone numeral (`34.000`, `9,3`, `1.234,5`, `1,234,567`) as a float, else None."""
    value = _decimal(nfc(s))
    return None if value is None else float(value)


def _scale_at(text: str, pos: int) -> tuple[int, int]:
    """(multiplier, end) of a scale word starting at pos, or (1, pos)."""
    m = _SCALE_RE.match(text, pos)
    if not m:
        return 1, pos
    return _SCALE_OF[m.group(1).lower()], m.end()


def _canonical_unit(raw: str) -> str | None:
    """`tỷ đồng/người/năm` already stripped of its scale: map the currency, keep the rest."""
    raw = re.sub(r"\s+", " ", raw).strip(" \t.,;:…)(")
    raw = re.sub(r"\s*/\s*", "/", raw)
    if not raw:
        return None
    head, slash, tail = raw.partition("/")
    low = head.lower()
    for spelling, canon in UNIT_SPELLINGS:
        if low == spelling:
            return canon + slash + tail
    if low.startswith("%"):
        # `100% xã`: the noun says what the share is of (the indicator), not a unit.
        return "%" + (slash + tail if not head[1:].strip() else "")
    return raw


def _comparator_before(prefix: str) -> str:
    low = prefix.lower()
    for cue, comparator in _PREFIX_CUES:
        if re.search(r"(?<![^\W\d_])" + re.escape(cue) + r"(?![^\W\d_])", low):
            return comparator
    return "="


def _result(comparator: str, number: Decimal | None, unit: str | None) -> NormalizedValue:
    return NormalizedValue(comparator, None if number is None else float(number), None, None, unit)


def parse_value(text: str) -> NormalizedValue:
    """Comparator, number or range, and unit of a value string; never raises."""
    text = nfc(text).strip()
    low = text.lower()

    m = re.search(r"gấp\s+(" + _NUM + r"|" + "|".join(MULTIPLIER_WORDS) + r")(?![^\W\d_])(?:\s*lần)?", low)
    if m:
        word = m.group(1)
        number = _decimal(word) if word[0].isdigit() else Decimal(str(MULTIPLIER_WORDS[word]))
        return _result(_comparator_before(low[: m.start()]), number, "lần")

    numbers = list(_NUM_RE.finditer(text))
    if not numbers:
        return NormalizedValue(_comparator_before(low), None, None, None, None)
    first = numbers[0]
    prefix = text[: first.start()]

    trailing_up = re.search(AT_LEAST_AFTER, low)
    trailing_down = re.search(AT_MOST_AFTER, low)
    comparator = _comparator_before(prefix)
    if trailing_up:
        comparator = ">="
    elif trailing_down:
        comparator = "<="

    # Dates, fractions and day/month forms are not quantities.
    after_first = text[first.end() : first.end() + 1]
    if _DATE_PREFIX_RE.search(prefix) or after_first == "/":
        return NormalizedValue(comparator, None, None, None, None)

    a = _decimal(first.group())
    a_scale, pos = _scale_at(text, first.end())
    a_unit_end = pos
    # A unit may sit on A as well (`7% - 8%`).
    pct = re.match(r"\s*%", text[pos:])
    if pct:
        a_unit_end = pos + pct.end()

    range_sep = _RANGE_SEP_RE.match(text, a_unit_end)
    if range_sep and len(numbers) >= 2 and numbers[1].start() == range_sep.end():
        second = numbers[1]
        b = _decimal(second.group())
        b_scale, unit_start = _scale_at(text, second.end())
        if a_scale == 1:
            a_scale = b_scale
        unit = _canonical_unit(_strip_tail(text[unit_start:]))
        if a is None or b is None or _has_other_number(text[unit_start:]) or _looks_like_period(a, b, unit):
            return NormalizedValue("range", None, None, None, unit)
        lo, hi = sorted((a * a_scale, b * b_scale))
        return NormalizedValue("range", None, float(lo), float(hi), unit)

    unit = _canonical_unit(_strip_tail(text[pos:]))
    if a is None or _has_other_number(text[pos:]):
        return NormalizedValue(comparator, None, None, None, unit)
    return _result(comparator, a * a_scale, unit)


def figure_key(text: str) -> tuple[float | None, float | None, float | None, str | None] | None:
    """What two mentions of one figure share: number or range, and unit; the comparator is
    left out (`khoảng 30%` restates `30%`). None for a value with no number (`hai con số`)."""
    value = parse_value(text)
    if value.number is None and value.min is None:
        return None
    return value.number, value.min, value.max, value.unit


def _strip_tail(rest: str) -> str:
    rest = re.sub(r"trở\s+(?:lên|xuống)", "", rest, flags=re.IGNORECASE)
    return _STRAY_TAIL_RE.sub("", rest)


def _has_other_number(rest: str) -> bool:
    """A standalone numeral left over; digits inside a unit (`m2`, `km2`) do not count."""
    return re.search(r"(?<![^\W\d_])\d", rest) is not None


def _looks_like_period(a: Decimal, b: Decimal, unit: str | None) -> bool:
    return unit is None and 1900 <= a <= 2100 and 1900 <= b <= 2100 and a == a.to_integral_value()
