"""Who sets a goal: company names an article introduces, and the check that uses them."""

from chitieu.lexicon.setters import CompanySetter, company_names


def test_names_come_from_a_kind_word_or_a_ticker():
    text = (
        "Tập đoàn Samsung có mặt. Hãng sản xuất xe ôtô Ford của Mỹ. Tập đoàn A.S. Watson của "
        "Hồng Kông. Dầu khí Nhơn Trạch 2 (mã CK: NT2). Công ty TNHH MTV Xổ số Kiến thiết. "
        "Theo hãng tin Reuters, ... Tập đoàn Thủy sản Minh Phú."
    )
    names = company_names(text)
    assert {"Samsung", "Ford", "Watson", "A.S. Watson", "NT2", "Xổ số"} - names == {"Xổ số"}, "one capitalised syllable is no name"
    assert "Xổ" not in names and "Thủy" not in names and "Reuters" not in names, "a news agency is no company"
    assert "TNHH" not in names, "legal forms are descriptors"


def test_a_name_that_is_a_vietnamese_syllable_does_not_stand_alone():
    names = company_names("Tổ hợp Samsung Việt Nam tuyển dụng.")
    assert "Samsung Việt Nam" in names and "Samsung" in names
    assert "Nam" not in names and "Việt" not in names, "`Việt Nam phấn đấu` must stay a state goal"
    assert "Hà Nội" not in company_names("Công ty Hà Nội và Tập đoàn Đà Nẵng"), "a province is no company name"


def test_the_check_reads_names_but_a_state_body_still_wins():
    text = "Tập đoàn Samsung mở nhà máy. Năm nay, Samsung phấn đấu đạt 60 tỷ USD."
    setter = CompanySetter(text)
    assert setter("Năm nay, Samsung phấn đấu đạt ")
    assert not setter("Thủ tướng đề nghị Samsung phấn đấu đạt "), "a state body before the figure sets it"
    assert not setter("Việt Nam phấn đấu đạt ")
    assert not CompanySetter("Năm nay, Samsung phấn đấu đạt 60 tỷ USD.")("Năm nay, Samsung phấn đấu đạt "), (
        "a name the article never gives a company is not read as one"
    )
    assert CompanySetter("Không có tên.")("Công ty ABC phấn đấu đạt "), "the kind word alone still counts"
