"""Word segmentation for PhoBERT keeps exact character offsets on real and awkward text."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chitieu.encoders.segment as segment
from chitieu.encoders.segment import phobert_form, segment_with_stats, segment_words
from chitieu.text import Token

FIXTURE = Path(__file__).parent / "fixtures" / "phobert" / "paragraphs.json"
PARAGRAPHS = [p["text"] for p in json.loads(FIXTURE.read_text(encoding="utf-8"))["paragraphs"]]


def check_offsets(text: str, tokens: list[Token]) -> None:
    """Exact, in order, non-overlapping, and every non-space character inside a token."""
    previous_end = 0
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.start >= previous_end, f"{token} overlaps or is out of order"
        gap = text[previous_end : token.start]
        assert not gap.strip(), f"{gap!r} before {token} is in no token"
        assert token.text and token.text == token.text.strip(), f"{token} has edge whitespace"
        assert "\n" not in token.text, f"{token} spans a line break"
        previous_end = token.end
    assert not text[previous_end:].strip(), f"{text[previous_end:]!r} at the end is in no token"


def surfaces(text: str) -> list[str]:
    return [t.text for t in segment_words(text)]


@pytest.mark.parametrize("text", PARAGRAPHS)
def test_real_paragraphs_align_exactly_without_fallback(text: str) -> None:
    tokens, stats = segment_with_stats(text)
    check_offsets(text, tokens)
    assert stats.fallback_stretches == 0
    assert stats.dropped_syllables == 0
    assert stats.words == len(tokens)


def test_words_are_multi_syllable_where_vietnamese_says_so() -> None:
    found = set(surfaces(PARAGRAPHS[0]))
    assert {"ngân sách", "doanh nghiệp", "hướng dẫn", "tỷ", "đồng"} <= found
    assert "ngân" not in found


def test_numbers_and_abbreviations_stay_whole() -> None:
    text = "Năm 2025, TP.HCM phấn đấu tăng trưởng GRDP 9,3% và đầu tư 34.000 tỷ đồng, thu 1.234,5 tỷ đồng."
    words = surfaces(text)
    for unit in ("TP.HCM", "9,3", "%", "34.000", "1.234,5", "GRDP", "2025"):
        assert unit in words, (unit, words)
    assert words[-1] == "."


def test_real_numbers_from_the_fixture() -> None:
    assert "34.000" in surfaces(PARAGRAPHS[7])
    words = surfaces(PARAGRAPHS[8])
    assert words[words.index("9,3") + 1] == "%"
    assert "75.887,34" in surfaces(PARAGRAPHS[2])
    assert "TP.HCM" in surfaces(PARAGRAPHS[1])


def test_glued_punctuation_is_split_off() -> None:
    text = "của toàn thành phố ,mà quan trọng (GRDP) là “điểm sáng”; đạt 102%."
    words = surfaces(text)
    check_offsets(text, segment_words(text))
    for mark in (",", "(", ")", "“", "”", ";", "%", "."):
        assert mark in words, (mark, words)
    assert "mà" in words and "GRDP" in words


def test_closing_quote_after_sentence_end_is_kept() -> None:
    # chitieu.text.sentences leaves the closing quote outside both sentences.
    text = "“Đây là tiền đề quan trọng.” Thứ trưởng nói."
    tokens = segment_words(text)
    check_offsets(text, tokens)
    assert "”" in [t.text for t in tokens]


@pytest.mark.parametrize("gap", ["  ", "\t", " \t ", "\u00a0"])
def test_odd_spacing_keeps_offsets_and_words(gap: str) -> None:
    text = PARAGRAPHS[2]
    spaced = text.replace(" ", gap)
    tokens = segment_words(spaced)
    check_offsets(spaced, tokens)
    assert [phobert_form(spaced, t) for t in tokens] == [phobert_form(text, t) for t in segment_words(text)]


@pytest.mark.parametrize("newline", ["\n", "\n\n", "\r\n", "\n  \n\t"])
def test_newlines_split_words_and_keep_offsets(newline: str) -> None:
    text = PARAGRAPHS[0].replace("\n", newline)
    tokens = segment_words(text)
    check_offsets(text, tokens)
    # "thành phố" across a line break must stay two words.
    broken = "Thu ngân sách thành" + newline + "phố đạt 77,2% dự toán."
    words = segment_words(broken)
    check_offsets(broken, words)
    assert "thành" in [w.text for w in words] and "phố" in [w.text for w in words]


def test_diacritics_in_any_spelling() -> None:
    # Old-style tone placement (hoà, uỷ), the eth that looks like Đ, a misspelling that
    # underthesea corrects (nghành), and fully decomposed (NFD) text.
    text = "Uỷ ban tỉnh Khánh Hoà: ngành nghành công nghiệp hoá, Ðảng bộ đạt 9,3%."
    tokens, stats = segment_with_stats(text)
    check_offsets(text, tokens)
    assert {"hoá", "Ðảng", "nghành"} <= {p for t in tokens for p in t.text.split()}
    assert stats.fallback_stretches == 0 and stats.loose_matches >= 3

    decomposed = unicodedata.normalize("NFD", PARAGRAPHS[1])
    tokens, stats = segment_with_stats(decomposed)
    check_offsets(decomposed, tokens)
    assert stats.fallback_stretches == 0
    forms = [phobert_form(decomposed, t) for t in tokens]
    assert forms == [phobert_form(PARAGRAPHS[1], t) for t in segment_words(PARAGRAPHS[1])]


def test_phobert_form_joins_syllables_with_underscores() -> None:
    text = "Hồ  Chí\tMinh"
    assert phobert_form(text, Token(0, len(text), text)) == "Hồ_Chí_Minh"
    assert phobert_form("9,3", Token(0, 3, "9,3")) == "9,3"
    nfd = unicodedata.normalize("NFD", "Đồng Nai")
    assert phobert_form(nfd, Token(0, len(nfd), nfd)) == "Đồng_Nai"


@pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
def test_empty_text(text: str) -> None:
    assert segment_words(text) == []


def test_unalignable_output_falls_back_to_split_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """If underthesea returned text that is not in the input, offsets still come out exact."""
    text = PARAGRAPHS[3]
    word_tokenize = segment._word_tokenize()

    def garbled(chunk: str) -> list[str]:
        real = word_tokenize(chunk)
        return ["@@@"] + real[:3] + ["không có"] + real[8:]

    monkeypatch.setattr(segment, "_word_tokenize", lambda: garbled)
    tokens, stats = segment_with_stats(text)
    check_offsets(text, tokens)
    assert stats.fallback_stretches > 0
    assert stats.dropped_syllables > 0


alphabet = st.sampled_from(
    ["thành", "phố", "Hồ", "Chí", "Minh", "tăng", "trưởng", "ngân", "sách", "đạt", "Hoà", "uỷ",
     "34.000", "9,3%", "1.234,5", "TP.HCM", "UBND", "(", ")", ",", ".", "…", "“", "”", "%", "-",
     "27/1", "v.v", "e-mail", "KH&ĐT", " ", "  ", "\t", "\n", "\n\n", "."]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(alphabet, max_size=40), st.lists(st.booleans(), max_size=40))
def test_any_mix_of_units_aligns(units: list[str], glue: list[bool]) -> None:
    pieces = [u + ("" if g else " ") for u, g in zip(units, glue + [False] * len(units))]
    text = "".join(pieces)
    check_offsets(text, segment_words(text))


@pytest.mark.slow  # every article of ../shared/corpus_raw by nature; `pytest -m slow`
@pytest.mark.shared
def test_whole_shared_corpus_aligns(shared: Path) -> None:
    folder = shared / "corpus_raw"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent from the shared data folder")
    total = segment.SegmentStats()
    for path in sorted(folder.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        tokens, stats = segment_with_stats(text)
        check_offsets(text, tokens)
        total.add(stats)
    assert total.fallback_stretches == 0, total
