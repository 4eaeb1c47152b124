"""The refine stage with hand-made decoded entities (a fake of the decode stage)."""


from chitieu.core import Entity
from chitieu.extract.refine import refine


def ent(text, needle, label, nth=1):
    start = -1
    for _ in range(nth):
        start = text.index(needle, start + 1)
    return Entity.of(text, start, start + len(needle), label, 0.9)


def test_provinces_the_gazetteer_does_not_know_are_dropped():
    text = "Bí thư Ngô Chí Cường thăm Hạ Long và Bến Tre, TP.HCM"
    entities = [ent(text, "Ngô Chí Cường", "PROVINCE"), ent(text, "Hạ Long", "PROVINCE"), ent(text, "Bến Tre", "PROVINCE"), ent(text, "TP.HCM", "PROVINCE")]
    assert [e.text for e in refine(text, entities)] == ["Bến Tre", "TP.HCM"]


def test_indicators_without_a_value_in_their_sentence_are_dropped():
    text = "Tổng thu ngân sách đạt 5.000 tỷ đồng. Năm 2024 phấn đấu thu ngân sách 6.000 tỷ đồng."
    entities = [ent(text, "thu ngân sách", "INDICATOR"), ent(text, "thu ngân sách", "INDICATOR", 2), ent(text, "6.000 tỷ đồng", "TARGET_VALUE")]
    kept = refine(text, entities)
    assert [(e.label, e.start) for e in kept] == [("INDICATOR", entities[1].start), ("TARGET_VALUE", entities[2].start)]


def test_fragments_separated_by_a_space_are_joined_but_list_items_are_not():
    text = "số thu ngân sách đạt 352.000 tỷ đồng; công nghiệp, xây dựng chiếm 40%"
    entities = [ent(text, "số", "INDICATOR"), ent(text, "thu ngân sách", "INDICATOR"), ent(text, "352.000 tỷ đồng", "TARGET_VALUE"),
                ent(text, "công nghiệp", "INDICATOR"), ent(text, "xây dựng", "INDICATOR"), ent(text, "40%", "TARGET_VALUE")]
    entities[0] = entities[0].model_copy(update={"score": 0.6})
    out = refine(text, entities)
    indicators = [e for e in out if e.label == "INDICATOR"]
    assert [e.text for e in indicators] == ["số thu ngân sách", "công nghiệp", "xây dựng"]
    assert indicators[0].score == 0.6, "a joined span is only as sure as its weaker part"


def test_each_step_can_be_skipped_by_name_for_ablations():
    import pytest as _pytest

    from chitieu.extract.refine import REFINE_STEPS
    from chitieu.extract.refine import refine as _refine

    text = "Hạ Long và Bến Tre phấn đấu tăng trưởng GRDP đạt 9,3% trở lên."
    hl = Entity.of(text, 0, 7, "PROVINCE", 0.9)
    value = Entity.of(text, text.index("9,3"), text.index("9,3") + 4, "TARGET_VALUE", 0.9)
    full = _refine(text, [hl, value])
    assert [e.text for e in full] == ["9,3%"], "the gazetteer drops Hạ Long"
    kept = _refine(text, [hl, value], skip=frozenset({"province-gazetteer"}))
    assert [e.text for e in kept] == ["Hạ Long", "9,3%"]
    assert "goal-vote" in REFINE_STEPS
    with _pytest.raises(ValueError, match="unknown refine steps"):
        _refine(text, [value], skip=frozenset({"no-such-step"}))


def test_provinces_whose_context_the_guidelines_refuse_are_dropped():
    text = (
        "Tại thành phố Bến Tre, tỉnh Bến Tre, ông Châu, Chủ tịch Hiệp hội Bất động sản TP HCM, nhắc lời "
        "Hồ Chí Minh; cao tốc Hà Nội - Hải Phòng; KCN tỉnh Long An; UBND TP.HCM yêu cầu Đà Nẵng báo cáo."
    )
    names = [("Bến Tre", 1), ("Bến Tre", 2), ("TP HCM", 1), ("Hồ Chí Minh", 1), ("Hà Nội", 1), ("Long An", 1), ("TP.HCM", 1), ("Đà Nẵng", 1)]
    entities = [ent(text, name, "PROVINCE", nth) for name, nth in names]
    kept = [(e.text, e.start) for e in refine(text, entities)]
    assert kept == [(e.text, e.start) for e in entities if (e.text, e.start) in {
        ("Bến Tre", entities[1].start), ("Long An", entities[5].start), ("TP.HCM", entities[6].start), ("Đà Nẵng", entities[7].start)}]
    assert len(refine(text, entities, skip=frozenset({"province-context"}))) == len(entities)


