"""Silver documents: unlabelled articles labelled by a model, for self-training the tagger.

The 35,152 articles of `corpus_unlabeled` hold far more goal statements than the gold. A
model folder's whole pipeline (tagger, goal vote, indicator chooser) labels a seeded draw
of the goal-bearing ones, and a document is kept only when every TARGET_VALUE and
INDICATOR in it is at least `min_confidence` sure: a document is kept or dropped whole,
because a span dropped from a kept document would teach the tagger that it is O.

No silver document may repeat a corpus story: an article is skipped when its id is in the
corpus or when a fifth or more of its 8-word shingles occur in a corpus document (any split,
so nothing of a test story reaches training). `chitieu train --silver FILE` adds the file
to the training documents.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from chitieu.annotate.corpus import Document, Span
from chitieu.labels import INDICATOR, TARGET_VALUE

#: Articles shorter than this rarely state a goal; longer ones are mostly reports and lists.
MIN_CHARS, MAX_CHARS = 800, 9000
#: Share of an article's shingles found in the corpus that makes it the same story.
DUPLICATE_SHARE = 0.2
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = 8) -> set[str]:
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@dataclass(frozen=True)
class SilverDraw:
    """What the draw read and kept, for the command's summary."""

    read: int
    qualifying: int
    drawn: list[tuple[str, str]]


def draw_articles(
    articles: Iterable[tuple[str, str]],
    corpus: Sequence[Document],
    count: int,
    seed: int,
    qualifies: Callable[[str], bool],
) -> SilverDraw:
    """`count` (id, NFC text) articles, a seeded shuffle of those that `qualifies` accepts,
    are MIN_CHARS-MAX_CHARS long and repeat no corpus story."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    used = {d.id for d in corpus}
    seen: set[str] = set()
    for doc in corpus:
        seen |= shingles(doc.text)
    pool, read = [], 0
    for article_id, raw in articles:
        read += 1
        text = unicodedata.normalize("NFC", raw)
        if article_id in used or not MIN_CHARS <= len(text) <= MAX_CHARS:
            continue
        own = shingles(text)
        if own and len(own & seen) >= DUPLICATE_SHARE * len(own):
            continue
        if qualifies(text):
            pool.append((article_id, text))
    random.Random(seed).shuffle(pool)
    return SilverDraw(read=read, qualifying=len(pool), drawn=pool[:count])


def silver_document(article_id: str, text: str, extraction: dict[str, Any], min_confidence: float, model: str) -> Document | None:
    """The article with the extraction's entities as spans, or None when it has no
    TARGET_VALUE or one of its TARGET_VALUEs or INDICATORs is less sure than `min_confidence`."""
    entities = extraction["entities"]
    decisive = [e for e in entities if e["label"] in (TARGET_VALUE, INDICATOR)]
    if not any(e["label"] == TARGET_VALUE for e in decisive):
        return None
    if min(e["score"] for e in decisive) < min_confidence:
        return None
    spans = [Span(start=e["start"], end=e["end"], label=e["label"], text=text[e["start"] : e["end"]]) for e in entities]
    meta = {"silver": model, "min_confidence": min_confidence, "origin": "corpus_unlabeled"}
    return Document(id=article_id, text=text, spans=spans, meta=meta)


def label_articles(
    extract_many: Callable[[list[tuple[str | None, str]]], list[dict[str, Any]]],
    articles: Sequence[tuple[str, str]],
    min_confidence: float,
    model: str,
    batch: int = 8,
    progress: Callable[[int], None] = lambda done: None,
) -> list[Document]:
    """Silver documents of `articles`, labelled `batch` at a time by `extract_many`."""
    if not 0.0 <= min_confidence <= 1.0:
        raise ValueError(f"min_confidence must be in [0, 1], got {min_confidence}")
    kept = []
    for k in range(0, len(articles), batch):
        chunk = list(articles[k : k + batch])
        for (article_id, text), extraction in zip(chunk, extract_many([(i, t) for i, t in chunk])):
            doc = silver_document(article_id, text, extraction, min_confidence, model)
            if doc is not None:
                kept.append(doc)
        progress(k + len(chunk))
    return kept
