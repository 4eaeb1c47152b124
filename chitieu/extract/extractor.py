"""The extraction contract, the same for the CLI, the evaluator and the service.

`Extractor.extraction(prepared, probs)` returns the typed `chitieu.core.Extraction`;
`Extractor.extract(text)` (and `finish`) return it as its JSON form
  {"id", "model": {name, version, base}, "entities": [...], "targets": [...]}
dumped from that model, which `serve/schemas.py` also answers with, so the CLI and HTTP
outputs are one thing. The stage methods (`prepare`, `run`, `finish`) let the service
pool the model stage across concurrent requests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chitieu.core import Extraction, ModelRef
from chitieu.encoders.base import WordPieceAdapter
from chitieu.extract.decode import decode
from chitieu.extract.goal_classifier import GoalClassifier
from chitieu.extract.indicators import IndicatorChooser, fill_indicators
from chitieu.extract.link import link_targets
from chitieu.extract.map_back import map_back
from chitieu.extract.prepare import Prepared, prepare
from chitieu.extract.refine import REFINE_STEPS, refine
from chitieu.extract.run import WindowRunner
from chitieu.labels import LABELS
from chitieu.windows import DEFAULT_OVERLAP_TOKENS, Window

#: The post-tagger steps an ablation can switch off, in pipeline order.
COMPONENTS = (*REFINE_STEPS, "indicator-chooser")


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
    ) -> None:
        self.adapter = adapter
        self.goal_classifier = goal_classifier
        self.indicator_chooser = indicator_chooser
        self.runner = runner
        self.meta = meta
        options = meta.get("options", {})
        self.max_tokens = max_tokens or int(options.get("max_tokens", adapter.max_tokens))
        # The windows the model was trained on; the default only for folders that do not say.
        self.overlap_tokens = overlap_tokens if overlap_tokens is not None else int(options.get("overlap_tokens", DEFAULT_OVERLAP_TOKENS))

    @classmethod
    def load(cls, directory: Path, device: str = "auto", batch_size: int = 8, engine: str = "auto") -> "Extractor":
        """`engine`: fp32, int8, bf16, fp16 or auto (chitieu.engines)."""
        from chitieu.engines import resolve_engine
        from chitieu.extract.run import TorchRunner
        from chitieu.model_folder import load_model_folder

        model, adapter, meta = load_model_folder(directory, device, engine)
        chosen = resolve_engine(engine, model.device.type)
        runner = TorchRunner.for_model(model, adapter.pad_id, model.device, batch_size, engine=chosen)
        return cls(
            adapter, runner, meta,
            goal_classifier=GoalClassifier.load(directory), indicator_chooser=IndicatorChooser.load(directory),
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
        }

    def prepare(self, text: str, doc_id: str | None = None) -> Prepared:
        return prepare(text, self.adapter, max_tokens=self.max_tokens, overlap_tokens=self.overlap_tokens, doc_id=doc_id)

    def run(self, windows: Sequence[Window]) -> list[np.ndarray]:
        return self.runner(windows)

    def extraction(self, prepared: Prepared, probs: Sequence[np.ndarray], skip: frozenset[str] = frozenset()) -> Extraction:
        """Decode -> refine -> indicator chooser -> link; `skip` leaves out steps by name
        (`COMPONENTS`) for ablations."""
        text, spans = prepared.text, prepared.sentences
        entities = refine(text, decode(prepared, probs), self.goal_classifier, skip & set(REFINE_STEPS), spans)
        if self.indicator_chooser is not None and "indicator-chooser" not in skip:
            entities = fill_indicators(text, entities, self.indicator_chooser, spans)
        entities, targets = map_back(prepared, entities, link_targets(text, entities, spans))
        info = self.info
        return Extraction(
            id=prepared.doc_id,
            model=ModelRef(name=info["name"], version=info["version"], base=info["base"]),
            entities=entities,
            targets=targets,
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