def test_indicators_lose_the_framing_words_they_end_with():
    text = "Tỷ lệ hộ nghèo giảm còn 3%; mức tăng đạt 5%; tăng trưởng GRDP đạt 9%."
    entities = [ent(text, "Tỷ lệ hộ nghèo giảm còn", "INDICATOR"), ent(text, "3%", "TARGET_VALUE"),
                ent(text, "mức tăng", "INDICATOR"), ent(text, "5%", "TARGET_VALUE"),
                ent(text, "tăng trưởng GRDP đạt", "INDICATOR"), ent(text, "9%", "TARGET_VALUE")]
    indicators = [e.text for e in refine(text, entities) if e.label == "INDICATOR"]
    assert indicators == ["Tỷ lệ hộ nghèo", "mức tăng", "tăng trưởng GRDP"], "a phrase that is all framing stays whole"
    kept = [e.text for e in refine(text, entities, skip=frozenset({"indicator-tail"})) if e.label == "INDICATOR"]
    assert kept == ["Tỷ lệ hộ nghèo giảm còn", "mức tăng", "tăng trưởng GRDP đạt"]


def test_historical_figures_are_no_officials():
    from chitieu.lexicon.historical import is_historical

    text = "Tổng Bí thư Trường Chinh nhấn mạnh đổi mới; Thủ tướng Nguyễn Xuân Phúc yêu cầu tăng trưởng 6,7%."
    officials = [ent(text, "Trường Chinh", "OFFICIAL"), ent(text, "Nguyễn Xuân Phúc", "OFFICIAL")]
    assert [e.text for e in refine(text, officials)] == ["Nguyễn Xuân Phúc"]
    assert [e.text for e in refine(text, officials, skip=frozenset({"official-historical"}))] == ["Trường Chinh", "Nguyễn Xuân Phúc"]
    assert is_historical("võ  văn KIỆT") and not is_historical("Võ Văn Thưởng")
    # Only OFFICIAL spans are dropped: the name as a street or a PROVINCE is another step's business.
    street = "Dự án trên đường Trường Chinh"
    indicator = [ent(street, "Trường Chinh", "INDICATOR")]
    assert refine(street, indicator, skip=frozenset({"indicator-needs-value"})) == indicator


def test_a_companys_goal_is_no_target_but_a_goal_set_for_a_company_is():
    text = (
        "Năm nay, Công ty cổ phần ABC phấn đấu đạt doanh thu 60 tỷ USD. "
        "UBND tỉnh yêu cầu Công ty ABC đến năm 2020 phải chuyển 2.000 tấn rác. "
        "Ngân hàng trung ương đặt mục tiêu lạm phát 4%."
    )
    values = [ent(text, "60 tỷ USD", "TARGET_VALUE"), ent(text, "2.000 tấn", "TARGET_VALUE"), ent(text, "4%", "TARGET_VALUE")]
    assert [e.text for e in refine(text, values)] == ["2.000 tấn", "4%"], "a state body before the figure sets it; banks are not among the company words"
    assert refine(text, values, skip=frozenset({"goal-setter"})) == values


def test_a_company_named_without_its_kind_sets_no_target_once_the_article_introduced_it():
    text = "Tập đoàn Samsung đầu tư vào tỉnh. Năm nay, Samsung phấn đấu đạt doanh thu 60 tỷ USD. Việt Nam phấn đấu đạt 6,7%."
    values = [ent(text, "60 tỷ USD", "TARGET_VALUE"), ent(text, "6,7%", "TARGET_VALUE")]
    assert [e.text for e in refine(text, values)] == ["6,7%"]


