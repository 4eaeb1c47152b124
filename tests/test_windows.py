import pytest

from chitieu.annotate.corpus import Span
from chitieu.labels import TAG2ID
from chitieu.text import split_words
from chitieu.windows import IGNORE_INDEX, make_windows, placement, word_tags


def test_word_tags_bio_and_misaligned_spans_are_returned_not_dropped():
    text = "Bến Tre đạt 9,3% trở lên."
    words = split_words(text)
    spans = [Span(start=0, end=7, label="PROVINCE"), Span(start=12, end=24, label="TARGET_VALUE"), Span(start=9, end=11, label="OFFICIAL")]
    tags, misaligned = word_tags(words, spans)
    assert tags[:2] == ["B-PROVINCE", "I-PROVINCE"]
    assert tags[3:7] == ["B-TARGET_VALUE", "I-TARGET_VALUE", "I-TARGET_VALUE", "I-TARGET_VALUE"]
    assert tags[2] == "B-OFFICIAL" and tags[-1] == "O"
    assert misaligned == [spans[2]]


def test_windows_cover_every_word_overlap_and_fit():
    pieces = [[100 + i] * (1 + i % 3) for i in range(200)]
    windows = make_windows(pieces, cls_id=0, sep_id=2, max_tokens=32, overlap_tokens=8)
    assert all(len(w.input_ids) <= 32 for w in windows)
    assert all(w.input_ids[0] == 0 and w.input_ids[-1] == 2 for w in windows)
    seen = {wid for w in windows for wid in w.word_ids if wid >= 0}
    assert seen == set(range(200))
    for a, b in zip(windows, windows[1:]):
        assert b.first_word <= a.last_word, "consecutive windows must overlap"
        assert b.first_word > a.first_word, "windows must advance"


def test_first_subword_only_labels_ignore_continuations():
    pieces = [[5, 6], [7]]
    tags = ["B-PROVINCE", "O"]
    (w,) = make_windows(pieces, cls_id=0, sep_id=2, max_tokens=16, overlap_tokens=2, tags=tags, label_all_subwords=False)
    assert w.labels == [IGNORE_INDEX, TAG2ID["B-PROVINCE"], IGNORE_INDEX, TAG2ID["O"], IGNORE_INDEX]
    (w,) = make_windows(pieces, cls_id=0, sep_id=2, max_tokens=16, overlap_tokens=2, tags=tags, label_all_subwords=True)
    assert w.labels == [IGNORE_INDEX, TAG2ID["B-PROVINCE"], TAG2ID["I-PROVINCE"], TAG2ID["O"], IGNORE_INDEX]


def test_a_word_longer_than_a_window_is_cut_not_lost():
    windows = make_windows([[1] * 50, [2]], cls_id=0, sep_id=2, max_tokens=12, overlap_tokens=2)
    assert [sorted({x for x in w.word_ids if x >= 0}) for w in windows] == [[0], [1]]


def test_placement_prefers_the_window_centre():
    (w,) = make_windows([[i] for i in range(10)], cls_id=0, sep_id=2, max_tokens=16, overlap_tokens=2)
    assert placement(w, 0) == 0 and placement(w, 5) == 4


def test_bad_window_settings_say_what_to_change():
    with pytest.raises(ValueError, match="overlap_tokens"):
        make_windows([[1]], cls_id=0, sep_id=2, max_tokens=20, overlap_tokens=10)
