"""Byte-for-byte snapshot of the default model's output on the test split and the seeds.

A refactor of the post-tagger stages must leave this file unchanged (or explain every
line that changes). It runs the promoted model in fp32 (so the thread count does not
change a digit) over each document on its own (what shares a batch changes the numbers)
and writes one line per document: the full `Extractor.extract` output as canonical JSON
(sorted keys, no spaces).

The tagger is the slow part and no refactor of decode/refine/link touches it, so its
per-window probabilities are cached once (`chitieu.evaluate.tagger_cache`), keyed by model and text, in
`runs/snapshot-cache/`; later snapshots re-run prepare and the post-run stages only. A
cached entry also records a digest of the windows it was computed for, so a change to
`prepare` (tokens, windows) is refused rather than scored with stale probabilities.

    python tools/snapshot_outputs.py --out runs/snapshots/main.jsonl          # cached path
    python tools/snapshot_outputs.py --score runs/snapshots/main.jsonl        # its F1 on the split
    python tools/snapshot_outputs.py --out runs/snapshots/full.jsonl --no-cache  # full run
    cmp runs/snapshots/main.jsonl runs/snapshots/full.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from chitieu.annotate.corpus import load_corpus
from chitieu.evaluate.tagger_cache import StaleCacheError, cached_probabilities
from chitieu.extract.extractor import Extractor
from chitieu.model_folder import resolve_model_folder
from chitieu.paths import REPO_ROOT, annotations_dir, models_dir, shared_dir

CACHE_DIR = REPO_ROOT / "runs" / "snapshot-cache"


def documents(split: str) -> list[tuple[str, str]]:
    """(id, text): the gold split, then the seed articles of ../shared/seeds (file stem as id)."""
    docs = [(d.id, d.text) for d in load_corpus(annotations_dir(), split)]
    seeds = shared_dir() / "seeds"
    if not seeds.is_dir():
        sys.exit(f"{seeds} is missing: the snapshot covers the seeds too; set CHITIEU_SHARED")
    docs += [(f"seeds/{p.stem}", p.read_text(encoding="utf-8")) for p in sorted(seeds.glob("*.txt"))]
    return docs


def run_cached(extractor: Extractor, folder: Path, cache: Path, doc_id: str, text: str) -> dict[str, object]:
    prepared = extractor.prepare(text, doc_id)
    try:
        probs = cached_probabilities(extractor, folder, cache, prepared)
    except StaleCacheError as error:
        sys.exit(f"{error} (or re-run with --no-cache)")
    return extractor.finish(prepared, probs)


def score(path: Path, split: str) -> None:
    """Strict span F1 per label and micro, and tuple F1, of a snapshot's gold-split lines
    (what `chitieu evaluate` reports, without running the model)."""
    from chitieu.evaluate.metrics import evaluate_predictions

    docs = load_corpus(annotations_dir(), split)
    outputs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()][: len(docs)]
    if [o["id"] for o in outputs] != [d.id for d in docs]:
        sys.exit(f"{path} does not start with the {split} split's documents in order")
    result = evaluate_predictions(docs, outputs)
    figures = {label: s["f1"] for label, s in result["strict"]["per_label"].items()}
    figures["micro"] = result["strict"]["micro"]["f1"]
    figures["tuples"] = result["tuples"]["with_official"]["f1"]
    figures["tuples_without_official"] = result["tuples"]["without_official"]["f1"]
    print(json.dumps(figures, sort_keys=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--score", type=Path, help="print the F1 figures of this snapshot instead of writing one")
    parser.add_argument("--split", default="test")
    parser.add_argument("--model", default=None, help="model folder [default: the promoted one]")
    parser.add_argument("--no-cache", action="store_true", help="run the tagger on every document (the full path)")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR, help=f"where the tagger's outputs are kept [default: {CACHE_DIR}]")
    parser.add_argument("--limit", type=int, default=None, help="only the first N documents (a quick full-path check)")
    args = parser.parse_args()
    if args.score is not None:
        score(args.score, args.split)
        return
    if args.out is None:
        parser.error("--out (or --score) is required")

    folder = resolve_model_folder(args.model, models_dir())
    extractor = Extractor.load(folder, device="cpu", engine="fp32")
    lines = []
    for doc_id, text in documents(args.split)[: args.limit]:
        if args.no_cache:
            result = extractor.extract(text, doc_id)
        else:
            result = run_cached(extractor, folder, args.cache, doc_id, text)
        lines.append(json.dumps(result, ensure_ascii=False, sort_keys=True, separators=(",", ":")))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} documents -> {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
