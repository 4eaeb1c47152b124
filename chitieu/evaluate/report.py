"""`report.json` and a self-contained `report.html` for one evaluation run.

The report dict (built by `build_report`, written as JSON) is the single source; the HTML
is rendered from it plus the article texts, so the two never disagree. Plots are PNGs
drawn with matplotlib's Agg backend and embedded as base64; no script, no external file.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from chitieu.evaluate.bootstrap import RESAMPLES
from chitieu.evaluate.groups import GROUP_MEASURES
from chitieu.evaluate.metrics import DEFINITIONS
from chitieu.files import write_text
from chitieu.labels import INDICATOR, LABELS, OFFICIAL, PROVINCE, TARGET_VALUE

LABEL_COLOURS = {PROVINCE: "#cfe8ff", OFFICIAL: "#e6dcff", INDICATOR: "#d4f5d4", TARGET_VALUE: "#fff0a8"}
MAX_DOCUMENTS_SHOWN = 60


def build_report(
    splits: Mapping[str, Mapping[str, Any]],
    *,
    annotations: str | None = None,
    data_hash: str | None = None,
    curve: Sequence[Mapping[str, Any]] | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """`splits[name]` = {"documents": n, "systems": [system, ...], "compare": ... | None}.

    A system is {"name", "kind" ("model" or "baseline"), "model" (info or None), "note",
    "labels", "seconds", "metrics" (chitieu.evaluate.metrics.evaluate_predictions)}; the first
    system of a split is the one whose errors the HTML shows.
    """
    return {
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "annotations": annotations,
        "data_hash": data_hash,
        "definitions": dict(DEFINITIONS),
        "splits": {name: dict(section) for name, section in splits.items()},
        "curve": list(curve) if curve else None,
    }


def write_report(report: Mapping[str, Any], directory: Path, texts: Mapping[str, str]) -> tuple[Path, Path]:
    """Write report.json and report.html into `directory`; `texts` maps document id to text."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "report.json"
    html_path = directory / "report.html"
    write_text(json_path, json.dumps(report, ensure_ascii=False, indent=1) + "\n")
    write_text(html_path, render_html(report, texts))
    return json_path, html_path


# ---------------------------------------------------------------- plots


