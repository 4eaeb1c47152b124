"""The province gazetteer: records from the libraries, aliases, successors, mentions in text."""

from __future__ import annotations

from collections import Counter

import pytest

from chitieu.provinces import Province, aliases, all_provinces, by_code, find_mentions, resolve


def test_63_old_and_34_new_units() -> None:
    eras = Counter(p.era for p in all_provinces())
    assert eras["old"] + eras["both"] == 63
    assert eras["new"] + eras["both"] == 34
    # Eleven units came through the 2025 merger untouched.
    assert eras["both"] == 11
    codes_old = [p.code for p in all_provinces() if p.era != "new"]
    codes_new = [p.code for p in all_provinces() if p.era != "old"]
    assert len(set(codes_old)) == 63 and len(set(codes_new)) == 34


# Every alias of these units must resolve to the unit with this official (GSO) code.
CASES: dict[tuple[str, str], list[str]] = {
    ("Hồ Chí Minh", "79"): [
        "TP.HCM", "TPHCM", "TP HCM", "TP. HCM", "TP Hồ Chí Minh", "Thành phố Hồ Chí Minh",
        "thành phố Hồ Chí Minh", "HCM", "Sài Gòn", "tp.hcm", "Tp. Hồ Chí Minh",
    ],
    ("Huế", "46"): ["Thừa Thiên - Huế", "Thừa Thiên Huế", "TT-Huế", "Thừa Thiên–Huế", "tỉnh Thừa Thiên Huế", "Huế"],
    ("Bà Rịa - Vũng Tàu", "77"): ["Bà Rịa - Vũng Tàu", "Bà Rịa-Vũng Tàu", "Bà Rịa – Vũng Tàu", "BR-VT", "Ba Ria - Vung Tau"],
    ("Hòa Bình", "17"): ["Hòa Bình", "Hoà Bình", "tỉnh Hoà Bình", "Hoa Binh", "HÒA BÌNH"],
    ("Thanh Hóa", "38"): ["Thanh Hóa", "Thanh Hoá", "tỉnh Thanh Hoá", "Thanh Hoa"],
    ("Khánh Hòa", "56"): ["Khánh Hòa", "Khánh Hoà", "Khanh Hoa"],
    ("Đắk Lắk", "66"): ["Đắk Lắk", "Đắc Lắc", "Dak Lak", "Đăk Lăk", "Daklak", "Ðắk Lắk"],
    ("Đắk Nông", "67"): ["Đắk Nông", "Đăk Nông", "Dak Nong", "Ðắk Nông"],
    ("Kon Tum", "62"): ["Kon Tum", "Kontum", "tỉnh Kon Tum"],
    ("Bến Tre", "83"): ["Bến Tre", "tỉnh Bến Tre", "BẾN TRE", "Ben Tre", "bến tre"],
    ("Đồng Nai", "75"): ["Đồng Nai", "Ðồng Nai", "Dong Nai"],
    ("Hà Nội", "01"): ["Hà Nội", "thành phố Hà Nội", "TP Hà Nội", "Thủ đô Hà Nội", "Ha Noi"],
    ("Bắc Kạn", "06"): ["Bắc Kạn", "Bắc Cạn"],
}


@pytest.mark.parametrize(("unit", "name"), [(unit, name) for unit, names in CASES.items() for name in names])
def test_aliases_resolve(unit: tuple[str, str], name: str) -> None:
    province = resolve(name)
    assert province is not None, name
    assert (province.name, province.code) == unit


def test_generated_aliases_cover_tone_placement_and_ascii() -> None:
    forms = set(aliases(resolve("Hòa Bình")))
    assert {"Hòa Bình", "Hoà Bình", "Hoa Binh"} <= forms
    assert {"Bà Rịa - Vũng Tàu", "Bà Rịa-Vũng Tàu", "BR-VT"} <= set(aliases(resolve("BR-VT")))


def test_every_library_name_resolves_to_itself() -> None:
    for p in all_provinces():
        got = resolve(p.name, era="new" if p.era == "new" else "old")
        assert got == p, p


