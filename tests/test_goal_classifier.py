"""The goal classifier (features, fit, file) and the three-way vote on TARGET_VALUEs."""

import json

import pytest

from chitieu.annotate.corpus import Document, Span
from chitieu.core import Entity
from chitieu.extract.goal_classifier import (
    GOAL_CLASSIFIER_FILE,
    GoalClassifier,
    candidate_features,
    fit_goal_classifier,
    vote_values,
)
from chitieu.extract.goals import goal_values, value_candidates
from chitieu.extract.refine import refine


def candidate(text, quote):
    (found,) = [c for c in value_candidates(text) if text[c.start : c.end] == quote]
    return found


def test_features_read_the_words_around_the_value_and_the_goal_checks():
    text = "Bến Tre phấn đấu tăng trưởng GRDP từ 9,3% trở lên, năm 2023 ước đạt 7%."
    goal = candidate_features(text, candidate(text, "từ 9,3% trở lên"))
    assert {"goal", "percent", "L0:grdp", "L1:trưởng", "LB:tăng_trưởng", "V:từ", "V:trở", "R0:,", "S:ước"} <= set(goal)
    assert "result" not in goal and "money" not in goal and "V:9" not in goal
    result = candidate_features(text, candidate(text, "7%"))
    assert {"result", "L0:đạt", "L1:ước", "C:ước"} <= set(result) and "goal" not in result
    # Word pairs of the sentence and of the clause: `ước đạt` is in the second clause only.
    assert {"S2:phấn_đấu", "S2:ước_đạt", "C2:phấn_đấu"} <= set(goal) and "C2:ước_đạt" not in goal
    assert {"C2:ước_đạt", "S2:phấn_đấu"} <= set(result) and "C2:phấn_đấu" not in result


GOALS = [
    "Năm 2024, tỉnh phấn đấu thu ngân sách 6.000 tỷ đồng.",
    "Mục tiêu đến năm 2025 có 520 doanh nghiệp mới.",
    "Huyện phấn đấu tạo việc làm cho 3.000 lao động.",
]
RESULTS = [
    "Năm 2023, tỉnh ước đạt 5.000 tỷ đồng thu ngân sách.",
    "Đến nay đã có 410 doanh nghiệp hoạt động.",
    "Năm qua đã giải quyết việc làm cho 2.500 lao động.",
]


def gold_documents():
    docs = []
    for i, text in enumerate(GOALS):
        (c,) = value_candidates(text)
        docs.append(Document(id=f"g{i}", text=text, spans=[Span(start=c.start, end=c.end, label="TARGET_VALUE")]))
    docs += [Document(id=f"r{i}", text=text, spans=[]) for i, text in enumerate(RESULTS)]
    return docs


def test_fit_separates_goals_from_results_on_unseen_sentences():
    classifier = fit_goal_classifier(gold_documents())
    assert classifier.trained_on == {"documents": 6, "candidates": 6, "goals": 3, "c": 1.0}
    goal = "Thành phố phấn đấu thu 9.000 tỷ đồng."
    result = "Thành phố ước đạt 8.000 tỷ đồng."
    p_goal = classifier.probability(goal, value_candidates(goal)[0])
    p_result = classifier.probability(result, value_candidates(result)[0])
    assert 0 < p_result < classifier.threshold < p_goal < 1
    assert list(classifier.goals(goal)) == [(value_candidates(goal)[0].start, value_candidates(goal)[0].end)]
    assert classifier.goals(result) == {}


def test_probability_is_the_logistic_regression_that_was_fitted():
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    docs = gold_documents()
    classifier = fit_goal_classifier(docs)
    rows = [candidate_features(d.text, c) for d in docs for c in value_candidates(d.text)]
    labels = [int(bool(d.spans)) for d in docs for _ in value_candidates(d.text)]
    vectorizer = DictVectorizer()
    reference = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced", random_state=13).fit(vectorizer.fit_transform(rows), labels)
    text = "Tỉnh phấn đấu có 600 doanh nghiệp, năm 2023 ước đạt 5.000 tỷ đồng."
    for c in value_candidates(text):
        expected = reference.predict_proba(vectorizer.transform([candidate_features(text, c)]))[0, 1]
        assert classifier.probability(text, c) == pytest.approx(expected, abs=1e-9)


