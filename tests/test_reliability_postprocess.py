"""Post-processing (refine, goal vote, linking) in time linear in the document, same answers.

A run-on text of thousands of figures in one sentence used to cost values x sentence
length (26 s for 16,000 characters); these tests hold the time down and check that the
indexed lookups answer exactly what the old scans answered.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chitieu.core import Entity
from chitieu.extract import link as linking
from chitieu.extract.extractor import Extractor
from chitieu.extract.goal_classifier import FeatureContext, GoalClassifier, _SentenceWords
from chitieu.extract.goals import CLAUSE_BREAK_RE, SentenceCues
from chitieu.extract.link import full_names, link_targets
from chitieu.intervals import Occupied
from chitieu.lexicon.unicode import name_key
from chitieu.model_folder import read_promoted
from chitieu.paths import models_dir
from chitieu.text import MAX_SENTENCE_CHARS, SpanIndex, sentences
from tests.fakes import LexiconAdapter, LexiconRunner

RUN_ON = "Bến Tre 9,3% "


def run_on(chars: int, unit: str = RUN_ON) -> str:
    return (unit * (chars // len(unit) + 1))[:chars]


@pytest.fixture(scope="module")
def goal_classifier() -> GoalClassifier:
    folder = read_promoted(models_dir())
    assert folder is not None, "models/PROMOTED names the default model"
    classifier = GoalClassifier.load(folder)
    assert classifier is not None
    return classifier


def lexicon_extractor(classifier: GoalClassifier | None) -> Extractor:
    adapter = LexiconAdapter()
    meta = {"name": "lex", "version": "1", "base": {"name": "lexicon"}}
    return Extractor(adapter, LexiconRunner(), meta, max_tokens=32, overlap_tokens=4, goal_classifier=classifier)


@pytest.mark.parametrize("unit", [RUN_ON, "Tỉnh Bến Tre phấn đấu tăng trưởng GRDP 9,3% ", "Ông Lê Đức Thọ: 9,3%; "])
def test_a_16k_run_on_text_is_post_processed_in_well_under_2_s(goal_classifier: GoalClassifier, unit: str) -> None:
    extractor = lexicon_extractor(goal_classifier)
    text = run_on(16_000, unit)
    prepared = extractor.prepare(text)
    probs = extractor.run(prepared.windows)
    started = time.perf_counter()
    out = extractor.finish(prepared, probs)
    seconds = time.perf_counter() - started
    assert len(out["entities"]) > 500  # hundreds of values, provinces, officials were really handled
    assert seconds < 2.0, f"finish took {seconds:.1f} s on 16,000 characters"


def test_over_long_sentences_are_read_in_pieces_cut_at_spaces() -> None:
    text = "Mở đầu. " + run_on(3 * MAX_SENTENCE_CHARS + 100).strip() + ". Kết thúc."
    spans = sentences(text)
    assert text[spans[0][0] : spans[0][1]] == "Mở đầu." and text[spans[-1][0] : spans[-1][1]] == "Kết thúc."
    pieces = spans[1:-1]
    assert len(pieces) == 4 and all(0 < e - s <= MAX_SENTENCE_CHARS for s, e in pieces)
    assert all(text[e] == " " and not text[s].isspace() for s, e in pieces[:-1])  # cut at a space
    assert "".join(text[s:e] + " " for s, e in pieces).strip() == text[spans[1][0] : spans[-2][1]]


def test_abbreviations_before_a_dot_still_do_not_end_a_sentence() -> None:
    text = "Ông Dũng nói tại TP. Hồ Chí Minh rằng tăng 8%. Theo GS. Lê. Được. x. Y xGS. Hà"
    got = [text[s:e] for s, e in sentences(text)]
    assert got == ["Ông Dũng nói tại TP. Hồ Chí Minh rằng tăng 8%.", "Theo GS. Lê.", "Được. x.", "Y xGS.", "Hà"]


def test_span_index_finds_the_span_holding_a_position() -> None:
    spans = [(0, 5), (7, 9), (9, 12)]
    index = SpanIndex(spans)
    for pos in range(-1, 14):
        expected = next((k for k, (s, e) in enumerate(spans) if s <= pos < e), -1)
        assert index.index(pos) == expected
    assert index.containing(6) == (6, 6) and index.containing(9) == (9, 12)


# --- the indexed lookups answer what the scans answered -----------------------------------

ranges = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 12)).map(lambda t: (t[0], t[0] + t[1])), max_size=12)


@given(fixed=ranges, asked=st.lists(st.tuples(st.integers(0, 70), st.integers(0, 12)), max_size=25))
@settings(max_examples=300, deadline=None)
def test_occupied_answers_like_a_scan_of_every_range(fixed: list[tuple[int, int]], asked: list[tuple[int, int]]) -> None:
    occupied = Occupied(fixed)
    taken = list(fixed)
    for start, length in asked:
        end = start + length
        scan = any(a < end and start < b for a, b in taken)
        assert occupied.overlaps(start, end) == scan
        if not scan:  # what refine and the vote do: take a range only when it is free
            occupied.add(start, end)
            taken.append((start, end))


def old_clause_bounds(sentence: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in CLAUSE_BREAK_RE.finditer(sentence, 0, start)]
    after = CLAUSE_BREAK_RE.search(sentence, end)
    return (before[-1] if before else 0), (after.start() if after else len(sentence))


clause_text = st.text(alphabet=st.sampled_from(list("ab9 ;:,()[]\t")), max_size=40)


@given(sentence=clause_text, data=st.data())
@settings(max_examples=300, deadline=None)
def test_clause_bounds_by_bisection_match_the_scan(sentence: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(sentence)))
    end = data.draw(st.integers(start, len(sentence)))
    assert SentenceCues(sentence).clause_bounds(start, end) == old_clause_bounds(sentence, start, end)


word_text = st.text(alphabet=st.sampled_from(list("aBĐ9_ %,.-İΣ")), max_size=30)


@given(sentence=word_text, data=st.data())
@settings(max_examples=300, deadline=None)
def test_words_around_a_value_match_tokenising_the_cut_text(sentence: str, data: st.DataObject) -> None:
    word = re.compile(r"\w+|[^\w\s]")
    start = data.draw(st.integers(0, len(sentence)))
    end = data.draw(st.integers(start, len(sentence)))
    words = _SentenceWords(sentence)
    assert words.left(start, 10) == word.findall(sentence[:start].lower())[-10:]
    assert words.right(end, 6) == word.findall(sentence[end:].lower())[:6]


def old_full_names(officials: list[Entity]) -> dict[str, Entity]:
    out = {}
    for mention in officials:
        key = name_key(mention.text)
        candidates = [
            o for o in officials if name_key(o.text).endswith(key) and len(o.text) >= len(mention.text)
        ]
        out[key] = max(candidates, key=lambda o: (len(o.text), -o.start))
    return out


names = st.sampled_from(["Trần Văn Dũng", "Dũng", "Văn Dũng", "ũng", "Lê Đức Thọ", "Thọ", "Đức  Thọ", "THỌ"])


@given(st.lists(names, max_size=10))
@settings(max_examples=200, deadline=None)
def test_full_names_match_comparing_every_pair(mentions: list[str]) -> None:
    officials, at = [], 0
    for name in mentions:
        officials.append(Entity(label="OFFICIAL", start=at, end=at + len(name), text=name, score=1.0))
        at += len(name) + 1
    assert full_names(officials) == old_full_names(officials)


LABELS = ["PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE"]
LINK_TEXT = (
    "Bến Tre phấn đấu tăng trưởng GRDP 9,3%. Ông Lê Đức Thọ, Bí thư Tỉnh ủy Bến Tre, yêu cầu thu ngân sách "
    "6.000 tỷ đồng; Long An đạt 5%, xuất khẩu 20 triệu USD.\nÔng Thọ nói Long An và Bến Tre cùng tăng 7% năm 2024."
)


@given(st.lists(st.tuples(st.integers(0, len(LINK_TEXT) - 1), st.integers(1, 15), st.sampled_from(LABELS)), max_size=14))
@settings(max_examples=200, deadline=None)
def test_linking_by_bisection_matches_linking_by_scanning(spans: list[tuple[int, int, str]]) -> None:
    entities, reach = [], 0
    for start, length, label in sorted(spans):
        start = max(start, reach)
        end = min(start + length, len(LINK_TEXT))
        if start >= end:
            continue
        entities.append(Entity.of(LINK_TEXT, start, end, label, 0.9))
        reach = end
    fast = link_targets(LINK_TEXT, entities)
    original = linking._disjoint
    try:
        linking._disjoint = lambda _: False  # force the scanning path
        scanned = link_targets(LINK_TEXT, entities)
    finally:
        linking._disjoint = original
    assert fast == scanned


def test_features_of_one_document_share_one_reading_of_each_sentence(goal_classifier: GoalClassifier) -> None:
    from chitieu.extract.goal_classifier import candidate_features
    from chitieu.extract.goals import value_candidates

    text = LINK_TEXT
    context = FeatureContext(text)
    for candidate in value_candidates(text):
        assert candidate_features(text, candidate, context) == candidate_features(text, candidate)


def test_post_processing_of_the_seed_is_unchanged_in_shape(goal_classifier: GoalClassifier) -> None:
    # The lexicon model on its own article: the same single target as before the rewrite.
    from tests.fakes import TEXT

    out = lexicon_extractor(goal_classifier).extract(TEXT)
    [target] = out["targets"]
    assert target["value"]["text"] == "9,3% trở lên" and target["province"]["name"] == "Bến Tre"
    assert target["official"]["name"] == "Lê Đức Thọ" and target["indicator"]["text"] == "tăng trưởng GRDP"


def test_models_dir_has_the_promoted_goal_classifier() -> None:
    folder = read_promoted(models_dir())
    assert folder is not None and (Path(folder) / "goal_classifier.json").is_file()
