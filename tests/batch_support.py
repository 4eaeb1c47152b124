"""Inputs and checks shared by the batch tests (tests/test_batch*.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa

from chitieu.annotate.corpus import load_corpus
from chitieu.batch.output import read_output
from chitieu.labels import TARGET_VALUE
from chitieu.paths import annotations_dir

# Rows that cannot be documents, each with the id its error row keeps and a piece of its
# reason. The surrogate is written as a JSON escape, the way a bad exporter writes it.
BAD_ROWS: list[tuple[bytes, str | None, str]] = [
    (b'{"id": "bad-utf8", "text": "Ha\xff N\xf4i"}', "bad-utf8", "not valid UTF-8"),
    (b'{"id": "blank", "text": "   \\n "}', "blank", "empty"),
    ('{"text": "Bến Tre phấn đấu tăng trưởng 9%."}'.encode(), None, "no id"),
    (b'{"id": "surrogate", "text": "a \\ud800 b"}', "surrogate", "surrogate"),
    (b"not json at all", None, "not JSON"),
    (b'{"id": 7, "text": null}', "7", "no text"),
]


def sample_articles(n: int) -> list[tuple[str, str]]:
    """The n shortest documents of the committed gold corpus that set a target (real
    provincial and national news), shortest first: the stand-in when ../shared is absent.
    Only documents with a gold TARGET_VALUE, so an end-to-end run finds tuples because
    there are some, not because the model errs (the three shortest documents set none)."""
    with_targets = [d for d in load_corpus(annotations_dir()) if any(s.label == TARGET_VALUE for s in d.spans)]
    docs = sorted(with_targets, key=lambda d: (len(d.text), d.id))
    return [(d.id, d.text) for d in docs[:n]]


def write_jsonl(path: Path, articles: list[tuple[str, str]], bad_after: int | None = 1) -> Path:
    """Articles as JSON Lines, with BAD_ROWS after the first `bad_after` of them (None: no
    bad rows) and a blank line, which is not a document."""
    lines = [json.dumps({"id": i, "title": t.split("\n")[0], "text": t}, ensure_ascii=False).encode() for i, t in articles]
    if bad_after is not None:
        lines[bad_after:bad_after] = [raw for raw, _, _ in BAD_ROWS] + [b"   "]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def assert_same_output(a: Path, b: Path) -> None:
    for name, left, right in zip(("tuples", "documents"), read_output(a), read_output(b)):
        # The source column is the input's path, which differs when the inputs do.
        assert _without_source(left).equals(_without_source(right)), f"{name} differ:\n{left.to_pandas()}\n{right.to_pandas()}"


def _without_source(table: pa.Table) -> pa.Table:
    return table.drop_columns(["source"]) if "source" in table.column_names else table
