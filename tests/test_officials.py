"""The official check: name runs, person-level features, overfit/save/reload, and the stage
that drops OFFICIALs, with a fake check where the fitted one is not the point."""

import pytest

from chitieu.annotate.corpus import Document, Span
from chitieu.core import Entity
from chitieu.extract.officials import (
    OfficialCheck,
    fit_official_check,
    name_runs,
    person_features,
    training_rows,
    written_as_a_person,
)


def _doc(doc_id: str, text: str, officials: list[str]) -> Document:
    spans, cursor = [], 0
    for quote in officials:
        start = text.index(quote, cursor)
        spans.append(Span(start=start, end=start + len(quote), label="OFFICIAL", text=quote))
        cursor = start + len(quote)
    return Document(id=doc_id, text=text, spans=spans)


def test_name_runs_are_whole_capitalised_runs_even_after_a_lower_case_word():
    text = "Theo ông Lê Hoàng Châu, Chủ tịch Hiệp hội, ông Moon Jae-in và sông Cửu Long."
    runs = [text[a:b] for a, b in name_runs(text)]
    assert "Lê Hoàng Châu" in runs and "Moon Jae-in" in runs and "Cửu Long" in runs
    assert "Chủ" in runs and "Chủ tịch" not in runs, "a run stops at a lower-case word"
    opening = "Ông Lê Văn Nam nói. Ông nói."
    assert [opening[a:b] for a, b in name_runs(opening)] == ["Lê Văn Nam", "Ông"], "the honorific is not the name"
    assert not any(r.startswith(("ông", "sông")) for r in runs)


def test_a_short_mention_shares_the_title_of_the_full_one_but_not_of_another_name():
    text = "Ông Lê Hoàng Châu, Chủ tịch Hiệp hội Bất động sản, cho biết. Ông Châu nói thêm. Ông Thanh nói."
    spans = [(text.index(n), text.index(n) + len(n)) for n in ("Lê Hoàng Châu", "Châu nói", "Thanh")]
    spans[1] = (spans[1][0], spans[1][0] + len("Châu"))
    full, short, other = person_features(text, spans)
    assert "R:hiệp" in full and "R:hiệp" not in short, "the role is read at the full mention"
    assert "PR:hiệp" in short and "PR:hiệp" in full, "and shared with every mention of the person"
    assert "PR:hiệp" not in other, "`Thanh` does not end with `Châu`, nor `Châu` with `Thanh`"
    assert short["mentions=2"] == 1.0 and other["mentions=1"] == 1.0


OFFICIALS = [
    ("Chủ tịch UBND tỉnh Nguyễn Văn Út cho biết, ông Út sẽ chỉ đạo.", ["Nguyễn Văn Út", "Út"]),
    ("Bí thư Tỉnh ủy Lê Đức Thọ phát biểu tại hội nghị.", ["Lê Đức Thọ"]),
    ("Phó Chủ tịch UBND tỉnh Trần Ngọc Tam chủ trì buổi họp.", ["Trần Ngọc Tam"]),
    ("Giám đốc Sở Tài chính Phạm Văn Hùng báo cáo.", ["Phạm Văn Hùng"]),
]
OTHERS = [
    "Ông Lê Hoàng Châu, Chủ tịch Hiệp hội Bất động sản, cho rằng giá nhà sẽ giảm.",
    "Ông Nguyễn Xuân Hưng, Tổng giám đốc Công ty Công viên, cho biết.",
    "Bà Phạm Thị Lan, chuyên gia kinh tế, nhận định thị trường Hà Nội.",
]
DOCS = [_doc(f"o{k}", text, names) for k, (text, names) in enumerate(OFFICIALS)] + [_doc(f"n{k}", text, []) for k, text in enumerate(OTHERS)]


def test_training_rows_take_gold_officials_and_the_other_names_written_as_a_person():
    rows, labels = training_rows(DOCS[0])
    assert labels[:2] == [1, 1] and sum(labels) == 2
    assert len(rows) == len(labels) == 3, "`UBND` follows a title; the sentence-initial `Chủ` is left out"
    text = OTHERS[0]
    assert [text[a:b] for a, b in name_runs(text) if written_as_a_person(text, (a, b))] == ["Lê Hoàng Châu", "Hiệp"]
    rows, labels = training_rows(DOCS[4])
    assert labels == [0, 0]


