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
