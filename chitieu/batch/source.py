"""The input of a batch job: its files, how it is cut into partitions, and reading one.

Documents are numbered by their order in the input: files in path order, rows in file
order (for JSON Lines, the non-blank lines). Partition k holds documents
[k * partition_size, (k + 1) * partition_size), and inside a partition documents go to
the model `batch_size` at a time, so the same input and settings always give the same
partitions and the same model calls, whatever engine runs them.

A row that cannot be a document (bad UTF-8, not JSON, no id, empty text) is read as a
`DocumentInput` with an error, never skipped: the job reports it as an error row.
"""

from __future__ import annotations

import glob
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal, cast

from chitieu.serve.schemas import check_text

if TYPE_CHECKING:
    import pyarrow.parquet as pq

FileKind = Literal["jsonl", "parquet"]
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz")
PARQUET_SUFFIXES = (".parquet",)
COLUMNS = ("id", "text")


class BatchInputError(ValueError):
    """The input as a whole cannot be read (missing, unknown format, no text column)."""


@dataclass(frozen=True)
class InputFile:
    path: str
    kind: FileKind
    rows: int
    size: int


@dataclass(frozen=True)
class DocumentInput:
    partition: int
    position: int  # in the whole input, from 0
    chunk: int  # which model call of its partition it goes to
    source: str  # the file's path
    source_row: int  # its row in that file, from 0 (non-blank lines for JSON Lines)
    doc_id: str | None
    text: str | None  # None when `error` says why it cannot be read
    error: str | None


def file_kind(path: Path) -> FileKind | None:
    name = path.name.lower()
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    return None


def input_paths(spec: str) -> list[Path]:
    """The files an INPUT argument names: a file, a folder of input files, or a glob."""
    if any(ch in spec for ch in "*?["):
        paths = [Path(p) for p in glob.glob(spec, recursive=True)]
        paths = [p for p in paths if p.is_file()]
    elif Path(spec).is_dir():
        paths = [p for p in Path(spec).iterdir() if p.is_file() and file_kind(p) is not None]
    elif Path(spec).is_file():
        paths = [Path(spec)]
    else:
        raise BatchInputError(f"{spec} does not exist; give a JSON Lines or Parquet file, a folder of them, or a quoted glob")
    if not paths:
        raise BatchInputError(f"no input files match {spec!r}; inputs end in {', '.join(JSONL_SUFFIXES + PARQUET_SUFFIXES)}")
    for p in paths:
        if file_kind(p) is None:
            raise BatchInputError(f"{p}: unknown input format; use JSON Lines ({', '.join(JSONL_SUFFIXES)}) or Parquet")
    return sorted((p.resolve() for p in paths), key=str)


def _open_lines(path: str) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb")) if path.endswith(".gz") else open(path, "rb")


def _jsonl_lines(path: str) -> Iterator[bytes]:
    """The non-blank lines of a JSON Lines file, as bytes (decoded per line, so one bad
    line is one error row)."""
    with _open_lines(path) as fh:
        for line in fh:
            if line.strip():
                yield line


def _parquet_file(path: str) -> "pq.ParquetFile":
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    missing = [c for c in COLUMNS if c not in pf.schema_arrow.names]
    if missing:
        raise BatchInputError(f"{path} has no {' or '.join(missing)} column; batch reads the columns id and text")
    return pf


def describe(path: Path) -> InputFile:
    kind = file_kind(path)
    assert kind is not None
    if kind == "jsonl":
        try:
            rows = sum(1 for _ in _jsonl_lines(str(path)))
        except (OSError, EOFError) as err:  # a truncated or corrupt .gz
            raise BatchInputError(f"{path} cannot be read to the end ({err}); fix or remove the file") from err
    else:
        rows = _parquet_file(str(path)).metadata.num_rows
    return InputFile(str(path), kind, rows, path.stat().st_size)


