"""The batch engine on Ray Data.

  read_datasource(ChunkSource)   one read task per unfinished partition; each row is one
                                 chunk (the documents of one model call, `source.Plan`),
                                 each chunk its own block
  map_batches(ExtractActor)      a fixed pool of actors, each loading the model once, on
                                 CPU or on `num_gpus_per_actor` of a GPU; one chunk a call
  iter_batches -> OutputDir      the driver gathers each partition's documents and writes
                                 its two Parquet files atomically once all have arrived

The driver writes the partitions rather than `Dataset.write_parquet`, whose files follow
Ray's blocks: a partition must appear all at once, under a name a rerun can find, for a
killed job to resume. A chunk travels as one row so that Ray's batching can never split
it: the model's numbers depend on what shares a batch, and the local engine runs the
same chunks. An actor that dies (out of memory, a crash) is restarted by Ray and its
unfinished calls are retried (`max_restarts`, `max_task_retries`).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chitieu.batch.job import BatchOptions, BatchRunError
from chitieu.batch.output import OutputDir
from chitieu.batch.progress import Progress
from chitieu.batch.rows import DocumentResult, arrow_fields, results_from_table, results_to_table
from chitieu.batch.source import DocumentInput, Plan, read_partition
from chitieu.batch.work import chunks, extract_chunk

if TYPE_CHECKING:
    import pyarrow as pa

# Retries of one chunk whose actor died; a chunk that kills its actor every time ends
# the job (the partitions written are kept) rather than looping forever.
MAX_TASK_RETRIES = 3
# Test-only fault injection: the actor that is handed this document exits, once (the
# marker file records that it did), so the tests can check that Ray retries the chunk.
CRASH_ON_ENV = "CHITIEU_BATCH_CRASH_ON"
CRASH_MARKER_ENV = "CHITIEU_BATCH_CRASH_MARKER"
CRASH_EXIT_CODE = 17


@dataclass(frozen=True)
class CrashOnce:
    doc_id: str
    marker: str

    @classmethod
    def from_env(cls) -> "CrashOnce | None":
        doc_id, marker = os.environ.get(CRASH_ON_ENV), os.environ.get(CRASH_MARKER_ENV)
        return cls(doc_id, marker) if doc_id and marker else None

    def maybe_exit(self, docs: list[DocumentInput]) -> None:
        if not any(d.doc_id == self.doc_id for d in docs):
            return
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.close(fd)
        os._exit(CRASH_EXIT_CODE)


def chunk_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema([pa.field("documents", pa.list_(pa.struct(arrow_fields(DocumentInput))), False)])


def _read_chunks(plan: Plan, k: int) -> list["pa.Table"]:
    """Partition k as a block with a row per chunk."""
    import pyarrow as pa

    rows = [{"documents": [dataclasses.asdict(d) for d in chunk]} for chunk in chunks(read_partition(plan, k))]
    return [pa.Table.from_pylist(rows, schema=chunk_schema())]


def _chunk_source(plan: Plan, todo: list[int]) -> Any:
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class ChunkSource(Datasource):
        """The unfinished partitions of the plan, one read task each."""

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None) -> list[ReadTask]:
            tasks = []
            for k in todo:
                files = tuple(f.path for f, *_ in plan.slices(k))
                rows = -(-plan.partition_rows(k) // plan.batch_size)
                meta = BlockMetadata(num_rows=rows, size_bytes=None, input_files=files, exec_stats=None)
                tasks.append(ReadTask(partial(_read_chunks, plan, k), meta, schema=chunk_schema()))
            return tasks

    return ChunkSource()


def read_chunks(plan: Plan, todo: list[int], actors: int) -> Any:  # -> ray.data.Dataset
    """The unfinished partitions as a dataset of chunks, one block each."""
    import ray

    # An actor call takes a whole block, and a read task's output is one block: asking
    # for a block per chunk makes Ray split each partition's block into its chunks (rows
    # are never split; a short partition leaves empty blocks), so the chunks of one
    # partition spread over all the actors.
    blocks = len(todo) * -(-plan.partition_size // plan.batch_size)
    # Reading is light next to the model: reads take no CPU slot from the actors (on a
    # 2-core machine two actors take both) and at most one runs per actor.
    return ray.data.read_datasource(
        _chunk_source(plan, todo), override_num_blocks=blocks, num_cpus=0, concurrency=max(1, min(actors, len(todo)))
    )


class ExtractActor:
    """Loads the model once; each call extracts one chunk (or a few) and returns a row per
    document with its tuples nested (`rows.results_schema`)."""

    def __init__(self, folder: str, device: str, arithmetic: str, window_batch: int, threads: int, crash: CrashOnce | None) -> None:
        from chitieu.engines import configure_threads
        from chitieu.extract.extractor import Extractor

        configure_threads(threads)  # the actor's share of its node, not all its cores
        self.extractor = Extractor.load(Path(folder), device=device, batch_size=window_batch, engine=arithmetic)
        self.crash = crash

    def __call__(self, batch: "pa.Table") -> "pa.Table":
        results: list[DocumentResult] = []
        for record in batch.to_pylist():
            docs = [DocumentInput(**d) for d in record["documents"]]
            if self.crash is not None:
                self.crash.maybe_exit(docs)
            results.extend(extract_chunk(self.extractor, docs))
        return results_to_table(results)


def connect(num_cpus: int | None, progress: Progress) -> bool:
    """Join the cluster at RAY_ADDRESS or start a local one; True when this call started Ray."""
    import ray

    if ray.is_initialized():
        return False
    if os.environ.get("RAY_ADDRESS"):
        if num_cpus is not None:
            print("batch: --num-cpus is ignored: the cluster at RAY_ADDRESS has its own resources", file=progress.stream)
        ray.init()  # reads RAY_ADDRESS
    else:
        ray.init(num_cpus=num_cpus or os.cpu_count() or 1, include_dashboard=False)
    return True


def pool_size(options: BatchOptions) -> int:
    """--actors, or as many as the cluster's CPUs (or GPUs) hold."""
    import ray

    if options.actors is not None:
        return options.actors
    resources = ray.cluster_resources()
    if options.num_gpus_per_actor > 0:
        gpus = resources.get("GPU", 0.0)
        if gpus < options.num_gpus_per_actor:
            raise BatchRunError(f"--num-gpus-per-actor {options.num_gpus_per_actor} but the Ray cluster has {gpus:g} GPUs")
        return max(1, int(gpus // options.num_gpus_per_actor))
    if options.cpus_per_actor <= 0:
        raise BatchRunError("--cpus-per-actor 0 leaves the number of actors open: give --actors")
    return max(1, int(resources.get("CPU", 1.0) // options.cpus_per_actor))


def run_ray(plan: Plan, todo: list[int], out: OutputDir, folder: Path, options: BatchOptions, progress: Progress) -> None:
    import ray

    started = connect(options.num_cpus, progress)
    try:
        ray.data.DataContext.get_current().enable_progress_bars = False  # ours reports documents and tuples
        actors = pool_size(options)
        gpu = options.num_gpus_per_actor > 0
        ds = read_chunks(plan, todo, actors)
        with warnings.catch_warnings():
            # Ray 2.60 takes the actors' restart options only through **ray_remote_args,
            # which it flags as deprecated for 2.64; the version is pinned.
            warnings.simplefilter("ignore", DeprecationWarning)
            ds = ds.map_batches(
                ExtractActor,
                batch_size=1,
                batch_format="pyarrow",
                compute=ray.data.ActorPoolStrategy(size=actors),
                num_cpus=options.cpus_per_actor,
                num_gpus=options.num_gpus_per_actor if gpu else None,
                fn_constructor_kwargs={
                    "folder": str(folder),
                    "device": "cuda" if gpu else "cpu",
                    "arithmetic": options.arithmetic,
                    "window_batch": options.window_batch,
                    "threads": max(1, int(options.cpus_per_actor)),
                    "crash": CrashOnce.from_env(),
                },
                max_restarts=-1,
                max_task_retries=MAX_TASK_RETRIES,
            )
        progress.start()
        # A retried call may deliver documents again: each counts once, by its position.
        pending: dict[int, dict[int, DocumentResult]] = {}
        written: set[int] = set()
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
                fresh = []
                for r in results_from_table(batch):
                    k = r.document.partition
                    if k not in written and r.document.position not in pending.setdefault(k, {}):
                        pending[k][r.document.position] = r
                        fresh.append(r)
                progress.add(fresh)
                for k in [k for k, got in pending.items() if len(got) == plan.partition_rows(k)]:
                    out.write_partition(k, list(pending.pop(k).values()))
                    written.add(k)
                    progress.partition_written()
        except Exception as err:  # noqa: BLE001 - Ray wraps worker failures in many types
            raise BatchRunError(
                f"the Ray job stopped: {type(err).__name__}: {err}\n{progress.written} partitions were written and are kept; "
                "run the same command again to resume. If an actor keeps dying on the same chunk (out of memory?), "
                "lower --batch-size or give each actor more memory"
            ) from err
        if pending:
            raise BatchRunError(f"partitions {sorted(pending)} came back incomplete from Ray; run the same command again to finish them")
    finally:
        if started:
            ray.shutdown()
