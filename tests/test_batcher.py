"""The micro-batcher on the real Extractor stages with a lexicon model (no torch)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from chitieu.serve.batcher import Batcher, BatcherClosed, QueueFull
from chitieu.serve.metrics import Metrics
from tests.fakes import TEXT, fake_loader, write_fake_model


@pytest.fixture
def extractor(tmp_path: Path):
    return fake_loader(write_fake_model(tmp_path / "a", name="a"))


def run(coro):
    return asyncio.run(coro)


async def _with_batcher(body, **kwargs):
    batcher = Batcher(**{"workers": 1, "queue_size": 64, "micro_batch": 8, "max_wait_s": 0.005, **kwargs})
    try:
        return await body(batcher)
    finally:
        await asyncio.to_thread(batcher.close)


def test_results_match_extract_and_keep_order(extractor) -> None:
    docs = [("one", TEXT), ("two", "Không có gì."), ("three", TEXT + "\n" + TEXT)]

    async def body(batcher: Batcher):
        return await batcher.extract(extractor, docs)

    expected = [extractor.extract(text, doc_id) for doc_id, text in docs]
    got = run(_with_batcher(body))
    assert [r["id"] for r in got] == ["one", "two", "three"]
    assert got == expected
    assert got[0]["targets"][0]["value"]["number"] == 9.3


def test_windows_of_concurrent_requests_share_one_model_call(extractor) -> None:
    async def body(batcher: Batcher):
        return await asyncio.gather(*(batcher.extract(extractor, [(str(i), TEXT)]) for i in range(3)))

    extractor.runner.calls.clear()
    # A long wait makes the worker collect all three one-window requests into one call.
    results = run(_with_batcher(body, max_wait_s=0.5))
    assert extractor.runner.calls == [3]
    assert [r[0]["id"] for r in results] == ["0", "1", "2"]


def test_a_long_document_is_cut_into_micro_batches(extractor) -> None:
    long_text = "\n".join([TEXT] * 12)
    n_windows = len(extractor.prepare(long_text).windows)
    assert n_windows > 8
    expected = extractor.extract(long_text)

    async def body(batcher: Batcher):
        return await batcher.extract(extractor, [(None, long_text)])

    extractor.runner.calls.clear()
    metrics = Metrics()
    [result] = run(_with_batcher(body, micro_batch=4, metrics=metrics))
    assert max(extractor.runner.calls) == 4 and sum(extractor.runner.calls) == n_windows
    assert result == expected
    assert metrics.registry.get_sample_value("chitieu_model_batch_windows_count") == len(extractor.runner.calls)


def test_a_full_queue_refuses_at_once_and_recovers(extractor) -> None:
    gate = threading.Event()
    extractor.runner.gate = gate

    async def body(batcher: Batcher):
        first = asyncio.create_task(batcher.extract(extractor, [("a", TEXT), ("b", TEXT)]))
        await asyncio.sleep(0.05)
        assert batcher.pending == 2
        with pytest.raises(QueueFull, match="busy"):
            await batcher.extract(extractor, [("c", TEXT)])
        gate.set()
        done = await first
        assert batcher.pending == 0
        again = await batcher.extract(extractor, [("c", TEXT)])
        return done, again

    done, again = run(_with_batcher(body, queue_size=2))
    assert [r["id"] for r in done] == ["a", "b"] and again[0]["id"] == "c"


def test_a_model_error_fails_its_requests_but_not_the_worker(extractor) -> None:
    async def body(batcher: Batcher):
        extractor.runner.fail = RuntimeError("CUDA out of memory")
        with pytest.raises(RuntimeError, match="out of memory"):
            await batcher.extract(extractor, [(None, TEXT)])
        extractor.runner.fail = None
        return await batcher.extract(extractor, [(None, TEXT)])

    [result] = run(_with_batcher(body))
    assert result["entities"]


def test_windows_of_two_models_are_never_mixed(tmp_path: Path, extractor) -> None:
    other = fake_loader(write_fake_model(tmp_path / "b", name="b"))

    async def body(batcher: Batcher):
        jobs = [batcher.extract(extractor if i % 2 else other, [(str(i), TEXT)]) for i in range(6)]
        return await asyncio.gather(*jobs)

    results = run(_with_batcher(body, max_wait_s=0.2))
    assert [r[0]["model"]["name"] for r in results] == ["b", "a"] * 3
    assert sum(extractor.runner.calls) == 3 and sum(other.runner.calls) == 3


def test_a_cancelled_request_frees_its_place_and_skips_its_windows(extractor) -> None:
    gate = threading.Event()
    extractor.runner.gate = gate

    async def body(batcher: Batcher):
        blocker = asyncio.create_task(batcher.extract(extractor, [("x", TEXT)]))
        await asyncio.sleep(0.05)  # the worker now holds x's window behind the gate
        dropped = asyncio.create_task(batcher.extract(extractor, [("y", "\n".join([TEXT] * 12))]))
        await asyncio.sleep(0.05)
        dropped.cancel()
        with pytest.raises(asyncio.CancelledError):
            await dropped
        assert batcher.pending == 1
        gate.set()
        await blocker

    extractor.runner.calls.clear()
    run(_with_batcher(body, micro_batch=1))
    assert extractor.runner.calls == [1]


def test_close_fails_what_is_still_queued(extractor) -> None:
    gate = threading.Event()
    extractor.runner.gate = gate

    async def body():
        batcher = Batcher(workers=1, queue_size=8, micro_batch=1, max_wait_s=0)
        first = asyncio.create_task(batcher.extract(extractor, [("x", TEXT)]))
        second = asyncio.create_task(batcher.extract(extractor, [("y", TEXT)]))
        await asyncio.sleep(0.05)
        closing = asyncio.create_task(asyncio.to_thread(batcher.close))
        await asyncio.sleep(0.05)
        gate.set()
        await closing
        with pytest.raises(BatcherClosed):
            await second
        assert (await first)[0]["id"] == "x"
        with pytest.raises(BatcherClosed):
            await batcher.extract(extractor, [("z", TEXT)])

    run(body())