@dataclass(frozen=True)
class Plan:
    files: tuple[InputFile, ...]
    partition_size: int
    batch_size: int
    documents: int  # the documents the job covers (all, or the first --limit)

    @classmethod
    def build(cls, spec: str, partition_size: int, batch_size: int, limit: int | None = None) -> "Plan":
        if partition_size < 1 or batch_size < 1:
            raise BatchInputError("--partition-size and --batch-size must be at least 1")
        files = tuple(describe(p) for p in input_paths(spec))
        total = sum(f.rows for f in files)
        return cls(files, partition_size, batch_size, total if limit is None else min(total, limit))

    @property
    def partitions(self) -> int:
        return -(-self.documents // self.partition_size)

    def partition_range(self, k: int) -> tuple[int, int]:
        start = k * self.partition_size
        return start, min(start + self.partition_size, self.documents)

    def partition_rows(self, k: int) -> int:
        start, stop = self.partition_range(k)
        return stop - start

    def slices(self, k: int) -> list[tuple[InputFile, int, int, int]]:
        """(file, first row in the file, rows, position of that first row) for partition k."""
        start, stop = self.partition_range(k)
        out, offset = [], 0
        for f in self.files:
            lo, hi = max(start, offset), min(stop, offset + f.rows)
            if lo < hi:
                out.append((f, lo - offset, hi - lo, lo))
            offset += f.rows
        return out

    def chunk_of(self, position: int) -> int:
        return (position - position // self.partition_size * self.partition_size) // self.batch_size


def read_partition(plan: Plan, k: int) -> list[DocumentInput]:
    docs: list[DocumentInput] = []
    for f, first, count, position in plan.slices(k):
        reader = _read_jsonl if f.kind == "jsonl" else _read_parquet
        for i, (doc_id, text, error) in enumerate(reader(f.path, first, count)):
            p = position + i
            docs.append(DocumentInput(k, p, plan.chunk_of(p), f.path, first + i, doc_id, text, error))
    if len(docs) != plan.partition_rows(k):
        raise BatchInputError(
            f"partition {k} should hold {plan.partition_rows(k)} documents but {len(docs)} were read: "
            "the input changed since the job was planned; rerun with a new --output"
        )
    return docs


Parsed = tuple[str | None, str | None, str | None]  # id, text, error


def _read_jsonl(path: str, first: int, count: int) -> Iterator[Parsed]:
    for i, line in enumerate(_jsonl_lines(path)):
        if i >= first + count:
            return
        if i >= first:
            yield parse_json_line(line)


def _read_parquet(path: str, first: int, count: int) -> Iterator[Parsed]:
    import pyarrow as pa

    pf = _parquet_file(path)
    tables, offset, skip = [], 0, None
    # Only the row groups that overlap the slice, so a partition does not read the file.
    for g in range(pf.num_row_groups):
        n = pf.metadata.row_group(g).num_rows
        if offset + n > first and offset < first + count:
            skip = first - offset if skip is None else skip
            tables.append(pf.read_row_group(g, columns=list(COLUMNS)))
        offset += n
    if not tables:
        return
    table = pa.concat_tables(tables).slice(skip or 0, count)
    for doc_id, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist()):
        yield parse_fields(doc_id, text)


def _salvage_id(raw: bytes) -> str | None:
    """The id of a line that is not valid UTF-8, when the rest of it still parses."""
    try:
        record = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError:
        return None
    doc_id = record.get("id") if isinstance(record, dict) else None
    return doc_id if isinstance(doc_id, str) and doc_id.strip() else None


def parse_json_line(raw: bytes) -> Parsed:
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        return _salvage_id(raw), None, (
            f"not valid UTF-8 (byte {raw[err.start]:#04x} at byte {err.start} of the line); re-encode the input as UTF-8"
        )
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        return None, None, f"not JSON ({err.msg} at column {err.colno}); each line must be an object with id and text"
    if not isinstance(record, dict):
        return None, None, f"a JSON {type(record).__name__} where an object with id and text is expected"
    return parse_fields(record.get("id"), record.get("text"))


def parse_fields(doc_id: object, text: object) -> Parsed:
    problems = []
    if isinstance(doc_id, int) and not isinstance(doc_id, bool):
        doc_id = str(doc_id)
    if not (isinstance(doc_id, str) and doc_id.strip()):
        problems.append("no id (a non-empty string or an integer)")
        doc_id = None
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as err:
            problems.append(f"text is not valid UTF-8 (byte {text[err.start]:#04x} at byte {err.start}); re-encode it as UTF-8")
            text = None
    if text is None:
        if not any(p.startswith("text") for p in problems):
            problems.append("no text")
    elif not isinstance(text, str):
        problems.append(f"text is a {type(text).__name__}, not a string")
        text = None
    else:
        try:
            check_text(text)
        except ValueError as err:
            problems.append(str(err))
            text = None
    if problems:
        return doc_id, None, "; ".join(problems)
    return doc_id, text, None
