"""`chitieu batch` on Ray, and runs killed part-way: minutes, so behind the `batch` marker
(`make test-batch`). One local Ray cluster on 2 CPUs serves the module; the killed Ray
run is a separate driver joining it through RAY_ADDRESS, as a job on a real cluster does.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import pytest

from chitieu.batch.job import BatchOptions, run_batch
from chitieu.batch.output import DOCUMENTS, TUPLES, read_output
from chitieu.batch.ray_engine import CRASH_MARKER_ENV, CRASH_ON_ENV
from tests.batch_support import BAD_ROWS, assert_same_output, sample_articles, write_jsonl

ray = pytest.importorskip("ray", reason="the Ray engine needs the batch extra: pip install -e '.[dev,batch]'")

pytestmark = pytest.mark.batch

SAMPLE = 8  # the shortest gold documents; with BAD_ROWS, 14 documents in 7 partitions of 2
PARTITION, BATCH = 2, 2
GOAL_WORDS = re.compile(r"phấn đấu|chỉ tiêu|mục tiêu")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A local Ray cluster on 2 CPUs for the module; yields its address."""
    context = ray.init(num_cpus=2, include_dashboard=False)
    try:
        yield context.address_info["gcs_address"]
    finally:
        ray.shutdown()


def options(source: Path, out: Path, model: Path, engine: str, partition_size: int = PARTITION, batch_size: int = BATCH) -> BatchOptions:
    return BatchOptions(
        input=str(source), output=out, engine="ray" if engine == "ray" else "local", model=str(model),
        partition_size=partition_size, batch_size=batch_size, device="cpu", actors=2, progress_interval=1.0,
    )


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory, default_model_dir: Path) -> tuple[Path, Path]:
    """(input, output of an uninterrupted local run) for the shipped-with-the-repo sample."""
    root = tmp_path_factory.mktemp("sample")
    source = write_jsonl(root / "in.jsonl", sample_articles(SAMPLE))
    run_batch(options(source, root / "reference", default_model_dir, "local"))
    return source, root / "reference"


@pytest.mark.shared
def test_both_engines_give_the_same_output_on_50_real_articles(tmp_path: Path, shared: Path, cluster: str, default_model_dir: Path) -> None:
    from chitieu.encoders.e5 import unlabeled_articles

    # Articles that set goals (the first 50 of the corpus are lottery results and the like,
    # where both engines agreeing on no tuples would prove little).
    articles = list(islice((a for a in unlabeled_articles(shared) if GOAL_WORDS.search(a[1])), 50))
    source = write_jsonl(tmp_path / "in.jsonl", articles, bad_after=25)
    local = run_batch(options(source, tmp_path / "local", default_model_dir, "local", partition_size=10, batch_size=4))
    on_ray = run_batch(options(source, tmp_path / "ray", default_model_dir, "ray", partition_size=10, batch_size=4))
    n = len(articles) + len(BAD_ROWS)
    assert (local.documents, local.errors) == (on_ray.documents, on_ray.errors) == (n, len(BAD_ROWS))
    assert local.tuples == on_ray.tuples > 0
    assert_same_output(tmp_path / "local", tmp_path / "ray")
    _, documents = read_output(tmp_path / "ray")
    assert documents.column("position").to_pylist() == list(range(n))


def test_every_chunk_is_a_block_of_its_own(tmp_path: Path, cluster: str) -> None:
    """An actor call takes a whole block: one block per chunk is what spreads a partition
    over the actors (with a block per partition, one actor did a 1,000-document job)."""
    from chitieu.batch.ray_engine import read_chunks
    from chitieu.batch.source import Plan

    source = write_jsonl(tmp_path / "in.jsonl", [(f"d{i}", f"Văn bản {i}.") for i in range(23)], bad_after=None)
    plan = Plan.build(str(source), partition_size=10, batch_size=3)  # partition 0: chunks of 3, 3, 3, 1; 2: one of 3
    blocks = read_chunks(plan, [0, 2], actors=2).materialize()
    sizes = [len(row["documents"]) for row in blocks.iter_rows()]
    assert sorted(sizes) == [1, 3, 3, 3, 3]
    assert max(b.num_rows for b in ray.get(blocks.to_arrow_refs())) == 1


def _stamps(out: Path) -> dict[Path, int]:
    return {p: p.stat().st_ino for p in out.rglob("part-*.parquet")}


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_a_killed_run_resumes_and_ends_as_an_uninterrupted_one(
    tmp_path: Path, engine: str, cluster: str, sample: tuple[Path, Path], default_model_dir: Path
) -> None:
    source, reference = sample
    out = tmp_path / "out"
    command = [sys.executable, "-m", "chitieu.cli", "batch", str(source), "--output", str(out), "--engine", engine,
               "--model", str(default_model_dir), "--partition-size", str(PARTITION), "--batch-size", str(BATCH),
               "--device", "cpu", "--actors", "2"]  # fmt: skip
    env = {**os.environ, "RAY_ADDRESS": cluster}
    log = (tmp_path / "log").open("w")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300
    try:
        while len(list((out / DOCUMENTS).glob("part-*.parquet"))) < 2:
            assert proc.poll() is None, f"the run ended before it could be killed:\n{(tmp_path / 'log').read_text()}"
            assert time.monotonic() < deadline, "no partition written in 5 minutes"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = sorted(p.name for p in (out / DOCUMENTS).glob("part-*.parquet"))
    assert 2 <= len(finished) < 7, finished
    # Whole partitions only: each documents file has its tuples file.
    assert all((out / TUPLES / name).exists() for name in finished)
    kept = _stamps(out / DOCUMENTS)

    summary = run_batch(options(source, out, default_model_dir, engine))
    assert summary.partitions_skipped == len(finished)
    assert summary.partitions_written == 7 - len(finished)
    assert all(_stamps(out / DOCUMENTS)[p] == ino for p, ino in kept.items()), "a finished partition was rewritten"
    assert not list(out.rglob("*.tmp"))
    assert_same_output(reference, out)


def test_an_actor_that_dies_is_retried_and_no_document_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cluster: str, sample: tuple[Path, Path], default_model_dir: Path
) -> None:
    source, reference = sample
    victim = sample_articles(SAMPLE)[4][0]
    marker = tmp_path / "actor-died"
    monkeypatch.setenv(CRASH_ON_ENV, victim)
    monkeypatch.setenv(CRASH_MARKER_ENV, str(marker))
    summary = run_batch(options(source, tmp_path / "out", default_model_dir, "ray"))
    assert marker.exists(), "the fault was not injected: no actor was handed the document"
    assert (summary.documents, summary.errors) == (SAMPLE + len(BAD_ROWS), len(BAD_ROWS))
    _, documents = read_output(tmp_path / "out")
    (row,) = [d for d in documents.to_pylist() if d["doc_id"] == victim]
    assert row["status"] == "ok"
    assert_same_output(reference, tmp_path / "out")
