"""Is this named person an official? A check on the tagger's OFFICIALs, person by person.

The guidelines label a name OFFICIAL only when its holder has a government, Party,
National Assembly, council or state-agency office (foreign governments included), and not
company executives, bankers, association heads, experts or citizens. The tagger finds
nearly every official (dev recall 0.99) but reads almost any person introduced with `ông`
or `bà` as one (dev precision 0.82: `ông Lê Hoàng Châu, Chủ tịch Hiệp hội Bất động sản`,
`ông Nguyễn Xuân Hưng, Phó tổng giám đốc Công ty ...`). A wrong official also costs the
tuples of the goals it is linked to, since the linker takes the nearest speaker.

`OfficialCheck` is a logistic regression over the words around a mention (the title
before it, the apposition after it, the role `chitieu.roles.find_role` reads) and over the
same evidence gathered from every mention of the same person (`Châu` shares the role
written at `Lê Hoàng Châu`'s first mention). Fitted on gold documents: the gold OFFICIALs
are the positives, and the negatives are the other runs of capitalised words written the
way a person is, after an honorific or a title or before an apposition (`ông Lê Hoàng
Châu, ...`), since those are what the tagger takes for officials. Taking every other run
as well (sentence-initial words, places and organisations written without a person's
context) taught it that a lone capitalised word is no official, `Bộ trưởng Nghĩa` included:
in five-fold cross-validation on train+dev mentions its recall of gold officials was 0.921
against 0.949, and dev OFFICIAL F1 (the default's tagger, the check fitted on train) 0.907
against 0.912; stripping a sentence-opening `Ông` from the runs then gave 0.915 at the
threshold 0.3 and 0.922 at 0.2, the threshold kept (cross-validated F1 0.898 and 0.897, flat).
Like the goal classifier it is a JSON file of feature weights in the model folder: no
pickle, no scikit-learn at inference.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chitieu.core import Entity
from chitieu.labels import OFFICIAL
from chitieu.lexicon.unicode import name_key
from chitieu.model_folder import read_weights_file, write_weights_file
from chitieu.roles import HEADS, find_role
from chitieu.text import Token, split_words

OFFICIAL_CHECK_FILE = "official_check.json"
FORMAT_VERSION = 1
#: A run of capitalised words longer than this is a headline in title case, not a name.
MAX_RUN_CHARS = 60
#: Words that introduce a person (lower case); `chitieu.roles` skips the first four before a title.
HONORIFICS = frozenset({"ông", "bà", "đồng chí", "đ/c", "anh", "chị", "cô", "chú", "ngài", "đại tá", "thượng tọa"})
_HEADS = tuple(h.lower() for h in HEADS)
# Mention features a person shares with all its mentions: the title and apposition words.
_SHARED_PREFIXES = ("R", "role", "norole", "B1:", "B2:", "A1:", "A2:")


def name_runs(text: str) -> list[tuple[int, int]]:
    """Runs of capitalised words joined by one space or a hyphen (`Lê Hoàng Châu`,
    `Moon Jae-in`, `Hà Nội`), less an opening honorific (`Ông`): the candidates a checker
    is fitted on besides the gold."""
    out: list[tuple[int, int]] = []
    run: tuple[int, int] | None = None
    for word in split_words(text):
        if word.text == "-" and run is not None and run[1] == word.start:
            continue  # the next word decides whether the hyphen joins it
        capital = word.text[0].isalpha() and word.text[0].isupper()
        gap = text[run[1] : word.start] if run is not None else None
        # `Jae-in`: a hyphen joins a lower-case syllable to the name.
        if run is not None and ((capital and gap in (" ", "-")) or (gap == "-" and word.text[0].isalpha())):
            run = (run[0], word.end)
            continue
        if run is not None:
            out.append(run)
        run = (word.start, word.end) if capital else None
    if run is not None:
        out.append(run)
    return [(a, b) for a, b in map(_without_honorific(text), out) if b - a <= MAX_RUN_CHARS]


def _without_honorific(text: str) -> Callable[[tuple[int, int]], tuple[int, int]]:
    """A capitalised honorific opening a sentence (`Ông Lê Hoàng Châu, ...`) is not the name."""

    def strip(run: tuple[int, int]) -> tuple[int, int]:
        first, space, _ = text[run[0] : run[1]].partition(" ")
        return (run[0] + len(first) + 1, run[1]) if space and first.lower() in HONORIFICS else run

    return strip


def written_as_a_person(text: str, span: tuple[int, int]) -> bool:
    """An honorific or a title just before the span (`ông X`, `Bộ trưởng X`), or an
    apposition or bracket just after it (`X, Chủ tịch ...`, `X (Lai Châu)`)."""
    start, end = span
    before = text[max(0, start - 40) : start].lower().split()
    tails = [" ".join(before[-n:]) for n in (1, 2, 3) if len(before) >= n]
    if any(tail in HONORIFICS for tail in tails[:2]):
        return True
    if any(tail.endswith(head) for tail in tails for head in _HEADS):
        return True
    return text[end : end + 2] in (", ", " (", " -")


def _mention_features(text: str, words: Sequence[Token], starts: Sequence[int], span: tuple[int, int]) -> dict[str, float]:
    start, end = span
    first = bisect_left(starts, start)  # the mention's first word
    after = bisect_left(starts, end)  # the first word after it

    def low(k: int) -> str:
        return words[k].text.lower() if 0 <= k < len(words) else "<>"

    features: dict[str, float] = {f"B:{low(first - d)}": 1.0 for d in range(1, 5)}
    features.update({f"A:{low(after + d)}": 1.0 for d in range(8)})
    features[f"B1:{low(first - 1)}"] = 1.0
    features[f"B2:{low(first - 2)}_{low(first - 1)}"] = 1.0
    features[f"B3:{low(first - 3)}_{low(first - 2)}_{low(first - 1)}"] = 1.0
    features[f"A1:{low(after)}"] = 1.0
    features[f"A2:{low(after)}_{low(after + 1)}"] = 1.0
    role = find_role(text, start, end)
    if role:
        role_words = role.lower().split()
        features["role"] = 1.0
        features["RH:" + " ".join(role_words[:2])] = 1.0
        features.update({"R:" + w: 1.0 for w in role_words})
        features.update({f"RB:{a}_{b}": 1.0 for a, b in zip(role_words, role_words[1:])})
    else:
        features["norole"] = 1.0
    name = text[start:end].split() or [""]
    features[f"n={min(len(name), 5)}"] = 1.0
    features["F:" + name[0].lower()] = 1.0
    if "-" in text[start:end]:
        features["hyphen"] = 1.0
    return features


def person_features(text: str, spans: Sequence[tuple[int, int]]) -> list[dict[str, float]]:
    """Features of each mention: its own, and the title and apposition evidence of every
    mention of the same person (the same name, or one that ends with the other word for
    word: `Châu` and `Lê Hoàng Châu`), prefixed `P`."""
    words = split_words(text)
    starts = [w.start for w in words]
    own = [_mention_features(text, words, starts, span) for span in spans]
    keys = [name_key(text[a:b]) for a, b in spans]
    by_key: dict[str, list[int]] = {}
    for k, key in enumerate(keys):
        by_key.setdefault(key, []).append(k)
    # Each name is compared with its word suffixes only, so many mentions cost little.
    longer: dict[str, set[str]] = {}  # name -> the names that end with it
    for key in by_key:
        parts = key.split()
        for n in range(1, len(parts)):
            suffix = " ".join(parts[n:])
            if suffix in by_key:
                longer.setdefault(suffix, set()).add(key)
    shared: dict[str, dict[str, float]] = {}
    for key in by_key:
        parts = key.split()
        mates = {key, *longer.get(key, ()), *(s for n in range(1, len(parts)) if (s := " ".join(parts[n:])) in by_key)}
        union: dict[str, float] = {}
        mentions = 0
        for mate in mates:
            for k in by_key[mate]:
                mentions += 1
                union.update({"P" + name: 1.0 for name in own[k] if name.startswith(_SHARED_PREFIXES)})
        union[f"mentions={min(mentions, 5)}"] = 1.0
        shared[key] = union
    return [{**features, **shared[key]} for features, key in zip(own, keys)]


@dataclass
class OfficialCheck:
    weights: dict[str, float]
    intercept: float
    #: Cross-validated F1 is flat from 0.2 to 0.3; dev OFFICIAL F1 is higher at 0.2 (module docstring).
    threshold: float = 0.2
    trained_on: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, text: str, spans: Sequence[tuple[int, int]]) -> list[float]:
        """The probability that each span (all the document's mentions, at once) names an official."""
        out = []
        for features in person_features(text, spans):
            z = self.intercept + sum(self.weights.get(name, 0.0) * v for name, v in features.items())
            out.append(1.0 / (1.0 + math.exp(-z)) if z > -700 else 0.0)
        return out

    def keep(self, text: str, entities: list[Entity]) -> list[Entity]:
        """The entities less the OFFICIALs whose probability is under the threshold."""
        officials = [e for e in entities if e.label == OFFICIAL]
        if not officials:
            return entities
        p = self.probabilities(text, [(e.start, e.end) for e in officials])
        dropped = {(e.start, e.end) for e, q in zip(officials, p) if q < self.threshold}
        return [e for e in entities if e.label != OFFICIAL or (e.start, e.end) not in dropped]

    def save(self, directory: Path) -> Path:
        """Write atomically into a model folder (a reload never reads half a file)."""
        fields = {"threshold": self.threshold, "intercept": round(self.intercept, 6), "trained_on": self.trained_on}
        kind = "logistic regression over the title words around a person's mentions (chitieu.extract.officials)"
        return write_weights_file(Path(directory) / OFFICIAL_CHECK_FILE, FORMAT_VERSION, kind, fields, self.weights)

    @classmethod
    def load(cls, directory: Path) -> "OfficialCheck | None":
        """The folder's check, or None when it has none (older or test-built models)."""
        data = read_weights_file(Path(directory) / OFFICIAL_CHECK_FILE, FORMAT_VERSION)
        if data is None:
            return None
        return cls(data["weights"], data["intercept"], data["threshold"], data.get("trained_on", {}))


def training_rows(doc: Any) -> tuple[list[dict[str, float]], list[int]]:
    """One document's mentions and labels: its gold OFFICIALs (1) and every name run
    written as a person that overlaps none of them (0)."""
    gold = [(s.start, s.end) for s in doc.spans if s.label == OFFICIAL]
    others = [r for r in name_runs(doc.text) if written_as_a_person(doc.text, r) and not any(a < r[1] and r[0] < b for a, b in gold)]
    return person_features(doc.text, gold + others), [1] * len(gold) + [0] * len(others)


def fit_official_check(documents: Sequence[Any], *, c: float = 1.0, threshold: float = 0.2, seed: int = 13) -> OfficialCheck:
    """Fit on gold documents (see the module docstring for what the examples are)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    rows: list[dict[str, float]] = []
    labels: list[int] = []
    for doc in documents:
        doc_rows, doc_labels = training_rows(doc)
        rows += doc_rows
        labels += doc_labels
    if len(set(labels)) < 2:
        raise ValueError(
            f"the training documents give {len(labels)} name mentions, {sum(labels)} of them gold OFFICIALs: "
            "the official check needs both officials and other names; annotate more documents or train with --no-official-check"
        )
    vectorizer = DictVectorizer()
    model = LogisticRegression(C=c, max_iter=3000, random_state=seed).fit(vectorizer.fit_transform(rows), labels)
    weights = dict(zip(vectorizer.get_feature_names_out().tolist(), model.coef_[0].tolist()))
    trained_on = {"documents": len(documents), "mentions": len(labels), "officials": sum(labels), "c": c}
    return OfficialCheck(weights, float(model.intercept_[0]), threshold, trained_on)
