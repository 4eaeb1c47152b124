"""The fine-tuning loop: accelerate picks CPU, one GPU or several at run time.

The pretrained e5 features are tiny and nearly parallel across tokens, and a plain linear
head on them collapses to `O`. So during training the head reads standardised features
(mean and spread fixed from the training tokens); on save the standardisation is folded
into the head's weights, leaving a plain `...ForTokenClassification` model.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from chitieu.labels import INDICATOR, TARGET_VALUE
from chitieu.train.options import TrainOptions
from chitieu.windows import IGNORE_INDEX, Window

log = logging.getLogger(__name__)


def set_seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)


def collate(windows: Sequence[Window], pad_id: int) -> dict[str, torch.Tensor]:
    width = max(len(w.input_ids) for w in windows)
    ids = torch.full((len(windows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows), width), dtype=torch.long)
    labels = torch.full((len(windows), width), IGNORE_INDEX, dtype=torch.long)
    for row, w in enumerate(windows):
        n = len(w.input_ids)
        ids[row, :n] = torch.tensor(w.input_ids)
        mask[row, :n] = 1
        if w.labels:
            labels[row, :n] = torch.tensor(w.labels)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels}


class StandardizedTagger(nn.Module):
    """A token-classification model whose head reads standardised features."""

    #: Buffers (registered below, so they move with the module and are saved with it).
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, model: nn.Module, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        # A transformers token-classification model: `base_model`, `dropout` and
        # `classifier` are attributes torch's Module type does not declare.
        self.model: Any = model
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model.base_model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        hidden = self.model.dropout(hidden)
        return self.model.classifier((hidden - self.mean) / self.std)

    def folded(self) -> nn.Module:
        """A plain model computing the same logits: W((h - m) / s) + b = (W / s) h + (b - W m / s)."""
        plain = copy.deepcopy(self.model)
        with torch.no_grad():
            weight = self.model.classifier.weight / self.std
            plain.classifier.weight.copy_(weight)
            plain.classifier.bias.copy_(self.model.classifier.bias - weight @ self.mean)
        return plain


class PlainTagger(nn.Module):
    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model: Any = model

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits

    def folded(self) -> nn.Module:
        return self.model


@torch.no_grad()
def feature_statistics(model: Any, windows: Sequence[Window], pad_id: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and spread of the pretrained features over the training positions that carry labels."""
    model.eval()
    total: torch.Tensor | None = None
    total_sq: torch.Tensor | None = None
    count = 0
    for k in range(0, len(windows), batch_size):
        batch = collate(windows[k : k + batch_size], pad_id)
        hidden = model.base_model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        keep = batch["labels"] != IGNORE_INDEX
        feats = hidden[keep].double()
        total = feats.sum(0) if total is None else total + feats.sum(0)
        total_sq = (feats**2).sum(0) if total_sq is None else total_sq + (feats**2).sum(0)
        count += feats.shape[0]
    if total is None or total_sq is None:
        raise ValueError("no training position carries a label: annotate documents before training")
    mean = total / count
    std = (total_sq / count - mean**2).clamp_min(1e-12).sqrt()
    return mean.float(), std.float().clamp_min(1e-3)


@dataclass
class TrainResult:
    model: nn.Module
    best_epoch: int
    best_dev: dict[str, Any]
    history: list[dict[str, Any]]
    seconds: float
    steps: int


