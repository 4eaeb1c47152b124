"""chitieu.evaluate.metrics on small examples whose expected figures were worked out by hand."""

from __future__ import annotations

import pytest

from chitieu.annotate.corpus import Document, Span
from chitieu.core import Entity, Indicator, Official, Province, Target, Value
from chitieu.core import Span as TextSpan
from chitieu.evaluate.metrics import (
    bio_sequence,
    clean_predictions,
    compare,
    document_errors,
    evaluate_predictions,
    gold_entities,
    match_tuples,
    normalisation_scores,
    tuple_scores,
    value_agrees,
)


def span(text: str, piece: str, label: str, score: float = 1.0, nth: int = 0) -> dict:
    start = -1
    for _ in range(nth + 1):
        start = text.index(piece, start + 1)
    return {"start": start, "end": start + len(piece), "label": label, "text": piece, "score": score}


def typed(spans: list[dict]) -> list[Entity]:
    """Entities in their JSON form as the typed core the metrics pass around."""
    return [Entity.from_dict(s) for s in spans]


def doc(doc_id: str, text: str, spans: list[dict]) -> Document:
    return Document(id=doc_id, text=text, spans=[Span(start=s["start"], end=s["end"], label=s["label"]) for s in spans])


A = "Ông Trần Ngọc Tam cho biết Bến Tre phấn đấu tăng trưởng GRDP đạt từ 9,3% trở lên."
B = "Long An đặt mục tiêu thu ngân sách 20.000 tỷ đồng."
C = "Chủ tịch Nguyễn Văn Út nói."

GOLD = [
    doc("a", A, [span(A, "Trần Ngọc Tam", "OFFICIAL"), span(A, "Bến Tre", "PROVINCE"), span(A, "tăng trưởng GRDP", "INDICATOR"), span(A, "từ 9,3% trở lên", "TARGET_VALUE")]),
    doc("b", B, [span(B, "Long An", "PROVINCE"), span(B, "thu ngân sách", "INDICATOR"), span(B, "20.000 tỷ đồng", "TARGET_VALUE")]),
    doc("c", C, [span(C, "Nguyễn Văn Út", "OFFICIAL")]),
]
PRED = [
    # two exact, two boundary errors
    {"entities": [span(A, "Trần Ngọc Tam", "OFFICIAL"), span(A, "Bến Tre", "PROVINCE"), span(A, "GRDP", "INDICATOR"), span(A, "9,3%", "TARGET_VALUE")]},
    # two exact, one label error, one spurious
    {"entities": [span(B, "Long An", "PROVINCE"), span(B, "mục tiêu", "OFFICIAL"), span(B, "thu ngân sách", "TARGET_VALUE"), span(B, "20.000 tỷ đồng", "TARGET_VALUE")]},
    # one missed
    {"entities": []},
]


@pytest.fixture(scope="module")
def result() -> dict:
    return evaluate_predictions(GOLD, PRED)


def test_strict_per_label(result: dict) -> None:
    per = result["strict"]["per_label"]
    # PROVINCE 2/2 right; OFFICIAL 1 of 2 predicted, 1 of 2 gold; INDICATOR 0 exact;
    # TARGET_VALUE 1 of 3 predicted, 1 of 2 gold: F1 = 2(1/3)(1/2)/(5/6) = 0.4.
    assert per["PROVINCE"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2, "predicted": 2, "correct": 2}
    assert per["OFFICIAL"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2, "predicted": 2, "correct": 1}
    assert per["INDICATOR"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 2, "predicted": 1, "correct": 0}
    assert per["TARGET_VALUE"] == {"precision": 0.3333, "recall": 0.5, "f1": 0.4, "support": 2, "predicted": 3, "correct": 1}


def test_micro_and_macro_differ(result: dict) -> None:
    # micro: 4 correct of 8 predicted and 8 gold; macro: mean of (1, .5, 0, .4) etc.
    assert result["strict"]["micro"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 8, "predicted": 8, "correct": 4}
    assert result["strict"]["macro"] == {"precision": 0.4583, "recall": 0.5, "f1": 0.475}


