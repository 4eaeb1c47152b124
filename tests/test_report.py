"""report.json / report.html, and the evaluate command driven by a fake extractor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from chitieu.annotate.corpus import Document, Span, write_documents
from chitieu.evaluate import cli as evaluate_cli
from chitieu.evaluate.metrics import compare, evaluate_predictions, gold_entities, linked
from chitieu.evaluate.report import Marked, build_report, highlight, write_report

TEXT = "Bến Tre <script>alert(1)</script> & Co: Chủ tịch Trần Ngọc Tam nói tăng trưởng GRDP đạt từ 9,3% trở lên."


def _doc(doc_id: str = "d<1>") -> Document:
    spans = []
    for piece, label in (("Bến Tre", "PROVINCE"), ("Trần Ngọc Tam", "OFFICIAL"), ("tăng trưởng GRDP", "INDICATOR"), ("từ 9,3% trở lên", "TARGET_VALUE")):
        start = TEXT.index(piece)
        spans.append(Span(start=start, end=start + len(piece), label=label))
    return Document(id=doc_id, text=TEXT, spans=spans)


def _system(name: str, docs: list[Document], entities: list[list[dict]], **extra: Any) -> dict:
    return {
        "name": name,
        "kind": "model",
        "model": {"name": name, "version": "1", "base": "fake", "train_documents": extra.get("train_documents")},
        "note": extra.get("note"),
        "labels": ["PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE"],
        "seconds": 0.1,
        "metrics": evaluate_predictions(docs, [{"entities": e} for e in entities]),
    }


def test_report_files_sections_and_escaping(tmp_path: Path) -> None:
    docs = [_doc()]
    gold = [e.model_dump() for e in gold_entities(docs[0])]
    script = TEXT.index("<script>")
    worse = [e for e in gold if e["label"] != "OFFICIAL"] + [
        {"start": script, "end": script + 8, "label": "PROVINCE", "text": "<script>", "score": 0.5}
    ]
    a = _system("model <A>", docs, [worse], note="a note with <b>tags</b>")
    b = _system("model-b", docs, [gold])
    section = {"documents": 1, "systems": [a, b], "compare": compare(a["metrics"], b["metrics"])}
    curve = [
        {"model": "m1", "split": "test", "train_documents": 10, "micro_f1": 0.4, "per_label_f1": {"PROVINCE": 0.5}},
        {"model": "m2", "split": "test", "train_documents": 40, "micro_f1": 0.7, "per_label_f1": {"PROVINCE": 0.8}},
    ]
    report = build_report({"test": section}, annotations="annotations", data_hash="abc123", curve=curve, command="chitieu evaluate")
    json_path, html_path = write_report(report, tmp_path / "out", {docs[0].id: TEXT})

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["data_hash"] == "abc123"
    assert data["splits"]["test"]["systems"][1]["metrics"]["strict"]["micro"]["f1"] == 1.0
    assert data["splits"]["test"]["compare"]["per_label"]["OFFICIAL"]["strict"]["f1"]["diff"] == 1.0
    assert "tuples" in data["definitions"]

    page = html_path.read_text(encoding="utf-8")
    for heading in ("Span scores per label", "Tuples and normalisation", "Comparison (B − A)", "Label confusion",
                    "Errors per document", "F1 against training size", "Definitions"):
        assert heading in page
    assert page.count("data:image/png;base64,") == 3  # bars, confusion, curve
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "model &lt;A&gt;" in page and "&lt;b&gt;tags&lt;/b&gt;" in page
    assert "d&lt;1&gt;" in page  # the document id
    assert 'class="e missed"' in page and 'class="e spurious"' in page
    assert "tuple" in page and "Trần Ngọc Tam" in page


def test_highlight_wraps_spans_and_escapes_the_rest() -> None:
    text = "a <b> Bến Tre & c"
    out = highlight(text, [Marked(6, 13, "PROVINCE", "missed")])
    assert out.startswith("a &lt;b&gt; <span class=\"e missed\"")
    assert out.endswith(">Bến Tre</span> &amp; c")


# ---------------------------------------------------------------- the command


class FakeExtractor:
    """Answers with the gold spans of each document, less the labels it is told to drop."""

    def __init__(self, name: str, gold: dict[str, Document], drop: tuple[str, ...] = (), train_documents: int | None = None) -> None:
        self.gold = gold
        self.drop = drop
        self.meta = {"name": name, "version": "0.0.1", "base": {"name": "fake"}, "train_documents": train_documents}
        self.info = {"name": name, "version": "0.0.1", "base": "fake"}

    def extract_many(self, docs: list[tuple[str | None, str]]) -> list[dict]:
        out = []
        for doc_id, text in docs:
            entities = [e for e in gold_entities(self.gold[doc_id]) if e.label not in self.drop]
            targets = [t.model_dump() for t in linked(text, entities)]
            out.append({"id": doc_id, "entities": [e.model_dump() for e in entities], "targets": targets})
        return out


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    directory = tmp_path / "annotations"
    docs = [_doc("t1"), _doc("t2"), _doc("d1")]
    write_documents(docs, directory / "corpus.jsonl")
    (directory / "splits.json").write_text(json.dumps({"train": [], "dev": ["d1"], "test": ["t1", "t2"]}), encoding="utf-8")
    return directory


def _model_folder(root: Path, name: str, train_documents: int | None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "chitieu.json").write_text(json.dumps({"name": name, "train_documents": train_documents}), encoding="utf-8")
    return folder


def test_evaluate_command_with_fake_models(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chitieu.annotate.corpus import load_corpus

    gold = {d.id: d for d in load_corpus(corpus)}
    models = tmp_path / "models"
    fakes = {
        "good": FakeExtractor("good", gold, train_documents=40),
        "weak": FakeExtractor("weak", gold, drop=("OFFICIAL",), train_documents=10),
        "small": FakeExtractor("small", gold, drop=("OFFICIAL", "INDICATOR"), train_documents=5),
        "unknown": FakeExtractor("unknown", gold),  # no train_documents: left out of the curve
    }
    for name, fake in fakes.items():
        _model_folder(models, name, fake.meta["train_documents"])
    monkeypatch.setenv("CHITIEU_MODELS_DIR", str(models))
    monkeypatch.setattr(evaluate_cli, "load_extractor", lambda folder: fakes[Path(folder).name])

    out = tmp_path / "report"
    result = CliRunner().invoke(
        evaluate_cli.app,
        ["--compare", "weak", "good", "--annotations", str(corpus), "--report", str(out), "--no-baselines",
         "--models-for-curve", "small,unknown", "--models-for-curve", "good"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    section = data["splits"]["test"]
    assert section["documents"] == 2
    assert [s["name"] for s in section["systems"]] == ["weak", "good"]
    assert section["compare"]["per_label"]["OFFICIAL"]["strict"]["f1"] == {"a": 0.0, "b": 1.0, "diff": 1.0}
    assert section["compare"]["per_label"]["PROVINCE"]["strict"]["f1"]["diff"] == 0.0
    interval = section["compare"]["bootstrap"]["OFFICIAL"]
    assert interval["diff"] == 1.0 and interval["low"] == 1.0 and interval["b_better"] == 1.0
    assert "95% interval" in (out / "report.html").read_text(encoding="utf-8") and "95% interval" in result.output
    groups = section["systems"][0]["metrics"]["groups"]
    assert sum(next(iter(g.values()))["documents"] for g in groups.values()) == 2
    assert "By document group" in (out / "report.html").read_text(encoding="utf-8")
    assert sorted((p["train_documents"], p["model"]) for p in data["curve"]) == [(5, "small"), (10, "weak"), (40, "good")]
    assert "F1 against training size" in (out / "report.html").read_text(encoding="utf-8")
    assert "report.html" in result.output and (out / "report.html").exists()


def test_evaluate_command_single_model_default_report_dir(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chitieu.annotate.corpus import load_corpus

    gold = {d.id: d for d in load_corpus(corpus)}
    models = tmp_path / "models"
    folder = _model_folder(models, "only", None)
    (models / "PROMOTED").write_text("only\n", encoding="utf-8")
    monkeypatch.setenv("CHITIEU_MODELS_DIR", str(models))
    monkeypatch.setattr(evaluate_cli, "load_extractor", lambda f: FakeExtractor("only", gold))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(evaluate_cli.app, ["--annotations", str(corpus), "--split", "dev", "--no-baselines"])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "reports" / "only-dev" / "report.json").read_text(encoding="utf-8"))
    system = data["splits"]["dev"]["systems"][0]
    assert system["model"]["folder"] == str(folder)
    assert system["metrics"]["tuples"]["with_official"]["f1"] == 1.0
    assert data["curve"] is None


def test_evaluate_command_without_a_model_says_what_to_do(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHITIEU_MODELS_DIR", str(tmp_path / "empty"))
    result = CliRunner().invoke(evaluate_cli.app, ["--annotations", str(corpus)])
    assert result.exit_code == 2
    assert "chitieu train" in result.output


def test_evaluate_record_writes_the_test_figures_into_the_model_folder(tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from chitieu.annotate.corpus import load_corpus
    from chitieu.model_folder import PIPELINE_VERSION

    gold = {d.id: d for d in load_corpus(corpus)}
    models = tmp_path / "models"
    folder = _model_folder(models, "weak", 3)
    monkeypatch.setenv("CHITIEU_MODELS_DIR", str(models))
    monkeypatch.setattr(evaluate_cli, "load_extractor", lambda f: FakeExtractor("weak", gold, drop=("OFFICIAL",)))
    args = ["weak", "--annotations", str(corpus), "--report", str(tmp_path / "r"), "--no-baselines", "--record"]
    result = CliRunner().invoke(evaluate_cli.app, args)
    assert result.exit_code == 0, result.output
    meta = json.loads((folder / "chitieu.json").read_text(encoding="utf-8"))
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    strict = report["splits"]["test"]["systems"][0]["metrics"]["strict"]
    assert meta["metrics"]["test"]["micro_f1"] == strict["micro"]["f1"] < 1.0
    assert meta["metrics"]["test"]["per_label_f1"]["OFFICIAL"] == 0.0
    assert meta["metrics_pipeline"] == PIPELINE_VERSION and meta["name"] == "weak"