def test_fit_without_both_kinds_says_what_to_do():
    only_goals = [d for d in gold_documents() if d.spans]
    with pytest.raises(ValueError, match="annotate more documents or train with --no-goal-classifier"):
        fit_goal_classifier(only_goals)


def test_saved_classifier_reloads_to_the_same_probabilities(tmp_path):
    classifier = fit_goal_classifier(gold_documents())
    path = classifier.save(tmp_path)
    assert path.name == GOAL_CLASSIFIER_FILE and not list(tmp_path.glob(f".{GOAL_CLASSIFIER_FILE}-*"))
    assert path.stat().st_mode & 0o777 == 0o644, "a service running as another user must read it"
    again = GoalClassifier.load(tmp_path)
    text = "Tỉnh phấn đấu có 600 doanh nghiệp, năm 2023 ước đạt 5.000 tỷ đồng."
    for c in value_candidates(text):
        assert again.probability(text, c) == pytest.approx(classifier.probability(text, c), abs=1e-5)
    assert again.trained_on == classifier.trained_on
    assert GoalClassifier.load(tmp_path / "elsewhere") is None


def test_a_classifier_file_of_another_format_is_refused_with_the_fix(tmp_path):
    fit_goal_classifier(gold_documents()).save(tmp_path)
    data = json.loads((tmp_path / GOAL_CLASSIFIER_FILE).read_text())
    data["format_version"] = 99
    (tmp_path / GOAL_CLASSIFIER_FILE).write_text(json.dumps(data))
    with pytest.raises(ValueError, match="chitieu models fit-goals"):
        GoalClassifier.load(tmp_path)


class FakeClassifier:
    """Says which value expressions are goals, by their text."""

    def __init__(self, goals: dict[str, float]):
        self.quotes = goals

    def goals(self, text, candidates):
        return {(text.index(q), text.index(q) + len(q)): p for q, p in self.quotes.items()}


TEXT = "Tỉnh phấn đấu thu ngân sách 6.000 tỷ đồng; năm 2023 ước đạt 5.000 tỷ đồng, xuất khẩu 20 triệu USD."


def value(quote, score=0.9, label="TARGET_VALUE"):
    start = TEXT.index(quote)
    return Entity.of(TEXT, start, start + len(quote), label, score)


def test_the_vote_keeps_what_two_of_three_readers_put_on_the_same_span():
    # The rule goal check reads 6.000 and 20 triệu USD as goals (5.000 is `ước đạt`).
    assert [TEXT[a:b] for a, b in goal_values(TEXT)] == ["6.000 tỷ đồng", "20 triệu USD"]
    tagged = [value("thu ngân sách", 0.8, "INDICATOR"), value("6.000 tỷ đồng"), value("5.000 tỷ đồng", 0.7)]
    # tagger + rules keep 6.000; tagger alone loses 5.000; rules + classifier add 20 triệu USD.
    out = vote_values(TEXT, tagged, FakeClassifier({"20 triệu USD": 0.66}))
    assert [(e.text, e.label, e.score) for e in out] == [
        ("thu ngân sách", "INDICATOR", 0.8), ("6.000 tỷ đồng", "TARGET_VALUE", 0.9), ("20 triệu USD", "TARGET_VALUE", 0.66),
    ]
    # tagger + classifier keep 5.000 against the rules; the classifier alone adds nothing.
    out = vote_values(TEXT, [value("5.000 tỷ đồng", 0.7)], FakeClassifier({"5.000 tỷ đồng": 0.6}))
    assert [(e.text, e.score) for e in out] == [("5.000 tỷ đồng", 0.7)]
    assert vote_values(TEXT, [], FakeClassifier({"5.000 tỷ đồng": 0.6})) == []


def test_the_vote_adds_nothing_over_another_entity():
    tagged = [value("20 triệu", 0.9, "INDICATOR")]
    out = vote_values(TEXT, tagged, FakeClassifier({"20 triệu USD": 0.9}))
    assert [e.text for e in out] == ["20 triệu"]


