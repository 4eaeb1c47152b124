"""Indicators tied to their values: the indicator of a goal value is chosen among the word
spans of its clause by a learned scorer, not only tagged on its own.

The guidelines label an INDICATOR because a target is set for it, yet the tagger decides
each word's tag with no notion of which value a phrase measures: it misses the noun phrase
before a found value (list items: `..., tỷ lệ hộ nghèo giảm còn 3%`) and stops inside
phrases. `IndicatorChooser` looks at one value at a time: every span of up to 20 words that
ends at most 7 words before it (or of up to 30 words right after it) inside its sentence,
not crossing another value or entity, is a candidate, and so is "no indicator"; a
conditional logit (a softmax over the value's candidates) over the words at the
candidate's edges, the words between it and the value, its length and its side scores
them, and the best one is the value's indicator when it beats "no indicator" by the
threshold's margin.

`fill_indicators` adds the chosen indicator to each TARGET_VALUE that has no indicator of
its own in its sentence (`chitieu.extract.link.pick_indicator` finds none). Fitted on gold
documents (`fit_indicator_chooser`), it is a JSON file of feature weights in the model
folder, like the goal classifier: no pickle and no scikit-learn at inference.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chitieu.core import Entity
from chitieu.extract.link import pick_indicator
from chitieu.labels import INDICATOR, TARGET_VALUE
from chitieu.lexicon.framing import TAIL_WORDS, without_framing_tail
from chitieu.model_folder import read_weights_file, write_weights_file
from chitieu.text import EDGE_PUNCTUATION, SpanIndex, Token, sentences, split_words

INDICATOR_CHOOSER_FILE = "indicator_chooser.json"
FORMAT_VERSION = 1
MAX_WORDS = 20
MAX_GAP_BEFORE = 7
MAX_GAP_AFTER = 1
MAX_WORDS_AFTER = 30
# A candidate never starts or ends on these, and never crosses the first three.
_HARD_STOPS = {";", ":", "\n"}
_TAIL_LAST = frozenset(w.split()[-1] for w in TAIL_WORDS)


@dataclass(frozen=True)
class IndicatorCandidate:
    start: int  # character offsets
    end: int
    side: str  # "before" or "after" the value
    first: int  # word indices [first, last] in the sentence's words
    last: int
    gap: int  # words between the candidate and the value


def _bucket(n: int, top: int) -> str:
    return str(n) if n < top else f"{top}+"


def indicator_candidates(
    words: Sequence[Token], value: tuple[int, int], blocked: Sequence[tuple[int, int]]
) -> list[IndicatorCandidate]:
    """Candidate spans for the value, over `words` (the value's sentence); `blocked` are the
    other entities of the sentence (values, provinces, officials) that no candidate may
    overlap or reach across."""
    starts = [w.start for w in words]
    v_first = bisect_left(starts, value[0])  # first word of the value
    v_last = v_first
    while v_last + 1 < len(words) and words[v_last + 1].start < value[1]:
        v_last += 1

    def free(k: int) -> bool:
        w = words[k]
        return w.text not in _HARD_STOPS and not any(a < w.end and w.start < b for a, b in blocked)

    out: list[IndicatorCandidate] = []
    # Before the value: walk left over free words; a stop or an entity ends the region.
    left = v_first
    while left > 0 and free(left - 1) and v_first - (left - 1) <= MAX_WORDS + MAX_GAP_BEFORE:
        left -= 1
    for last in range(v_first - 1, max(left, v_first - 1 - MAX_GAP_BEFORE) - 1, -1):
        if words[last].text in EDGE_PUNCTUATION:
            continue
        for first in range(last, max(left, last - MAX_WORDS + 1) - 1, -1):
            if words[first].text in EDGE_PUNCTUATION or _ends_with_framing(words, first, last):
                continue
            out.append(IndicatorCandidate(words[first].start, words[last].end, "before", first, last, v_first - 1 - last))
    # After the value: right next to it (at most one word between).
    right = v_last
    while right + 1 < len(words) and free(right + 1) and (right + 1) - v_last <= MAX_WORDS_AFTER + MAX_GAP_AFTER:
        right += 1
    for first in range(v_last + 1, min(right, v_last + 1 + MAX_GAP_AFTER) + 1):
        if words[first].text in EDGE_PUNCTUATION:
            continue
        for last in range(first, min(right, first + MAX_WORDS_AFTER - 1) + 1):
            if words[last].text in EDGE_PUNCTUATION or _ends_with_framing(words, first, last):
                continue
            out.append(IndicatorCandidate(words[first].start, words[last].end, "after", first, last, first - v_last - 1))
    return out


def _ends_with_framing(words: Sequence[Token], first: int, last: int) -> bool:
    """The span ends with a framing or function word the guidelines leave out
    (`chitieu.lexicon.framing.TAIL_WORDS`): no gold indicator does, so it is no candidate."""
    if words[last].text.lower() not in _TAIL_LAST:
        return False
    phrase = " ".join(w.text for w in words[first : last + 1])
    return without_framing_tail(phrase) != phrase


def candidate_features(words: Sequence[Token], candidate: IndicatorCandidate, value: tuple[int, int]) -> dict[str, float]:
    low = [w.text.lower() for w in words]
    f, l = candidate.first, candidate.last
    n = l - f + 1
    side = candidate.side[0]
    feats: dict[str, float] = {
        f"side={side}": 1.0,
        f"{side}:gap={_bucket(candidate.gap, 4)}": 1.0,
        f"{side}:len={_bucket(n, 10)}": 1.0,
        "F:" + low[f]: 1.0,
        "L:" + low[l]: 1.0,
        "P:" + (low[f - 1] if f > 0 else "<s>"): 1.0,
        "N:" + (low[l + 1] if l + 1 < len(low) else "</s>"): 1.0,
        "commas=" + _bucket(sum(1 for k in range(f, l + 1) if low[k] == ","), 3): 1.0,
    }
    if n > 1:
        feats[f"F2:{low[f]}_{low[f + 1]}"] = 1.0
        feats[f"L2:{low[l - 1]}_{low[l]}"] = 1.0
    if f > 1:
        feats[f"P2:{low[f - 2]}_{low[f - 1]}"] = 1.0
    gap = range(l + 1, l + 1 + candidate.gap) if side == "b" else range(f - candidate.gap, f)
    for k in gap:
        feats[f"{side}:G:" + low[k]] = 1.0
    if any(ch.isdigit() for w in words[f : l + 1] for ch in w.text):
        feats["digit"] = 1.0
    if words[f].text[:1].isupper():
        feats["F:upper"] = 1.0
    return feats


NONE = "NONE"  # the feature of the "no indicator" option, one per value


@dataclass
class IndicatorChooser:
    weights: dict[str, float]
    #: The best candidate's share of the softmax (with "no indicator") it needs to be chosen.
    threshold: float = 0.3
    trained_on: dict[str, Any] = field(default_factory=dict)

    def score(self, features: dict[str, float]) -> float:
        return sum(self.weights.get(name, 0.0) * v for name, v in features.items())

    def choose(
        self, words: Sequence[Token], value: tuple[int, int], blocked: Sequence[tuple[int, int]]
    ) -> tuple[int, int, float] | None:
        """The best candidate's (start, end, probability), or None when "no indicator" wins
        or the best candidate's probability is under the threshold."""
        candidates = indicator_candidates(words, value, blocked)
        if not candidates:
            return None
        scores = [self.score(candidate_features(words, c, value)) for c in candidates]
        none = self.weights.get(NONE, 0.0)
        top = max(max(scores), none)
        total = math.exp(none - top) + sum(math.exp(x - top) for x in scores)
        k = max(range(len(scores)), key=scores.__getitem__)
        p = math.exp(scores[k] - top) / total
        if scores[k] <= none or p < self.threshold:
            return None
        return candidates[k].start, candidates[k].end, p

    def save(self, directory: Path) -> Path:
        """Write atomically into a model folder (a reload never reads half a file)."""
        fields = {"threshold": self.threshold, "trained_on": self.trained_on}
        kind = "conditional logit over the indicator candidate spans of a value (chitieu.extract.indicators)"
        return write_weights_file(Path(directory) / INDICATOR_CHOOSER_FILE, FORMAT_VERSION, kind, fields, self.weights)

    @classmethod
    def load(cls, directory: Path) -> "IndicatorChooser | None":
        """The folder's chooser, or None when it has none (older or test-built models)."""
        data = read_weights_file(Path(directory) / INDICATOR_CHOOSER_FILE, FORMAT_VERSION)
        if data is None:
            return None
        return cls(data["weights"], data["threshold"], data.get("trained_on", {}))


class _Sentences:
    """Per-document sentence words, computed once."""

    def __init__(self, text: str, bounds: list[tuple[int, int]] | None = None) -> None:
        self.text = text
        self.bounds = sentences(text) if bounds is None else bounds
        self.index = SpanIndex(self.bounds)
        self._words: dict[int, list[Token]] = {}

    def of(self, pos: int) -> tuple[int, tuple[int, int], list[Token]]:
        k = self.index.index(pos)
        if k not in self._words:
            a, b = self.bounds[k]
            self._words[k] = [Token(t.start + a, t.end + a, t.text) for t in split_words(self.text[a:b])]
        return k, self.bounds[k], self._words[k]


def _value_examples(
    text: str, entities: Sequence[Entity], sentence_spans: list[tuple[int, int]] | None = None
) -> list[tuple[Entity, list[Entity], list[Entity], _Sentences]]:
    """(value, indicators of its sentence, other entities of its sentence) per TARGET_VALUE."""
    cache = _Sentences(text, sentence_spans)
    by_sentence: dict[int, list[Entity]] = {}
    for e in entities:
        by_sentence.setdefault(cache.index.index(e.start), []).append(e)
    out = []
    for members in by_sentence.values():
        for e in members:
            if e.label == TARGET_VALUE:
                out.append((e, [i for i in members if i.label == INDICATOR], [o for o in members if o is not e], cache))
    return out


def _gold_indicator(
    value: Entity, indicators: list[Entity], sentence_entities: list[Entity], across_values: bool = True
) -> Entity | None:
    values = [e for e in sentence_entities if e.label == TARGET_VALUE] + [value]
    return pick_indicator(value, indicators, values, across_values)


def training_groups(text: str, entities: Sequence[Entity]) -> list[tuple[list[dict[str, float]], int]]:
    """Per gold value: the features of its candidates (the "no indicator" option last) and
    the index of the gold one (the last when the value has no indicator among them)."""
    groups = []
    for value, indicators, others, cache in _value_examples(text, entities):
        _, _, words = cache.of(value.start)
        gold = _gold_indicator(value, indicators, others)
        blocked = [(o.start, o.end) for o in others if o.label != INDICATOR]
        candidates = indicator_candidates(words, (value.start, value.end), blocked)
        rows = [candidate_features(words, c, (value.start, value.end)) for c in candidates]
        hit = next(
            (k for k, c in enumerate(candidates) if gold is not None and (c.start, c.end) == (gold.start, gold.end)),
            len(rows),
        )
        groups.append(([*rows, {NONE: 1.0}], hit))
    return groups


def spans_as_entities(doc: Any) -> list[Entity]:
    """The document's gold spans as entities (score 1.0)."""
    return [Entity.of(doc.text, s.start, s.end, s.label, 1.0) for s in doc.spans]


def fit_indicator_chooser(documents: Sequence[Any], *, l2: float = 1.0, threshold: float = 0.3) -> IndicatorChooser:
    """Fit the conditional logit on gold documents by L-BFGS: the gold option of each value
    (its linked gold indicator, or "no indicator") against the value's other options."""
    import numpy as np
    from scipy.optimize import minimize
    from sklearn.feature_extraction import DictVectorizer

    groups = [g for doc in documents for g in training_groups(doc.text, spans_as_entities(doc))]
    if not any(hit < len(rows) - 1 for rows, hit in groups):
        raise ValueError(
            f"the training documents give {len(groups)} gold values and none with an indicator among its candidates: "
            "the indicator chooser needs gold values with indicators: annotate more, or leave it out (`chitieu train --no-indicator-chooser`, `chitieu models fit-goals --no-indicators`)"
        )
    vectorizer = DictVectorizer()
    matrix = vectorizer.fit_transform([row for rows, _ in groups for row in rows]).tocsr()
    sizes = np.array([len(rows) for rows, _ in groups])
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    gold = offsets + np.array([hit for _, hit in groups])
    owner = np.repeat(np.arange(len(groups)), sizes)

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        scores = matrix @ w
        top = np.maximum.reduceat(scores, offsets)
        exp = np.exp(scores - top[owner])
        total = np.add.reduceat(exp, offsets)
        value = float(-(scores[gold] - top - np.log(total)).sum() + 0.5 * l2 * w @ w)
        p = exp / total[owner]
        p[gold] -= 1.0
        return value, matrix.T @ p + l2 * w

    result = minimize(loss, np.zeros(matrix.shape[1]), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    weights = dict(zip(vectorizer.get_feature_names_out().tolist(), result.x.tolist()))
    with_indicator = sum(hit < len(rows) - 1 for rows, hit in groups)
    trained_on = {"documents": len(documents), "values": len(groups), "values_with_indicator": with_indicator, "l2": l2}
    return IndicatorChooser(weights, threshold, trained_on)


def fill_indicators(
    text: str, entities: list[Entity], chooser: IndicatorChooser, sentence_spans: list[tuple[int, int]] | None = None
) -> list[Entity]:
    """Entities plus a chosen INDICATOR for every TARGET_VALUE whose sentence gives it none
    of its own (none between it and its neighbouring values)."""
    added: list[Entity] = []
    for value, indicators, others, cache in _value_examples(text, entities, sentence_spans):
        # An indicator before an earlier value of the sentence is linking's last resort
        # (`diện tích hồ tiêu ... 50.000 ha, sản lượng đạt 140.000 tấn/năm` would give the
        # second value `diện tích hồ tiêu`): such a value is offered the chooser's phrase
        # between the two values first.
        if _gold_indicator(value, indicators, others, across_values=False) is not None:
            continue
        _, _, words = cache.of(value.start)
        blocked = [(o.start, o.end) for o in [*others, *added]]
        chosen = chooser.choose(words, (value.start, value.end), blocked)
        if chosen is not None:
            start, end, p = chosen
            added.append(Entity.of(text, start, end, INDICATOR, round(p, 4)))
    return sorted([*entities, *added], key=lambda e: (e.start, e.end))


def grow_indicators(
    text: str, entities: list[Entity], chooser: IndicatorChooser, sentence_spans: list[tuple[int, int]] | None = None
) -> list[Entity]:
    """The tagger's indicators grown to the chooser's phrase where that phrase contains them.

    The tagger decides each word on its own and stops inside phrases (`tốc độ` for `tốc độ
    tăng GRDP`, `thu ngân sách` for `thu ngân sách nội địa`); the chooser was fitted on whole
    gold phrases. For each TARGET_VALUE whose sentence gives it an indicator, the chooser
    reads the value's candidates (that indicator not blocking them); when its best one
    contains the indicator and is longer, the indicator takes its edges (scored with the
    chooser's probability). Only growth: letting the chooser also cut or move the tagger's
    indicators cost INDICATOR F1 in cross-validation (0.297 against 0.307), growth alone
    gained (0.346 against 0.322)."""
    grown: dict[tuple[int, int], Entity] = {}
    for value, indicators, others, cache in _value_examples(text, entities, sentence_spans):
        own = _gold_indicator(value, indicators, others)
        if own is None or (own.start, own.end) in grown:
            continue
        _, _, words = cache.of(value.start)
        blocked = [(o.start, o.end) for o in others if o is not own]
        chosen = chooser.choose(words, (value.start, value.end), blocked)
        if chosen is None:
            continue
        start, end, p = chosen
        contains = start <= own.start and own.end <= end and (start, end) != (own.start, own.end)
        # Two values' indicators may not grow into each other.
        if contains and not any(start < g.end and g.start < end for g in grown.values()):
            grown[(own.start, own.end)] = Entity.of(text, start, end, INDICATOR, round(p, 4))
    if not grown:
        return entities
    out = [grown.get((e.start, e.end), e) if e.label == INDICATOR else e for e in entities]
    return sorted(out, key=lambda e: (e.start, e.end))

