"""Value normalisation: a table of real TARGET_VALUE strings plus property tests.

tests/fixtures/normalize/values.tsv holds every distinct TARGET_VALUE span the annotators
had written into the corpus when this test was made (165 strings), then the guidelines'
own examples and the comparator, range, scale and date cases they name; each row's
expected comparator/number/min/max/unit was checked by hand.
"""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chitieu.extract.normalize import COMPARATORS, NormalizedValue, parse_number, parse_value

TABLE = Path(__file__).parent / "fixtures" / "normalize" / "values.tsv"


def _rows() -> list[dict[str, str]]:
    with open(TABLE, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))


def _opt(cell: str) -> float | None:
    return float(cell) if cell else None


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-12)


def test_table_is_big_enough() -> None:
    assert len(_rows()) >= 60


@pytest.mark.parametrize("row", _rows(), ids=lambda r: r["text"])
def test_real_value_strings(row: dict[str, str]) -> None:
    got = parse_value(row["text"])
    assert got.comparator == row["comparator"]
    assert _close(got.number, _opt(row["number"]))
    assert _close(got.min, _opt(row["min"]))
    assert _close(got.max, _opt(row["max"]))
    assert got.unit == (row["unit"] or None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("34.000 tỷ đồng", NormalizedValue("=", 34e12, None, None, "VND")),
        ("trên 88 triệu đồng", NormalizedValue(">", 88e6, None, None, "VND")),
        ("520 doanh nghiệp", NormalizedValue("=", 520, None, None, "doanh nghiệp")),
        ("88 triệu đồng/người/năm", NormalizedValue("=", 88e6, None, None, "VND/người/năm")),
        ("7%/năm", NormalizedValue("=", 7, None, None, "%/năm")),
        ("từ 8 - 8,5%", NormalizedValue("range", None, 8, 8.5, "%")),
        ("3-4 tỷ đồng", NormalizedValue("range", None, 3e9, 4e9, "VND")),
        ("gấp 2 lần", NormalizedValue("=", 2, None, None, "lần")),
        ("1,25 tỷ USD", NormalizedValue("=", 1.25e9, None, None, "USD")),
        ("trên 33 tỷ đô la Mỹ", NormalizedValue(">", 33e9, None, None, "USD")),
        ("2 nghìn tỷ đồng", NormalizedValue("=", 2e12, None, None, "VND")),
        ("5 ngàn tỉ đồng", NormalizedValue("=", 5e12, None, None, "VND")),
        ("không quá 20%", NormalizedValue("<=", 20, None, None, "%")),
        ("dưới 3%", NormalizedValue("<", 3, None, None, "%")),
        ("trên dưới 10%", NormalizedValue("~", 10, None, None, "%")),
        ("đạt và vượt 100%", NormalizedValue(">=", 100, None, None, "%")),
    ],
)
def test_guideline_examples(text: str, expected: NormalizedValue) -> None:
    got = parse_value(text)
    assert (got.comparator, got.unit) == (expected.comparator, expected.unit)
    for field in ("number", "min", "max"):
        assert _close(getattr(got, field), getattr(expected, field)), field


@pytest.mark.parametrize(
    ("numeral", "value"),
    [
        ("34.000", 34000.0),
        ("9,3", 9.3),
        ("94,95", 94.95),
        ("1.234,5", 1234.5),
        ("1.234.567", 1234567.0),
        ("1,234,567", 1234567.0),
        ("1,234.5", 1234.5),
        ("1.234", 1234.0),  # ambiguous: read the Vietnamese way
        ("1,234", 1.234),  # a single comma is always a decimal comma
        ("3.5", 3.5),
        ("0.500", 0.5),
        ("1.23.4", None),
        ("12,34,5", None),
        ("", None),
        ("abc", None),
    ],
)
def test_parse_number(numeral: str, value: float | None) -> None:
    assert parse_number(numeral) == value


def test_dates_periods_and_fractions_have_no_number() -> None:
    for text in ("năm 2025", "2021 – 2025", "giai đoạn 2021-2025", "15/01/2023", "15/25", "lần thứ 16"):
        got = parse_value(text)
        assert got.number is None and got.min is None and got.max is None, text


# ---- properties ---------------------------------------------------------------------

def _vietnamese(value: Decimal) -> str:
    """Format a non-negative Decimal with `.` thousands and `,` decimals."""
    whole, _, frac = f"{value:f}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    frac = frac.rstrip("0")
    return ".".join(groups) + ("," + frac if frac else "")


_amounts = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
_SCALES = {"": 1, "nghìn": 10**3, "ngàn": 10**3, "triệu": 10**6, "tỷ": 10**9, "tỉ": 10**9, "nghìn tỷ": 10**12}


@settings(max_examples=200, deadline=None)
@given(_amounts)
def test_vietnamese_numerals_round_trip(amount: Decimal) -> None:
    assert parse_number(_vietnamese(amount)) == float(amount)


@settings(max_examples=200, deadline=None)
@given(_amounts, st.sampled_from(sorted(_SCALES)), st.sampled_from(["đồng", "USD", "%", "doanh nghiệp"]))
def test_scale_words_multiply(amount: Decimal, scale: str, unit: str) -> None:
    text = " ".join(p for p in (_vietnamese(amount), scale, unit) if p).replace(" %", "%")
    got = parse_value(text)
    assert got.comparator == "="
    assert got.number is not None and math.isclose(got.number, float(amount * _SCALES[scale]), rel_tol=1e-12)
    assert got.unit == {"đồng": "VND"}.get(unit, unit)


@settings(max_examples=200, deadline=None)
@given(_amounts, _amounts, st.sampled_from([" - ", "-", " – ", " đến "]), st.sampled_from(["%", " tỷ đồng", " xã"]))
def test_ranges_are_ordered(a: Decimal, b: Decimal, sep: str, unit: str) -> None:
    got = parse_value("từ " + _vietnamese(a) + sep + _vietnamese(b) + unit)
    assert got.comparator == "range" and got.number is None
    if got.min is not None:  # two years such as 2021 - 2025 are a period, not a range
        assert got.max is not None and got.min <= got.max


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises(text: str) -> None:
    got = parse_value(text)
    assert got.comparator in COMPARATORS
    if got.comparator == "range":
        assert got.number is None