def test_the_figure_a_goal_replaces_is_no_target():
    text = (
        "Bộ thay đổi mục tiêu diện tích đến năm 2020 từ 500.000 ha (theo quy hoạch) lên 600.000 ha. "
        "Tỉnh đưa tỷ lệ kiểm tra từ 30% xuống còn 15%. Tăng trưởng đạt 7% (thay vì 6,5% như dự thảo trước). "
        "Phấn đấu tăng từ 5% đến 7%."
    )
    names = ["từ 500.000 ha", "600.000 ha", "30%", "15%", "7%", "6,5%", "từ 5% đến 7%"]
    values = [ent(text, name, "TARGET_VALUE") for name in names]
    assert [e.text for e in refine(text, values)] == ["600.000 ha", "15%", "7%", "từ 5% đến 7%"], "a range is no change"
    from chitieu.extract.goals import is_superseded

    for sentence, figure in [("giảm từ 30% giảm xuống còn 15%", "30%"), ("nâng từ mức 30% lên 50%", "30%"), ("đạt 7% (thay vì mức 6,5%)", "6,5%")]:
        assert is_superseded(sentence, sentence.index(figure), sentence.index(figure) + len(figure)), sentence
    assert refine(text, values, skip=frozenset({"goal-superseded"})) == values


def test_an_amount_followed_by_the_share_of_its_plan_is_a_result():
    text = (
        "Kế hoạch vốn được giao: nguồn vốn khác là 46.632,8 tỷ đồng, đạt 87,7% kế hoạch; "
        "thu ngân sách 5.700 tỷ đồng, bằng 102% dự toán. Năm 2020 phấn đấu thu 6.000 tỷ đồng, tăng 10% so với kế hoạch."
    )
    values = [ent(text, v, "TARGET_VALUE") for v in ("46.632,8 tỷ đồng", "5.700 tỷ đồng", "6.000 tỷ đồng")]
    assert [e.text for e in refine(text, values)] == ["6.000 tỷ đồng"], "`tăng 10% so với kế hoạch` is a goal's own change"
    assert refine(text, values, skip=frozenset({"goal-share-of-plan"})) == values


def test_indicators_lose_the_framing_words_they_start_with_but_not_a_measure():
    text = "Mức tăng trưởng GRDP đạt 9%; mức tăng 5%; mức độ 4 đạt 30%; bao gồm cả nhà ở xã hội 2.000 căn."
    names = ["Mức tăng trưởng GRDP", "mức tăng", "mức độ 4", "bao gồm cả nhà ở xã hội"]
    entities = [ent(text, name, "INDICATOR") for name in names] + [ent(text, v, "TARGET_VALUE") for v in ("9%", "5%", "30%", "2.000 căn")]
    indicators = [e.text for e in refine(text, entities) if e.label == "INDICATOR"]
    assert indicators == ["tăng trưởng GRDP", "mức tăng", "mức độ 4", "nhà ở xã hội"], "`mức tăng` is all framing; `mức độ` is a level"
    kept = [e.text for e in refine(text, entities, skip=frozenset({"indicator-head"})) if e.label == "INDICATOR"]
    assert kept == names


def test_an_indicator_that_is_part_of_a_word_is_dropped_for_the_chooser():
    text = "Tỉnh có nhiều cảnh đẹp. Năm 2025, doanh thu du lịch đạt 3.200 tỷ đồng, giá dầu 80 USD."
    entities = [ent(text, "du", "INDICATOR"), ent(text, "3.200 tỷ đồng", "TARGET_VALUE"), ent(text, "dầu", "INDICATOR"), ent(text, "80 USD", "TARGET_VALUE")]
    kept = [e.text for e in refine(text, entities) if e.label == "INDICATOR"]
    assert kept == ["dầu"], "`du` is a syllable of `du lịch`; `dầu` is a word of its own"
    assert [e.text for e in refine(text, entities, skip=frozenset({"indicator-fragment"})) if e.label == "INDICATOR"] == ["du", "dầu"]


