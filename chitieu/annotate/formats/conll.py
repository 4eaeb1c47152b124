"""CoNLL BIO over word-segmented tokens (syllables of a word joined by `_`).

Each document starts with `-DOCSTART- O` and two comment lines, `# id = ...` and
`# text = <the text as a JSON string>`, so that an import restores the exact text and
therefore exact spans. Files without the comment lines (from other tools) still import:
the text is then rebuilt by joining tokens with spaces.

A gold span whose edges fall inside a token cannot be written in BIO: it is reported and
counted (`ConversionReport.problems`), and written with the tokens it overlaps.

Rows are read as whitespace-separated columns, the token first and the tag last, so
four-column CoNLL-2003 files (`EU NNP B-NP B-ORG`) import too. Label Studio's CONLL2003
export (`token -X- _ TAG`) is refused: it puts every task under one `-DOCSTART-` with
Treebank tokens and no text, so neither documents nor offsets can be recovered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from seqeval.metrics.sequence_labeling import get_entities

from chitieu.annotate.corpus import Document, Span
from chitieu.annotate.formats.common import ConversionReport, ImportFormatError
from chitieu.text import Token, sentences

WordSplitter = Callable[[str], list[Token]]


def _default_words(text: str) -> list[Token]:
    from chitieu.encoders.segment import segment_words

    return segment_words(text)


def token_form(text: str, token: Token) -> str:
    """The CoNLL form of a token: its syllables joined by `_`."""
    return re.sub(r"\s+", "_", text[token.start : token.end])


def bio_tags(tokens: list[Token], spans: list[Span], doc_id: str = "") -> tuple[list[str], list[str]]:
    """BIO tags for tokens, and one problem line per span not on token boundaries."""
    tags = ["O"] * len(tokens)
    problems = []
    for span in spans:
        inside = [i for i, t in enumerate(tokens) if t.start < span.end and t.end > span.start]
        if not inside:
            problems.append(f"{doc_id}: span [{span.start}, {span.end}) {span.label} covers no token")
            continue
        first, last = tokens[inside[0]], tokens[inside[-1]]
        if first.start != span.start or last.end != span.end:
            problems.append(
                f"{doc_id}: span [{span.start}, {span.end}) {span.label} {span.text!r} does not fall on token "
                f"boundaries ({first.start}-{last.end}); written as the tokens it overlaps"
            )
        for k, i in enumerate(inside):
            tags[i] = ("B-" if k == 0 else "I-") + span.label
    return tags, problems


def export_documents(docs: list[Document], words: WordSplitter | None = None) -> tuple[str, ConversionReport]:
    split = words or _default_words
    report = ConversionReport()
    lines: list[str] = []
    for doc in docs:
        lines += ["-DOCSTART- O", f"# id = {doc.id}", f"# text = {json.dumps(doc.text, ensure_ascii=False)}", ""]
        for s_start, s_end in sentences(doc.text):
            toks = [Token(t.start + s_start, t.end + s_start, t.text) for t in split(doc.text[s_start:s_end])]
            spans = [s for s in doc.spans if s.start < s_end and s.end > s_start]
            tags, problems = bio_tags(toks, spans, doc.id)
            report.problems += problems
            lines += [f"{token_form(doc.text, t)} {tag}" for t, tag in zip(toks, tags)] + [""]
        report.documents += 1
        report.spans += len(doc.spans)
    return "\n".join(lines) + "\n", report


def _locate(text: str, form: str, pos: int) -> tuple[int, int] | None:
    """Find a token form at or after pos, skipping only white space."""
    parts = [re.escape(p) for p in form.split("_") if p]
    pattern = r"\s*(" + r"(?:\s+|_)".join(parts) + ")" if parts else r"\s*(_+)"
    m = re.compile(pattern).match(text, pos)
    return (m.start(1), m.end(1)) if m else None


def _finish(doc_id: str, text: str | None, rows: list[tuple[str, str]], report: ConversionReport) -> Document:
    if text is None:
        text = " ".join(form.replace("_", " ") for form, _ in rows)
    offsets: list[tuple[int, int]] = []
    pos = 0
    for form, _ in rows:
        where = _locate(text, form, pos)
        if where is None:
            raise ValueError(f"{doc_id}: token {form!r} not found in the document text after offset {pos}")
        offsets.append(where)
        pos = where[1]
    spans = []
    for label, first, last in get_entities([tag for _, tag in rows]):
        spans.append(Span(start=offsets[first][0], end=offsets[last][1], label=label))
    report.documents += 1
    report.spans += len(spans)
    return Document(id=doc_id, text=text, spans=spans, meta={"source": "conll"}).with_span_texts()


LABEL_STUDIO_EXPORT = (
    "this is Label Studio's CONLL2003 export (`token -X- _ TAG` rows): it puts every task under one -DOCSTART- "
    "and keeps neither the article text nor the task ids, so its spans cannot be placed back on the articles; "
    "export JSON from Label Studio instead and import it with --format labelstudio"
)


def _is_label_studio_row(columns: list[str]) -> bool:
    return len(columns) == 4 and columns[1] == "-X-" and columns[2] == "_"


def import_text(content: str) -> tuple[list[Document], ConversionReport]:
    report = ConversionReport()
    docs: list[Document] = []
    doc_id: str | None = None
    text: str | None = None
    rows: list[tuple[str, str]] = []

    def flush() -> None:
        if rows or text is not None:
            docs.append(_finish(doc_id or f"conll-{len(docs) + 1}", text, rows, report))

    for raw in content.splitlines():
        line = raw.rstrip("\n")
        if line.startswith("-DOCSTART-"):
            if line.split()[1:2] == ["-X-"]:
                raise ImportFormatError(LABEL_STUDIO_EXPORT)
            flush()
            doc_id, text, rows = None, None, []
        elif line.startswith("# id = "):
            doc_id = line[len("# id = ") :]
        elif line.startswith("# text = "):
            text = json.loads(line[len("# text = ") :])
        elif line.strip():
            columns = line.split()
            if _is_label_studio_row(columns):
                raise ImportFormatError(LABEL_STUDIO_EXPORT)
            if len(columns) < 2:
                raise ValueError(f"line {line!r}: expected `TOKEN TAG` (or `TOKEN ... TAG` columns)")
            rows.append((columns[0], columns[-1]))
    flush()
    return docs, report


def import_file(path: Path) -> tuple[list[Document], ConversionReport]:
    return import_text(Path(path).read_text(encoding="utf-8"))
