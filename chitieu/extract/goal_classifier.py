"""Is this figure a goal? A second opinion on TARGET_VALUEs, and the vote that uses it.

The tagger's commonest error is a figure taken for a goal or missed as one: the decision
rests on a few cue words (`phấn đấu`, `ước đạt`, `dự toán`, `đã`), and ~300 gold values are
too few for a fine-tuned encoder to learn them reliably. Two cheaper readers of the same
cues disagree with it in different places:
- the rule goal check (`chitieu.extract.goals.goal_values`, the rule baseline's), written from the guidelines;
- `GoalClassifier`, a logistic regression over the words around every value expression of
  rule V1 (`chitieu.extract.goals.value_candidates`), fitted on the same training documents as the
  tagger. It is a JSON file of feature weights in the model folder: no pickle, no
  scikit-learn at inference.

`vote_values` keeps a TARGET_VALUE when two of the three agree on that exact span. Measured
on the 40 `vnnews-*` articles that neither the default tagger nor its classifier saw,
TARGET_VALUE F1 went from 0.506 (tagger) to 0.606 (vote), precision 0.50 -> 0.67.
A tagger value that no value expression covers (`40 thiết chế`, `100 - 110 triệu TOE`:
units the expressions do not know) is read by the rules and the classifier too, and stays
only when both call it a goal (kept on one vote it cost precision; never asked, the tagger
alone was always outvoted).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from chitieu.core import Entity
from chitieu.extract.goals import DocumentCues, ValueCandidate, goal_values, value_candidates
from chitieu.intervals import Occupied
from chitieu.labels import TARGET_VALUE
from chitieu.model_folder import read_weights_file, write_weights_file
from chitieu.text import SpanIndex, sentences

GOAL_CLASSIFIER_FILE = "goal_classifier.json"
FORMAT_VERSION = 1
_WORD = re.compile(r"\w+|[^\w\s]")
# The classifier's vote threshold. With word pairs among its features it is surer and
# rarer (five-fold CV on train+dev: precision 0.77, recall 0.67 at 0.5; 0.71 and 0.72 at
# 0.35, the same F1); as one voter of three it pays to say yes more often: on the 281
# documents the fold tagger of the default's recipe never saw, TARGET_VALUE 0.657 at 0.5,
# 0.671 at 0.4.
VOTE_THRESHOLD = 0.4


class _SentenceWords:
    """The lower-cased words of one sentence, found once for all its value expressions.

    `left`/`right` give exactly `_WORD.findall(sentence[:start].lower())[-n:]` and
    `_WORD.findall(sentence[end:].lower())[:n]`: lower-casing is per character here (checked:
    same length, no final-sigma rule), and a word cut by `start` or `end` is cut the same way."""

    def __init__(self, sentence: str) -> None:
        self.sentence = sentence
        low = sentence.lower()
        ordered = _WORD.findall(low)
        self.words = set(ordered)
        self.bigrams = _bigrams(ordered)
        # (c_start, c_end) -> the clause's words and word pairs, from one pass over it.
        self._clauses: dict[tuple[int, int], tuple[set[str], set[str]]] = {}
        self._per_char = len(low) == len(sentence) and "Σ" not in sentence
        self._low = low
        spans = [m.span() for m in _WORD.finditer(low)] if self._per_char else []
        self._starts = [a for a, _ in spans]
        self._ends = [b for _, b in spans]

    def left(self, start: int, n: int) -> list[str]:
        if not self._per_char:
            return _WORD.findall(self.sentence[:start].lower())[-n:]
        k = bisect_right(self._ends, start)  # words that end by `start`
        cut = self._low[self._starts[k] : start] if k < len(self._starts) and self._starts[k] < start else None
        first = max(0, k - n + (cut is not None))
        out = [self._low[a:b] for a, b in zip(self._starts[first:k], self._ends[first:k])]
        return out + [cut] if cut is not None else out

    def right(self, end: int, n: int) -> list[str]:
        if not self._per_char:
            return _WORD.findall(self.sentence[end:].lower())[:n]
        j = bisect_left(self._starts, end)  # words that start at or after `end`
        out = [self._low[end : self._ends[j - 1]]] if j > 0 and self._ends[j - 1] > end else []
        last = min(len(self._starts), j + n - len(out))
        return out + [self._low[a:b] for a, b in zip(self._starts[j:last], self._ends[j:last])]

    def _clause(self, c_start: int, c_end: int) -> tuple[set[str], set[str]]:
        found = self._clauses.get((c_start, c_end))
        if found is None:
            ordered = _WORD.findall(self.sentence[c_start:c_end].lower())
            found = self._clauses[(c_start, c_end)] = (set(ordered), _bigrams(ordered))
        return found

    def clause_words(self, c_start: int, c_end: int) -> set[str]:
        return self._clause(c_start, c_end)[0]

    def clause_bigrams(self, c_start: int, c_end: int) -> set[str]:
        return self._clause(c_start, c_end)[1]


def _bigrams(words: Sequence[str]) -> set[str]:
    return {f"{a}_{b}" for a, b in zip(words, words[1:])}


class FeatureContext:
    """What the features of one document's value expressions share: each sentence's cues
    (`chitieu.extract.goals.DocumentCues`) and words, read once, so a document costs time in
    proportion to its length, not to values x sentence length."""

    def __init__(self, text: str, cues: DocumentCues | None = None) -> None:
        self.cues = cues or DocumentCues(text)
        self._words: dict[tuple[int, int], _SentenceWords] = {}

    def words(self, s_start: int, s_end: int) -> _SentenceWords:
        words = self._words.get((s_start, s_end))
        if words is None:
            words = self._words[(s_start, s_end)] = _SentenceWords(self.cues.sentence(s_start, s_end).sentence)
        return words


def candidate_features(text: str, candidate: ValueCandidate, context: FeatureContext | None = None) -> dict[str, float]:
    """Binary features of one value expression: the words before and after it in its
    sentence (nearest three by position), the words and word pairs of its clause and sentence, the goal and result
    checks of `chitieu.extract.goals`, and the words of the expression itself. Pass one `context`
    for all the expressions of a document."""
    context = context or FeatureContext(text)
    cues = context.cues.sentence(candidate.sentence_start, candidate.sentence_end)
    words = context.words(candidate.sentence_start, candidate.sentence_end)
    start, end = candidate.start - candidate.sentence_start, candidate.end - candidate.sentence_start
    features: dict[str, float] = {}
    left = words.left(start, 10)
    right = words.right(end, 6)
    for i, word in enumerate(reversed(left)):
        features["L:" + word] = 1.0
        if i < 3:
            features[f"L{i}:" + word] = 1.0
    for a, b in zip(left, left[1:]):
        features[f"LB:{a}_{b}"] = 1.0
    for i, word in enumerate(right):
        features["R:" + word] = 1.0
        if i < 2:
            features[f"R{i}:" + word] = 1.0
    for word in words.words:
        features["S:" + word] = 1.0
    # Word pairs tell the cues that share a syllable apart (`dự báo` a forecast, `dự kiến` a
    # plan, `dự toán` a budget; `có thể`, `bổ sung có mục tiêu`): five-fold CV by document
    # on train+dev, F1 on value expressions 0.688 without them, 0.716 with.
    for pair in words.bigrams:
        features["S2:" + pair] = 1.0
    clause = cues.clause_bounds(start, end)
    for word in words.clause_words(*clause):
        features["C:" + word] = 1.0
    for pair in words.clause_bigrams(*clause):
        features["C2:" + pair] = 1.0
    value = text[candidate.start : candidate.end].lower()
    flags = {
        "goal": cues.is_stated_goal(start, end),
        "result": cues.reports_result(start, end),
        "percent": "%" in value,
        "money": bool(re.search(r"đồng|usd", value)),
        "first_sentence": candidate.sentence_start == 0,
    }
    features.update({name: 1.0 for name, on in flags.items() if on})
    for word in _WORD.findall(value):
        if not word[0].isdigit():
            features["V:" + word] = 1.0
    return features


class GoalReader(Protocol):
    """What the vote needs of a classifier (tests pass a fake)."""

    def goals(self, text: str, candidates: Sequence[ValueCandidate]) -> dict[tuple[int, int], float]: ...


@dataclass
class GoalClassifier:
    weights: dict[str, float]
    intercept: float
    threshold: float = VOTE_THRESHOLD
    trained_on: dict[str, Any] = field(default_factory=dict)

    def probability(self, text: str, candidate: ValueCandidate, context: FeatureContext | None = None) -> float:
        features = candidate_features(text, candidate, context)
        z = self.intercept + sum(self.weights.get(name, 0.0) * v for name, v in features.items())
        return 1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0

    def goals(self, text: str, candidates: Sequence[ValueCandidate] | None = None) -> dict[tuple[int, int], float]:
        """(start, end) -> probability, for the value expressions (`value_candidates`, unless
        given) it reads as goals."""
        out = {}
        context = FeatureContext(text)
        for candidate in value_candidates(text) if candidates is None else candidates:
            p = self.probability(text, candidate, context)
            if p >= self.threshold:
                out[(candidate.start, candidate.end)] = p
        return out

    def save(self, directory: Path) -> Path:
        """Write atomically into a model folder (a reload never reads half a file)."""
        fields = {"threshold": self.threshold, "intercept": round(self.intercept, 6), "trained_on": self.trained_on}
        kind = "logistic regression over value-expression cue features (chitieu.extract.goal_classifier)"
        return write_weights_file(Path(directory) / GOAL_CLASSIFIER_FILE, FORMAT_VERSION, kind, fields, self.weights)

    @classmethod
    def load(cls, directory: Path) -> "GoalClassifier | None":
        """The folder's classifier, or None when it has none (older or test-built models)."""
        data = read_weights_file(Path(directory) / GOAL_CLASSIFIER_FILE, FORMAT_VERSION)
        if data is None:
            return None
        return cls(data["weights"], data["intercept"], data["threshold"], data.get("trained_on", {}))


