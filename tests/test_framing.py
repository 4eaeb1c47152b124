"""The framing words cut from the end of an indicator (`chitieu.lexicon.framing`)."""

import pytest

from chitieu.lexicon.framing import without_framing_tail


@pytest.mark.parametrize(
    ("phrase", "kept"),
    [
        ("tỷ lệ hộ nghèo giảm còn", "tỷ lệ hộ nghèo"),
        ("kinh tế số chiếm", "kinh tế số"),
        ("diện tích hồ tiêu duy trì ổn định ở mức", "diện tích hồ tiêu"),
        ("thu ngân sách đạt trên", "thu ngân sách"),
        ("Kim ngạch xuất khẩu Đạt", "Kim ngạch xuất khẩu"),
        ("tăng trưởng GRDP", "tăng trưởng GRDP"),
        ("mức tăng", "mức tăng"),
        ("đạt", "đạt"),
        ("tốc độ tăng bình quân", "tốc độ tăng bình quân"),
        ("thu hút khách", "thu hút khách"),
        # function words no noun phrase ends with, alone or before a framing word
        ("tăng trưởng của", "tăng trưởng"),
        ("tỷ lệ nội địa hóa với", "tỷ lệ nội địa hóa"),
        ("Áp dụng các biện pháp nghiệp vụ tại", "Áp dụng các biện pháp nghiệp vụ"),
        ("khu vực I phải đạt", "khu vực I"),
        ("tỷ lệ nhập siêu so", "tỷ lệ nhập siêu"),
        ("của các", "của các"),
        ("thu nhập của người dân", "thu nhập của người dân"),
    ],
)
def test_only_the_framing_words_at_the_end_are_cut(phrase, kept):
    assert without_framing_tail(phrase) == kept
