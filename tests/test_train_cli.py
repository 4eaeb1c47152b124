"""`chitieu train` builds its flags from TrainOptions: every field is a flag, and what the
command line says reaches TrainOptions."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chitieu.cli import app
from chitieu.paths import annotations_dir
from chitieu.train.options import TrainOptions


def test_every_train_option_is_a_flag() -> None:
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    for f in fields(TrainOptions):
        assert "--" + f.name.replace("_", "-") in result.output, f"TrainOptions.{f.name} has no flag"


def test_flags_reach_the_options_and_computed_defaults_stay(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: list[TrainOptions] = []

    def fake_train(opts: TrainOptions, command: str) -> Path:
        seen.append(opts)
        return tmp_path

    monkeypatch.setattr("chitieu.train.run.train", fake_train)
    args = ["train", "--weight-decay", "0.05", "--no-evaluate-test", "--epochs", "2", "--max-steps", "3", "--out", str(tmp_path)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    (opts,) = seen
    assert (opts.weight_decay, opts.evaluate_test, opts.epochs, opts.max_steps) == (0.05, False, 2, 3)
    assert opts.out == tmp_path
    assert opts.annotations == annotations_dir()  # computed default, not None
    assert opts.threads == TrainOptions().threads


def test_a_bad_value_is_refused_with_the_reason() -> None:
    result = CliRunner().invoke(app, ["train", "--epochs", "0"])
    assert result.exit_code == 2
    assert "epochs must be >= 1" in result.output
