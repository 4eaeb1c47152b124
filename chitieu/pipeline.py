"""Inference in named stages: prepare -> run -> decode -> refine -> link (+ normalise).

Each stage is a plain function over plain data, so each can be tested with a fake of the
stage before it, and the service can run the model stage on windows pooled from many
requests at once (micro-batching) while prepare and decode stay per document.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import numpy as np
from seqeval.metrics.sequence_labeling import get_entities

from chitieu.core import Entity, Indicator, Official, Province, Span, Target, Value
from chitieu.encoders.base import WordPieceAdapter
from chitieu.labels import ID2TAG, TAG2ID
from chitieu.nfc import nfc_with_map
from chitieu.text import Token, sentences
from chitieu.windows import Window, make_windows, placement

#: A located part of a target (what map_back moves into the caller's offsets).
T = TypeVar("T", Indicator, Value, Official, Province, Span)

# Punctuation that may sit inside a span but never at its edge.
_EDGE_TRIM = set(".,;:!?\"'“”‘’()[]{}-–—…/")


@dataclass
class Prepared:
    doc_id: str | None
    original: str
    text: str
    to_original: list[int] | None
    #: The tokenizer's words of `text`, and its sentences (`chitieu.text.sentences`), read
    #: once here and handed to refine, the goal vote, the indicator chooser and linking.
    words: list[Token]
    windows: list[Window]
    sentences: list[tuple[int, int]]


class WindowRunner(Protocol):
    """The model stage: class probabilities for every position of every window."""

    def __call__(self, windows: Sequence[Window], /) -> list[np.ndarray]: ...


def prepare(
    text: str,
    adapter: WordPieceAdapter,
    *,
    max_tokens: int,
    overlap_tokens: int,
    doc_id: str | None = None,
) -> Prepared:
    nfc_text, to_original = nfc_with_map(text)
    words = adapter.words(nfc_text)
    pieces = adapter.encode_words(nfc_text, words)
    windows = make_windows(
        pieces,
        cls_id=adapter.cls_id,
        sep_id=adapter.sep_id,
        max_tokens=min(max_tokens, adapter.max_tokens),
        overlap_tokens=overlap_tokens,
    )
    return Prepared(doc_id, text, nfc_text, to_original, words, windows, sentences(nfc_text))


def batches(
    windows: Sequence[Window], batch_size: int, pad_id: int, multiple: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Padded input ids and attention masks, longest-first so padding stays small; widths
    rounded up to `multiple` (a model runner keeps the number of shapes it meets small)."""
    for k in range(0, len(windows), batch_size):
        chunk = windows[k : k + batch_size]
        width = -(-max(len(w.input_ids) for w in chunk) // multiple) * multiple
        ids = np.full((len(chunk), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, w in enumerate(chunk):
            ids[row, : len(w.input_ids)] = w.input_ids
            mask[row, : len(w.input_ids)] = 1
        yield ids, mask


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
        while first <= last and prepared.words[first].text in _EDGE_TRIM:
            first += 1
        while last >= first and prepared.words[last].text in _EDGE_TRIM:
            last -= 1
        if first > last:
            continue
        start, end = prepared.words[first].start, prepared.words[last].end
        score = float(np.mean([word_probs[i, TAG2ID[tags[i]]] for i in range(first, last + 1)]))
        entities.append(Entity.of(prepared.text, start, end, label, round(score, 4)))
    return entities


def map_back(prepared: Prepared, entities: list[Entity], targets: list[Target]) -> tuple[list[Entity], list[Target]]:
    """Entities and targets with every offset (and quoted text) in the text the caller sent."""
    if prepared.to_original is None:
        return entities, targets
    where = prepared.to_original

    def moved(part: T | None, quote: bool) -> T | None:
        if part is None:
            return None
        start, end = where[part.start], where[part.end]
        update: dict[str, object] = {"start": start, "end": end}
        if quote:
            update["text"] = prepared.original[start:end]
        return part.model_copy(update=update)

    new_entities = [e.moved(prepared.original, where[e.start], where[e.end]) for e in entities]
    new_targets = [
        t.model_copy(
            update={
                "indicator": moved(t.indicator, True),
                "value": moved(t.value, True),
                "official": moved(t.official, False),
                "province": moved(t.province, False),
                "sentence": moved(t.sentence, False),
            }
        )
        for t in targets
    ]
    return new_entities, new_targets