def fit_goal_classifier(
    documents: Sequence[Any], *, c: float = 1.0, threshold: float = VOTE_THRESHOLD, seed: int = 13
) -> GoalClassifier:
    """Fit on gold documents: a value expression is a goal when it overlaps a gold TARGET_VALUE
    (an edge mismatch is the tagger's business, not the goal decision's)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows, labels = [], []
    for doc in documents:
        gold = [(s.start, s.end) for s in doc.spans if s.label == TARGET_VALUE]
        context = FeatureContext(doc.text)
        for candidate in value_candidates(doc.text):
            rows.append(candidate_features(doc.text, candidate, context))
            labels.append(int(any(a < candidate.end and candidate.start < b for a, b in gold)))
    if len(set(labels)) < 2:
        raise ValueError(
            f"the training documents give {len(labels)} value expressions, {sum(labels)} of them goals: "
            "the goal classifier needs both goals and non-goals; annotate more documents or train with --no-goal-classifier"
        )
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform(rows)
    model = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed).fit(matrix, labels)
    weights = dict(zip(vectorizer.get_feature_names_out().tolist(), model.coef_[0].tolist()))
    trained_on = {"documents": len(documents), "candidates": len(labels), "goals": sum(labels), "c": c}
    return GoalClassifier(weights, float(model.intercept_[0]), threshold, trained_on)


def uncovered_values(
    text: str,
    entities: Sequence[Entity],
    candidates: Sequence[ValueCandidate],
    sentence_spans: list[tuple[int, int]] | None = None,
) -> list[ValueCandidate]:
    """The tagger's TARGET_VALUEs that overlap no value expression, as candidates in their
    sentence (a value across a sentence break is left out: no sentence to read it in)."""
    covered = Occupied((c.start, c.end) for c in candidates)
    index = SpanIndex(sentences(text) if sentence_spans is None else sentence_spans)
    out = []
    for e in entities:
        if e.label != TARGET_VALUE or covered.overlaps(e.start, e.end):
            continue
        s_start, s_end = index.containing(e.start)
        if e.end <= s_end and s_start < s_end:
            out.append(ValueCandidate(e.start, e.end, s_start, s_end))
    return out


def vote_values(
    text: str,
    entities: list[Entity],
    classifier: GoalReader,
    cues: DocumentCues | None = None,
    sentence_spans: list[tuple[int, int]] | None = None,
) -> list[Entity]:
    """TARGET_VALUEs that two of tagger, rule goal check and classifier put on the same span.

    A tagger value stays (with its score) when either other reader agrees; a value the
    rules and the classifier agree on is added (scored with the classifier's probability)
    when it overlaps no other entity. Other labels pass through unchanged. `cues` shares
    the sentences' readings with the stage that called it.
    """
    candidates = value_candidates(text, sentence_spans)
    uncovered = uncovered_values(text, entities, candidates, sentence_spans)
    rules = set(goal_values(text, [*candidates, *uncovered], cues))
    learned = classifier.goals(text, [*candidates, *uncovered])
    needs_both = {(c.start, c.end) for c in uncovered}

    def agreed(e: Entity) -> bool:
        key = (e.start, e.end)
        if key in needs_both:
            return key in rules and key in learned
        return key in rules or key in learned

    kept = [e for e in entities if e.label != TARGET_VALUE or agreed(e)]
    taken = Occupied((e.start, e.end) for e in kept)
    for (start, end), p in learned.items():
        if (start, end) in rules and not taken.overlaps(start, end):
            kept.append(Entity.of(text, start, end, TARGET_VALUE, round(p, 4)))
            taken.add(start, end)
    return sorted(kept, key=lambda e: (e.start, e.end))
