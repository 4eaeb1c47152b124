"""A batch job from start to end: plan, output folder, engine, summary."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

from chitieu.batch.output import Manifest, OutputDir
from chitieu.batch.progress import Progress, Summary
from chitieu.batch.source import Plan, read_partition
from chitieu.batch.work import chunks, extract_chunk
from chitieu.model_folder import pick_device, read_meta, resolve_model_folder
from chitieu.paths import models_dir

Engine = Literal["local", "ray"]


class BatchRunError(RuntimeError):
    """The engine stopped; the partitions written so far are kept."""


@dataclass(frozen=True)
class BatchOptions:
    input: str  # a file, a folder or a glob of JSON Lines / Parquet files
    output: Path
    engine: Engine = "local"
    model: str | None = None  # a folder, a name under models/, or the promoted model
    batch_size: int = 16  # documents per model call
    partition_size: int = 1000  # documents per output file
    limit: int | None = None  # only the first N documents of the input
    window_batch: int = 8  # windows per forward pass
    device: str = "auto"  # local engine: auto, cpu or cuda
    actors: int | None = None  # ray: extraction actors; default fills the cluster
    cpus_per_actor: float = 1.0  # ray: CPUs reserved by each actor (and its torch threads)
    num_gpus_per_actor: float = 0.0  # ray: GPUs per actor; > 0 runs the model on CUDA
    num_cpus: int | None = None  # ray: CPUs of the local cluster started when RAY_ADDRESS is unset
    progress_interval: float = 10.0  # seconds between progress lines

    @property
    def arithmetic(self) -> str:
        """The tagger's engine (chitieu.engines: fp32, int8, bf16, fp16 or auto), read from
        CHITIEU_ENGINE here, in the driver: Ray actors on other nodes do not see its
        environment, and both engines must run the same arithmetic.

        Unset (or `auto`) on CPU it is fp32, not the service's bf16: oneDNN's bf16 kernels
        give numbers that depend on the thread count (a Ray actor of 1 CPU and a local run
        on 2 threads differ in the 3rd decimal of a score), and a batch run must write the
        same rows however it was split, resumed or retried. fp32 is thread-invariant."""
        from chitieu.engines import ENV_VAR

        chosen = os.environ.get(ENV_VAR, "auto")
        if self.engine == "ray":
            on_gpu = self.num_gpus_per_actor > 0
        else:
            on_gpu = pick_device(self.device).startswith("cuda")
        return "fp32" if chosen == "auto" and not on_gpu else chosen


def run_batch(options: BatchOptions, stream: TextIO | None = None) -> Summary:
    folder = resolve_model_folder(options.model, models_dir()).resolve()
    meta = read_meta(folder)
    plan = Plan.build(options.input, options.partition_size, options.batch_size, options.limit)
    out = OutputDir(options.output)
    out.open(Manifest.of(plan, meta, folder))
    try:
        todo = [k for k in range(plan.partitions) if not out.finished(k)]
        skipped = plan.partitions - len(todo)
        progress = Progress(
            output=str(options.output),
            engine=options.engine,
            total_documents=plan.documents,
            partitions=plan.partitions,
            skipped_partitions=skipped,
            skipped_documents=plan.documents - sum(plan.partition_rows(k) for k in todo),
            stream=stream or sys.stderr,
            interval=options.progress_interval,
        )
        if todo and options.engine == "ray":
            from chitieu.batch.ray_engine import run_ray

            run_ray(plan, todo, out, folder, options, progress)
        elif todo:
            run_local(plan, todo, out, folder, options, progress)
        else:
            progress.start()
        progress.report()
        return progress.summary()
    finally:
        out.close()


def run_local(plan: Plan, todo: list[int], out: OutputDir, folder: Path, options: BatchOptions, progress: Progress) -> None:
    """The job in this process, partition after partition."""
    from chitieu.extract.extractor import Extractor

    progress.start()  # loading the model counts, as it does for the Ray engine's actors
    extractor = Extractor.load(folder, device=options.device, batch_size=options.window_batch, engine=options.arithmetic)
    for k in todo:
        results = []
        for chunk in chunks(read_partition(plan, k)):
            done = extract_chunk(extractor, chunk)
            progress.add(done)
            results.extend(done)
        out.write_partition(k, results)
        progress.partition_written()
