"""Label Studio tasks: import exported annotations, export gold or predictions.

Label Studio's front end counts offsets in UTF-16 code units in some versions (they
differ from Python's code points only around characters outside the BMP, such as emoji).
On import, `offsets="auto"` takes each region's own `text` as the referee.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from chitieu.corpus import Document, Span
from chitieu.formats.common import ConversionReport, codepoint_to_utf16, nfc_with_offsets, utf16_to_codepoint
from chitieu.labels import LABELS

OffsetMode = Literal["auto", "codepoint", "utf16"]
FROM_NAME = "label"
TO_NAME = "text"

LABEL_CONFIG = (
    '<View>\n  <Labels name="label" toName="text">\n'
    + "".join(f'    <Label value="{label}"/>\n' for label in LABELS)
    + '  </Labels>\n  <Text name="text" value="$text"/>\n</View>\n'
)


def region(text: str, start: int, end: int, label: str, score: float | None = None, utf16: bool = False) -> dict[str, Any]:
    s, e = (codepoint_to_utf16(text, start), codepoint_to_utf16(text, end)) if utf16 else (start, end)
    out: dict[str, Any] = {
        "from_name": FROM_NAME,
        "to_name": TO_NAME,
        "type": "labels",
        "value": {"start": s, "end": e, "text": text[start:end], "labels": [label]},
    }
    if score is not None:
        out["score"] = round(float(score), 4)
    return out


def export_tasks(docs: list[Document], utf16: bool = False) -> list[dict[str, Any]]:
    """Gold documents as tasks with their spans under `annotations`."""
    return [
        {
            "data": {"text": d.text, "doc_id": d.id, "meta": d.meta},
            "annotations": [{"result": [region(d.text, s.start, s.end, s.label, utf16=utf16) for s in d.spans]}],
        }
        for d in docs
    ]


def prediction_task(doc_id: str, text: str, spans: list[dict[str, Any]], model_version: str) -> dict[str, Any]:
    """One task carrying pre-annotations (`predictions`) for annotators to correct."""
    result = [region(text, s["start"], s["end"], s["label"], s.get("score")) for s in spans]
    scores = [s.get("score", 1.0) for s in spans]
    return {
        "data": {"text": text, "doc_id": doc_id},
        "predictions": [
            {"model_version": model_version, "score": round(min(scores), 4) if scores else 1.0, "result": result}
        ],
    }


def _resolve_offsets(text: str, value: dict[str, Any], mode: OffsetMode) -> tuple[int, int] | None:
    start, end = int(value["start"]), int(value["end"])
    want = value.get("text")
    candidates = {
        "codepoint": (start, end),
        "utf16": (utf16_to_codepoint(text, start), utf16_to_codepoint(text, end)),
    }
    if mode != "auto":
        return candidates[mode]
    for s, e in candidates.values():
        if want is None or text[s:e] == want:
            return s, e
    return None


def _pick_annotation(task: dict[str, Any]) -> dict[str, Any] | None:
    """The most recent annotation that was not cancelled."""
    kept = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
    if not kept:
        return None
    return max(kept, key=lambda a: (a.get("updated_at") or a.get("created_at") or "", a.get("id", 0)))


def import_tasks(path: Path, offsets: OffsetMode = "auto") -> tuple[list[Document], ConversionReport]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    tasks = data if isinstance(data, list) else [data]
    report = ConversionReport()
    docs = []
    for n, task in enumerate(tasks):
        text = task.get("data", {}).get("text")
        if not isinstance(text, str):
            report.problems.append(f"task {n}: no data.text; skipped the whole task")
            continue
        doc_id = str(task["data"].get("doc_id") or f"ls-{task.get('id', n)}")
        annotation = _pick_annotation(task)
        results = annotation.get("result", []) if annotation else []
        raw_spans = []
        for r in results:
            if r.get("type") != "labels":
                continue
            value = r.get("value", {})
            for label in value.get("labels", []):
                where = _resolve_offsets(text, value, offsets)
                if where is None:
                    report.problems.append(
                        f"{doc_id}: region {value.get('start')}-{value.get('end')} {label}: its text "
                        f"{value.get('text')!r} matches neither code-point nor UTF-16 offsets; fix it in Label Studio"
                    )
                    continue
                raw_spans.append((where[0], where[1], label))
        flat = [o for s, e, _ in raw_spans for o in (s, e)]
        nfc_text, moved = nfc_with_offsets(text, flat)
        spans = [Span(start=moved[2 * i], end=moved[2 * i + 1], label=lab) for i, (_, _, lab) in enumerate(raw_spans)]
        meta = dict(task["data"].get("meta") or {})
        meta.setdefault("source", "labelstudio")
        docs.append(Document(id=doc_id, text=nfc_text, spans=spans, meta=meta).with_span_texts())
        report.documents += 1
        report.spans += len(spans)
    return docs, report
