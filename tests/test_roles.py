"""Official roles from the title words around a name, on phrasings from the seed articles."""

from __future__ import annotations

import pytest

from chitieu.paths import shared_dir
from chitieu.roles import find_role, normalize_role


def _role(text: str, name: str, nth: int = 0) -> str | None:
    start = -1
    for _ in range(nth + 1):
        start = text.index(name, start + 1)
    return find_role(text, start, start + len(name))


@pytest.mark.parametrize(
    ("text", "name", "role"),
    [
        # seeds/000: title before the name, province inside the title
        ("Phát biểu tại buổi họp mặt, Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị lãnh đạo", "Lê Đức Thọ", "Bí thư Tỉnh ủy"),
        # seeds/000: title after the name
        ("Ông Trần Ngọc Tam, Chủ tịch UBND tỉnh Bến Tre cho biết, năm 2023 là năm bản lề", "Trần Ngọc Tam", "Chủ tịch UBND tỉnh"),
        # seeds/003: title, dash, name
        ("Kết luận hội nghị, Chủ tịch UBND tỉnh – Nguyễn Văn Út ghi nhận", "Nguyễn Văn Út", "Chủ tịch UBND tỉnh"),
        ("Ngày 06/01, Chủ tịch UBND tỉnh Long An - Nguyễn Văn Út chủ trì Hội nghị", "Nguyễn Văn Út", "Chủ tịch UBND tỉnh"),
        # seeds/003: a chain of titles
        (
            "Phát biểu tại hội nghị, Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh - Nguyễn Văn Được nhấn mạnh",
            "Nguyễn Văn Được",
            "Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh",
        ),
        # seeds/001: lower-case `bí thư`, dash-separated chain, after a semicolon
        (
            "Ủy viên Trung ương Đảng - Bí thư Tỉnh ủy Lê Đức Thọ; Phó bí thư Thường trực Tỉnh ủy - Chủ tịch HĐND tỉnh Hồ Thị Hoàng Yến; Chủ tịch UBND tỉnh Trần Ngọc Tam chủ trì",
            "Hồ Thị Hoàng Yến",
            "Phó Bí thư Thường trực Tỉnh ủy, Chủ tịch HĐND tỉnh",
        ),
        (
            "Ủy viên Trung ương Đảng - Bí thư Tỉnh ủy Lê Đức Thọ; Phó bí thư Thường trực Tỉnh ủy",
            "Lê Đức Thọ",
            "Ủy viên Trung ương Đảng, Bí thư Tỉnh ủy",
        ),
        # seeds/004: headline, and a title after `Đồng chí X,`
        ("Bí thư Tỉnh ủy Ngô Chí Cường: Khắc phục tình trạng 4 không", "Ngô Chí Cường", "Bí thư Tỉnh ủy"),
        (
            "Đồng chí Ngô Chí Cường, Ủy viên Ban Chấp hành Trung ương Đảng, Bí thư Tỉnh ủy và các đồng chí Phó Bí thư Tỉnh ủy cùng chủ trì",
            "Ngô Chí Cường",
            "Ủy viên Ban Chấp hành Trung ương Đảng, Bí thư Tỉnh ủy",
        ),
        # raw corpus phrasings
        ("Theo Chủ tịch UBND TPHCM Nguyễn Thành Phong, TPHCM dự tính", "Nguyễn Thành Phong", "Chủ tịch UBND thành phố"),
        ("Bí thư Thành ủy TP.HCM Nguyễn Thiện Nhân cho biết", "Nguyễn Thiện Nhân", "Bí thư Thành ủy"),
        ("Phó Chủ tịch UBND TP Hải Phòng Lê Khắc Nam khẳng định", "Lê Khắc Nam", "Phó Chủ tịch UBND thành phố"),
        ("Phát biểu tại hội thảo, Thứ trưởng Bộ KH&ĐT Trần Duy Đông cho biết", "Trần Duy Đông", "Thứ trưởng Bộ Kế hoạch và Đầu tư"),
        ("Ông Lê Duy Minh, Cục trưởng Cục Thuế TPHCM nhận định, đây là", "Lê Duy Minh", "Cục trưởng Cục Thuế"),
        ("Ông Nguyễn Thanh Toàn, Giám đốc Sở Công Thương Bình Dương cho biết", "Nguyễn Thanh Toàn", "Giám đốc Sở Công Thương"),
        ("Ông Thái Bảo – Phó Chủ tịch UBND tỉnh Đồng Nai phát biểu", "Thái Bảo", "Phó Chủ tịch UBND tỉnh"),
        ("Phó Thủ tướng Trương Hòa Bình cho biết", "Trương Hòa Bình", "Phó Thủ tướng"),
        ("Thủ tướng Chính phủ Nguyễn Xuân Phúc phát biểu", "Nguyễn Xuân Phúc", "Thủ tướng"),
        ("Chủ tịch Ủy ban nhân dân tỉnh Bến Tre Trần Ngọc Tam", "Trần Ngọc Tam", "Chủ tịch UBND tỉnh"),
        ("Chủ tịch UBND huyện Ba Tri Nguyễn Văn A", "Nguyễn Văn A", "Chủ tịch UBND huyện"),
        ("Phó Bí thư Thường trực Tỉnh uỷ Hồ Thị Hoàng Yến", "Hồ Thị Hoàng Yến", "Phó Bí thư Thường trực Tỉnh ủy"),
        ("Chủ tịch UBND tỉnh Bến Tre, ông Trần Ngọc Tam cho biết", "Trần Ngọc Tam", "Chủ tịch UBND tỉnh"),
    ],
)
def test_find_role(text: str, name: str, role: str) -> None:
    assert _role(text, name) == role


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Huỳnh Phúc Hậu", "Huỳnh Phúc Hậu"),  # a byline
        ("Với những tín hiệu tích cực trên, ông Phong dự báo rằng", "Phong"),
        ("Bí thư Tỉnh ủy Bến Tre nhấn mạnh việc hợp tác với ông Nguyễn Văn B", "Nguyễn Văn B"),
    ],
)
def test_no_role(text: str, name: str) -> None:
    assert _role(text, name) is None