def fit(
    model: Any,
    train_windows: list[Window],
    pad_id: int,
    opts: TrainOptions,
    evaluate_dev: Callable[[Callable[[Sequence[Window]], list[np.ndarray]]], dict[str, Any]] | None,
) -> TrainResult:
    """Train with early stopping on dev micro-F1 (or all epochs when evaluate_dev is None).

    Returns the best model, folded and on the CPU.
    """
    from accelerate import Accelerator

    set_seed(opts.seed)
    torch.set_num_threads(opts.threads)
    accelerator = Accelerator()
    if opts.freeze_embeddings:
        model.base_model.embeddings.word_embeddings.weight.requires_grad_(False)
    if opts.standardize_features:
        mean, std = feature_statistics(model, train_windows, pad_id, opts.batch_size)
        tagger: nn.Module = StandardizedTagger(model, mean, std)
    else:
        tagger = PlainTagger(model)

    head = [p for p in model.classifier.parameters()]
    head_ids = {id(p) for p in head}
    body = [p for p in model.parameters() if p.requires_grad and id(p) not in head_ids]
    optimizer = torch.optim.AdamW(
        [{"params": body, "lr": opts.lr_encoder}, {"params": head, "lr": opts.lr_head}],
        weight_decay=opts.weight_decay,
    )
    from chitieu.labels import TAG2ID

    focus = {TAG2ID[f"{p}-{label}"] for p in "BI" for label in (TARGET_VALUE, INDICATOR)}
    epoch_windows = [i for i, w in enumerate(train_windows) for _ in range(opts.oversample_targets if focus & set(w.labels) else 1)]
    steps_per_epoch = math.ceil(len(epoch_windows) / opts.batch_size)
    total_steps = steps_per_epoch * opts.epochs if opts.max_steps is None else min(opts.max_steps, steps_per_epoch * opts.epochs)
    warmup = int(total_steps * opts.warmup_ratio)

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / max(warmup, 1)
        return max(0.0, (total_steps - step) / max(total_steps - warmup, 1))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
    tagger, optimizer, scheduler = accelerator.prepare(tagger, optimizer, scheduler)
    class_weight = torch.ones(len(TAG2ID))
    class_weight[TAG2ID["O"]] = opts.o_weight
    loss_fn = nn.CrossEntropyLoss(weight=class_weight.to(accelerator.device), ignore_index=IGNORE_INDEX)
    order_rng = random.Random(opts.seed)

    from chitieu.extract.run import TorchRunner

    runner = TorchRunner(tagger, pad_id, accelerator.device, opts.batch_size * 2)

    best_f1, best_epoch, best_state, best_dev = -1.0, 0, None, {}
    history: list[dict[str, Any]] = []
    started = time.monotonic()
    step, bad_epochs = 0, 0
    for epoch in range(1, opts.epochs + 1):
        tagger.train()
        order = list(epoch_windows)
        order_rng.shuffle(order)
        losses = []
        for k in range(0, len(order), opts.batch_size):
            if opts.max_steps is not None and step >= opts.max_steps:
                break
            batch = collate([train_windows[i] for i in order[k : k + opts.batch_size]], pad_id)
            batch = {name: t.to(accelerator.device) for name, t in batch.items()}
            logits = tagger(batch["input_ids"], batch["attention_mask"])
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), batch["labels"].reshape(-1))
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(tagger.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
            losses.append(loss.item())
            step += 1
        loss_mean = round(float(np.mean(losses)) if losses else float("nan"), 4)
        if evaluate_dev is None:
            history.append({"epoch": epoch, "loss": loss_mean, "seconds": round(time.monotonic() - started, 1)})
            log.info("epoch %d  loss %.4f  %.0fs", epoch, loss_mean, history[-1]["seconds"])
            best_epoch = epoch
            if opts.max_steps is not None and step >= opts.max_steps:
                break
            continue
        tagger.eval()
        dev = evaluate_dev(runner)
        record = {"epoch": epoch, "loss": loss_mean, **dev, "seconds": round(time.monotonic() - started, 1)}
        history.append(record)
        log.info("epoch %d  loss %.4f  dev micro-F1 %.4f  %s  %.0fs", epoch, record["loss"], dev["micro_f1"], " ".join(f"{k} {v:.3f}" for k, v in dev.get("per_label_f1", {}).items()), record["seconds"])
        if dev["micro_f1"] > best_f1:
            best_f1, best_epoch, best_dev, bad_epochs = dev["micro_f1"], epoch, dev, 0
            best_state = copy.deepcopy(accelerator.unwrap_model(tagger).state_dict())
        else:
            bad_epochs += 1
            if bad_epochs >= opts.patience:
                log.info("early stop: no dev gain for %d epochs; best epoch %d", bad_epochs, best_epoch)
                break
        if opts.max_steps is not None and step >= opts.max_steps:
            break
    final = accelerator.unwrap_model(tagger)
    if evaluate_dev is not None and best_state is not None:
        final.load_state_dict(best_state)
    plain = final.folded().cpu().eval()
    return TrainResult(plain, best_epoch, best_dev, history, time.monotonic() - started, step)
