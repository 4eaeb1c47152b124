"""Check annotation files against the schema and the guidelines' hard rules.

Every problem is reported with file, line, document id and what to fix; nothing is fixed
or dropped here. `chitieu annotations validate` prints these and exits 1 on any.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from chitieu.annotate.corpus import CORPUS_FILE, SPLIT_NAMES, SPLITS_FILE, Document
from chitieu.labels import LABELS

# Characters a span may not start or end on (white space is checked separately). `%` and
# closing brackets inside values such as `(3.400 tỷ đồng)` are handled by the rule that
# only these edge characters are refused.
EDGE_PUNCTUATION = set(".,;:!?\"'“”‘’()[]{}-–—…/")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    doc_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: [{self.doc_id or '-'}] {self.message}"


def check_document(doc: Document) -> list[str]:
    """Hard-rule problems of one parsed document, as messages that say what to fix."""
    out: list[str] = []
    text = doc.text
    if not doc.id.strip():
        out.append("empty id: give every document a unique, non-empty id")
    if unicodedata.normalize("NFC", text) != text:
        out.append("text is not NFC: normalise with unicodedata.normalize('NFC', text) and re-anchor the spans")
    previous = None
    for k, span in enumerate(sorted(doc.spans, key=lambda s: (s.start, s.end))):
        where = f"span {k} [{span.start}, {span.end}) {span.label}"
        if span.label not in LABELS:
            out.append(f"{where}: unknown label {span.label!r}; use one of {', '.join(LABELS)}")
        if not (0 <= span.start < span.end <= len(text)):
            out.append(f"{where}: offsets outside the text (length {len(text)}) or empty; fix start/end")
            continue
        covered = text[span.start : span.end]
        if span.text is not None and span.text != covered:
            out.append(f"{where}: text {span.text!r} does not match the document's {covered!r}; re-anchor the span")
        if covered[0].isspace() or covered[-1].isspace():
            out.append(f"{where}: {covered!r} starts or ends on white space; trim the span")
        elif covered[0] in EDGE_PUNCTUATION or covered[-1] in EDGE_PUNCTUATION:
            out.append(f"{where}: {covered!r} starts or ends on punctuation; trim it unless it is part of the expression")
        if previous is not None and span.start < previous.end:
            out.append(
                f"{where}: overlaps the span [{previous.start}, {previous.end}) {previous.label}; spans may not overlap"
            )
        previous = span if previous is None or span.end > previous.end else previous
    return out


def validate_file(path: Path) -> tuple[list[Document], list[Problem]]:
    """Parse and check a JSON Lines corpus file; returns the valid documents and all problems."""
    problems: list[Problem] = []
    docs: list[Document] = []
    seen: dict[str, int] = {}
    with open(path, "rb") as fh:
        raw_lines = fh.read().split(b"\n")
    for lineno, raw in enumerate(raw_lines, 1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(Problem(str(path), lineno, "", f"not UTF-8 ({err.reason} at byte {err.start}); save the file as UTF-8"))
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as err:
            problems.append(Problem(str(path), lineno, "", f"invalid JSON: {err.msg} at column {err.colno}"))
            continue
        doc_id = str(data.get("id", "")) if isinstance(data, dict) else ""
        try:
            doc = Document.model_validate(data)
        except ValidationError as err:
            for e in err.errors():
                loc = ".".join(str(x) for x in e["loc"])
                problems.append(Problem(str(path), lineno, doc_id, f"schema: {loc}: {e['msg']}"))
            continue
        if doc.id in seen:
            problems.append(Problem(str(path), lineno, doc.id, f"duplicate id (first on line {seen[doc.id]}); ids must be unique"))
        else:
            seen[doc.id] = lineno
        problems.extend(Problem(str(path), lineno, doc.id, m) for m in check_document(doc))
        docs.append(doc)
    return docs, problems


def validate_splits(directory: Path, docs: list[Document]) -> list[Problem]:
    path = directory / SPLITS_FILE
    if not path.exists():
        return [Problem(str(path), 0, "", "missing: run `chitieu annotations split`")]
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        return [Problem(str(path), err.lineno, "", f"invalid JSON: {err.msg}")]
    problems = []
    where: dict[str, str] = {}
    for name, ids in data.items():
        if name not in SPLIT_NAMES:
            problems.append(Problem(str(path), 0, "", f"unknown split {name!r}; use {', '.join(SPLIT_NAMES)}"))
            continue
        for doc_id in ids:
            if doc_id in where:
                problems.append(Problem(str(path), 0, doc_id, f"in both {where[doc_id]} and {name}"))
            where[doc_id] = name
    ids = {d.id for d in docs}
    for doc in docs:
        if doc.id not in where:
            problems.append(Problem(str(path), 0, doc.id, "in no split: run `chitieu annotations split`"))
        elif where[doc.id] == "test" and (doc.meta.get("source") == "seed" or doc.id.startswith("seed-")):
            problems.append(Problem(str(path), 0, doc.id, "a seed document is in test; move it to train or dev"))
    for doc_id in sorted(set(where) - ids):
        problems.append(Problem(str(path), 0, doc_id, f"listed in {where[doc_id]} but not in the corpus; remove it"))
    return problems


def validate_path(path: Path) -> tuple[list[Document], list[Problem]]:
    """A corpus folder (corpus.jsonl + splits.json) or a single JSON Lines file."""
    if path.is_dir():
        docs, problems = validate_file(path / CORPUS_FILE)
        return docs, problems + validate_splits(path, docs)
    return validate_file(path)
