"""One chunk of documents through the extractor; no document can fail the job.

Both engines call `extract_chunk` on the same chunks (see `source.Plan`), so their
results are the same: the model batches a chunk's windows together, and the numbers it
returns depend on what else is in the batch.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import groupby
from typing import Any, cast

from chitieu.batch.rows import DocumentResult, DocumentRow, TupleRow, tuple_rows
from chitieu.batch.source import DocumentInput
from chitieu.extract.extractor import Extractor


def chunks(docs: Sequence[DocumentInput]) -> Iterator[list[DocumentInput]]:
    """Consecutive documents of one model call (same partition and chunk), in input order."""
    ordered = sorted(docs, key=lambda d: d.position)
    for _, group in groupby(ordered, key=lambda d: (d.partition, d.chunk)):
        yield list(group)


def extract_chunk(extractor: Extractor, docs: Sequence[DocumentInput]) -> list[DocumentResult]:
    """A result for every document, in order: its tuples, or an error row with the reason."""
    info = extractor.info
    readable = [d for d in docs if d.error is None]
    outcome: dict[int, tuple[TupleRow, ...] | str] = {d.position: d.error for d in docs if d.error is not None}
    try:
        results = extractor.extract_many([(d.doc_id, cast(str, d.text)) for d in readable])  # no error: the text was read
        for d, result in zip(readable, results, strict=True):
            outcome[d.position] = _tuples_or_reason(result, d)
    except Exception:  # noqa: BLE001 - one document must not cost the others their results
        # Something in the shared model call failed: redo the chunk one document at a time
        # so that only the document that causes it becomes an error row.
        for d in readable:
            try:
                outcome[d.position] = _tuples_or_reason(extractor.extract(d.text or "", d.doc_id), d)
            except Exception as err:  # noqa: BLE001
                outcome[d.position] = f"extraction failed: {type(err).__name__}: {err}"
    out = []
    for d in docs:
        got = outcome[d.position]
        row = DocumentRow(
            partition=d.partition,
            position=d.position,
            doc_id=d.doc_id,
            source=d.source,
            source_row=d.source_row,
            status="error" if isinstance(got, str) else "ok",
            reason=got if isinstance(got, str) else None,
            n_targets=0 if isinstance(got, str) else len(got),
            n_chars=len(d.text) if d.text is not None else None,
            model_name=str(info["name"]),
            model_version=str(info["version"]),
            model_base=str(info["base"]),
        )
        out.append(DocumentResult(row, () if isinstance(got, str) else got))
    return out


def _tuples_or_reason(result: dict[str, Any], doc: DocumentInput) -> tuple[TupleRow, ...] | str:
    try:
        return tuple_rows(result, doc.position)
    except Exception as err:  # noqa: BLE001 - a result outside the contract is that document's error
        return f"result does not follow the extraction contract: {type(err).__name__}: {err}"
