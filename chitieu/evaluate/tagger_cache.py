"""The tagger's window probabilities kept on disk, keyed by model and text.

The tagger is the slow part of an extraction and the post-tagger stages (refine, goal vote,
indicator chooser, link) are what cross-validation and refactors change, so their checks
run the tagger once per document and model and re-run only what follows it. An entry
records a digest of the windows it was computed for: a change to `prepare` (tokens,
windows) is refused, not scored with stale probabilities. Always fp32, so the thread count
does not change a digit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chitieu.extract.prepare import Prepared
from chitieu.windows import Window


class StaleCacheError(RuntimeError):
    pass


def windows_digest(windows: Sequence[Window]) -> str:
    h = hashlib.sha256()
    for w in windows:
        h.update(np.asarray(w.input_ids, dtype=np.int64).tobytes())
        h.update(b"|")
    return h.hexdigest()


def cache_path(cache: Path, folder: Path, text: str) -> Path:
    key = hashlib.sha256(f"{folder.resolve().name}\0fp32\0{text}".encode("utf-8")).hexdigest()
    return cache / folder.resolve().name / f"{key}.npz"


def cached_probabilities(extractor: Any, folder: Path, cache: Path, prepared: Prepared) -> list[np.ndarray]:
    """`extractor.run(prepared.windows)`, from `cache` when this model already ran on this text."""
    digest = windows_digest(prepared.windows)
    path = cache_path(cache, folder, prepared.text)
    if path.exists():
        stored = np.load(path)
        if str(stored["digest"]) != digest:
            raise StaleCacheError(
                f"{prepared.doc_id}: the windows differ from the cached run ({path}): prepare changed; delete {cache} and run again"
            )
        return [stored[f"w{i}"] for i in range(len(prepared.windows))]
    probs = extractor.run(prepared.windows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.stem + ".part.npz")
    arrays: dict[str, Any] = {"digest": np.array(digest), **{f"w{i}": p for i, p in enumerate(probs)}}
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return list(probs)