def test_unknown_names() -> None:
    for name in ("Việt Nam", "Đồng bằng sông Cửu Long", "Ba Tri", "", "Tokyo"):
        assert resolve(name) is None, name


@pytest.mark.parametrize(
    ("old", "successor", "successor_code"),
    [
        ("Bến Tre", "Vĩnh Long", "86"),
        ("Trà Vinh", "Vĩnh Long", "86"),
        ("Long An", "Tây Ninh", "80"),
        ("Bình Dương", "Hồ Chí Minh", "79"),
        ("Bà Rịa - Vũng Tàu", "Hồ Chí Minh", "79"),
        ("Hà Giang", "Tuyên Quang", "08"),
        ("Kon Tum", "Quảng Ngãi", "51"),
        ("Quảng Nam", "Đà Nẵng", "48"),
        ("Lào Cai", "Lào Cai", "15"),  # the name carried over, the code did not (old code 10)
    ],
)
def test_successors(old: str, successor: str, successor_code: str) -> None:
    p = resolve(old)
    assert p is not None and p.era == "old"
    assert (p.successor, p.successor_code) == (successor, successor_code)
    new = by_code(successor_code, era="new")
    assert new is not None and new.name == successor


def test_unchanged_units_have_no_successor() -> None:
    for name in ("Hà Nội", "Thanh Hóa", "Cao Bằng", "Huế"):
        p = resolve(name)
        assert p is not None and p.era == "both" and p.successor is None


def test_era_choice_for_shared_names() -> None:
    assert resolve("Lào Cai") == Province("Lào Cai", "10", "Lào Cai", "15", "old")
    assert resolve("Lào Cai", era="new") == Province("Lào Cai", "15", None, None, "new")
    assert by_code(83).name == "Bến Tre"
    assert by_code(80, era="old").name == "Long An" and by_code(80, era="new").name == "Tây Ninh"


def _mentions(text: str, era: str = "old") -> list[tuple[int, int, str, str]]:
    return [(a, b, text[a:b], p.name) for a, b, p in find_mentions(text, era)]  # type: ignore[arg-type]


# Sentences from the seed articles and the raw corpus (some shortened).
def test_mentions_name_only_without_tinh() -> None:
    text = "Ông Trần Ngọc Tam, Chủ tịch UBND tỉnh Bến Tre cho biết, năm 2023 là năm bản lề"
    assert _mentions(text) == [(38, 45, "Bến Tre", "Bến Tre")]


def test_mentions_town_sharing_a_province_name_is_skipped() -> None:
    text = "UBND thành phố Bến Tre và UBND tỉnh Bến Tre; TP Bến Tre; thị xã Bình Long"
    assert _mentions(text) == [(36, 43, "Bến Tre", "Bến Tre")]


def test_mentions_hcmc_whole_in_every_form() -> None:
    text = "Cục Thuế TPHCM, Bí thư Thành ủy TP.HCM, HĐND Thành phố Hồ Chí Minh, TP. HCM và TP Hồ Chí Minh."
    assert _mentions(text) == [
        (9, 14, "TPHCM", "Hồ Chí Minh"),
        (32, 38, "TP.HCM", "Hồ Chí Minh"),
        (45, 66, "Thành phố Hồ Chí Minh", "Hồ Chí Minh"),
        (68, 75, "TP. HCM", "Hồ Chí Minh"),
        (79, 93, "TP Hồ Chí Minh", "Hồ Chí Minh"),
    ]


def test_mentions_central_cities_by_name_only() -> None:
    text = "Chủ tịch HĐND thành phố Hà Nội Nguyễn Thị Bích Ngọc; Phó Chủ tịch UBND TP Hải Phòng Lê Khắc Nam"
    assert _mentions(text) == [(24, 30, "Hà Nội", "Hà Nội"), (74, 83, "Hải Phòng", "Hải Phòng")]


