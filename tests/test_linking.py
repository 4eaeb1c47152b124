"""Linking on gold spans of real articles, and on small hand-made cases."""


import pytest

from chitieu.annotate.corpus import load_corpus
from chitieu.core import Entity
from chitieu.extract.link import deduplicate, full_names, link_targets, main_province, pick_indicator
from chitieu.paths import annotations_dir


def entity(text, needle, label, nth=1):
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return Entity.of(text, start, start + len(needle), label, 1.0)


@pytest.fixture(scope="module")
def gold():
    return {d.id: d for d in load_corpus(annotations_dir())}


def gold_entities(doc):
    return [Entity.of(doc.text, s.start, s.end, s.label, 1.0) for s in doc.spans]


def test_ben_tre_seed_gives_the_secretary_and_growth_target(gold):
    doc = gold["seed-000"]
    (t,) = link_targets(doc.text, gold_entities(doc))
    assert t.province.name == "Bến Tre" and t.province.code == "83" and t.province.successor == "Vĩnh Long"
    assert t.official.name == "Lê Đức Thọ" and t.official.role == "Bí thư Tỉnh ủy"
    assert t.indicator.text == "tăng trưởng GRDP"
    assert (t.value.comparator, t.value.number, t.value.unit) == (">=", 9.3, "%")
    assert doc.text[t.sentence.start : t.sentence.end].startswith("Ngoài ra, Bí thư Tỉnh ủy Bến Tre")


def test_tra_vinh_seed_has_fourteen_targets_and_no_province(gold):
    doc = gold["seed-004"]
    targets = link_targets(doc.text, gold_entities(doc))
    assert len(targets) == 14
    assert all(t.province is None for t in targets)
    by_indicator = {t.indicator.text: t.value for t in targets}
    assert by_indicator["nông, lâm nghiệp, thủy sản"].text == "gần 27%"
    assert by_indicator["công nghiệp – xây dựng"].text == "trên 36%"
    assert by_indicator["xã, phường, thị trấn vững mạnh về quốc phòng - an ninh"].text == "trên 98%"
    assert by_indicator["tổng vốn đầu tư toàn xã hội"].number == 34_000_000_000_000


def test_indicator_after_value_and_one_indicator_for_two_values():
    text = "Phấn đấu có trên 98% xã vững mạnh; GRDP tăng 7%, năm sau 8%."
    values = [entity(text, "trên 98%", "TARGET_VALUE"), entity(text, "7%", "TARGET_VALUE"), entity(text, "8%", "TARGET_VALUE", 2)]
    indicators = [entity(text, "xã vững mạnh", "INDICATOR"), entity(text, "GRDP", "INDICATOR")]
    assert pick_indicator(values[0], indicators, values).text == "xã vững mạnh"
    assert pick_indicator(values[1], indicators, values).text == "GRDP"
    assert pick_indicator(values[2], indicators, values).text == "GRDP"


def test_short_names_resolve_to_the_full_mention():
    text = "Ông Trần Văn Dũng phát biểu. Ông Dũng nói thêm."
    officials = [entity(text, "Trần Văn Dũng", "OFFICIAL"), entity(text, "Dũng", "OFFICIAL", 2)]
    assert full_names(officials)["dũng"].text == "Trần Văn Dũng"


def test_official_falls_back_to_the_nearest_earlier_one_and_province_to_the_article():
    text = "Long An họp. Bí thư Tỉnh ủy Nguyễn Văn Được chủ trì.\nNăm 2024 phấn đấu thu ngân sách 20.000 tỷ đồng. Long An có nhiều tiềm năng."
    ents = [
        entity(text, "Long An", "PROVINCE"), entity(text, "Nguyễn Văn Được", "OFFICIAL"),
        entity(text, "thu ngân sách", "INDICATOR"), entity(text, "20.000 tỷ đồng", "TARGET_VALUE"),
        entity(text, "Long An", "PROVINCE", 2),
    ]
    (t,) = link_targets(text, ents)
    assert t.official.name == "Nguyễn Văn Được"
    assert t.province.name == "Long An" and t.province.start == 0


def test_a_tie_between_provinces_gives_no_article_province():
    text = "Hà Nội và Lào Cai"
    assert main_province([entity(text, "Hà Nội", "PROVINCE"), entity(text, "Lào Cai", "PROVINCE")]) is None


def test_headline_and_body_repetition_is_one_tuple_keeping_the_fuller_one():
    text = "Bến Tre: GRDP từ 9,3% trở lên\nBí thư Lê Đức Thọ đề nghị GRDP từ 9,3% trở lên."
    ents = [
        entity(text, "Bến Tre", "PROVINCE"), entity(text, "GRDP", "INDICATOR"), entity(text, "từ 9,3% trở lên", "TARGET_VALUE"),
        entity(text, "Lê Đức Thọ", "OFFICIAL"), entity(text, "GRDP", "INDICATOR", 2), entity(text, "từ 9,3% trở lên", "TARGET_VALUE", 2),
    ]
    targets = link_targets(text, ents)
    assert len(targets) == 1 and targets[0].official.name == "Lê Đức Thọ"
    assert deduplicate([]) == []