def test_normalize_role_is_one_spelling_per_office() -> None:
    variants = [
        "Chủ tịch UBND tỉnh Bến Tre",
        "Chủ tịch Ủy ban nhân dân tỉnh Bến Tre",
        "chủ tịch Uỷ ban Nhân dân tỉnh",
        "Chủ tịch UBND Bến Tre",
        "Chủ tịch UBND tỉnh -",
    ]
    assert {normalize_role(v) for v in variants} == {"Chủ tịch UBND tỉnh"}
    assert normalize_role("Bí thư Tỉnh uỷ Bến Tre") == "Bí thư Tỉnh ủy"
    assert normalize_role("Chủ tịch HĐND TP.HCM") == "Chủ tịch HĐND thành phố"
    assert normalize_role("Đại biểu Quốc hội tỉnh Bến Tre") == "ĐBQH tỉnh"


@pytest.mark.shared
def test_seed_officials_get_their_roles() -> None:
    seeds = shared_dir() / "seeds"
    if not seeds.is_dir():
        pytest.skip(f"{seeds} is absent: the seed articles live in ../shared")
    roles = {}
    for path in sorted(seeds.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        for name in ("Lê Đức Thọ", "Trần Ngọc Tam", "Nguyễn Văn Út", "Ngô Chí Cường"):
            start = text.find(name)
            while start >= 0:
                roles.setdefault(name, set()).add(find_role(text, start, start + len(name)))
                start = text.find(name, start + 1)
    assert roles["Trần Ngọc Tam"] == {"Chủ tịch UBND tỉnh"}
    assert roles["Nguyễn Văn Út"] == {"Chủ tịch UBND tỉnh"}
    assert all(r is not None and r.endswith("Bí thư Tỉnh ủy") for r in roles["Lê Đức Thọ"] | roles["Ngô Chí Cường"])
