"""`chitieu annotations` end to end on a temporary corpus."""

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from chitieu.cli import app
from chitieu.corpus import read_documents, read_splits
from chitieu.paths import annotations_dir

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
runner = CliRunner()


def corpus_copy(tmp_path):
    target = tmp_path / "ann"
    target.mkdir()
    for name in ("corpus.jsonl", "splits.json"):
        shutil.copy(annotations_dir() / name, target / name)
    return target


def test_stats_json_meets_the_corpus_targets():
    result = runner.invoke(app, ["annotations", "stats", "--json"])
    assert result.exit_code == 0
    stats = json.loads(result.stdout)
    assert stats["documents"] >= 65
    assert stats["spans"]["TARGET_VALUE"] >= 150 and stats["spans"]["INDICATOR"] >= 150
    for split in stats["splits"].values():
        assert all(count > 0 for count in split["spans"].values()), "every label in every split"


def test_import_merges_assigns_splits_and_refuses_clashes(tmp_path):
    corpus = corpus_copy(tmp_path)
    before = len(read_documents(corpus / "corpus.jsonl"))
    args = ["annotations", "import", str(FIXTURES / "doccano_entities.jsonl"), "--format", "doccano", "--into", str(corpus)]
    assert runner.invoke(app, args).exit_code == 0
    docs = read_documents(corpus / "corpus.jsonl")
    assert len(docs) == before + 1
    assert any("8" in ids for ids in read_splits(corpus).values())
    clash = runner.invoke(app, args)
    assert clash.exit_code == 1 and "--replace" in clash.stderr
    assert runner.invoke(app, args + ["--replace"]).exit_code == 0
    assert runner.invoke(app, ["annotations", "validate", str(corpus)]).exit_code == 0


def test_new_documents_can_go_to_train_leaving_dev_and_test_alone(tmp_path):
    corpus = corpus_copy(tmp_path)
    before = read_splits(corpus)
    args = ["annotations", "import", str(FIXTURES / "doccano_entities.jsonl"), "--format", "doccano", "--into", str(corpus)]
    assert runner.invoke(app, args + ["--to", "holdout"]).exit_code == 2
    assert runner.invoke(app, args + ["--to", "train"]).exit_code == 0
    after = read_splits(corpus)
    assert after["dev"] == before["dev"] and after["test"] == before["test"]
    assert set(after["train"]) - set(before["train"]) == {"8"}
    assert runner.invoke(app, ["annotations", "split", str(corpus), "--to", "train"]).exit_code == 0
    assert read_splits(corpus) == after, "documents that have a split keep it"


def test_import_refuses_documents_that_break_the_rules(tmp_path):
    corpus = corpus_copy(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": 9, "text": "Long An đạt 8%", "label": [[0, 8, "PROVINCE"]]}, ensure_ascii=False) + "\n")
    result = runner.invoke(app, ["annotations", "import", str(bad), "--format", "doccano", "--into", str(corpus)])
    assert result.exit_code == 1 and "white space" in result.stderr and "nothing imported" in result.stderr


def test_export_then_import_labelstudio_round_trip_through_the_cli(tmp_path):
    out = tmp_path / "ls.json"
    assert runner.invoke(app, ["annotations", "export", "--format", "labelstudio", "--out", str(out), "--split", "test"]).exit_code == 0
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    assert runner.invoke(app, ["annotations", "import", str(out), "--format", "labelstudio", "--into", str(fresh)]).exit_code == 0
    exported = {t["data"]["doc_id"] for t in json.loads(out.read_text())}
    assert {d.id for d in read_documents(fresh / "corpus.jsonl")} == exported


def test_preannotate_with_rules_writes_label_studio_tasks(tmp_path):
    article = tmp_path / "a.txt"
    article.write_text("Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị phấn đấu đạt mức tăng trưởng GRDP từ 9,3% trở lên.", encoding="utf-8")
    out = tmp_path / "tasks.json"
    result = runner.invoke(app, ["annotations", "preannotate", str(article), "--out", str(out), "--rules"])
    assert result.exit_code == 0, result.stderr
    (task,) = json.loads(out.read_text())
    regions = task["predictions"][0]["result"]
    text = task["data"]["text"]
    assert {(r["value"]["text"], r["value"]["labels"][0]) for r in regions} >= {("Bến Tre", "PROVINCE"), ("Lê Đức Thọ", "OFFICIAL")}
    assert all(text[r["value"]["start"] : r["value"]["end"]] == r["value"]["text"] for r in regions)
    assert task["predictions"][0]["model_version"] == "chitieu-rules"
