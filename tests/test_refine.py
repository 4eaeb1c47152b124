"""The refine stage with hand-made decoded entities (a fake of the decode stage)."""

import pytest

from chitieu.core import Entity
from chitieu.extract.refine import refine


def ent(text, needle, label, nth=1):
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return Entity.of(text, start, start + len(needle), label, 0.9)


@pytest.mark.parametrize(
    "text, predicted, expected",
    [
        ("sẽ khánh thành 200 km cao tốc", "200", "200 km"),
        ("phấn đấu đạt 29.000 tỷ đồng trong năm", "29.000", "29.000 tỷ đồng"),
        ("tăng trưởng 10,2-10,5% so với năm trước", "10,2", "10,2-10,5%"),
        ("tỷ trọng chiếm gần 27%, công nghiệp", "27%", "gần 27%"),
        ("đạt mức tăng trưởng GRDP từ 9,3% trở lên; đẩy nhanh", "9,3%", "từ 9,3% trở lên"),
        ("GRDP bình quân đầu người trên 88 triệu đồng/người/năm.", "88", "trên 88 triệu đồng/người/năm"),
        ("thu hút 520 doanh nghiệp mới", "520", "520 doanh nghiệp"),
        ("tăng trưởng từ 7,5% đến 8% năm 2024", "7,5%", "từ 7,5% đến 8%"),
        ("tỷ lệ thu gom ≥ 95% theo quy định", "95%", "≥ 95%"),
        ("tỷ lệ thu gom ≥95% theo quy định", "95%", "≥95%"),
    ],
)
def test_values_are_completed_over_comparators_ranges_scales_and_units(text, predicted, expected):
    (value,) = refine(text, [ent(text, predicted, "TARGET_VALUE")])
    assert value.text == expected == text[value.start : value.end]
    assert value.score == 0.9


def test_completion_never_runs_into_another_entity_or_a_plain_noun():
    text = "trên 98% xã, phường vững mạnh"
    entities = [ent(text, "98%", "TARGET_VALUE"), ent(text, "trên", "OFFICIAL")]
    assert [e.text for e in refine(text, entities)] == ["trên", "98%"]
    text = "đạt 5 nhiệm vụ"
    assert refine(text, [ent(text, "5", "TARGET_VALUE")])[0].text == "5"


def test_provinces_the_gazetteer_does_not_know_are_dropped():
    text = "Bí thư Ngô Chí Cường thăm Hạ Long và Bến Tre, TP.HCM"
    entities = [ent(text, "Ngô Chí Cường", "PROVINCE"), ent(text, "Hạ Long", "PROVINCE"), ent(text, "Bến Tre", "PROVINCE"), ent(text, "TP.HCM", "PROVINCE")]
    assert [e.text for e in refine(text, entities)] == ["Bến Tre", "TP.HCM"]


def test_indicators_without_a_value_in_their_sentence_are_dropped():
    text = "Tổng thu ngân sách đạt 5.000 tỷ đồng. Năm 2024 phấn đấu thu ngân sách 6.000 tỷ đồng."
    entities = [ent(text, "thu ngân sách", "INDICATOR"), ent(text, "thu ngân sách", "INDICATOR", 2), ent(text, "6.000 tỷ đồng", "TARGET_VALUE")]
    kept = refine(text, entities)
    assert [(e.label, e.start) for e in kept] == [("INDICATOR", entities[1].start), ("TARGET_VALUE", entities[2].start)]


@pytest.mark.parametrize(
    "text, predicted, value, expected",
    [
        ("phấn đấu đạt được số thu tối thiểu 254.000 tỷ đồng", "số thu tối thiểu", "254.000 tỷ đồng", "số thu"),
        ("phấn đấu tỷ lệ hộ nghèo giảm còn dưới 2%", "phấn đấu tỷ lệ hộ nghèo", "dưới 2%", "tỷ lệ hộ nghèo"),
        ("kinh tế số chiếm khoảng 30% GDP", "kinh tế số chiếm khoảng", "30%", "kinh tế số"),
        ("có 9 xã đạt chuẩn nông thôn mới", "đạt chuẩn nông thôn mới", "9 xã", "đạt chuẩn nông thôn mới"),
        ("tăng trưởng GRDP đạt 7%", "tăng trưởng GRDP đạt", "7%", "tăng trưởng GRDP"),
        ("phấn đấu đạt xuất khẩu 10 tỷ USD", "đạt xuất khẩu", "10 tỷ USD", "xuất khẩu"),
        ("phấn đấu 100% trường đạt chuẩn quốc gia", "đạt chuẩn quốc gia", "100%", "đạt chuẩn quốc gia"),
    ],
)
def test_indicators_lose_framing_words_but_keep_real_ones(text, predicted, value, expected):
    out = refine(text, [ent(text, predicted, "INDICATOR"), ent(text, value, "TARGET_VALUE")])
    (indicator,) = [e for e in out if e.label == "INDICATOR"]
    assert indicator.text == expected == text[indicator.start : indicator.end]


