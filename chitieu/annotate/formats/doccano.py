"""doccano sequence-labelling JSONL, in both its `label` and `entities` forms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from chitieu.annotate.corpus import Document, Span
from chitieu.annotate.formats.common import ConversionReport, nfc_with_offsets

DoccanoForm = Literal["label", "entities"]
_KNOWN = {"text", "label", "entities", "relations", "id", "meta"}


def export_lines(docs: list[Document], form: DoccanoForm = "label") -> list[dict[str, Any]]:
    out = []
    for d in docs:
        line: dict[str, Any] = {"id": d.id, "text": d.text, "meta": d.meta}
        if form == "label":
            line["label"] = [[s.start, s.end, s.label] for s in d.spans]
        else:
            line["entities"] = [
                {"id": i + 1, "label": s.label, "start_offset": s.start, "end_offset": s.end} for i, s in enumerate(d.spans)
            ]
            line["relations"] = []
        out.append(line)
    return out


def import_lines(path: Path) -> tuple[list[Document], ConversionReport]:
    report = ConversionReport()
    docs = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            data = json.loads(line)
            text = data.get("text")
            if not isinstance(text, str):
                report.problems.append(f"line {lineno}: no text; skipped")
                continue
            if "entities" in data:
                raw = [(e["start_offset"], e["end_offset"], e["label"]) for e in data["entities"]]
            else:
                raw = [(s, e, lab) for s, e, lab in data.get("label", [])]
            nfc_text, moved = nfc_with_offsets(text, [o for s, e, _ in raw for o in (s, e)])
            spans = [Span(start=moved[2 * i], end=moved[2 * i + 1], label=lab) for i, (_, _, lab) in enumerate(raw)]
            meta = dict(data.get("meta") or {})
            meta.update({k: v for k, v in data.items() if k not in _KNOWN})
            meta.setdefault("source", "doccano")
            doc_id = str(data.get("id", f"doccano-{lineno}"))
            docs.append(Document(id=doc_id, text=nfc_text, spans=spans, meta=meta).with_span_texts())
            report.documents += 1
            report.spans += len(spans)
    return docs, report
