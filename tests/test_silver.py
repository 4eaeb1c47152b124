"""Silver documents: the draw from unlabelled articles and the confidence filter."""

import unicodedata

import pytest

from chitieu.annotate.corpus import Document
from chitieu.annotate.silver import draw_articles, label_articles, silver_document

GOAL = "Tỉnh phấn đấu năm 2025 tăng trưởng GRDP đạt 8%, thu ngân sách trên 6.000 tỷ đồng. "
FILLER = "Hội nghị tổng kết công tác năm diễn ra tại trụ sở ủy ban nhân dân tỉnh với nhiều đại biểu tham dự. "


def article(i: int, body: str = GOAL) -> str:
    return f"Bài {i}. " + body + FILLER * 10


def qualifies(text: str) -> bool:
    return "phấn đấu" in text


def test_the_draw_skips_corpus_ids_repeated_stories_and_unfit_articles() -> None:
    gold = Document(id="g1", text=FILLER * 12 + "Một câu khác hẳn để làm tin riêng.")
    articles = [
        ("g1", article(1)),  # a corpus id
        ("a2", FILLER * 12 + "Tin lặp lại."),  # the corpus story again (and no goal cue)
        ("a3", article(3)),
        ("a4", "phấn đấu ngắn"),  # too short
        ("a5", article(5, "Không có mục tiêu nào ở đây cả. ")),  # no goal cue
        ("a6", article(6).replace(FILLER * 10, "Tin riêng về giao thông nông thôn của huyện, khác mọi bài trong kho. " * 12)),
    ]
    draw = draw_articles(articles, [gold], count=10, seed=1, qualifies=qualifies)
    assert draw.read == 6
    # a3 repeats the corpus filler too: only a6 is its own story.
    assert [i for i, _ in draw.drawn] == ["a6"]


def test_the_draw_is_seeded_normalised_and_capped() -> None:
    bodies = [
        ("x%d" % i, unicodedata.normalize("NFD", f"Bài số {i} riêng biệt về chủ đề thứ {i} của tỉnh. " * 3 + GOAL * 12))
        for i in range(8)
    ]
    one = draw_articles(bodies, [], count=3, seed=7, qualifies=qualifies)
    two = draw_articles(bodies, [], count=3, seed=7, qualifies=qualifies)
    assert one.drawn == two.drawn and len(one.drawn) == 3 and one.qualifying == 8
    assert all(unicodedata.is_normalized("NFC", text) for _, text in one.drawn)
    assert draw_articles(bodies, [], count=3, seed=8, qualifies=qualifies).drawn != one.drawn
    with pytest.raises(ValueError, match="count"):
        draw_articles(bodies, [], count=0, seed=1, qualifies=qualifies)


def entity(text: str, part: str, label: str, score: float) -> dict:
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label, "score": score, "text": part}


def test_a_document_is_kept_only_when_every_value_and_indicator_is_sure() -> None:
    text = GOAL
    sure = [entity(text, "tăng trưởng GRDP", "INDICATOR", 0.9), entity(text, "8%", "TARGET_VALUE", 0.8)]
    doc = silver_document("a1", text, {"entities": sure}, 0.5, "m")
    assert doc is not None and doc.meta["silver"] == "m"
    assert [(s.label, s.text) for s in doc.spans] == [("INDICATOR", "tăng trưởng GRDP"), ("TARGET_VALUE", "8%")]
    unsure = [*sure, entity(text, "trên 6.000 tỷ đồng", "TARGET_VALUE", 0.4)]
    assert silver_document("a1", text, {"entities": unsure}, 0.5, "m") is None
    # A province of low confidence does not decide; a document without any value is no use.
    no_value = [entity(text, "tăng trưởng GRDP", "INDICATOR", 0.9)]
    assert silver_document("a1", text, {"entities": no_value}, 0.5, "m") is None


def test_labelling_runs_in_batches_and_keeps_what_passes() -> None:
    calls = []

    def extract_many(docs):
        calls.append(len(docs))
        return [{"entities": [entity(text, "8%", "TARGET_VALUE", 0.9 if doc_id != "b" else 0.1)]} for doc_id, text in docs]

    articles = [(i, GOAL) for i in "abcde"]
    done = []
    kept = label_articles(extract_many, articles, 0.5, "m", batch=2, progress=done.append)
    assert [d.id for d in kept] == ["a", "c", "d", "e"]
    assert calls == [2, 2, 1] and done == [2, 4, 5]
    with pytest.raises(ValueError, match="min_confidence"):
        label_articles(extract_many, articles, 1.5, "m")
