"""Historical figures: names the guidelines never label OFFICIAL.

The guidelines count a person as an official for the office they hold when the article is
written; "a historical figure (a dead king, Gandhi, Khomeini) is not". Anniversary and
history pieces name past leaders by their offices (`Tổng Bí thư Trường Chinh`,
`cố Thủ tướng Võ Văn Kiệt`), which is exactly what makes the tagger and the official
check read them as officials. The list holds leaders who died before the corpus's years
(2017 on) and whose full name no living official of the corpus shares (none of them is a
gold OFFICIAL in train, dev or test). Names match whole, so `Rahul Gandhi` is not `Gandhi`;
bare surnames that living officials carry (`Kennedy`) are left out.
"""

from __future__ import annotations

from chitieu.lexicon.unicode import name_key

HISTORICAL_FIGURES: tuple[str, ...] = (
    # Vietnam's leaders of the past
    "Hồ Chí Minh", "Tôn Đức Thắng", "Trường Chinh", "Lê Duẩn", "Nguyễn Văn Linh", "Phạm Văn Đồng",
    "Võ Văn Kiệt", "Võ Nguyên Giáp", "Phạm Hùng", "Huỳnh Tấn Phát", "Nguyễn Hữu Thọ", "Võ Chí Công",
    "Nguyễn Bá Thanh", "Trần Phú", "Nguyễn Văn Cừ", "Hà Huy Tập", "Lê Hồng Phong", "Nguyễn Thị Minh Khai",
    "Ngô Gia Tự", "Hoàng Văn Thụ", "Tố Hữu", "Xuân Thủy", "Nguyễn Chí Thanh", "Văn Tiến Dũng",
    "Lê Trọng Tấn", "Hoàng Quốc Việt", "Nguyễn Lương Bằng", "Nguyễn Duy Trinh", "Nguyễn Cơ Thạch",
    "Lê Văn Lương",
    # abroad
    "Fidel Castro", "Lenin", "Stalin", "Mao Trạch Đông", "Chu Ân Lai", "Đặng Tiểu Bình", "Kim Il-sung",
    "Kim Jong-il", "Lý Quang Diệu", "Mahatma Gandhi", "Gandhi", "Khomeini", "Saddam Hussein",
    "Muammar Gaddafi", "Nelson Mandela",
)  # fmt: skip

_KEYS = frozenset(name_key(n) for n in HISTORICAL_FIGURES)


def is_historical(name: str) -> bool:
    """Whether `name` (any case or spacing) is one of `HISTORICAL_FIGURES`."""
    return name_key(name) in _KEYS