def test_lenient_counts_overlaps(result: dict) -> None:
    per = result["lenient"]["per_label"]
    assert per["PROVINCE"]["f1"] == 1.0
    assert per["OFFICIAL"]["f1"] == 0.5
    # `GRDP` overlaps `tăng trưởng GRDP`: P 1/1, R 1/2.
    assert (per["INDICATOR"]["precision"], per["INDICATOR"]["recall"], per["INDICATOR"]["f1"]) == (1.0, 0.5, 0.6667)
    # `9,3%` and `20.000 tỷ đồng` hit, `thu ngân sách` (an INDICATOR in gold) does not: P 2/3, R 2/2.
    assert (per["TARGET_VALUE"]["precision"], per["TARGET_VALUE"]["recall"], per["TARGET_VALUE"]["f1"]) == (0.6667, 1.0, 0.8)
    assert result["lenient"]["micro"] == {"precision": 0.75, "recall": 0.75, "f1": 0.75}
    assert result["lenient"]["macro"]["f1"] == 0.7417


def test_confusion(result: dict) -> None:
    m = result["confusion"]["matrix"]
    assert m["PROVINCE"] == {"PROVINCE": 2, "OFFICIAL": 0, "INDICATOR": 0, "TARGET_VALUE": 0, "missed": 0}
    assert m["OFFICIAL"] == {"PROVINCE": 0, "OFFICIAL": 1, "INDICATOR": 0, "TARGET_VALUE": 0, "missed": 1}
    assert m["INDICATOR"] == {"PROVINCE": 0, "OFFICIAL": 0, "INDICATOR": 1, "TARGET_VALUE": 1, "missed": 0}
    assert m["TARGET_VALUE"] == {"PROVINCE": 0, "OFFICIAL": 0, "INDICATOR": 0, "TARGET_VALUE": 2, "missed": 0}
    assert m["spurious"] == {"PROVINCE": 0, "OFFICIAL": 1, "INDICATOR": 0, "TARGET_VALUE": 0, "missed": 0}


def test_document_errors(result: dict) -> None:
    a, b, c = result["errors"]
    assert [e["text"] for e in a["correct"]] == ["Trần Ngọc Tam", "Bến Tre"]
    assert [(p["gold"]["text"], p["predicted"]["text"]) for p in a["boundary"]] == [("tăng trưởng GRDP", "GRDP"), ("từ 9,3% trở lên", "9,3%")]
    assert a["label"] == a["missed"] == a["spurious"] == []
    assert [(p["gold"]["label"], p["predicted"]["label"]) for p in b["label"]] == [("INDICATOR", "TARGET_VALUE")]
    assert [e["text"] for e in b["spurious"]] == ["mục tiêu"]
    assert [e["text"] for e in c["missed"]] == ["Nguyễn Văn Út"]
    # 2 boundary + the gold tuple missed + the predicted one spurious (its indicator is `GRDP`)
    assert a["errors"] == 4
    assert len(a["missed_tuples"]) == len(a["spurious_tuples"]) == 1
    assert a["missed_tuples"][0]["indicator"] == "tăng trưởng GRDP"


def test_bio_is_word_level_and_cut_at_span_edges() -> None:
    text = "Bến Tre đạt 9,3%"
    tags = bio_sequence(text, [Entity.of(text, 0, 7, "PROVINCE", 1.0)])
    # segments: Bến | ␠ | Tre | ␠ | đạt | ␠ | 9,3 | %
    assert tags == ["B-PROVINCE", "I-PROVINCE", "I-PROVINCE", "O", "O", "O", "O", "O"]
    # a prediction ending inside a word is not the gold span, strictly
    gold = doc("x", text, [{"start": 0, "end": 3, "label": "PROVINCE"}])
    scores = evaluate_predictions([gold], [{"entities": [{"start": 0, "end": 2, "label": "PROVINCE", "text": "Bế", "score": 1.0}]}])
    assert scores["strict"]["micro"]["f1"] == 0.0
    assert scores["lenient"]["micro"]["f1"] == 1.0


