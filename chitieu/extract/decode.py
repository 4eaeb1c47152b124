"""Stage 3, decode: the tagger's window probabilities -> entities.

Reads `Prepared.words` and `Prepared.windows` (stage 1) and the probability rows of each
window (stage 2); writes `list[core.Entity]` in offsets of the NFC text (`Prepared.text`):
each word's row from the window where it is best placed, the most probable valid BIO path
(constrained Viterbi), edge punctuation trimmed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

from chitieu.core import Entity
from chitieu.extract.prepare import Prepared
from chitieu.labels import ID2TAG, TAG2ID
from chitieu.text import EDGE_PUNCTUATION
from chitieu.windows import placement


def word_probabilities(prepared: Prepared, probs: Sequence[np.ndarray]) -> np.ndarray:
    """One probability row per word, read from the window where the word is best placed."""
    n_words = len(prepared.words)
    if not prepared.windows:
        return np.zeros((0, len(ID2TAG)), dtype=np.float32)
    out = np.zeros((n_words, probs[0].shape[-1]), dtype=np.float32)
    best = np.full(n_words, -1, dtype=np.int64)
    for window, p in zip(prepared.windows, probs):
        for pos, (word, first) in enumerate(zip(window.word_ids, window.first_subword)):
            if not first:
                continue
            score = placement(window, word)
            if score > best[word]:
                best[word] = score
                out[word] = p[pos]
    return out


def _allowed_transitions() -> np.ndarray:
    """allowed[i, j]: tag j may follow tag i under BIO (I-X only after B-X or I-X)."""
    n = len(ID2TAG)
    allowed = np.ones((n, n), dtype=bool)
    for j in range(n):
        kind, _, label = ID2TAG[j].partition("-")
        if kind == "I":
            for i in range(n):
                allowed[i, j] = ID2TAG[i] in (f"B-{label}", f"I-{label}")
    return allowed


_ALLOWED = _allowed_transitions()
_CAN_START = np.array([not ID2TAG[j].startswith("I-") for j in range(len(ID2TAG))])


def viterbi_tags(word_probs: np.ndarray) -> list[str]:
    """The most probable tag sequence that is valid BIO (no I-X after O or after another label).

    Argmax per word fragments multi-word spans when one inner word is unsure; the
    constrained path keeps them whole, which is what strict span F1 rewards.
    """
    if len(word_probs) == 0:
        return []
    logp = np.log(np.clip(word_probs, 1e-9, 1.0))
    penalty = np.where(_ALLOWED, 0.0, -1e9)
    score = np.where(_CAN_START, logp[0], -1e9)
    back = np.zeros((len(logp), logp.shape[1]), dtype=np.int64)
    for t in range(1, len(logp)):
        candidates = score[:, None] + penalty
        back[t] = candidates.argmax(axis=0)
        score = candidates.max(axis=0) + logp[t]
    path = [int(score.argmax())]
    for t in range(len(logp) - 1, 0, -1):
        path.append(int(back[t, path[-1]]))
    return [ID2TAG[i] for i in reversed(path)]


def decode(prepared: Prepared, probs: Sequence[np.ndarray]) -> list[Entity]:
    """Entities in offsets of the NFC text (`prepared.text`).

    Refining and linking work on NFC text too (their vocabularies are NFC); `map_back`
    moves the finished result into the caller's offsets.
    """
    word_probs = word_probabilities(prepared, probs)
    tags = viterbi_tags(word_probs)
    entities = []
    for label, first, last in get_entities(tags):
        while first <= last and prepared.words[first].text in EDGE_PUNCTUATION:
            first += 1
        while last >= first and prepared.words[last].text in EDGE_PUNCTUATION:
            last -= 1
        if first > last:
            continue
        start, end = prepared.words[first].start, prepared.words[last].end
        score = float(np.mean([word_probs[i, TAG2ID[tags[i]]] for i in range(first, last + 1)]))
        entities.append(Entity.of(prepared.text, start, end, label, round(score, 4)))
    return entities
