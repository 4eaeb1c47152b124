"""Span predictors for pre-annotation: the promoted model when there is one, else rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from chitieu.model_folder import read_promoted
from chitieu.paths import models_dir

SpanPredictor = Callable[[str], list[dict[str, Any]]]


def load_span_predictor(model: Path | None = None, force_rules: bool = False) -> tuple[SpanPredictor, str]:
    """A text -> entities function and the version string to stamp on predictions."""
    folder = None if force_rules else (model or read_promoted(models_dir()))
    if folder is None:
        from chitieu.evaluate.rules import RuleExtractor

        return RuleExtractor().predict, "chitieu-rules"
    from chitieu.extract.extractor import Extractor

    extractor = Extractor.load(folder)
    return (lambda text: extractor.extract(text)["entities"]), f"{extractor.info['name']}@{extractor.info['version']}"