def test_clean_predictions_keeps_the_better_of_overlapping() -> None:
    entities = [
        {"start": 0, "end": 7, "label": "PROVINCE", "text": "x", "score": 0.6},
        {"start": 4, "end": 12, "label": "OFFICIAL", "text": "x", "score": 0.9},
        {"start": 20, "end": 20, "label": "OFFICIAL", "text": "", "score": 1.0},
        {"start": 30, "end": 35, "label": "INDICATOR", "text": "x", "score": 0.1},
    ]
    kept, dropped = clean_predictions(typed(entities), labels=("PROVINCE", "OFFICIAL"))
    assert [(e.start, e.label) for e in kept] == [(4, "OFFICIAL")]
    assert dropped == 1  # the overlapped PROVINCE; the empty span and the other label are not counted


def test_labels_restrict_the_evaluation() -> None:
    scores = evaluate_predictions(GOLD, PRED, labels=("PROVINCE", "OFFICIAL"), with_tuples=False)
    assert list(scores["strict"]["per_label"]) == ["PROVINCE", "OFFICIAL"]
    # 3 correct of 4 predicted and 4 gold
    assert scores["strict"]["micro"]["f1"] == 0.75
    assert scores["tuples"] is None


def _tuple(indicator: str | None, value: str, province: str | None, official: str | None) -> Target:
    """A tuple whose offsets do not matter to the matching."""
    return Target(
        indicator=None if indicator is None else Indicator(text=indicator, start=0, end=len(indicator)),
        value=Value(text=value, start=0, end=len(value), comparator="=", number=None, min=None, max=None, unit=None),
        official=None if official is None else Official(name=official, role=None, start=0, end=len(official)),
        province=None if province is None else Province(name=province, code=None, successor=None, start=0, end=len(province)),
        sentence=TextSpan(start=0, end=len(value)),
        score=1.0,
    )


def test_tuple_matching_needs_key_and_official() -> None:
    gold = [_tuple("tăng trưởng GRDP", "8%", "Bến Tre", "Trần Ngọc Tam"), _tuple(None, "520 doanh nghiệp", "Bến Tre", None)]
    predicted = [
        _tuple("Tăng trưởng  GRDP", "8%", "Bến Tre", "trần ngọc tam"),  # same up to case and spaces
        _tuple(None, "520 doanh nghiệp", "Bến Tre", "Trần Ngọc Tam"),  # official where gold has none
        _tuple("GRDP", "8%", "Bến Tre", "Trần Ngọc Tam"),  # another indicator
    ]
    pairs, missed, spurious = match_tuples(gold, predicted)
    assert [p[0].value.text for p in pairs] == ["8%"]
    assert [t.value.text for t in missed] == ["520 doanh nghiệp"]
    assert len(spurious) == 2
    pairs, missed, spurious = match_tuples(gold, predicted, with_official=False)
    assert len(pairs) == 2 and missed == [] and len(spurious) == 1


def test_tuple_scores_by_hand() -> None:
    gold = [[_tuple("a", "1%", "X", "Ông A"), _tuple("b", "2%", "X", None)], [_tuple("c", "3%", None, None)]]
    predicted = [[_tuple("a", "1%", "X", "Ông A"), _tuple("b", "2%", "X", "Ông B")], [_tuple("d", "3%", None, None)]]
    scores = tuple_scores(gold, predicted)
    third = 0.3333
    assert scores["with_official"] == {"precision": third, "recall": third, "f1": third, "support": 3, "predicted": 3, "correct": 1}
    assert scores["without_official"]["correct"] == 2
    assert scores["without_official"]["f1"] == 0.6667