def test_a_freed_comparator_goes_back_to_its_value():
    text = "phấn đấu đạt được số thu tối thiểu 254.000 tỷ đồng, đạt 87% dự toán"
    out = refine(text, [ent(text, "số thu tối thiểu", "INDICATOR"), ent(text, "254.000 tỷ đồng", "TARGET_VALUE")])
    assert [(e.label, e.text) for e in out] == [("INDICATOR", "số thu"), ("TARGET_VALUE", "tối thiểu 254.000 tỷ đồng")]


def test_fragments_separated_by_a_space_are_joined_but_list_items_are_not():
    text = "số thu ngân sách đạt 352.000 tỷ đồng; công nghiệp, xây dựng chiếm 40%"
    entities = [ent(text, "số", "INDICATOR"), ent(text, "thu ngân sách", "INDICATOR"), ent(text, "352.000 tỷ đồng", "TARGET_VALUE"),
                ent(text, "công nghiệp", "INDICATOR"), ent(text, "xây dựng", "INDICATOR"), ent(text, "40%", "TARGET_VALUE")]
    entities[0] = entities[0].model_copy(update={"score": 0.6})
    out = refine(text, entities)
    indicators = [e for e in out if e.label == "INDICATOR"]
    assert [e.text for e in indicators] == ["số thu ngân sách", "công nghiệp", "xây dựng"]
    assert indicators[0].score == 0.6, "a joined span is only as sure as its weaker part"


@pytest.mark.parametrize(
    "text, value",
    [
        ("Tăng trưởng GRDP ước đạt 3,4%, thấp hơn kế hoạch.", "3,4%"),
        ("Lũy kế 11 tháng thu ngân sách 5.000 tỷ đồng.", "5.000 tỷ đồng"),
        ("Số thu tháng 12 ước thực hiện được 23.977 tỷ đồng.", "23.977 tỷ đồng"),
        ("Thu ngân sách đạt 87% dự toán năm.", "87%"),
        ("Có 1/25 chỉ tiêu đạt trên 80%.", "trên 80%"),
        ("Dự báo thu ngân sách khoảng 380 tỷ đồng.", "khoảng 380 tỷ đồng"),
    ],
)
def test_a_value_that_reports_a_result_or_an_estimate_is_dropped_with_its_indicator(text, value):
    indicator = "thu ngân sách" if "thu ngân sách" in text else text.split()[0]
    entities = [ent(text, value, "TARGET_VALUE"), ent(text, indicator, "INDICATOR")]
    assert refine(text, entities) == []


@pytest.mark.parametrize(
    "text, value",
    [
        ("Phấn đấu tăng trưởng GRDP đạt 9,3%.", "9,3%"),
        ("Năm nay tăng trưởng 10,2% so với năm 2023.", "10,2%"),  # a comparison base is no result
        ("Thu ngân sách đã đạt 77% dự toán (3.400 tỷ đồng).", "3.400 tỷ đồng"),  # the plan figure
        ("Kết quả ước đạt thấp; mục tiêu năm 2025 thu ngân sách 6.000 tỷ đồng.", "6.000 tỷ đồng"),
        ("Sản lượng điện gấp 2 lần kế hoạch đề ra.", "gấp 2 lần"),
    ],
)
def test_a_goal_or_a_value_without_a_result_word_keeps_the_models_judgement(text, value):
    (kept,) = refine(text, [ent(text, value, "TARGET_VALUE")])
    assert kept.text == value


def test_each_step_can_be_skipped_by_name_for_ablations():
    import pytest as _pytest

    from chitieu.extract.refine import REFINE_STEPS
    from chitieu.extract.refine import refine as _refine

    text = "Hạ Long và Bến Tre phấn đấu tăng trưởng GRDP đạt 9,3% trở lên."
    hl = Entity.of(text, 0, 7, "PROVINCE", 0.9)
    value = Entity.of(text, text.index("9,3"), text.index("9,3") + 3, "TARGET_VALUE", 0.9)
    full = _refine(text, [hl, value])
    assert [e.text for e in full] == ["9,3% trở lên"], "gazetteer drops Hạ Long; completion grows the value"
    kept = _refine(text, [hl, value], skip=frozenset({"province-gazetteer", "value-completion"}))
    assert [e.text for e in kept] == ["Hạ Long", "9,3"]
    assert "goal-vote" in REFINE_STEPS
    with _pytest.raises(ValueError, match="unknown refine steps"):
        _refine(text, [value], skip=frozenset({"no-such-step"}))
