import json
import unicodedata

import pytest
from typer.testing import CliRunner

from chitieu.annotate.validate import validate_file
from chitieu.cli import app

TEXT = "UBND tỉnh Bến Tre đặt mục tiêu GRDP tăng 8%."
GOOD = {"id": "d1", "text": TEXT, "spans": [{"start": 10, "end": 17, "label": "PROVINCE"}], "meta": {}}


def write(tmp_path, lines):
    path = tmp_path / "corpus.jsonl"
    path.write_bytes(b"\n".join(l if isinstance(l, bytes) else json.dumps(l, ensure_ascii=False).encode() for l in lines) + b"\n")
    return path


def messages(tmp_path, lines):
    _, problems = validate_file(write(tmp_path, lines))
    return [str(p) for p in problems]


def with_span(start, end, label="PROVINCE", **extra):
    return {**GOOD, "spans": [{"start": start, "end": end, "label": label, **extra}]}


def test_good_document_has_no_problem(tmp_path):
    assert messages(tmp_path, [GOOD]) == []


@pytest.mark.parametrize(
    "doc, expected",
    [
        (with_span(10, 99), "offsets outside the text"),
        (with_span(12, 10), "offsets outside the text"),
        (with_span(9, 17), "starts or ends on white space"),
        (with_span(39, 44, "TARGET_VALUE"), "starts or ends on punctuation"),
        (with_span(10, 17, "PLACE"), "unknown label 'PLACE'"),
        (with_span(10, 17, text="Ben Tre"), "does not match the document's"),
        ({**GOOD, "spans": [{"start": 10, "end": 17, "label": "PROVINCE"}, {"start": 14, "end": 17, "label": "PROVINCE"}]}, "overlaps"),
        ({**GOOD, "text": unicodedata.normalize("NFD", TEXT), "spans": []}, "not NFC"),
        ({**GOOD, "colour": "red"}, "schema: colour: Extra inputs are not permitted"),
        ({"id": "d1", "spans": []}, "schema: text: Field required"),
        ({**GOOD, "spans": [{"start": "ten", "end": 17, "label": "PROVINCE"}]}, "schema: spans.0.start"),
    ],
)
def test_each_kind_of_bad_input_is_reported_with_what_to_fix(tmp_path, doc, expected):
    got = messages(tmp_path, [doc])
    assert len(got) == 1, got
    assert expected in got[0]
    assert got[0].startswith(f"{tmp_path / 'corpus.jsonl'}:1: [")


def test_duplicate_ids_invalid_json_and_bad_utf8_are_reported_per_line(tmp_path):
    got = messages(tmp_path, [GOOD, GOOD, b"{not json", b'{"id": "x\xff"}'])
    assert any(":2: [d1] duplicate id (first on line 1)" in m for m in got)
    assert any(":3: [-] invalid JSON" in m for m in got)
    assert any(":4: [-] not UTF-8" in m for m in got)


def test_cli_exits_1_and_prints_one_line_per_problem(tmp_path):
    write(tmp_path, [with_span(9, 17), GOOD | {"id": "d2"}])
    result = CliRunner().invoke(app, ["annotations", "validate", str(tmp_path / "corpus.jsonl")])
    assert result.exit_code == 1
    assert result.stdout.count("white space") == 1


def test_cli_checks_splits_of_a_corpus_folder(tmp_path):
    write(tmp_path, [GOOD, GOOD | {"id": "seed-000"}])
    (tmp_path / "splits.json").write_text(json.dumps({"train": ["d1"], "dev": [], "test": ["seed-000", "ghost"]}))
    result = CliRunner().invoke(app, ["annotations", "validate", str(tmp_path)])
    assert result.exit_code == 1
    assert "a seed document is in test" in result.stdout
    assert "[ghost] listed in test but not in the corpus" in result.stdout


def test_the_project_corpus_is_valid():
    result = CliRunner().invoke(app, ["annotations", "validate"])
    assert result.exit_code == 0, result.stdout
