"""Documents as overlapping windows of whole words that fit the encoder.

Windows never truncate: a long document becomes several windows that overlap by
`overlap_tokens`, and each word is later read from the window where it sits farthest from
an edge (the better-placed window), so a span cut by one window's edge comes out whole
from the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from chitieu.annotate.corpus import Span
from chitieu.labels import TAG2ID
from chitieu.text import Token

IGNORE_INDEX = -100
#: The window a model is trained on, in subwords (capped by the base), and how many
#: subwords neighbouring windows share; a model folder records its own in `options`, and
#: these are the defaults for training and for folders that do not say.
DEFAULT_MAX_TOKENS = 256
DEFAULT_OVERLAP_TOKENS = 32


@dataclass
class Window:
    input_ids: list[int]
    #: For each position, the document-level word index, or -1 for special tokens.
    word_ids: list[int]
    #: True where the position is the first subword of its word (predictions are read there).
    first_subword: list[bool]
    #: Training targets per position (IGNORE_INDEX where no loss is taken); empty at inference.
    labels: list[int] = field(default_factory=list)

    @property
    def first_word(self) -> int:
        return next(w for w in self.word_ids if w >= 0)

    @property
    def last_word(self) -> int:
        return max(self.word_ids)


def word_tags(words: list[Token], spans: list[Span]) -> tuple[list[str], list[Span]]:
    """Word-level BIO tags for gold spans, and the spans whose edges fall inside a word.

    A misaligned span is still tagged on every word it overlaps (the model learns the
    nearest expressible span); the caller must report the returned list, never ignore it.
    """
    tags = ["O"] * len(words)
    misaligned: list[Span] = []
    starts = {w.start: i for i, w in enumerate(words)}
    ends = {w.end: i for i, w in enumerate(words)}
    for span in spans:
        inside = [i for i, w in enumerate(words) if w.start < span.end and w.end > span.start]
        if not inside:
            misaligned.append(span)
            continue
        if span.start not in starts or span.end not in ends:
            misaligned.append(span)
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + span.label
    return tags, misaligned


def make_windows(
    pieces: list[list[int]],
    *,
    cls_id: int,
    sep_id: int,
    max_tokens: int,
    overlap_tokens: int,
    tags: list[str] | None = None,
    label_all_subwords: bool = True,
) -> list[Window]:
    """Cut a document's words (given as subword ids per word) into windows.

    A word longer than the window on its own is cut to fit (its first subwords carry the
    prediction, so nothing downstream changes).
    """
    budget = max_tokens - 2
    if budget < 8:
        raise ValueError(f"max_tokens={max_tokens} is too small; use at least 10")
    if overlap_tokens >= budget // 2:
        raise ValueError(f"overlap_tokens={overlap_tokens} must be less than half of max_tokens - 2 ({budget // 2})")
    sizes = [min(len(p), budget) for p in pieces]
    windows: list[Window] = []
    start = 0
    n = len(pieces)
    while start < n:
        end, used = start, 0
        while end < n and used + sizes[end] <= budget:
            used += sizes[end]
            end += 1
        windows.append(_build(pieces, sizes, start, end, cls_id, sep_id, tags, label_all_subwords))
        if end >= n:
            break
        # Step back from `end` until about overlap_tokens of context are shared.
        back, shared = end, 0
        while back > start + 1 and shared + sizes[back - 1] <= overlap_tokens:
            back -= 1
            shared += sizes[back]
        start = back
    return windows


def _build(
    pieces: list[list[int]],
    sizes: list[int],
    start: int,
    end: int,
    cls_id: int,
    sep_id: int,
    tags: list[str] | None,
    label_all_subwords: bool,
) -> Window:
    ids, word_ids, first, labels = [cls_id], [-1], [False], [IGNORE_INDEX]
    for w in range(start, end):
        word_pieces = pieces[w][: sizes[w]]
        for k, piece in enumerate(word_pieces):
            ids.append(piece)
            word_ids.append(w)
            first.append(k == 0)
            if tags is None:
                continue
            tag = tags[w]
            if k == 0:
                labels.append(TAG2ID[tag])
            elif label_all_subwords:
                labels.append(TAG2ID["I-" + tag[2:]] if tag != "O" else TAG2ID["O"])
            else:
                labels.append(IGNORE_INDEX)
    ids.append(sep_id)
    word_ids.append(-1)
    first.append(False)
    labels.append(IGNORE_INDEX)
    return Window(ids, word_ids, first, labels if tags is not None else [])


def placement(window: Window, word: int) -> int:
    """How far a word sits from the nearer edge of the window, in words (bigger is better)."""
    return min(word - window.first_word, window.last_word - word)