def test_an_indicator_that_ends_inside_a_word_runs_on_to_its_end():
    text = "Năm 2025, thu nội địa đạt 3.200 tỷ đồng, số vụ tai nạn giảm 5%, thu ngân sách 9.000 tỷ đồng."
    names = ["thu nội", "số vụ tai", "thu ngân sách"]
    entities = [ent(text, name, "INDICATOR") for name in names] + [ent(text, v, "TARGET_VALUE") for v in ("3.200 tỷ đồng", "5%", "9.000 tỷ đồng")]
    indicators = [e.text for e in refine(text, entities) if e.label == "INDICATOR"]
    assert indicators == ["thu nội địa", "số vụ tai nạn", "thu ngân sách"], "a whole phrase is left as it is"
    assert [e.text for e in refine(text, entities, skip=frozenset({"indicator-word-end"})) if e.label == "INDICATOR"] == names


def test_only_the_end_of_an_indicator_runs_on_into_a_word():
    text = "Phấn đấu giảm giá nhà ở xã hội còn 5 triệu đồng/m2."
    entities = [ent(text, "giá nhà ở xã hội", "INDICATOR"), ent(text, "5 triệu đồng/m2", "TARGET_VALUE")]
    assert [e.text for e in refine(text, entities) if e.label == "INDICATOR"] == ["giá nhà ở xã hội"], "`giảm giá` is one word, `giảm` is framing"


def test_compound_words_are_offsets_into_the_sentence():
    from chitieu.text import compound_words

    sentence = "Doanh thu du lịch đạt 3.200 tỷ đồng"
    assert [sentence[a:b] for a, b in compound_words(sentence)] == ["Doanh thu", "du lịch"]
    # The sentence's own spelling and spacing: no respelled `hòa` jumps ahead to a later one.
    sentence = "Tỷ lệ hoà mạng, doanh  thu du\xa0lịch và hòa mạng đều tăng"
    assert [sentence[a:b] for a, b in compound_words(sentence)] == ["Tỷ lệ", "hoà mạng", "doanh  thu", "du\xa0lịch", "hòa mạng"]


def test_a_measure_that_starts_with_muc_keeps_it():
    text = "Năm 2025, phấn đấu mức sống người dân tăng 10%, mức lương cơ sở 5 triệu đồng."
    entities = [ent(text, "mức sống", "INDICATOR"), ent(text, "10%", "TARGET_VALUE"), ent(text, "mức lương cơ sở", "INDICATOR"), ent(text, "5 triệu đồng", "TARGET_VALUE")]
    kept = [e.text for e in refine(text, entities) if e.label == "INDICATOR"]
    assert kept == ["mức sống", "lương cơ sở"], "one syllable after `mức` is a measure of its own, and no fragment"


def test_a_span_that_stops_inside_a_written_word_runs_on_to_its_end():
    from chitieu.extract.refine import to_glued_end

    text = "Nâng số DN đăng ký qua mạng trên 70%. GDP đầu người tăng khoảng 6%/năm, phủ sóng 3G; giá 4.221 tỷ đồng/3.050 tỷ đồng"
    assert to_glued_end(text, ent(text, "trên 70", "TARGET_VALUE")).text == "trên 70%"
    assert to_glued_end(text, ent(text, "khoảng 6", "TARGET_VALUE")).text == "khoảng 6%/năm"
    assert to_glued_end(text, ent(text, "khoảng 6%", "TARGET_VALUE")).text == "khoảng 6%/năm"
    assert to_glued_end(text, ent(text, "phủ sóng 3", "INDICATOR")).text == "phủ sóng 3G"
    # A slash between two figures joins two values, not a value and its unit.
    assert to_glued_end(text, ent(text, "4.221 tỷ đồng", "TARGET_VALUE")).text == "4.221 tỷ đồng"
    # An indicator takes no sign or per-unit, and a span that ends a word stays.
    assert to_glued_end(text, ent(text, "GDP đầu người tăng khoảng 6", "INDICATOR")).text == "GDP đầu người tăng khoảng 6"
    assert to_glued_end(text, ent(text, "trên 70%", "TARGET_VALUE")).text == "trên 70%"
    entities = [ent(text, "trên 70", "TARGET_VALUE")]
    assert [e.text for e in refine(text, entities, skip=frozenset({"glued-end"}))] == ["trên 70"]
    assert [e.text for e in refine(text, entities)] == ["trên 70%"]
