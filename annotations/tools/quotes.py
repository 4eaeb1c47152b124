"""Annotate by quoting: spans written as the words they cover, resolved to exact offsets.

Counting code points by hand is where annotation goes wrong; quoting is not. A batch is a
folder with, per document, `ID.txt` (the text, exactly as stored) and `ID.tsv`, one span a
line, in document order:

    PROVINCE<TAB>Bến Tre
    OFFICIAL<TAB>Lê Đức Thọ
    INDICATOR<TAB>tăng trưởng GRDP
    TARGET_VALUE<TAB>từ 9,3% trở lên
    TARGET_VALUE<TAB>9%<TAB>tăng 9% so với

A third column (`ctx`) is a longer quote that contains the span and pins it down when the
same words occur earlier without being a span. Each line is searched for from the end of
the line before it, so repeated mentions resolve in order. Lines starting with `#` are
comments.

    python annotations/tools/quotes.py batch picked.jsonl --ids a,b --out DIR [--preannotate MODEL]
    python annotations/tools/quotes.py apply DIR --docs picked.jsonl --out batch.jsonl

`apply` fails on any line it cannot place (naming the file and line), and prints a review:
each span with its context, and every unlabelled occurrence of a name labelled elsewhere in
the document (PROVINCE, OFFICIAL) so that an omission is a decision, not an accident.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from chitieu.annotate.corpus import Document, Span, read_documents, write_documents
from chitieu.annotate.validate import check_document
from chitieu.files import write_text
from chitieu.labels import LABELS


@dataclass(frozen=True)
class Quote:
    label: str
    text: str
    context: str | None
    line: int


class QuoteError(ValueError):
    pass


def parse_tsv(path: Path) -> list[Quote]:
    quotes = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        if len(parts) not in (2, 3) or not parts[1]:
            raise QuoteError(f"{path}:{lineno}: expected LABEL<TAB>quote[<TAB>context], got {raw!r}")
        label = parts[0].strip()
        if label not in LABELS:
            raise QuoteError(f"{path}:{lineno}: unknown label {label!r}: use one of {', '.join(LABELS)}")
        context = parts[2] if len(parts) == 3 and parts[2] else None
        if context is not None and parts[1] not in context:
            raise QuoteError(f"{path}:{lineno}: the context {context!r} does not contain the quote {parts[1]!r}")
        quotes.append(Quote(label, parts[1], context, lineno))
    return quotes


def resolve(text: str, quotes: list[Quote], where: str) -> list[Span]:
    """Place each quote at its first occurrence that starts at or after the previous span's end."""
    spans: list[Span] = []
    previous_end = 0
    for q in quotes:
        needle = q.context or q.text
        inner = needle.find(q.text)
        low = max(0, previous_end - inner)
        while True:
            pos = text.find(needle, low)
            if pos < 0:
                what = f"context {q.context!r}" if q.context else f"quote {q.text!r}"
                raise QuoteError(
                    f"{where}:{q.line}: {what} not found after offset {previous_end} "
                    f"(…{text[max(0, previous_end - 30):previous_end]!r}); check spelling and that lines are in document order"
                )
            start = pos + inner
            if start >= previous_end:
                break
            low = pos + 1
        spans.append(Span(start=start, end=start + len(q.text), label=q.label, text=q.text))
        previous_end = start + len(q.text)
    return spans


def review(doc: Document) -> list[str]:
    lines = []
    text = doc.text
    for s in doc.spans:
        left = text[max(0, s.start - 40) : s.start].replace("\n", " ")
        right = text[s.end : s.end + 30].replace("\n", " ")
        lines.append(f"  {s.label:<12} {s.start:>5} …{left}[[{s.text}]]{right}…")
    labelled = {(s.start, s.end) for s in doc.spans}
    for name in sorted({s.text for s in doc.spans if s.label in ("PROVINCE", "OFFICIAL") and s.text}):
        for m in re.finditer(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
            if (m.start(), m.end()) not in labelled and not any(a <= m.start() and m.end() <= b for a, b in labelled):
                context = text[max(0, m.start() - 40) : m.end() + 30].replace("\n", " ")
                lines.append(f"  UNLABELLED   {m.start():>5} {name!r} in …{context}… (intended?)")
    return lines


def apply(folder: Path, docs_file: Path, out: Path) -> int:
    documents = {d.id: d for d in read_documents(docs_file)}
    done, problems = [], 0
    for tsv in sorted(folder.glob("*.tsv")):
        doc_id = tsv.stem
        if doc_id not in documents:
            print(f"{tsv}: no document {doc_id!r} in {docs_file}", file=sys.stderr)
            problems += 1
            continue
        source = documents[doc_id]
        try:
            spans = resolve(source.text, parse_tsv(tsv), str(tsv))
        except QuoteError as err:
            print(err, file=sys.stderr)
            problems += 1
            continue
        doc = source.model_copy(update={"spans": spans})
        issues = check_document(doc)
        for issue in issues:
            print(f"{tsv}: {issue}", file=sys.stderr)
        problems += len(issues)
        print(f"{doc_id}: {len(spans)} spans")
        print("\n".join(review(doc)))
        done.append(doc)
    write_documents(done, out)
    print(f"{len(done)} documents -> {out}; {problems} problems")
    return 1 if problems else 0


def write_batch(docs_file: Path, ids: list[str], out: Path, model: Path | None) -> None:
    documents = {d.id: d for d in read_documents(docs_file)}
    unknown = [i for i in ids if i not in documents]
    if unknown:
        raise SystemExit(f"not in {docs_file}: {', '.join(unknown)}")
    extractor = None
    if model is not None:
        from chitieu.extract.extractor import Extractor

        extractor = Extractor.load(model, device="cpu")
    out.mkdir(parents=True, exist_ok=True)
    for doc_id in ids:
        doc = documents[doc_id]
        write_text(out / f"{doc_id}.txt", doc.text)
        lines = ["# LABEL<TAB>quote[<TAB>context], in document order"]
        if extractor is not None:
            lines[0] += "; pre-annotated by the model: correct, add and delete lines"
            for e in extractor.extract(doc.text, doc_id)["entities"]:
                lines.append(f"{e['label']}\t{e['text']}")
        write_text(out / f"{doc_id}.tsv", "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("batch", help="write ID.txt and ID.tsv for a list of documents")
    b.add_argument("docs", type=Path)
    b.add_argument("--ids", required=True, help="comma-separated document ids")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--preannotate", type=Path, help="model folder whose entities fill the .tsv files")
    a = sub.add_parser("apply", help="resolve a folder of .tsv files into corpus documents")
    a.add_argument("folder", type=Path)
    a.add_argument("--docs", type=Path, required=True)
    a.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.command == "batch":
        write_batch(args.docs, [i for i in args.ids.split(",") if i], args.out, args.preannotate)
    else:
        raise SystemExit(apply(args.folder, args.docs, args.out))


if __name__ == "__main__":
    main()