def _png(fig: Any) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def f1_bar_chart(systems: Sequence[Mapping[str, Any]]) -> str:
    """Strict F1 per label, one bar per system; labels a system does not cover are left out."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    width = 0.8 / max(1, len(systems))
    for k, system in enumerate(systems):
        per_label = system["metrics"]["strict"]["per_label"]
        xs = [i + k * width for i, label in enumerate(LABELS) if label in per_label]
        ys = [per_label[label]["f1"] for label in LABELS if label in per_label]
        bars = ax.bar(xs, ys, width, label=system["name"])
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(LABELS))], LABELS)
    ax.set_ylim(0, 1.08)
    ax.set_ylabel("strict F1")
    ax.legend(fontsize=8, loc="upper right")
    return _png(fig)


def confusion_heatmap(confusion: Mapping[str, Any], title: str) -> str:
    plt = _pyplot()
    rows, cols = confusion["rows"], confusion["columns"]
    values = [[confusion["matrix"][r][c] for c in cols] for r in rows]
    fig, ax = plt.subplots(figsize=(1.3 * len(cols) + 1.5, 0.7 * len(rows) + 1.2))
    ax.imshow(values, cmap="Blues")
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title, fontsize=9)
    top = max((v for row in values for v in row), default=0)
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            ax.text(j, i, str(v), ha="center", va="center", color="white" if top and v > top / 2 else "black", fontsize=8)
    return _png(fig)


def curve_plot(points: Sequence[Mapping[str, Any]]) -> str:
    """Strict micro F1 and per-label F1 against the number of training documents."""
    plt = _pyplot()
    points = sorted(points, key=lambda p: p["train_documents"])
    xs = [p["train_documents"] for p in points]
    fig, ax = plt.subplots(figsize=(6.5, 3.4))
    ax.plot(xs, [p["micro_f1"] for p in points], marker="o", linewidth=2.2, label="micro", color="black")
    for label in LABELS:
        ys = [p["per_label_f1"].get(label) for p in points]
        if all(y is not None for y in ys):
            ax.plot(xs, ys, marker=".", linewidth=1, label=label)
    ax.set_xlabel("training documents")
    ax.set_ylabel("strict F1")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    return _png(fig)


# ---------------------------------------------------------------- html

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;max-width:1200px;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.25rem;border-bottom:1px solid #ccc;padding-bottom:.2rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;font-size:.9rem}
th{background:#f4f4f4}td.l,th.l{text-align:left}.pos{color:#137a13}.neg{color:#b00}.muted{color:#777;font-size:.85rem}
.defs li{margin:.3rem 0;font-size:.9rem}.note{background:#f8f8f8;border-left:3px solid #aaa;padding:.3rem .6rem;font-size:.9rem}
.doc{display:grid;grid-template-columns:1fr 1fr;gap:1rem}.text{white-space:pre-wrap;font-size:.88rem;line-height:1.6;border:1px solid #eee;padding:.5rem;max-height:36rem;overflow:auto}
.e{border-radius:3px;padding:0 1px}.missed{outline:2px solid #d00000}.spurious{outline:2px solid #ff8c00}
.boundary,.label{outline:2px dashed #7a3db8}.legend span{margin-right:.8rem;padding:0 .3rem}
details{margin:.4rem 0}summary{cursor:pointer;font-weight:600}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def _diff(value: float) -> str:
    css = "pos" if value > 0 else "neg" if value < 0 else ""
    return f'<td class="{css}">{value:+.3f}</td>'


def _img(data: str, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _summary_table(systems: Sequence[Mapping[str, Any]]) -> str:
    head = "".join(f'<th colspan="4">{_e(s["name"])}</th>' for s in systems)
    sub = "".join("<th>P</th><th>R</th><th>F1</th><th>lenient F1</th>" for _ in systems)
    rows = []
    for label in LABELS:
        support = next((s["metrics"]["strict"]["per_label"][label]["support"] for s in systems if label in s["metrics"]["strict"]["per_label"]), 0)
        cells = []
        for s in systems:
            strict = s["metrics"]["strict"]["per_label"].get(label)
            lenient = s["metrics"]["lenient"]["per_label"].get(label)
            if strict is None:
                cells.append('<td colspan="4" class="muted">not covered</td>')
            else:
                cells.append(f"<td>{_f(strict['precision'])}</td><td>{_f(strict['recall'])}</td><td><b>{_f(strict['f1'])}</b></td><td>{_f(lenient['f1'])}</td>")
        rows.append(f'<tr><td class="l">{_e(label)}</td><td>{support}</td>{"".join(cells)}</tr>')
    for avg in ("micro", "macro"):
        avg_cells = "".join(
            f"<td>{_f(s['metrics']['strict'][avg]['precision'])}</td><td>{_f(s['metrics']['strict'][avg]['recall'])}</td>"
            f"<td><b>{_f(s['metrics']['strict'][avg]['f1'])}</b></td><td>{_f(s['metrics']['lenient'][avg]['f1'])}</td>"
            for s in systems
        )
        rows.append(f'<tr><th class="l">{avg}</th><td></td>{avg_cells}</tr>')
    return (
        f'<table><tr><th class="l" rowspan="2">label</th><th rowspan="2">support</th>{head}</tr><tr>{sub}</tr>'
        + "".join(rows)
        + "</table>"
    )


def _tuple_table(systems: Sequence[Mapping[str, Any]]) -> str:
    rows = []
    for s in systems:
        tuples, norm = s["metrics"].get("tuples"), s["metrics"].get("normalisation")
        if not tuples:
            rows.append(f'<tr><td class="l">{_e(s["name"])}</td><td colspan="9" class="muted">no tuples (does not predict TARGET_VALUE)</td></tr>')
            continue
        w, wo = tuples["with_official"], tuples["without_official"]
        norm_cells = "".join(
            f"<td>{_f(norm[k]['accuracy'])} ({norm[k]['correct']}/{norm[k]['values']})</td>" for k in ("exact", "overlap")
        )
        rows.append(
            f'<tr><td class="l">{_e(s["name"])}</td><td>{w["support"]}</td><td>{w["predicted"]}</td>'
            f"<td>{_f(w['precision'])}</td><td>{_f(w['recall'])}</td><td><b>{_f(w['f1'])}</b></td><td>{_f(wo['f1'])}</td><td>{_f(tuples['lenient']['f1']) if 'lenient' in tuples else '–'}</td>{norm_cells}</tr>"
        )
    return (
        '<table><tr><th class="l">system</th><th>gold</th><th>predicted</th><th>P</th><th>R</th><th>F1</th>'
        "<th>F1 without official</th><th>F1 lenient</th><th>normalisation, exact spans</th><th>normalisation, overlapping spans</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _compare_table(comparison: Mapping[str, Any], names: tuple[str, str]) -> str:
    a, b = (_e(n) for n in names)
    rows = []
    entries = [(label, v) for label, v in comparison["per_label"].items()]
    entries += [("micro", comparison["micro"]), ("macro", comparison["macro"])]
    for name, v in entries:
        s, l = v["strict"]["f1"], v["lenient"]["f1"]
        rows.append(
            f'<tr><td class="l">{_e(name)}</td><td>{_f(s["a"])}</td><td>{_f(s["b"])}</td>{_diff(s["diff"])}'
            f'<td>{_f(l["a"])}</td><td>{_f(l["b"])}</td>{_diff(l["diff"])}</tr>'
        )
    if comparison.get("tuples"):
        t = comparison["tuples"]["with_official"]["f1"]
        rows.append(f'<tr><td class="l">tuples</td><td>{_f(t["a"])}</td><td>{_f(t["b"])}</td>{_diff(t["diff"])}<td></td><td></td><td></td></tr>')
    table = (
        f'<table><tr><th class="l">label</th><th>strict F1 A<br>{a}</th><th>strict F1 B<br>{b}</th><th>B − A</th>'
        f"<th>lenient F1 A</th><th>lenient F1 B</th><th>B − A</th></tr>" + "".join(rows) + "</table>"
    )
    if not comparison.get("bootstrap"):
        return table
    intervals = "".join(
        f'<tr><td class="l">{_e(name)}</td>{_diff(v["diff"])}<td>{v["low"]:+.3f} to {v["high"]:+.3f}</td><td>{v["b_better"]:.1%}</td></tr>'
        for name, v in comparison["bootstrap"].items()
    )
    return table + (
        "<p>Strict B − A over documents resampled with replacement (paired bootstrap, "
        f"{RESAMPLES:,} resamples): an interval that spans 0 is a difference this split cannot tell from luck.</p>"
        '<table><tr><th class="l">measure</th><th>B − A</th><th>95% interval</th><th>resamples where B is higher</th></tr>'
        + intervals
        + "</table>"
    )


def _groups_table(groups: Mapping[str, Any]) -> str:
    rows = []
    for group, scores in groups.items():
        cells = "".join(
            f"<td>{_f(scores[m]['f1'])} <span class=muted>({scores[m]['gold']})</span></td>" if m in scores else "<td>–</td>"
            for m in GROUP_MEASURES
        )
        documents = next(iter(scores.values()))["documents"] if scores else 0
        rows.append(f'<tr><td class="l">{_e(group)}</td><td>{documents}</td>{cells}</tr>')
    head = "".join(f"<th>{_e(m)}</th>" for m in GROUP_MEASURES)
    return (
        "<p>Strict F1 (gold count in brackets) of the documents of each source or annotation round.</p>"
        f'<table><tr><th class="l">group</th><th>documents</th>{head}</tr>' + "".join(rows) + "</table>"
    )


@dataclass(frozen=True)
class Marked:
    """A span to colour in a document: its label, and `status` (missed, spurious, boundary,
    label; empty when correct), which adds an outline."""

    start: int
    end: int
    label: str
    status: str = ""

    @classmethod
    def from_brief(cls, brief: Mapping[str, Any], status: str) -> "Marked":
        """From a span of `metrics.document_errors` in its JSON form (`{start, end, label, text}`)."""
        return cls(brief["start"], brief["end"], brief["label"], status)


def highlight(text: str, spans: Sequence[Marked]) -> str:
    """The text with each span in a coloured, titled <span>; `spans` must not overlap."""
    out, pos = [], 0
    for s in sorted(spans, key=lambda s: s.start):
        if s.start < pos:
            continue
        out.append(_e(text[pos : s.start]))
        colour = LABEL_COLOURS.get(s.label, "#eee")
        title = f"{s.label} {s.status}".strip()
        out.append(f'<span class="e {_e(s.status)}" style="background:{colour}" title="{_e(title)}">{_e(text[s.start:s.end])}</span>')
        pos = s.end
    out.append(_e(text[pos:]))
    return "".join(out)


def _document_spans(errors: Mapping[str, Any]) -> tuple[list[Marked], list[Marked]]:
    """The gold and the predicted spans of one document's errors (read from the report), each once."""
    gold: dict[tuple[int, int, str], Marked] = {}
    predicted: dict[tuple[int, int, str], Marked] = {}

    def key(e: Mapping[str, Any]) -> tuple[int, int, str]:
        return e["start"], e["end"], e["label"]

    for e in errors["correct"]:
        gold[key(e)] = predicted[key(e)] = Marked.from_brief(e, "")
    for kind in ("boundary", "label"):
        for pair in errors[kind]:
            g, p = pair["gold"], pair["predicted"]
            gold.setdefault(key(g), Marked.from_brief(g, kind))
            predicted.setdefault(key(p), Marked.from_brief(p, kind))
    for e in errors["missed"]:
        gold[key(e)] = Marked.from_brief(e, "missed")
    for e in errors["spurious"]:
        predicted[key(e)] = Marked.from_brief(e, "spurious")
    return list(gold.values()), list(predicted.values())


