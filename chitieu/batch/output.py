"""The output folder of a batch job.

  OUT/_batch.json                 what the job covers: input files, partition size, model
  OUT/tuples/part-00000.parquet   one row per target tuple (`rows.TupleRow`)
  OUT/documents/part-00000.parquet one row per document, ok or error (`rows.DocumentRow`)

Each file is written to a temporary name beside it and renamed, tuples first: a partition
is finished when its documents file exists, so a job killed at any moment leaves whole
partitions and a rerun with the same settings writes only the missing ones. A rerun with
another input, partition size or model is refused: it would mix two jobs in one table.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from chitieu.batch.rows import DocumentResult, documents_schema, to_table, tuples_schema
from chitieu.batch.source import Plan
from chitieu.files import write_text

if TYPE_CHECKING:
    import pyarrow as pa

MANIFEST = "_batch.json"
LOCK = "_batch.lock"
TUPLES = "tuples"
DOCUMENTS = "documents"
FORMAT = 1
_TMP_SUFFIX = ".tmp"


class BatchOutputError(RuntimeError):
    pass


@dataclass(frozen=True)
class Manifest:
    format: int
    files: list[dict[str, Any]]  # path, rows, size of each input file, in document order
    documents: int
    partition_size: int
    partitions: int
    batch_size: int
    model_name: str
    model_version: str
    model_folder: str

    @classmethod
    def of(cls, plan: Plan, meta: dict[str, Any], folder: Path) -> "Manifest":
        return cls(
            format=FORMAT,
            files=[{"path": f.path, "rows": f.rows, "size": f.size} for f in plan.files],
            documents=plan.documents,
            partition_size=plan.partition_size,
            partitions=plan.partitions,
            batch_size=plan.batch_size,
            model_name=str(meta.get("name", "unknown")),
            model_version=str(meta.get("version", "unknown")),
            model_folder=str(Path(folder).resolve()),
        )

    def conflicts(self, other: "Manifest") -> list[str]:
        """What differs in a way that makes finished partitions wrong for this job. The
        batch size and the model's folder may change between runs (a smaller batch after
        running out of GPU memory; the same model copied elsewhere)."""
        keys = ("format", "files", "documents", "partition_size", "model_name", "model_version")
        return [k for k in keys if getattr(self, k) != getattr(other, k)]


def part_name(k: int) -> str:
    return f"part-{k:05d}.parquet"


class OutputDir:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock: IO[str] | None = None

    def open(self, manifest: Manifest) -> None:
        """Create or reopen the folder for this job, holding its lock until `close`."""
        for sub in (TUPLES, DOCUMENTS):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        self._lock = open(self.root / LOCK, "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.close()
            raise BatchOutputError(f"another chitieu batch is writing {self.root}; wait for it or choose another --output") from None
        path = self.root / MANIFEST
        if path.exists():
            try:
                previous = Manifest(**json.loads(path.read_text(encoding="utf-8")))
            except (TypeError, ValueError) as err:
                self.close()
                raise BatchOutputError(f"{path} is not a batch manifest this version reads ({err}); give a new --output") from err
            conflicts = manifest.conflicts(previous)
            if conflicts:
                self.close()
                raise BatchOutputError(
                    f"{self.root} holds a job with other {', '.join(conflicts)}; its partitions cannot be reused. "
                    "Give a new --output, or delete that folder to start over"
                )
        write_text(path, json.dumps(dataclasses.asdict(manifest), ensure_ascii=False, indent=1) + "\n")
        # Temporary files of a killed run: never renamed, so never part of the output.
        for sub in (TUPLES, DOCUMENTS):
            for stale in (self.root / sub).glob(f".part-*{_TMP_SUFFIX}"):
                stale.unlink()

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def finished(self, k: int) -> bool:
        return (self.root / DOCUMENTS / part_name(k)).exists()

    def write_partition(self, k: int, results: Sequence[DocumentResult]) -> None:
        ordered = sorted(results, key=lambda r: r.document.position)
        tuples = [t for r in ordered for t in r.tuples]
        _write_atomically(to_table(tuples, tuples_schema()), self.root / TUPLES / part_name(k))
        _write_atomically(to_table([r.document for r in ordered], documents_schema()), self.root / DOCUMENTS / part_name(k))


def _write_atomically(table: "pa.Table", path: Path) -> None:
    import pyarrow.parquet as pq

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=_TMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pq.write_table(table, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
        folder = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_output(root: Path) -> tuple["pa.Table", "pa.Table"]:
    """(tuples, documents) of a finished or partial job, in input order."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def read(sub: str, schema: "pa.Schema", keys: list[tuple[str, str]]) -> "pa.Table":
        files = sorted((Path(root) / sub).glob("part-*.parquet"))
        if not files:
            return schema.empty_table()
        return pa.concat_tables([pq.read_table(f, schema=schema) for f in files]).sort_by(keys)

    tuples = read(TUPLES, tuples_schema(), [("position", "ascending"), ("target_index", "ascending")])
    documents = read(DOCUMENTS, documents_schema(), [("position", "ascending")])
    return tuples, documents
