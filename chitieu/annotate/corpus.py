"""The gold corpus on disk: documents as JSON Lines plus a splits file.

A document is `{"id", "text", "spans": [{"start", "end", "label", "text"}], "meta"}`,
text NFC, offsets `[start, end)` in code points. This module reads and writes; the checks
that a corpus follows the guidelines live in `chitieu.annotate.validate`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from chitieu.files import write_text

CORPUS_FILE = "corpus.jsonl"
SPLITS_FILE = "splits.json"
SPLIT_NAMES = ("train", "dev", "test")


class Span(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int
    end: int
    label: str
    text: str | None = None


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    text: str
    spans: list[Span] = Field(default_factory=list)
    meta: dict[str, Any] = Field(default_factory=dict)

    def with_span_texts(self) -> "Document":
        spans = [s.model_copy(update={"text": self.text[s.start : s.end]}) for s in self.spans]
        spans.sort(key=lambda s: (s.start, s.end, s.label))
        return self.model_copy(update={"spans": spans})


def read_documents(path: Path) -> list[Document]:
    """Parse a JSON Lines file; raise ValueError naming the line on malformed input."""
    docs = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                docs.append(Document.model_validate_json(line))
            except ValueError as err:
                raise ValueError(f"{path}:{lineno}: not a valid document: {err}") from err
    return docs


def write_documents(docs: Iterable[Document], path: Path) -> None:
    write_text(path, "".join(json.dumps(doc.with_span_texts().model_dump(), ensure_ascii=False) + "\n" for doc in docs))


def id_digest(doc_id: str) -> str:
    """The hex sha256 of a document id: the one fixed, order-free key behind split
    assignment and the nested training shares of learning curves."""
    return hashlib.sha256(doc_id.encode("utf-8")).hexdigest()


def nested_share(docs: Sequence[Document], fraction: float) -> list[Document]:
    """The first `ceil(fraction * n)` documents in id-hash order: smaller fractions are
    subsets of larger ones, so points on a learning curve differ only by added data."""
    if fraction >= 1:
        return list(docs)
    ordered = sorted(docs, key=lambda d: id_digest(d.id))
    return ordered[: max(1, math.ceil(fraction * len(ordered)))]


def require_split_name(name: str) -> None:
    if name not in SPLIT_NAMES:
        raise ValueError(f"unknown split {name!r}: use one of {', '.join(SPLIT_NAMES)}")


def assign_split(doc_id: str, is_seed: bool) -> str:
    """Deterministic split from the id's hash: about 65% train, 15% dev, 20% test.

    Seed articles never go to test: the project was shaped on them, so they cannot
    measure it honestly.
    """
    bucket = int(id_digest(doc_id)[:8], 16) % 100
    if bucket < 65:
        return "train"
    if bucket < 80 or is_seed:
        return "dev"
    return "test"


def is_seed(doc: Document) -> bool:
    return doc.meta.get("source") == "seed" or doc.id.startswith("seed-")


def read_splits(directory: Path) -> dict[str, list[str]]:
    path = directory / SPLITS_FILE
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: run `chitieu annotations split` to assign documents to splits"
        )
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: list(data.get(name, [])) for name in SPLIT_NAMES}


def update_splits(docs: Iterable[Document], directory: Path, new_split: str | None = None) -> dict[str, list[str]]:
    """Keep existing assignments; give new documents their hashed split (or `new_split`);
    drop vanished ids.

    `new_split="train"` adds documents without changing dev and test, so figures stay
    comparable with earlier models (and near-duplicate stories cannot straddle splits).
    """
    if new_split is not None:
        require_split_name(new_split)
    path = directory / SPLITS_FILE
    existing = read_splits(directory) if path.exists() else {n: [] for n in SPLIT_NAMES}
    where = {doc_id: name for name, ids in existing.items() for doc_id in ids}
    splits: dict[str, list[str]] = {n: [] for n in SPLIT_NAMES}
    for doc in docs:
        splits[where.get(doc.id) or new_split or assign_split(doc.id, is_seed(doc))].append(doc.id)
    for ids in splits.values():
        ids.sort()
    write_text(path, json.dumps(splits, ensure_ascii=False, indent=1) + "\n")
    return splits


def corpus_hash(directory: Path) -> str | None:
    """Fingerprint of a corpus folder (corpus + splits), recorded with every model; None if incomplete."""
    digest = hashlib.sha256()
    for name in (CORPUS_FILE, SPLITS_FILE):
        path = Path(directory) / name
        if not path.exists():
            return None
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load_corpus(directory: Path, split: str = "all") -> list[Document]:
    """The documents of one split (train, dev, test, train+dev) or all of them."""
    return in_split(read_documents(directory / CORPUS_FILE), directory, split)


def in_split(docs: list[Document], directory: Path, split: str) -> list[Document]:
    """Those of `docs` (read from the corpus at `directory`) in one of its splits (train,
    dev, test, train+dev), or all of them: for a caller that needs the whole corpus too."""
    if split == "all":
        return docs
    splits = read_splits(directory)
    wanted: set[str] = set()
    for name in split.split("+"):
        if name not in splits:
            raise ValueError(f"unknown split {name!r}: use one of {', '.join(SPLIT_NAMES)}, 'all' or e.g. 'train+dev'")
        wanted.update(splits[name])
    return [d for d in docs if d.id in wanted]
