import json

from typer.testing import CliRunner

from chitieu.cli import app
from chitieu.model_folder import read_promoted


def fake_model(root, name, f1):
    folder = root / name
    folder.mkdir()
    meta = {"name": name, "base": {"name": "e5-small"}, "data_hash": "abc", "created": "2026-11-22", "metrics": {"test": {"micro_f1": f1}}}
    (folder / "chitieu.json").write_text(json.dumps(meta))


def test_promote_refuses_a_worse_model_unless_forced(tmp_path):
    fake_model(tmp_path, "good", 0.9)
    fake_model(tmp_path, "worse", 0.8)
    runner = CliRunner()
    assert runner.invoke(app, ["models", "promote", "good", "--dir", str(tmp_path)]).exit_code == 0
    refused = runner.invoke(app, ["models", "promote", "worse", "--dir", str(tmp_path)])
    assert refused.exit_code == 1 and "--force" in refused.stdout
    assert read_promoted(tmp_path).name == "good"
    assert runner.invoke(app, ["models", "promote", "worse", "--dir", str(tmp_path), "--force"]).exit_code == 0
    assert read_promoted(tmp_path).name == "worse"
    assert not list(tmp_path.glob("*.tmp")), "the pointer is replaced atomically"


def test_list_shows_every_model_and_marks_the_promoted_one(tmp_path):
    fake_model(tmp_path, "a", 0.5)
    fake_model(tmp_path, "b", None)
    CliRunner().invoke(app, ["models", "promote", "a", "--dir", str(tmp_path)])
    out = CliRunner().invoke(app, ["models", "list", "--dir", str(tmp_path)], env={"COLUMNS": "200"}).stdout
    assert "* │ a" in out.replace("┃", "│") or "*" in out.split("a")[0]
    assert "0.5000" in out and " b " in out


def test_unknown_model_says_how_to_list(tmp_path):
    result = CliRunner().invoke(app, ["models", "promote", "nope", "--dir", str(tmp_path)])
    assert result.exit_code == 1 and "chitieu models list" in result.stdout


