"""Label Studio tasks: import exported annotations, export gold or predictions.

Label Studio's front end counts offsets in UTF-16 code units in some versions (they
differ from Python's code points only around characters outside the BMP, such as emoji).
On import, `offsets="auto"` takes each region's own `text` as the referee.

Import reads Label Studio's JSON export (Export -> JSON), one task per item with its
`data` and its `annotations`. A task with no annotation (as in a "download all tasks"
export) or with only cancelled ones (skipped in Label Studio) is not gold: it is skipped
and counted, never imported as a document without spans. A task annotated several times
keeps one annotation by a stated rule (`ground-truth`: the ground truth if one is marked,
else the latest; `latest`: the latest) and reports the others as dropped. JSON_MIN (flat
records without `data`) is refused: it drops the ground-truth and cancellation marks.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from chitieu.annotate.corpus import Document, Span
from chitieu.annotate.formats.common import (
    ConversionReport,
    ImportFormatError,
    Skipped,
    codepoint_to_utf16,
    nfc_with_offsets,
    utf16_to_codepoint,
)
from chitieu.annotate.label_config import DEFAULT_MAPPING, LabelMapping

OffsetMode = Literal["auto", "codepoint", "utf16"]
AnnotationRule = Literal["ground-truth", "latest"]


def region(
    text: str,
    start: int,
    end: int,
    label: str,
    score: float | None = None,
    utf16: bool = False,
    mapping: LabelMapping = DEFAULT_MAPPING,
) -> dict[str, Any]:
    """One labelled region as Label Studio stores it, in the names of the project's config."""
    s, e = (codepoint_to_utf16(text, start), codepoint_to_utf16(text, end)) if utf16 else (start, end)
    out: dict[str, Any] = {
        "from_name": mapping.from_name,
        "to_name": mapping.to_name,
        "type": "labels",
        "value": {"start": s, "end": e, "text": text[start:end], "labels": [mapping.labels.get(label, label)]},
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


def prediction(
    text: str, spans: list[dict[str, Any]], model_version: str, mapping: LabelMapping = DEFAULT_MAPPING
) -> dict[str, Any]:
    """One task's pre-annotation: the spans of the labels the project has, scored by the least sure."""
    kept = [s for s in spans if s["label"] in mapping.labels]
    result = [region(text, s["start"], s["end"], s["label"], s.get("score"), mapping=mapping) for s in kept]
    scores = [s.get("score", 1.0) for s in kept]
    return {"model_version": model_version, "score": round(min(scores), 4) if scores else 1.0, "result": result}


def prediction_task(doc_id: str, text: str, spans: list[dict[str, Any]], model_version: str) -> dict[str, Any]:
    """One task carrying pre-annotations (`predictions`) for annotators to correct."""
    return {"data": {"text": text, "doc_id": doc_id}, "predictions": [prediction(text, spans, model_version)]}


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


def _recency(annotation: dict[str, Any]) -> tuple[str, int]:
    return (str(annotation.get("updated_at") or annotation.get("created_at") or ""), int(annotation.get("id") or 0))


def pick_annotation(
    annotations: list[dict[str, Any]], rule: AnnotationRule = "ground-truth"
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the annotation to import, the other non-cancelled ones); cancelled ones are never candidates."""
    kept = [a for a in annotations if not a.get("was_cancelled")]
    if rule == "ground-truth":
        kept.sort(key=lambda a: (bool(a.get("ground_truth")), *_recency(a)), reverse=True)
    else:
        kept.sort(key=_recency, reverse=True)
    return (kept[0], kept[1:]) if kept else (None, [])


def _describe(annotation: dict[str, Any]) -> str:
    who = annotation.get("completed_by")
    when = annotation.get("updated_at") or annotation.get("created_at") or "no date"
    flag = ", ground truth" if annotation.get("ground_truth") else ""
    return f"{annotation.get('id', '?')} (by {who if who is not None else '?'}, {when}{flag})"


def _refuse_other_exports(data: Any, path: Path) -> list[Any]:
    tasks = data if isinstance(data, list) else [data]
    records = [t for t in tasks if isinstance(t, dict)]
    if len(records) != len(tasks):
        raise ImportFormatError(f"{path}: expected Label Studio's JSON export (a list of task objects); export JSON from Label Studio")
    if records and not any("data" in t for t in records):
        if any(k in t for t in records for k in ("annotation_id", "annotator", "lead_time")):
            raise ImportFormatError(
                f"{path} is Label Studio's JSON_MIN export, which keeps one flat record per annotation with no "
                "ground-truth mark and no way to keep the task's other annotations apart: export JSON, not JSON_MIN "
                "(Export -> JSON), and import that"
            )
        raise ImportFormatError(
            f"{path}: no item has a `data` object, so this is not Label Studio's JSON export; export JSON from "
            "Label Studio (JSON_MIN, CSV and TSV lose what an import needs)"
        )
    return records


def import_tasks(
    path: Path,
    offsets: OffsetMode = "auto",
    rule: AnnotationRule = "ground-truth",
    mapping: LabelMapping = DEFAULT_MAPPING,
) -> tuple[list[Document], ConversionReport]:
    """Documents from the tasks' chosen annotations; `mapping` reads a project's own names back."""
    tasks = _refuse_other_exports(json.loads(Path(path).read_text(encoding="utf-8")), path)
    ours = {theirs: label for label, theirs in mapping.labels.items()}
    report = ConversionReport()
    docs = []
    for n, task in enumerate(tasks):
        data = task.get("data") or {}
        where = f"task {task.get('id', n)}"
        text = data.get(mapping.text_field)
        if not isinstance(text, str):
            report.skipped.append(Skipped(where, f"with no text in data.{mapping.text_field}"))
            continue
        doc_id = str(data.get("doc_id") or f"ls-{task.get('id', n)}")
        annotations = task.get("annotations") or []
        annotation, others = pick_annotation(annotations, rule)
        if annotation is None:
            reason = "with only cancelled (skipped) annotations" if annotations else "with no annotation"
            report.skipped.append(Skipped(f"{where} ({doc_id})", reason))
            continue
        if others:
            report.dropped.append(
                f"{where} ({doc_id}): kept annotation {_describe(annotation)} by the {rule} rule; dropped "
                + ", ".join(_describe(a) for a in others)
            )
        raw_spans = []
        for r in annotation.get("result") or []:
            if r.get("type") != "labels":
                continue
            value = r.get("value", {})
            for label in value.get("labels", []):
                place = _resolve_offsets(text, value, offsets)
                if place is None:
                    report.problems.append(
                        f"{doc_id}: region {value.get('start')}-{value.get('end')} {label}: its text "
                        f"{value.get('text')!r} matches neither code-point nor UTF-16 offsets; fix it in Label Studio"
                    )
                    continue
                raw_spans.append((place[0], place[1], ours.get(label, label)))
        flat = [o for s, e, _ in raw_spans for o in (s, e)]
        nfc_text, moved = nfc_with_offsets(text, flat)
        spans = [Span(start=moved[2 * i], end=moved[2 * i + 1], label=lab) for i, (_, _, lab) in enumerate(raw_spans)]
        meta = dict(data.get("meta") or {})
        meta.setdefault("source", "labelstudio")
        docs.append(Document(id=doc_id, text=nfc_text, spans=spans, meta=meta).with_span_texts())
        report.documents += 1
        report.spans += len(spans)
        report.empty += 0 if spans else 1
    return docs, report
