"""The indicator chooser: candidates around a value, the conditional logit, and the filling
of values the tagger left without an indicator."""

from chitieu.annotate.corpus import Document, Span
from chitieu.core import Entity
from chitieu.extract.indicators import IndicatorChooser, fill_indicators, fit_indicator_chooser, grow_indicators, indicator_candidates
from chitieu.text import split_words


def _doc(doc_id: str, text: str, spans: list[tuple[str, str]]) -> Document:
    out, cursor = [], 0
    for label, quote in spans:
        start = text.index(quote, cursor)
        out.append(Span(start=start, end=start + len(quote), label=label, text=quote))
        cursor = start + len(quote)
    return Document(id=doc_id, text=text, spans=out)


def test_candidates_hold_the_phrase_before_the_value_and_never_cross_an_entity():
    text = "Bến Tre phấn đấu tỷ lệ hộ nghèo giảm còn 3%; thu ngân sách đạt 500 tỷ đồng."
    words = split_words(text)
    value = (text.index("500"), text.index("500") + len("500 tỷ đồng"))
    other_value = (text.index("3%"), text.index("3%") + 2)
    spans = {text[c.start : c.end] for c in indicator_candidates(words, value, [other_value])}
    assert "thu ngân sách" in spans and "ngân sách" in spans
    assert not any("3%" in s or "hộ nghèo" in s for s in spans), "the `;` and the other value end the region"
    after = indicator_candidates(split_words("đạt trên 98% xã đạt chuẩn."), (4, 12), [])
    assert any(c.side == "after" and "đạt chuẩn" in "đạt trên 98% xã đạt chuẩn."[c.start : c.end] for c in after)


def test_no_candidate_ends_with_a_framing_word():
    text = "Năm 2025 tỷ lệ hộ nghèo giảm còn 3%."
    value = (text.index("3%"), text.index("3%") + 2)
    spans = {text[c.start : c.end] for c in indicator_candidates(split_words(text), value, [])}
    assert "tỷ lệ hộ nghèo" in spans
    assert not any(s.endswith(("nghèo giảm", "giảm còn")) and s != "giảm còn" for s in spans), "the guidelines leave the verb out"


DOCS = [
    _doc(f"d{k}", text, spans)
    for k, (text, spans) in enumerate(
        [
            ("Tỉnh phấn đấu tổng vốn đầu tư đạt 20.000 tỷ đồng.", [("INDICATOR", "tổng vốn đầu tư"), ("TARGET_VALUE", "20.000 tỷ đồng")]),
            ("Năm tới, thu ngân sách đạt 5.000 tỷ đồng.", [("INDICATOR", "thu ngân sách"), ("TARGET_VALUE", "5.000 tỷ đồng")]),
            ("Mục tiêu tỷ lệ hộ nghèo giảm còn 3%.", [("INDICATOR", "tỷ lệ hộ nghèo"), ("TARGET_VALUE", "3%")]),
            ("Phấn đấu có trên 98% xã đạt chuẩn nông thôn mới.", [("TARGET_VALUE", "trên 98% xã"), ("INDICATOR", "đạt chuẩn nông thôn mới")]),
            ("Kế hoạch tăng trưởng GRDP đạt 8%.", [("INDICATOR", "tăng trưởng GRDP"), ("TARGET_VALUE", "8%")]),
        ]
    )
]


def _entities(doc: Document, drop: str = "INDICATOR") -> list[Entity]:
    return [Entity.of(doc.text, s.start, s.end, s.label, 1.0) for s in doc.spans if s.label != drop]


def test_overfit_save_reload_same_choices(tmp_path):
    chooser = fit_indicator_chooser(DOCS, l2=0.01, threshold=0.0)
    assert chooser.trained_on["values_with_indicator"] == len(DOCS)
    chooser.save(tmp_path)
    reloaded = IndicatorChooser.load(tmp_path)
    assert reloaded is not None
    for doc in DOCS:
        gold = [(s.start, s.end) for s in doc.spans if s.label == "INDICATOR"]
        for model in (chooser, reloaded):
            filled = fill_indicators(doc.text, _entities(doc), model)
            assert [(e.start, e.end) for e in filled if e.label == "INDICATOR"] == gold, doc.text


