"""The refine stage with hand-made decoded entities (a fake of the decode stage)."""

import pytest

from chitieu.refine import refine


def ent(text, needle, label, nth=1):
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return {"start": start, "end": start + len(needle), "text": needle, "label": label, "score": 0.9}


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
    ],
)
def test_values_are_completed_over_comparators_ranges_scales_and_units(text, predicted, expected):
    (value,) = refine(text, [ent(text, predicted, "TARGET_VALUE")])
    assert value["text"] == expected == text[value["start"] : value["end"]]
    assert value["score"] == 0.9


def test_completion_never_runs_into_another_entity_or_a_plain_noun():
    text = "trên 98% xã, phường vững mạnh"
    entities = [ent(text, "98%", "TARGET_VALUE"), ent(text, "trên", "INDICATOR")]
    assert refine(text, entities)[0]["text"] == "98%"
    text = "đạt 5 nhiệm vụ"
    assert refine(text, [ent(text, "5", "TARGET_VALUE")])[0]["text"] == "5"


def test_provinces_the_gazetteer_does_not_know_are_dropped():
    text = "Bí thư Ngô Chí Cường thăm Hạ Long và Bến Tre, TP.HCM"
    entities = [ent(text, "Ngô Chí Cường", "PROVINCE"), ent(text, "Hạ Long", "PROVINCE"), ent(text, "Bến Tre", "PROVINCE"), ent(text, "TP.HCM", "PROVINCE")]
    assert [e["text"] for e in refine(text, entities)] == ["Bến Tre", "TP.HCM"]


def test_indicators_without_a_value_in_their_sentence_are_dropped():
    text = "Tổng thu ngân sách đạt 5.000 tỷ đồng. Năm 2024 phấn đấu thu ngân sách 6.000 tỷ đồng."
    entities = [ent(text, "thu ngân sách", "INDICATOR"), ent(text, "thu ngân sách", "INDICATOR", 2), ent(text, "6.000 tỷ đồng", "TARGET_VALUE")]
    kept = refine(text, entities)
    assert [(e["label"], e["start"]) for e in kept] == [("INDICATOR", entities[1]["start"]), ("TARGET_VALUE", entities[2]["start"])]
