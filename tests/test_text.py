from chitieu.nfc import nfc_with_map
from chitieu.text import paragraphs, sentences, split_words

SAMPLE = "Ông Trần Ngọc Tam, Chủ tịch UBND tỉnh Bến Tre cho biết, GRDP từ 9,3% trở lên; 34.000 tỷ đồng.  TP.HCM\nvà Thừa Thiên - Huế."


def test_split_words_offsets_are_exact_and_cover_every_visible_character():
    words = split_words(SAMPLE)
    assert all(SAMPLE[w.start : w.end] == w.text for w in words)
    covered = {i for w in words for i in range(w.start, w.end)}
    assert covered == {i for i, ch in enumerate(SAMPLE) if not ch.isspace()}
    texts = [w.text for w in words]
    assert "9,3" in texts and "%" in texts and "34.000" in texts and "TP.HCM" in texts
    assert texts[texts.index("Tam") + 1] == ","


def test_numbers_keep_internal_separators_but_not_trailing_punctuation():
    assert [w.text for w in split_words("1.234,5 và 2023, 15/01/2023")] == ["1.234,5", "và", "2023", ",", "15", "/", "01", "/", "2023"]


def test_sentences_split_on_full_stops_and_lines_not_abbreviations():
    text = "Năm 2023 tăng 8%. Ông Dũng nói tại TP. Hồ Chí Minh rằng cần cố gắng.\nDòng mới"
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["Năm 2023 tăng 8%.", "Ông Dũng nói tại TP. Hồ Chí Minh rằng cần cố gắng.", "Dòng mới"]


def test_paragraphs_trim_edges():
    text = "  a b \n\n c\n"
    assert [text[s:e] for s, e in paragraphs(text)] == ["a b", "c"]


def test_nfc_map_points_back_into_decomposed_text():
    decomposed = "Be\u0302\u0301n Tre"  # "Bến Tre" with combining marks
    text, mapping = nfc_with_map(decomposed)
    assert text == "Bến Tre"
    assert mapping is not None and len(mapping) == len(text) + 1
    start, end = text.index("Tre"), len(text)
    assert decomposed[mapping[start] : mapping[end]] == "Tre"
    assert nfc_with_map("Bến Tre") == ("Bến Tre", None)


def test_nfc_that_composes_across_characters_is_refused_not_approximated():
    import pytest

    from chitieu.nfc import NfcOffsetError

    jamo = "Bến Tre \u1100\u1161 năm 2024"  # conjoining jamo: two starters that NFC composes into one
    with pytest.raises(NfcOffsetError, match="NFC-normalised"):
        nfc_with_map(jamo)


def test_closing_quote_stays_with_its_sentence():
    text = "“Đây là tốt.” Ông nói."
    assert [text[s:e] for s, e in sentences(text)] == ["“Đây là tốt.”", "Ông nói."]