def test_mentions_hyphenated_names_and_tone_variants() -> None:
    text = "Cục Hải quan Thừa Thiên - Huế, Bà Rịa – Vũng Tàu (BR-VT) và Khánh Hoà"
    assert _mentions(text) == [
        (13, 29, "Thừa Thiên - Huế", "Huế"),
        (31, 48, "Bà Rịa – Vũng Tàu", "Bà Rịa - Vũng Tàu"),
        (50, 55, "BR-VT", "Bà Rịa - Vũng Tàu"),
        (60, 69, "Khánh Hoà", "Khánh Hòa"),
    ]


def test_mentions_hue_alone_depends_on_era() -> None:
    text = "Du khách đến Huế"
    assert _mentions(text) == []
    assert _mentions(text, era="new") == [(13, 16, "Huế", "Huế")]


def test_mentions_skip_people_companies_rivers_and_the_pacific() -> None:
    text = (
        "Cục trưởng Cục Hải quan Cao Bằng Hoàng Khánh Hòa; Công ty CP Cấp nước Long An; "
        "sông Đồng Nai; Thái Bình Dương; kinh tế Long An"
    )
    assert _mentions(text) == [(24, 32, "Cao Bằng", "Cao Bằng"), (119, 126, "Long An", "Long An")]


def test_mentions_sai_gon_and_bare_ho_chi_minh_are_not_mentions() -> None:
    text = "Bia Sài Gòn và tư tưởng Hồ Chí Minh"
    assert _mentions(text) == []


def test_refused_context_names_why_a_tagged_province_is_no_mention():
    from chitieu.provinces import refused_context

    def why(text, needle, nth=1):
        start = -1
        for _ in range(nth):
            start = text.index(needle, start + 1)
        return refused_context(text, start, start + len(needle))

    assert why("Theo lời Hồ Chí Minh dạy", "Hồ Chí Minh") == "bare-name"
    assert why("xe chạy trên đường Hà Nội", "Hà Nội") == "place"
    assert why("Ùn tắc tại nhiều tuyến phố Hà Nội", "Hà Nội") is None, "the city's streets: the city is meant"
    assert why("văn bản yêu cầu Đà Nẵng rà soát", "Đà Nẵng") is None, "yêu cầu is no bridge"
    assert why("trung tâm thành phố Bến Tre", "Bến Tre") == "town"
    assert why("thành phố Đà Nẵng", "Đà Nẵng") is None, "a centrally-run city is the province"
    assert why("Ngân hàng TMCP Sài Gòn - Hà Nội", "Hà Nội") == "organisation"
    assert why("các KCN tỉnh Long An", "Long An") is None, "the province's own parks are labelled"
    assert why("Sở KH&CN Quảng Nam", "Quảng Nam") is None
    # Universities, stations, plants, exchanges and named projects are companies here.
    for text, name in (
        ("các trường thành viên của ĐHQG TP HCM", "TP HCM"),
        ("điểm chuẩn của ĐH Y Hà Nội", "Hà Nội"),
        ("di dời ga đường sắt Đà Nẵng", "Đà Nẵng"),
        ("Sở Giao dịch Chứng khoán TP HCM thông báo", "TP HCM"),
        ("Hiệp hội Doanh nghiệp nhỏ và vừa TP Hà Nội", "Hà Nội"),
        ("Hiệp hội Bất động sản (BĐS) TP Hồ Chí Minh", "TP Hồ Chí Minh"),
    ):
        assert why(text, name) == "organisation", text
    assert why("Giám đốc Ban quản lý xây dựng dự án giao thông Bắc Ninh", "Bắc Ninh") is None, "the province's own board"
    assert why("Ông Vũ Văn Viện - Giám đốc Sở GTVT Hà Nội", "Hà Nội") is None, "Viện is a given name too"
    assert why("Hiệp hội Doanh nghiệp và Hà Nội", "Hà Nội") is None, "và still ends an organisation's name"
    assert why("ông Hoàng Khánh Hòa nói", "Khánh Hòa") == "person"
    assert why("Hạ Long", "Hạ Long") is None, "no province name: the gazetteer's business"
    # The tagger's span may be a form find_mentions does not match (a name glued to a list number).
    assert why("1. Đà Nẵng2. Quảng Ninh", "Đà Nẵng") is None
