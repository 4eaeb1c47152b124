"""`chitieu batch` without Ray: the plan, bad rows, the output folder, the local engine.

The Ray engine, killed runs and dying actors are in test_batch_ray.py (`make test-batch`).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from chitieu.batch.job import BatchOptions, run_batch
from chitieu.batch.output import DOCUMENTS, MANIFEST, TUPLES, BatchOutputError, Manifest, OutputDir, part_name, read_output
from chitieu.batch.progress import Progress
from chitieu.batch.rows import DocumentResult, DocumentRow, TupleRow, tuple_rows
from chitieu.batch.source import BatchInputError, Plan, parse_json_line, read_partition
from chitieu.batch.work import chunks
from chitieu.cli import app
from tests.batch_support import BAD_ROWS, sample_articles, write_jsonl


def _jsonl(path: Path, ids: list[str]) -> Path:
    path.write_text("".join(json.dumps({"id": i, "text": f"Văn bản {i}."}) + "\n" for i in ids), encoding="utf-8")
    return path


def test_partitions_follow_document_order_across_files(tmp_path: Path) -> None:
    _jsonl(tmp_path / "b.jsonl", ["b0", "b1", "b2"])
    _jsonl(tmp_path / "a.jsonl", ["a0", "a1"])
    pq.write_table(pa.table({"id": ["c0", "c1", "c2", "c3"], "text": ["x", "y", "z", "w"]}), tmp_path / "c.parquet", row_group_size=2)
    plan = Plan.build(str(tmp_path), partition_size=4, batch_size=3)
    assert [Path(f.path).name for f in plan.files] == ["a.jsonl", "b.jsonl", "c.parquet"]
    assert (plan.documents, plan.partitions) == (9, 3)
    read = [read_partition(plan, k) for k in range(plan.partitions)]
    assert [[d.doc_id for d in docs] for docs in read] == [["a0", "a1", "b0", "b1"], ["b2", "c0", "c1", "c2"], ["c3"]]
    assert [d.position for docs in read for d in docs] == list(range(9))
    second = read[1]
    assert [(Path(d.source).name, d.source_row) for d in second] == [("b.jsonl", 2), ("c.parquet", 0), ("c.parquet", 1), ("c.parquet", 2)]
    # Chunks restart at each partition: the model calls are the same whatever runs them.
    assert [[d.doc_id for d in c] for c in chunks(second)] == [["b2", "c0", "c1"], ["c2"]]
    assert Plan.build(str(tmp_path / "*.jsonl"), 4, 3, limit=4).partitions == 1


def test_bad_input_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BatchInputError, match="does not exist"):
        Plan.build(str(tmp_path / "missing.jsonl"), 10, 2)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(BatchInputError, match="unknown input format"):
        Plan.build(str(tmp_path / "notes.txt"), 10, 2)
    pq.write_table(pa.table({"id": ["a"], "body": ["x"]}), tmp_path / "t.parquet")
    with pytest.raises(BatchInputError, match="no text column"):
        Plan.build(str(tmp_path / "t.parquet"), 10, 2)


@pytest.mark.parametrize(("raw", "doc_id", "reason"), BAD_ROWS)
def test_rows_that_are_not_documents_become_errors(raw: bytes, doc_id: str | None, reason: str) -> None:
    got_id, text, error = parse_json_line(raw)
    assert (got_id, text) == (doc_id, None)
    assert error is not None and reason in error


def test_parquet_rows_with_null_or_binary_fields(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array([1, None, 3], pa.int64()), "text": pa.array([b"ok text", b"x", b"\xff"], pa.binary())})
    pq.write_table(table, tmp_path / "t.parquet")
    docs = read_partition(Plan.build(str(tmp_path / "t.parquet"), 10, 2), 0)
    assert [(d.doc_id, d.text) for d in docs] == [("1", "ok text"), (None, None), ("3", None)]
    assert "no id" in (docs[1].error or "") and "not valid UTF-8" in (docs[2].error or "")


# One document's result in the extraction contract, every optional part filled.
RESULT = {
    "id": "d",
    "model": {"name": "m", "version": "1", "base": "b"},
    "entities": [],
    "targets": [
        {
            "indicator": {"text": "GRDP", "start": 1, "end": 5},
            "value": {"text": "9%", "start": 6, "end": 8, "comparator": ">=", "number": 9.0, "min": None, "max": None, "unit": "%"},
            "official": {"name": "Lê A", "role": "Chủ tịch", "start": 9, "end": 13},
            "province": {"name": "Bến Tre", "code": "83", "successor": "Vĩnh Long", "start": 14, "end": 21},
            "sentence": {"start": 0, "end": 30},
            "score": 0.9,
        }
    ],
}


def test_output_rows_carry_every_field_of_the_contract() -> None:
    result = RESULT
    (row,) = tuple_rows(result, position=4)
    target = result["targets"][0]
    for part in ("indicator", "value", "official", "province", "sentence"):
        for key, value in target[part].items():
            assert getattr(row, f"{part}_{key}") == value, f"{part}_{key}"
    assert (row.model_name, row.model_version, row.model_base, row.doc_id, row.position, row.score) == ("m", "1", "b", "d", 4, 0.9)
    # A field the contract gains must gain a column (the contract's JSON schema is the reference).
    schema = json.loads((Path(__file__).parent / "fixtures" / "contract" / "extraction.schema.json").read_text())
    columns = {f.name for f in dataclasses.fields(TupleRow)}
    for part, spec in schema["$defs"]["target"]["properties"].items():
        parts = [o for o in spec.get("oneOf", [spec]) if o.get("type") == "object"]
        expected = {f"{part}_{key}" for o in parts for key in o["properties"]} if parts else {part}
        assert expected <= columns, expected - columns


def test_cli_local_engine_end_to_end_then_rerun_skips(tmp_path: Path, default_model_dir: Path) -> None:
    articles = sample_articles(3)
    source = write_jsonl(tmp_path / "in.jsonl", articles)
    out = tmp_path / "out"
    args = ["batch", str(source), "--output", str(out), "--model", str(default_model_dir), "--partition-size", "4", "--batch-size", "2"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    n = len(articles) + len(BAD_ROWS)
    assert (summary["documents"], summary["errors"], summary["partitions_written"]) == (n, len(BAD_ROWS), 3)
    assert "documents/s" in result.stderr

    tuples, documents = read_output(out)
    assert tuples.schema.names == [f.name for f in dataclasses.fields(TupleRow)]
    assert documents.schema.names == [f.name for f in dataclasses.fields(DocumentRow)]
    docs = documents.to_pylist()
    assert [d["position"] for d in docs] == list(range(n))  # none dropped, in input order
    errors = [d for d in docs if d["status"] == "error"]
    assert [(d["doc_id"], d["n_targets"]) for d in errors] == [(doc_id, 0) for _, doc_id, _ in BAD_ROWS]
    assert all(reason in d["reason"] for d, (_, _, reason) in zip(errors, BAD_ROWS))
    assert [d["doc_id"] for d in docs if d["status"] == "ok"] == [i for i, _ in articles]
    assert summary["tuples"] == tuples.num_rows == sum(d["n_targets"] for d in docs) > 0

    # Offsets point into the documents' text (flattening itself: the test above).
    texts = dict(articles)
    for t in tuples.to_pylist():
        text = texts[t["doc_id"]]
        assert text[t["value_start"] : t["value_end"]] == t["value_text"]
        assert t["sentence_start"] <= t["value_start"] < t["value_end"] <= t["sentence_end"]
        if t["indicator_text"] is not None:
            assert text[t["indicator_start"] : t["indicator_end"]] == t["indicator_text"]
        assert t["model_name"] == json.loads((default_model_dir / "chitieu.json").read_text())["name"]

    # A rerun finds every partition written and rewrites none.
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("part-*.parquet")}
    again = run_batch(BatchOptions(input=str(source), output=out, model=str(default_model_dir), partition_size=4, batch_size=2))
    assert (again.documents, again.partitions_skipped) == (0, 3)
    assert {p: p.stat().st_mtime_ns for p in out.rglob("part-*.parquet")} == stamps

    # A partition whose documents file is missing (killed before its rename) is redone, alone.
    before = read_output(out)
    (out / DOCUMENTS / part_name(1)).unlink()
    (out / TUPLES / ".part-00001.parquet-x.tmp").write_bytes(b"half a file")
    redo = run_batch(BatchOptions(input=str(source), output=out, model=str(default_model_dir), partition_size=4, batch_size=2))
    assert (redo.partitions_written, redo.partitions_skipped, redo.documents) == (1, 2, 4)
    assert not list(out.rglob("*.tmp"))
    assert all(x.equals(y) for x, y in zip(read_output(out), before))


def test_a_rerun_with_other_settings_is_refused(tmp_path: Path, default_model_dir: Path) -> None:
    source = _jsonl(tmp_path / "in.jsonl", ["a", "b", "c"])
    out = tmp_path / "out"
    plan = Plan.build(str(source), 2, 2)
    manifest = Manifest.of(plan, {"name": "m", "version": "1"}, default_model_dir)
    first = OutputDir(out)
    first.open(manifest)
    with pytest.raises(BatchOutputError, match="another chitieu batch is writing"):
        OutputDir(out).open(manifest)
    first.close()
    other = Manifest.of(Plan.build(str(source), 3, 2), {"name": "m", "version": "1"}, default_model_dir)
    with pytest.raises(BatchOutputError, match="partition_size.*new --output"):
        OutputDir(out).open(other)
    # The batch size may change between runs (after running out of GPU memory).
    smaller = Manifest.of(Plan.build(str(source), 2, 1), {"name": "m", "version": "1"}, default_model_dir)
    reopened = OutputDir(out)
    reopened.open(smaller)
    reopened.close()
    assert json.loads((out / MANIFEST).read_text())["batch_size"] == 1


def test_cli_says_what_is_wrong(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["batch", str(tmp_path / "none.jsonl"), "--output", str(tmp_path / "out")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not os.path.exists(tmp_path / "out")


def test_progress_reports_documents_tuples_errors_and_throughput() -> None:
    import io

    def result(position: int, status: str, n: int) -> DocumentResult:
        row = DocumentRow(0, position, f"d{position}", "in.jsonl", position, status, None if status == "ok" else "empty", n, 5, "m", "1", "b")  # type: ignore[arg-type]
        return DocumentResult(row, tuple_rows(RESULT, position) * n)

    stream = io.StringIO()
    progress = Progress("out", "local", total_documents=10, partitions=5, skipped_partitions=1, skipped_documents=2, stream=stream, interval=0.0)
    progress.start()
    progress.add([result(2, "ok", 3), result(3, "error", 0)])
    progress.partition_written()
    lines = stream.getvalue().splitlines()
    assert "10 documents in 5 partitions; 1 partitions (2 documents) already written" in lines[0]
    assert "4/10 documents, 3 tuples, 1 errors, 2/5 partitions" in lines[-1] and "documents/s" in lines[-1]
    summary = progress.summary()
    assert (summary.documents, summary.ok, summary.errors, summary.tuples, summary.partitions_written) == (2, 1, 1, 3, 1)
    assert summary.documents_per_second > 0


def test_the_arithmetic_is_read_in_the_driver(monkeypatch: pytest.MonkeyPatch) -> None:
    """CHITIEU_ENGINE (chitieu.engines) is read where the job starts and handed to every
    actor, which on another node would not see it."""
    options = BatchOptions(input="in.jsonl", output=Path("out"))
    monkeypatch.delenv("CHITIEU_ENGINE", raising=False)
    assert options.arithmetic == "fp32"  # thread-invariant on CPU: a resumed run equals an uninterrupted one
    assert BatchOptions(input="in.jsonl", output=Path("out"), engine="ray", num_gpus_per_actor=1).arithmetic == "auto"
    monkeypatch.setenv("CHITIEU_ENGINE", "int8")
    assert options.arithmetic == "int8"
