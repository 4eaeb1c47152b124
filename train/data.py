"""Gold documents -> labelled windows, with every misaligned span counted and reported."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from chitieu.annotate.corpus import Document, Span
from chitieu.encoders.base import WordPieceAdapter
from chitieu.windows import Window, make_windows, word_tags

log = logging.getLogger(__name__)


@dataclass
class LabelledWindows:
    windows: list[Window]
    #: Gold spans whose edges fall inside one of the base's words (tagged on the words they overlap).
    misaligned: list[tuple[str, Span]] = field(default_factory=list)
    spans: int = 0


def labelled_windows(docs: list[Document], adapter: WordPieceAdapter, max_tokens: int, overlap_tokens: int) -> LabelledWindows:
    out = LabelledWindows(windows=[])
    for doc in docs:
        words = adapter.words(doc.text)
        pieces = adapter.encode_words(doc.text, words)
        tags, misaligned = word_tags(words, doc.spans)
        out.misaligned += [(doc.id, s) for s in misaligned]
        out.spans += len(doc.spans)
        out.windows += make_windows(
            pieces,
            cls_id=adapter.cls_id,
            sep_id=adapter.sep_id,
            max_tokens=min(max_tokens, adapter.max_tokens),
            overlap_tokens=overlap_tokens,
            tags=tags,
            label_all_subwords=adapter.label_all_subwords,
        )
    return out


def report_misaligned(result: LabelledWindows, base: str) -> None:
    """Loud, never silent: spans the base's words cannot express exactly."""
    if not result.misaligned:
        return
    log.warning(
        "%d of %d gold spans do not fall on %s word boundaries; they are trained as the words they overlap:",
        len(result.misaligned),
        result.spans,
        base,
    )
    for doc_id, span in result.misaligned[:20]:
        log.warning("  %s [%d, %d) %s %r", doc_id, span.start, span.end, span.label, span.text)
    if len(result.misaligned) > 20:
        log.warning("  ... and %d more", len(result.misaligned) - 20)