def test_lenient_tuples_forgive_edges_but_not_figures_or_people() -> None:
    gold = [_tuple("số thu ngân sách", "tối thiểu 254.000 tỷ đồng", "TP.HCM", "Nguyễn Thành Phong"),
            _tuple(None, "10%", "TP.HCM", None), _tuple("xuất khẩu", "10 tỷ USD", None, None)]
    predicted = [
        _tuple("thu ngân sách", "tối thiểu 254.000 tỷ đồng", "TP.HCM", "Nguyễn Thành Phong"),  # shorter indicator: lenient only
        _tuple("tăng trưởng", "10%", "TP.HCM", None),  # an indicator where gold has none: no
        _tuple("xuất khẩu", "10 tỷ đô la Mỹ", None, None),  # same figure written otherwise: lenient only
    ]
    assert match_tuples(gold, predicted)[0] == []
    pairs, missed, spurious = match_tuples(gold, predicted, lenient=True)
    assert [p[0].value.text for p in pairs] == ["tối thiểu 254.000 tỷ đồng", "10 tỷ USD"]
    assert [t.value.text for t in missed] == ["10%"]
    wrong_number = [_tuple("số thu ngân sách", "254.000 tỷ đồng", "TP.HCM", "Nguyễn Thành Phong")]  # comparator lost
    assert match_tuples(gold[:1], wrong_number, lenient=True)[0] == []
    assert tuple_scores([gold], [predicted])["lenient"]["correct"] == 2


def test_tuples_from_gold_and_from_entities() -> None:
    gold = GOLD[:1]
    same = evaluate_predictions(gold, [{"entities": [e.model_dump() for e in gold_entities(gold[0])]}])
    assert same["tuples"]["with_official"]["f1"] == 1.0
    no_official = [e.model_dump() for e in gold_entities(gold[0]) if e.label != "OFFICIAL"]
    scores = evaluate_predictions(gold, [{"entities": no_official}])
    # the value, indicator and province agree; the official does not
    assert scores["tuples"]["with_official"]["correct"] == 0
    assert scores["tuples"]["without_official"]["f1"] == 1.0


def _value(text: str, piece: str, comparator: str, number: float | None, unit: str | None) -> Target:
    start = text.index(piece)
    value = Value(text=piece, start=start, end=start + len(piece), comparator=comparator, number=number, min=None, max=None, unit=unit)
    return Target(indicator=None, value=value, official=None, province=None, sentence=TextSpan(start=0, end=len(text)), score=1.0)


def test_normalisation_exact_and_overlapping() -> None:
    text = "Tăng trưởng đạt từ 9,3% trở lên, thu 20.000 tỷ đồng và 7% năm sau."
    gold = [typed([span(text, "từ 9,3% trở lên", "TARGET_VALUE"), span(text, "20.000 tỷ đồng", "TARGET_VALUE"), span(text, "7%", "TARGET_VALUE")])]
    predicted = [[
        _value(text, "9,3% trở lên", ">=", 9.3, "%"),  # overlapping, still right
        _value(text, "20.000 tỷ", "=", 2e13, None),  # overlapping, lost the unit
        _value(text, "7%", "=", 7.0, "%"),  # exact
    ]]
    scores = normalisation_scores(gold, predicted)
    assert scores == {
        "exact": {"values": 1, "correct": 1, "accuracy": 1.0},
        "overlap": {"values": 2, "correct": 1, "accuracy": 0.5},
    }


def test_value_agrees_compares_numbers_with_tolerance() -> None:
    def value(comparator: str, number: float | None, low: float | None, high: float | None) -> Value:
        return Value(text="", start=0, end=0, comparator=comparator, number=number, min=low, max=high, unit="%")

    assert value_agrees(value("=", 0.1 + 0.2, None, None), "0,3%")
    assert not value_agrees(value("~", 0.3, None, None), "0,3%")
    assert value_agrees(value("range", None, 8.0, 8.5), "từ 8 - 8,5%")


def test_compare_is_b_minus_a(result: dict) -> None:
    perfect = evaluate_predictions(GOLD, [{"entities": [e.model_dump() for e in gold_entities(d)]} for d in GOLD])
    diff = compare(result, perfect)
    assert diff["per_label"]["TARGET_VALUE"]["strict"]["f1"] == {"a": 0.4, "b": 1.0, "diff": 0.6}
    assert diff["micro"]["strict"]["f1"]["diff"] == 0.5
    assert diff["tuples"]["with_official"]["f1"]["b"] == 1.0


def test_document_errors_without_tuples() -> None:
    gold = typed([span(A, "Bến Tre", "PROVINCE")])
    errs = document_errors("a", gold, typed([span(A, "Bến Tre phấn đấu", "PROVINCE")]))
    assert errs["errors"] == 1 and len(errs["boundary"]) == 1 and "missed_tuples" not in errs