def test_a_person_is_written_after_an_honorific_or_a_title_or_before_an_apposition():
    text = "Theo ông Châu thì Bộ trưởng Nghĩa và Trần Văn Nam, chuyên gia, cùng Hà Nội nói."

    def at(name):
        return (text.index(name), text.index(name) + len(name))

    assert written_as_a_person(text, at("Châu")) and written_as_a_person(text, at("Nghĩa"))
    assert written_as_a_person(text, at("Trần Văn Nam"))
    assert not written_as_a_person(text, at("Theo")) and not written_as_a_person(text, at("Hà Nội"))


def test_overfit_save_reload_same_decisions(tmp_path):
    check = fit_official_check(DOCS, c=100.0, threshold=0.5)
    assert check.trained_on["officials"] == 5
    check.save(tmp_path)
    reloaded = OfficialCheck.load(tmp_path)
    assert reloaded is not None and reloaded.threshold == 0.5
    for doc in DOCS:
        names = [(r, doc.text[r[0] : r[1]]) for r in name_runs(doc.text)]
        gold = {(s.start, s.end) for s in doc.spans}
        persons = [r for r, name in names if r in gold or name in ("Lê Hoàng Châu", "Nguyễn Xuân Hưng", "Phạm Thị Lan")]
        entities = [Entity.of(doc.text, a, b, "OFFICIAL", 0.9) for a, b in persons]
        for model in (check, reloaded):
            kept = model.keep(doc.text, entities)
            assert {(e.start, e.end) for e in kept} == gold, doc.text
    # Saved weights are rounded to 6 places.
    assert check.probabilities(DOCS[0].text, [(0, 3)]) == pytest.approx(reloaded.probabilities(DOCS[0].text, [(0, 3)]), abs=1e-6)


def test_keep_leaves_other_labels_and_texts_without_officials_alone():
    check = OfficialCheck({"norole": -50.0}, intercept=0.0)
    text = "Hà Nội phấn đấu tăng trưởng 7%."
    entities = [Entity.of(text, 0, 6, "PROVINCE", 0.9), Entity.of(text, 28, 30, "TARGET_VALUE", 0.9)]
    assert check.keep(text, entities) == entities
    people = [*entities, Entity.of(text, 0, 6, "OFFICIAL", 0.9)]
    assert check.keep(text, people) == entities, "no title anywhere: dropped"


def test_fitting_needs_officials_and_other_names():
    with pytest.raises(ValueError, match="--no-official-check"):
        fit_official_check([_doc("x", "tăng trưởng 7%.", [])])


def test_a_folder_without_the_file_has_no_check_and_another_format_is_refused(tmp_path):
    assert OfficialCheck.load(tmp_path) is None
    (tmp_path / "official_check.json").write_text('{"format_version": 99}', encoding="utf-8")
    with pytest.raises(ValueError, match="fit-goals"):
        OfficialCheck.load(tmp_path)


def test_the_stage_drops_what_the_check_rejects_unless_skipped():
    from chitieu.extract.extractor import Extractor
    from chitieu.extract.stages import OFFICIAL_CHECK
    from tests.fakes import TEXT, LexiconAdapter, LexiconRunner

    class NoOne:
        trained_on = {"fake": True}

        def keep(self, text, entities):
            return [e for e in entities if e.label != "OFFICIAL"]

    plain = Extractor(LexiconAdapter(), LexiconRunner(), {"name": "fake"}, max_tokens=32, overlap_tokens=4)
    checked = Extractor(LexiconAdapter(), LexiconRunner(), {"name": "fake"}, max_tokens=32, overlap_tokens=4, official_check=NoOne())
    before = plain.extract(TEXT)
    assert any(e["label"] == "OFFICIAL" for e in before["entities"]), "the fake text has an official"
    after = checked.extract(TEXT)
    assert not any(e["label"] == "OFFICIAL" for e in after["entities"])
    assert all(t["official"] is None for t in after["targets"])
    prepared = checked.prepare(TEXT)
    assert checked.finish(prepared, checked.run(prepared.windows), frozenset({OFFICIAL_CHECK})) == before
    assert checked.info["official_check"] == {"fake": True}
