"""The committed default model, through `chitieu extract`, on the seed articles."""

import json

import pytest
from typer.testing import CliRunner

from chitieu.annotate.corpus import load_corpus
from chitieu.cli import app
from chitieu.encoders.loader import E5_LICENCE
from chitieu.model_folder import read_meta
from chitieu.paths import annotations_dir


@pytest.fixture(scope="module")
def seed_results(default_model_dir, tmp_path_factory):
    folder = tmp_path_factory.mktemp("seeds")
    seeds = {d.id: d for d in load_corpus(annotations_dir()) if d.id.startswith("seed-")}
    paths = []
    for doc_id, doc in seeds.items():
        path = folder / f"{doc_id}.txt"
        path.write_text(doc.text, encoding="utf-8")
        paths.append(str(path))
    result = CliRunner().invoke(app, ["extract", *paths, "--format", "jsonl", "--device", "cpu"])
    assert result.exit_code == 0, result.stderr
    return {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}


def test_ben_tre_growth_target(seed_results):
    targets = seed_results["seed-000"]["targets"]
    assert any(
        t["province"] and t["province"]["name"] == "Bến Tre" and t["province"]["code"] == "83"
        and t["official"] and t["official"]["name"] == "Lê Đức Thọ"
        and t["indicator"] and "tăng trưởng GRDP" in t["indicator"]["text"]
        and (t["value"]["comparator"], t["value"]["number"], t["value"]["unit"]) == (">=", 9.3, "%")
        for t in targets
    ), targets


def test_tra_vinh_targets_have_no_province(seed_results):
    """What any decent retrain keeps (the count of targets is not): the article's main
    figures are found and no province is assumed for them (the article names none)."""
    targets = seed_results["seed-004"]["targets"]
    assert targets and all(t["province"] is None for t in targets)
    assert {t["value"]["number"] for t in targets} >= {8.5, 88_000_000, 34_000_000_000_000, 520, 23_000}


def test_default_model_card_records_its_metrics(default_model_dir):
    meta = read_meta(default_model_dir)
    # e5-small, or a base `chitieu base adapt` continued from it: the same weights' lineage and licence.
    base = meta["base"]
    assert base["kind"] == "e5" and base["licence"] == E5_LICENCE
    assert base["name"] == "e5-small" or "adapted" in base["build"], base
    assert base["build"]["source_sha256"], "the e5 build stamp says which weights the tagger derives from"
    assert meta["metrics"]["test"]["micro_f1"] > 0
    size = sum(p.stat().st_size for p in default_model_dir.rglob("*") if p.is_file())
    assert size <= 64 * 1024 * 1024, f"the committed model is {size / 2**20:.1f} MiB"


def test_evaluate_writes_both_report_files_for_the_default_model(default_model_dir, tmp_path):
    # Three test documents, not the whole split: this checks the command, not the figures
    # (those are in the model's committed report).
    from chitieu.annotate.corpus import write_documents

    docs = load_corpus(annotations_dir(), "test")[:3]
    corpus = tmp_path / "corpus"
    write_documents(docs, corpus / "corpus.jsonl")
    (corpus / "splits.json").write_text(json.dumps({"train": [], "dev": [], "test": [d.id for d in docs]}))
    out = tmp_path / "report"
    args = ["evaluate", str(default_model_dir), "--split", "test", "--annotations", str(corpus), "--report", str(out), "--no-baselines"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stdout + result.stderr
    report = json.loads((out / "report.json").read_text())
    (system,) = report["splits"]["test"]["systems"]
    strict = system["metrics"]["strict"]
    assert set(strict["per_label"]) == {"PROVINCE", "OFFICIAL", "INDICATOR", "TARGET_VALUE"}
    assert 0 < strict["micro"]["f1"] <= 1 and "f1" in system["metrics"]["tuples"]["with_official"]
    html = (out / "report.html").read_text()
    assert "<html" in html and "TARGET_VALUE" in html
