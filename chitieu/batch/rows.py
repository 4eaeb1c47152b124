"""The rows a batch job writes: one per target tuple, one per document.

A tuple row is the extraction contract's target (see `chitieu extract` and
`chitieu.serve.schemas.Target`) flattened into columns, with the model and the document
it came from, so the Parquet can be queried by province and indicator in pandas, DuckDB
or Spark without parsing JSON. The Arrow schemas are derived from these dataclasses, so
every partition has the same schema, empty ones included.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Union

from chitieu.serve.schemas import ExtractResponse, Target

if TYPE_CHECKING:
    import pyarrow as pa

Status = Literal["ok", "error"]


@dataclass(frozen=True)
class TupleRow:
    model_name: str
    model_version: str
    model_base: str
    doc_id: str
    position: int  # the document's place in the input; joins with the documents table
    target_index: int  # the target's place in the document's result
    indicator_text: str | None
    indicator_start: int | None
    indicator_end: int | None
    value_text: str
    value_start: int
    value_end: int
    value_number: float | None
    value_min: float | None
    value_max: float | None
    value_unit: str | None
    value_comparator: str
    province_name: str | None
    province_code: str | None
    province_successor: str | None
    province_start: int | None
    province_end: int | None
    official_name: str | None
    official_role: str | None
    official_start: int | None
    official_end: int | None
    sentence_start: int
    sentence_end: int
    score: float


@dataclass(frozen=True)
class DocumentRow:
    partition: int
    position: int
    doc_id: str | None
    source: str
    source_row: int
    status: Status
    reason: str | None  # why the document is an error row; None when ok
    n_targets: int
    n_chars: int | None
    model_name: str
    model_version: str
    model_base: str


@dataclass(frozen=True)
class DocumentResult:
    document: DocumentRow
    tuples: tuple[TupleRow, ...]


def tuple_rows(result: dict[str, Any], position: int) -> tuple[TupleRow, ...]:
    """The contract's targets of one document as flat rows (validated against the contract)."""
    parsed = ExtractResponse.model_validate(result)
    assert parsed.id is not None, "batch documents always carry an id"
    return tuple(_flatten(parsed, i, t, position) for i, t in enumerate(parsed.targets))


def _flatten(parsed: ExtractResponse, index: int, t: Target, position: int) -> TupleRow:
    ind, val, off, prov = t.indicator, t.value, t.official, t.province
    return TupleRow(
        model_name=parsed.model.name,
        model_version=parsed.model.version,
        model_base=parsed.model.base,
        doc_id=parsed.id or "",
        position=position,
        target_index=index,
        indicator_text=ind.text if ind else None,
        indicator_start=ind.start if ind else None,
        indicator_end=ind.end if ind else None,
        value_text=val.text,
        value_start=val.start,
        value_end=val.end,
        value_number=val.number,
        value_min=val.min,
        value_max=val.max,
        value_unit=val.unit,
        value_comparator=val.comparator,
        province_name=prov.name if prov else None,
        province_code=prov.code if prov else None,
        province_successor=prov.successor if prov else None,
        province_start=prov.start if prov else None,
        province_end=prov.end if prov else None,
        official_name=off.name if off else None,
        official_role=off.role if off else None,
        official_start=off.start if off else None,
        official_end=off.end if off else None,
        sentence_start=t.sentence.start,
        sentence_end=t.sentence.end,
        score=t.score,
    )


def _arrow_type(hint: Any) -> tuple["pa.DataType", bool]:
    """(Arrow type, nullable) of a field's type hint."""
    import pyarrow as pa

    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType) and type(None) in args:
        (inner,) = [a for a in args if a is not type(None)]
        return _arrow_type(inner)[0], True
    if origin is Literal or hint is str:
        return pa.string(), False
    if hint is int:
        return pa.int64(), False
    if hint is float:
        return pa.float64(), False
    raise TypeError(f"no Arrow type for {hint!r}")


def arrow_fields(cls: type) -> list["pa.Field"]:
    import pyarrow as pa

    hints = typing.get_type_hints(cls)
    return [pa.field(f.name, *_arrow_type(hints[f.name])) for f in dataclasses.fields(cls)]


def tuples_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema(arrow_fields(TupleRow))


def documents_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema(arrow_fields(DocumentRow))


def to_table(rows: list[Any], schema: "pa.Schema") -> "pa.Table":
    import pyarrow as pa

    return pa.Table.from_pylist([dataclasses.asdict(r) for r in rows], schema=schema)


# Results travel from Ray actors to the writer as one Arrow table: a row per document with
# its tuples nested, turned back into the same dataclasses on arrival.
TUPLES_COLUMN = "tuples"


def results_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema(arrow_fields(DocumentRow) + [pa.field(TUPLES_COLUMN, pa.list_(pa.struct(arrow_fields(TupleRow))), False)])


def results_to_table(results: list[DocumentResult]) -> "pa.Table":
    import pyarrow as pa

    records = [{**dataclasses.asdict(r.document), TUPLES_COLUMN: [dataclasses.asdict(t) for t in r.tuples]} for r in results]
    return pa.Table.from_pylist(records, schema=results_schema())


def results_from_table(table: "pa.Table") -> list[DocumentResult]:
    out = []
    for record in table.to_pylist():
        tuples = tuple(TupleRow(**t) for t in record.pop(TUPLES_COLUMN))
        out.append(DocumentResult(DocumentRow(**record), tuples))
    return out