def _error_list(errors: Mapping[str, Any]) -> str:
    items = []
    for e in errors["missed"]:
        items.append(f"<li><b>missed</b> {_e(e['label'])} «{_e(e['text'])}»</li>")
    for e in errors["spurious"]:
        items.append(f"<li><b>spurious</b> {_e(e['label'])} «{_e(e['text'])}»</li>")
    for kind in ("boundary", "label"):
        for pair in errors[kind]:
            g, p = pair["gold"], pair["predicted"]
            items.append(
                f"<li><b>{kind}</b> gold {_e(g['label'])} «{_e(g['text'])}» vs predicted {_e(p['label'])} «{_e(p['text'])}»</li>"
            )
    for kind in ("missed_tuples", "spurious_tuples"):
        for t in errors.get(kind, []):
            items.append(
                f"<li><b>{kind.replace('_', ' ')[:-1]}</b> indicator «{_e(t['indicator'] or '—')}», value «{_e(t['value'])}», "
                f"province {_e(t['province'] or '—')}, official {_e(t['official'] or '—')}</li>"
            )
    return "<ul>" + "".join(items) + "</ul>"


def _documents_section(errors: Sequence[Mapping[str, Any]], texts: Mapping[str, str]) -> str:
    with_errors = sorted((e for e in errors if e["errors"]), key=lambda e: -e["errors"])
    legend = (
        '<p class="legend">'
        + "".join(f'<span style="background:{c}">{_e(label)}</span>' for label, c in LABEL_COLOURS.items())
        + '<span class="missed">missed (gold only)</span><span class="spurious">spurious (predicted only)</span>'
        + '<span class="boundary">boundary or label error</span></p>'
    )
    parts = [legend, f"<p>{len(with_errors)} of {len(errors)} documents have errors; most errors first.</p>"]
    for errs in with_errors[:MAX_DOCUMENTS_SHOWN]:
        text = texts.get(errs["id"])
        counts = ", ".join(f"{len(errs[k])} {k}" for k in ("missed", "spurious", "boundary", "label", "missed_tuples", "spurious_tuples") if errs.get(k))
        body = _error_list(errs)
        if text is not None:
            gold, predicted = _document_spans(errs)
            body += (
                f'<div class="doc"><div><h4>gold</h4><div class="text">{highlight(text, gold)}</div></div>'
                f'<div><h4>predicted</h4><div class="text">{highlight(text, predicted)}</div></div></div>'
            )
        parts.append(f"<details><summary>{_e(errs['id'])}: {errs['errors']} errors ({_e(counts)})</summary>{body}</details>")
    if len(with_errors) > MAX_DOCUMENTS_SHOWN:
        parts.append(f"<p class=muted>{len(with_errors) - MAX_DOCUMENTS_SHOWN} more documents with errors are in report.json.</p>")
    return "".join(parts)