def test_refine_puts_values_to_the_vote_only_with_a_classifier():
    tagged = [value("5.000 tỷ đồng", 0.7)]
    # `ước đạt`: the rules read a result; tagger and classifier together still outvote them.
    assert refine(TEXT, [value("20 triệu USD")]) == [value("20 triệu USD")]
    assert refine(TEXT, [value("20 triệu USD")], FakeClassifier({})) == [value("20 triệu USD")]
    assert refine(TEXT, tagged, FakeClassifier({"5.000 tỷ đồng": 0.9})) == tagged
    assert refine(TEXT, tagged, FakeClassifier({})) == [], "the tagger alone is outvoted"
    text = "Năm 2023, xuất khẩu 20 triệu USD."
    assert goal_values(text) == []
    only_tagger = [Entity.of(text, 20, 32, "TARGET_VALUE", 0.9)]
    assert refine(text, only_tagger) == only_tagger
    assert refine(text, only_tagger, FakeClassifier({})) == []


def test_a_restated_goal_figure_keeps_the_vote_of_its_first_mention():
    text = "Quốc hội đặt mục tiêu tăng trưởng 6,7%. Chúng ta muốn tăng trưởng 6.7%, năm ngoái đạt 6,2%."
    first, again, last_year = (Entity.of(text, text.index(q), text.index(q) + len(q), "TARGET_VALUE", 0.9) for q in ("6,7%", "6.7%", "6,2%"))
    classifier = FakeClassifier({})
    assert [e.text for e in refine(text, [first, again, last_year], classifier, skip=frozenset({"goal-restated"}))] == ["6,7%"]
    # The same number and unit (written another way) is the same goal; another figure is not.
    assert [e.text for e in refine(text, [first, again, last_year], classifier)] == ["6,7%", "6.7%"]
    # Only what the tagger tagged comes back: an untagged mention stays out.
    assert [e.text for e in refine(text, [first, last_year], classifier)] == ["6,7%"]
    # With no goal kept, nothing is restated.
    assert refine(text, [again, last_year], classifier) == []


def test_figure_key_leaves_the_comparator_out():
    from chitieu.extract.normalize import figure_key

    assert figure_key("khoảng 30%") == figure_key("30%") == (30.0, None, None, "%")
    assert figure_key("200 km") != figure_key("200 tỷ đồng")
    assert figure_key("từ 35 - 40%") == (None, 35.0, 40.0, "%")
    assert figure_key("hai con số") is None


def test_a_military_or_market_target_is_no_goal_cue():
    from chitieu.extract.goals import has_goal_cue

    assert not has_goal_cue("có thể hạ gục các mục tiêu di chuyển với tốc độ 6.200 km/h")
    assert not has_goal_cue("máy bay phải phóng ở vị trí cách mục tiêu chỉ 3.000 km")
    assert not has_goal_cue("mục tiêu kế tiếp được xác định tại ngưỡng 100%")
    assert has_goal_cue("mục tiêu giá trị sản xuất tăng 5%"), "`giá trị` is a value's indicator, not a price"
    assert has_goal_cue("mục tiêu giáo dục đạt 90%") and has_goal_cue("mục tiêu giám sát 100% doanh nghiệp"), "`giá` is a whole word"
    assert has_goal_cue("mục tiêu di chuyển 500 hộ dân ra khỏi vùng sạt lở"), "only a target under attack is a military one"
    assert has_goal_cue("tiếp cận mục tiêu tăng trưởng 8%")
    assert has_goal_cue("phấn đấu tấn công các mục tiêu; tăng trưởng 7%"), "another goal word still counts"


def test_a_tagger_value_no_expression_covers_needs_both_other_readers():
    from chitieu.extract.goal_classifier import uncovered_values

    text = "Tỉnh phấn đấu đến năm 2025 có 50.000 DN; năm 2023 đã có 30.000 DN."
    assert value_candidates(text) == [], "`DN` is no unit the value expressions know"
    assert uncovered_values(text, [], []) == []

    def tagged(quote: str) -> Entity:
        start = text.index(quote)
        return Entity.of(text, start, start + len(quote), "TARGET_VALUE", 0.8)

    both = [tagged("50.000 DN"), tagged("30.000 DN")]
    assert [text[c.start : c.end] for c in uncovered_values(text, both, [])] == ["50.000 DN", "30.000 DN"]
    # The rules read 50.000 DN as a goal (`phấn đấu`) and 30.000 DN as a result (`đã`).
    kept = vote_values(text, both, FakeClassifier({"50.000 DN": 0.7, "30.000 DN": 0.6}))
    assert [e.text for e in kept] == ["50.000 DN"], "tagger + rules + classifier keep it; the rules outvote 30.000"
    assert vote_values(text, both, FakeClassifier({})) == [], "tagger + rules alone are not enough when no expression covers it"
