"""The facade over the extraction stages (`chitieu.extract.stages`): the extraction
contract, the same for the CLI, the evaluator, batch and the service.

`Extractor.extraction(prepared, probs)` returns the typed `chitieu.core.Extraction`;
`Extractor.extract(text)` (and `finish`) return it as its JSON form
  {"id", "model": {name, version, base}, "entities": [...], "targets": [...]}
dumped from that model, which `serve/schemas.py` also answers with, so the CLI and HTTP
outputs are one thing. The stage methods (`prepare` is stage 1, `run` stage 2, `finish`
walks `stages.STAGES`) let the service pool the model stage across concurrent requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chitieu.core import Extraction, ModelRef
from chitieu.encoders.base import WordPieceAdapter
from chitieu.extract.goal_classifier import GoalClassifier
from chitieu.extract.indicators import IndicatorChooser
from chitieu.extract.officials import OfficialCheck
from chitieu.extract.prepare import Prepared, prepare
from chitieu.extract.run import WindowRunner
from chitieu.extract.stages import Article, Parts, walk
from chitieu.labels import LABELS
from chitieu.windows import DEFAULT_OVERLAP_TOKENS, Window


class Extractor:
    def __init__(
        self,
        adapter: WordPieceAdapter,
        runner: WindowRunner,
        meta: dict[str, Any],
        *,
        max_tokens: int | None = None,
        overlap_tokens: int | None = None,
        goal_classifier: GoalClassifier | None = None,
        indicator_chooser: IndicatorChooser | None = None,
        official_check: OfficialCheck | None = None,
    ) -> None:
        self.adapter = adapter
        self.goal_classifier = goal_classifier
        self.indicator_chooser = indicator_chooser
        self.official_check = official_check
        self.runner = runner
        self.meta = meta
        options = meta.get("options", {})
        self.max_tokens = max_tokens or int(options.get("max_tokens", adapter.max_tokens))
        # The windows the model was trained on; the default only for folders that do not say.
        self.overlap_tokens = overlap_tokens if overlap_tokens is not None else int(options.get("overlap_tokens", DEFAULT_OVERLAP_TOKENS))

    @classmethod
    def load(cls, directory: Path, device: str = "auto", batch_size: int = 8, engine: str = "auto") -> "Extractor":
        """`engine`: fp32, int8, bf16, fp16 or auto (chitieu.engines)."""
        from chitieu.engines import configure_threads, resolve_engine
        from chitieu.model_folder import load_model_folder, open_model_folder, pick_device

        chosen = resolve_engine(engine, pick_device(device))
        runner: WindowRunner
        if chosen == "int8":
            from chitieu.extract.onnx_run import OrtRunner

            adapter, meta = open_model_folder(directory)
            runner = OrtRunner.for_folder(directory, threads=configure_threads())
        else:
            from chitieu.extract.run import TorchRunner

            model, adapter, meta = load_model_folder(directory, device, chosen)
            runner = TorchRunner.for_model(model, adapter.pad_id, model.device, batch_size, engine=chosen)
        return cls(
            adapter, runner, meta,
            goal_classifier=GoalClassifier.load(directory), indicator_chooser=IndicatorChooser.load(directory),
            official_check=OfficialCheck.load(directory),
        )

    @property
    def info(self) -> dict[str, Any]:
        return {
            "name": self.meta.get("name", "unknown"),
            "version": self.meta.get("version", "unknown"),
            "base": self.meta.get("base", {}).get("name", "unknown"),
            "labels": list(LABELS),
            "metrics": self.meta.get("metrics", {}),
            "goal_classifier": self.goal_classifier.trained_on if self.goal_classifier is not None else None,
            "indicator_chooser": self.indicator_chooser.trained_on if self.indicator_chooser is not None else None,
            "official_check": self.official_check.trained_on if self.official_check is not None else None,
            # What produced the figures: evaluation reports and the service's /model say it.
            "engine": getattr(self.runner, "engine", "unknown"),
        }

    def prepare(self, text: str, doc_id: str | None = None) -> Prepared:
        return prepare(text, self.adapter, max_tokens=self.max_tokens, overlap_tokens=self.overlap_tokens, doc_id=doc_id)

    def run(self, windows: Sequence[Window]) -> list[np.ndarray]:
        return self.runner(windows)

    def extraction(self, prepared: Prepared, probs: Sequence[np.ndarray], skip: frozenset[str] = frozenset()) -> Extraction:
        """Stages 3-8 (`stages.STAGES`, in order) over one prepared article; `skip` leaves
        out steps by name (`stages.COMPONENTS`) for ablations."""
        article = walk(Article(prepared, probs), Parts(
            self.goal_classifier, self.indicator_chooser, skip, official_check=self.official_check
        ))
        info = self.info
        return Extraction(
            id=prepared.doc_id,
            model=ModelRef(name=info["name"], version=info["version"], base=info["base"]),
            entities=article.entities,
            targets=article.targets,
        )

    def finish(self, prepared: Prepared, probs: Sequence[np.ndarray], skip: frozenset[str] = frozenset()) -> dict[str, Any]:
        """`extraction` in its JSON form (the contract)."""
        return self.extraction(prepared, probs, skip).model_dump()

    def extract(self, text: str, doc_id: str | None = None) -> dict[str, Any]:
        return self.extract_many([(doc_id, text)])[0]

    def extract_many(self, docs: Sequence[tuple[str | None, str]]) -> list[dict[str, Any]]:
        """Several documents with one pass of the model over all their windows."""
        prepared = [self.prepare(text, doc_id) for doc_id, text in docs]
        windows = [w for p in prepared for w in p.windows]
        probs = self.run(windows)
        out, k = [], 0
        for p in prepared:
            out.append(self.finish(p, probs[k : k + len(p.windows)]))
            k += len(p.windows)
        return out