def test_fill_leaves_a_value_that_has_an_indicator_and_respects_the_threshold(tmp_path):
    chooser = fit_indicator_chooser(DOCS, l2=0.01, threshold=0.0)
    doc = DOCS[0]
    wrong = Entity.of(doc.text, 0, 4, "INDICATOR", 0.9)
    kept = fill_indicators(doc.text, [wrong, *_entities(doc)], chooser)
    assert [e for e in kept if e.label == "INDICATOR"] == [wrong], "a value with its own indicator is not given another"
    strict = IndicatorChooser(chooser.weights, threshold=1.01)
    assert [e.label for e in fill_indicators(doc.text, _entities(doc), strict)] == ["TARGET_VALUE"]
    assert IndicatorChooser.load(tmp_path) is None, "a folder without a chooser serves the tagger's indicators"


def test_a_cut_indicator_grows_to_the_chosen_phrase_but_is_never_cut_or_moved():
    chooser = fit_indicator_chooser(DOCS, l2=0.01, threshold=0.0)
    doc = DOCS[0]  # "Tỉnh phấn đấu tổng vốn đầu tư đạt 20.000 tỷ đồng."
    values = _entities(doc)
    start = doc.text.index("vốn")
    cut = Entity.of(doc.text, start, start + len("vốn đầu tư"), "INDICATOR", 0.9)  # the tagger stopped inside
    grown = grow_indicators(doc.text, [cut, *values], chooser)
    assert [e.text for e in grown if e.label == "INDICATOR"] == ["tổng vốn đầu tư"]
    assert [e for e in grown if e.label != "INDICATOR"] == values, "values and names pass unchanged"
    start = doc.text.index("phấn")
    too_long = Entity.of(doc.text, start, doc.text.index(" đạt"), "INDICATOR", 0.9)  # "phấn đấu tổng vốn đầu tư"
    assert grow_indicators(doc.text, [too_long, *values], chooser) == [too_long, *values], "never cut"
    elsewhere = Entity.of(doc.text, 0, 4, "INDICATOR", 0.9)  # "Tỉnh": the chosen phrase does not contain it
    assert grow_indicators(doc.text, [elsewhere, *values], chooser) == [elsewhere, *values], "never moved"
    whole = [Entity.of(doc.text, s.start, s.end, s.label, 1.0) for s in doc.spans]
    assert grow_indicators(doc.text, whole, chooser) == whole


def test_the_choosers_phrases_lose_their_framing_head_too(monkeypatch):
    """The indicators stage trims what the chooser grows or adds, as refine trims the tagger's
    (`indicator-head`). The chooser is faked: its phrase is already in the entities."""
    import chitieu.extract.stages as stages
    from chitieu.core import Entity

    text = "Năm 2025 phấn đấu bao gồm cả nhà ở xã hội đạt 2.000 căn."
    value = Entity.of(text, text.index("2.000"), text.index("2.000") + len("2.000 căn"), "TARGET_VALUE", 0.9)
    phrase = Entity.of(text, text.index("bao gồm"), text.index(" đạt"), "INDICATOR", 0.8)
    monkeypatch.setattr(stages, "grow_indicators", lambda text, entities, chooser, sentences: entities)
    monkeypatch.setattr(stages, "fill_indicators", lambda text, entities, chooser, sentences: entities)
    prepared = type("FakePrepared", (), {"text": text, "sentences": [(0, len(text))]})()

    def indicators(skip: frozenset[str]) -> list[str]:
        article = stages.Article(prepared, [], [phrase, value])
        stages.ChooseIndicators()(article, stages.Parts(indicator_chooser=object(), skip=skip))  # type: ignore[arg-type]
        return [e.text for e in article.entities if e.label == "INDICATOR"]

    assert indicators(frozenset()) == ["nhà ở xã hội"]
    assert indicators(frozenset({"indicator-head"})) == ["bao gồm cả nhà ở xã hội"]


def test_a_value_whose_only_indicator_lies_before_another_value_is_given_its_own():
    chooser = fit_indicator_chooser(DOCS, l2=0.01, threshold=0.0)
    text = "Năm tới, thu ngân sách đạt 5.000 tỷ đồng, tổng vốn đầu tư đạt 20.000 tỷ đồng."
    doc = _doc("two", text, [("INDICATOR", "thu ngân sách"), ("TARGET_VALUE", "5.000 tỷ đồng"), ("TARGET_VALUE", "20.000 tỷ đồng")])
    filled = fill_indicators(text, _entities(doc, drop=""), chooser)
    # Linking would hand `thu ngân sách` to both values; the second has a phrase of its own.
    assert [e.text for e in filled if e.label == "INDICATOR"] == ["thu ngân sách", "tổng vốn đầu tư"]