def _system_notes(systems: Sequence[Mapping[str, Any]]) -> str:
    items = []
    for s in systems:
        model = s.get("model") or {}
        facts = [f"{s['kind']}", f"labels: {', '.join(s['labels'])}"]
        if model:
            facts.append(f"version {model.get('version')}, base {model.get('base')}")
            if model.get("engine"):
                facts.append(f"engine {model['engine']}")
            if model.get("train_documents") is not None:
                facts.append(f"{model['train_documents']} training documents")
            if model.get("data_hash"):
                facts.append(f"trained on data {model['data_hash']}")
        if s.get("seconds") is not None:
            facts.append(f"{s['seconds']:.1f} s to predict")
        if s["metrics"].get("dropped_overlapping_predictions"):
            facts.append(f"{s['metrics']['dropped_overlapping_predictions']} overlapping predictions dropped")
        note = f"<br>{_e(s['note'])}" if s.get("note") else ""
        items.append(f"<li><b>{_e(s['name'])}</b>: {_e('; '.join(facts))}{note}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def render_html(report: Mapping[str, Any], texts: Mapping[str, str]) -> str:
    names = [s["name"] for section in report["splits"].values() for s in section["systems"][:1]]
    title = f"chitieu evaluation: {', '.join(names)}"
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f"<p class='muted'>created {_e(report['created'])}; annotations {_e(report.get('annotations'))}; "
        f"data hash {_e(report.get('data_hash'))}; command <code>{_e(report.get('command'))}</code></p>",
    ]
    for split, section in report["splits"].items():
        systems = section["systems"]
        main = systems[0]
        parts.append(f"<h2 id='split-{_e(split)}'>Split {_e(split)} ({section['documents']} documents)</h2>")
        parts.append("<h3>Systems</h3>" + _system_notes(systems))
        parts.append("<h3>Span scores per label</h3>" + _summary_table(systems))
        parts.append(_img(f1_bar_chart(systems), f"strict F1 per label, split {split}"))
        parts.append("<h3>Tuples and normalisation</h3>" + _tuple_table(systems))
        if section.get("compare"):
            parts.append("<h3>Comparison (B − A)</h3>" + _compare_table(section["compare"], (systems[0]["name"], systems[1]["name"])))
        if main["metrics"].get("groups"):
            parts.append(f"<h3>By document group ({_e(main['name'])})</h3>" + _groups_table(main["metrics"]["groups"]))
        parts.append("<h3>Label confusion</h3>")
        parts.append(_img(confusion_heatmap(main["metrics"]["confusion"], f"{main['name']} on {split}"), "confusion matrix"))
        parts.append(f"<h3>Errors per document ({_e(main['name'])})</h3>")
        parts.append(_documents_section(main["metrics"]["errors"], texts))
    if report.get("curve") and len(report["curve"]) >= 2:
        parts.append("<h2>F1 against training size</h2>")
        parts.append(_img(curve_plot(report["curve"]), "F1 against training documents"))
        rows = "".join(
            f'<tr><td class="l">{_e(p["model"])}</td><td>{_e(p["split"])}</td><td>{p["train_documents"]}</td><td>{_f(p["micro_f1"])}</td></tr>'
            for p in sorted(report["curve"], key=lambda p: p["train_documents"])
        )
        parts.append(f"<table><tr><th class='l'>model</th><th>split</th><th>training documents</th><th>micro F1</th></tr>{rows}</table>")
    parts.append("<h2>Definitions</h2><ul class='defs'>")
    parts += [f"<li><b>{_e(k)}</b>: {_e(v)}</li>" for k, v in report["definitions"].items()]
    parts.append("</ul></body></html>")
    return "\n".join(parts)
