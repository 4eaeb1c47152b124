"""One lexicon: the normaliser and the value expressions the goal vote and the rule
baseline read know the same comparator words, scale words and units (they disagreed on
`trên dưới`, `không thấp hơn`, `không vượt quá`, `cao hơn` ... before `chitieu.lexicon`)."""

from __future__ import annotations

import pytest

from chitieu.extract.goals import value_candidates
from chitieu.extract.normalize import parse_value
from chitieu.lexicon.comparators import COMPARATOR_WORDS
from chitieu.lexicon.numbers import SCALES
from chitieu.lexicon.unicode import base_letter, base_letters, name_key
from chitieu.lexicon.units import COUNTED_NOUNS, CURRENCIES


@pytest.mark.parametrize(("word", "comparator"), [(w, c) for w, c in COMPARATOR_WORDS if w != "từ"])
def test_every_comparator_word_is_read_and_matched_alike(word: str, comparator: str) -> None:
    text = f"Phấn đấu tỷ lệ hộ nghèo {word} 5% vào năm 2025."
    expression = f"{word} 5%"
    assert parse_value(expression).comparator == comparator
    spans = {text[c.start : c.end] for c in value_candidates(text)}
    assert expression in spans, "the rule baseline must match every comparator the normaliser reads"


@pytest.mark.parametrize("scale", [s for s, _ in SCALES])
def test_every_scale_word_multiplies_and_belongs_to_the_value(scale: str) -> None:
    text = f"Phấn đấu thu ngân sách đạt 3 {scale} đồng."
    assert parse_value(f"3 {scale} đồng").number == 3 * dict(SCALES)[scale]
    assert f"3 {scale} đồng" in {text[c.start : c.end] for c in value_candidates(text)}


@pytest.mark.parametrize("unit", [*CURRENCIES, *COUNTED_NOUNS])
def test_every_unit_belongs_to_the_value(unit: str) -> None:
    text = f"Phấn đấu đến năm 2025 có 500 {unit} mới."
    assert parse_value(f"500 {unit}").unit is not None
    assert f"500 {unit}" in {text[c.start : c.end] for c in value_candidates(text)}


def test_names_and_letters_fold_one_way() -> None:
    assert name_key("Trần  Văn\u00a0DŨNG") == name_key("trần văn dũng")
    assert [base_letter(c) for c in "Ấđð"] == ["a", "d", "d"]
    assert base_letters("Hòa Bình") == base_letters("Hoà Bình") == "hoa binh"