def test_fit_goals_writes_a_classifier_into_an_existing_model_folder(tmp_path):
    from chitieu.annotate.corpus import Document, Span, write_documents
    from chitieu.extract.goal_classifier import GoalClassifier
    from chitieu.extract.goals import value_candidates

    texts = ["Tỉnh phấn đấu thu 6.000 tỷ đồng.", "Năm 2023, tỉnh ước đạt 5.000 tỷ đồng."]
    (goal,) = value_candidates(texts[0])
    docs = [Document(id="a", text=texts[0], spans=[Span(start=goal.start, end=goal.end, label="TARGET_VALUE")]),
            Document(id="b", text=texts[1], spans=[])]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_documents(docs, corpus / "corpus.jsonl")
    (corpus / "splits.json").write_text(json.dumps({"train": ["a", "b"], "dev": [], "test": []}))
    fake_model(tmp_path, "m", 0.9)
    runner = CliRunner()
    args = ["models", "fit-goals", "m", "--dir", str(tmp_path), "--annotations", str(corpus), "--split", "train"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stdout
    assert "trained on data abc" in result.stdout, "a corpus other than the model's is pointed out"
    fitted = GoalClassifier.load(tmp_path / "m")
    assert fitted.trained_on["documents"] == 2 and fitted.trained_on["split"] == "train"
    meta = json.loads((tmp_path / "m" / "chitieu.json").read_text())
    assert meta["goal_classifier"] == fitted.trained_on and meta["metrics"]["test"]["micro_f1"] == 0.9
    (corpus / "splits.json").write_text(json.dumps({"train": ["a"], "dev": ["b"], "test": []}))
    only_goals = runner.invoke(app, args)
    assert only_goals.exit_code == 2 and "annotate more documents" in only_goals.stdout
    missing = runner.invoke(app, ["models", "fit-goals", "nope", "--dir", str(tmp_path)])
    assert missing.exit_code == 1 and "chitieu models list" in missing.stdout


def test_promote_refuses_figures_measured_with_another_pipeline(tmp_path):
    from chitieu.model_folder import PIPELINE_VERSION

    fake_model(tmp_path, "old", 0.8)  # no stamp: measured before the pipeline was versioned
    fake_model(tmp_path, "new", 0.9)
    meta = json.loads((tmp_path / "new" / "chitieu.json").read_text())
    (tmp_path / "new" / "chitieu.json").write_text(json.dumps({**meta, "metrics_pipeline": PIPELINE_VERSION}))
    runner = CliRunner()
    assert runner.invoke(app, ["models", "promote", "old", "--dir", str(tmp_path)]).exit_code == 0
    refused = runner.invoke(app, ["models", "promote", "new", "--dir", str(tmp_path)])
    assert refused.exit_code == 1 and "`chitieu models measure old`" in refused.stdout
    assert "measure new" not in refused.stdout, "only the stale model needs re-measuring"
    assert read_promoted(tmp_path).name == "old"
    listed = runner.invoke(app, ["models", "list", "--dir", str(tmp_path)], env={"COLUMNS": "250"}).stdout
    assert "old: `chitieu models measure`" in listed
    assert runner.invoke(app, ["models", "promote", "new", "--dir", str(tmp_path), "--force"]).exit_code == 0


def test_fit_goals_as_a_new_version_leaves_the_old_folder_untouched(tmp_path):
    from chitieu.annotate.corpus import Document, Span, write_documents
    from chitieu.extract.goal_classifier import GoalClassifier
    from chitieu.extract.goals import value_candidates

    texts = ["Tỉnh phấn đấu thu 6.000 tỷ đồng.", "Năm 2023, tỉnh ước đạt 5.000 tỷ đồng."]
    (goal,) = value_candidates(texts[0])
    docs = [Document(id="a", text=texts[0], spans=[Span(start=goal.start, end=goal.end, label="TARGET_VALUE")]),
            Document(id="b", text=texts[1], spans=[])]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_documents(docs, corpus / "corpus.jsonl")
    (corpus / "splits.json").write_text(json.dumps({"train": ["a", "b"], "dev": [], "test": []}))
    fake_model(tmp_path, "m", 0.9)
    (tmp_path / "m" / "README.md").write_text("# m\n\n- best epoch 1 of 1\n- goal classifier: none (old)\n\n## Metrics\n")
    before = sorted(p.name for p in (tmp_path / "m").iterdir())
    runner = CliRunner()
    args = ["models", "fit-goals", "m", "--as", "m2", "--dir", str(tmp_path), "--annotations", str(corpus), "--split", "train"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.stdout
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == before, "the old version is unchanged"
    meta = json.loads((tmp_path / "m2" / "chitieu.json").read_text())
    assert meta["name"] == "m2" and meta["derived_from"]["name"] == "m" and meta["metrics"] == {}
    assert GoalClassifier.load(tmp_path / "m2").trained_on["documents"] == 2
    card = (tmp_path / "m2" / "README.md").read_text()
    assert "fitted on 2 documents (2 value expressions, 1 goals)" in card, "the card names the refit components"
    assert card.count("- goal classifier") == 1 and "## Derived version m2" in card and "## Metrics" in card
    assert "- official check" in card.split("## Metrics")[0], "a line the old card lacked is added beside the others"
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "exists" in again.stdout


def test_promote_refuses_figures_measured_on_another_test_split(tmp_path):
    fake_model(tmp_path, "old", 0.84)
    fake_model(tmp_path, "new", 0.83)
    meta = json.loads((tmp_path / "new" / "chitieu.json").read_text())
    meta["metrics_measured"] = {"on": "2026-12-05", "data_hash": "grown"}
    (tmp_path / "new" / "chitieu.json").write_text(json.dumps(meta))
    (tmp_path / "PROMOTED").write_text("old\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["models", "promote", "new", "--dir", str(tmp_path)])
    assert refused.exit_code == 1 and "different corpora" in refused.stdout and "chitieu models measure" in refused.stdout
    assert (tmp_path / "PROMOTED").read_text().strip() == "old"
