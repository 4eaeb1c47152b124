"""Continued masked-language-model pretraining of a base on unlabelled goal articles.

Task-adaptive pretraining (Gururangan et al. 2020, "Don't Stop Pretraining"): a few
thousand in-domain articles, read with the pretraining objective before fine-tuning,
move an encoder toward the domain's words and phrasing at a bounded cost. The articles are
a seeded draw of `corpus_unlabeled` goal articles that repeat no corpus story (the same
rule as the silver draw, so nothing of a test story is read), and only the bottom
`layers` layers are kept: the tagger keeps the same ones (`chitieu train --layers`), and
half the layers halve the cost.

The base has no masked-LM head (e5 was trained as an embedding model), so a fresh head is
first fitted with the encoder frozen (`head_steps`), and only then does the encoder move:
an untrained head's gradients would otherwise scramble it. A held-out share of the packed
sequences is scored before and after, so the folder says whether the text was learned.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from chitieu.encoders.e5 import STAMP_FILE

if TYPE_CHECKING:
    import torch
    from transformers import BertForMaskedLM

#: Written into the adapted folder: what it was adapted on and how far the loss moved.
ADAPT_FILE = "chitieu-adapt.json"


@dataclass(frozen=True)
class AdaptOptions:
    layers: int | None = 6
    max_tokens: int = 256
    mask_probability: float = 0.15
    batch_size: int = 16
    lr: float = 5e-5
    lr_head: float = 1e-3
    head_steps: int = 100
    max_steps: int = 1000
    minutes: float | None = None
    held_out_share: float = 0.05
    seed: int = 13
    threads: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.mask_probability < 1.0:
            raise ValueError(f"mask_probability must be in (0, 1), got {self.mask_probability}")
        if self.max_tokens < 8:
            raise ValueError(f"max_tokens must be >= 8, got {self.max_tokens}")
        if self.head_steps < 0 or self.max_steps < 1 or self.head_steps >= self.max_steps:
            raise ValueError(f"need 0 <= head_steps < max_steps, got {self.head_steps} and {self.max_steps}")
        if not 0.0 < self.held_out_share < 0.5:
            raise ValueError(f"held_out_share must be in (0, 0.5), got {self.held_out_share}")


@dataclass(frozen=True)
class AdaptSource:
    """Which texts a base was adapted on, for its record."""

    #: The rule the unlabelled articles passed (`chitieu base adapt --pool`); None with `pool_ids`.
    pool: str | None
    unlabelled_articles: int
    #: The corpus split whose text (never its labels) was read too, if any.
    split: str | None = None
    split_texts: int = 0
    #: sha256 of the drawn article ids, sorted, one a line (`chitieu.encoders.cli.ids_digest`):
    #: the same set of articles. Their order is the seed's shuffle of the unlabelled file's
    #: order, so a re-ordered file changes the draw's order and not this digest.
    article_ids_sha256: str | None = None
    #: The frozen pool file the articles came from (`--pool-ids`), if any.
    pool_ids: str | None = None


@dataclass(frozen=True)
class AdaptResult:
    articles: int
    sequences: int
    held_out_sequences: int
    steps: int
    seconds: float
    #: With the fresh head, before any step: mostly the head's ignorance.
    held_out_loss_before: float
    #: After the head-only steps, the encoder as it came: what the adaptation is judged against.
    held_out_loss_head_only: float | None
    held_out_loss_after: float


def pack(pieces: Sequence[Sequence[int]], *, cls_id: int, sep_id: int, max_tokens: int) -> list[list[int]]:
    """Articles' subword ids, joined with [SEP] and cut into [CLS] ... [SEP] sequences of
    at most `max_tokens` (the last one may be shorter)."""
    stream: list[int] = []
    for ids in pieces:
        stream.extend(ids)
        stream.append(sep_id)
    body = max_tokens - 2
    return [[cls_id, *stream[i : i + body], sep_id] for i in range(0, len(stream), body) if stream[i : i + body]]


def _chunks(sequences: Sequence[list[int]], size: int) -> list[list[list[int]]]:
    """Sequences `size` at a time; the collator pads each chunk and draws its masks."""
    return [list(sequences[k : k + size]) for k in range(0, len(sequences), size)]


def _masked_loss(model: BertForMaskedLM, collator: Callable[[list[dict[str, list[int]]]], dict[str, torch.Tensor]],
                 chunk: Sequence[list[int]]) -> torch.Tensor:
    batch = collator([{"input_ids": ids} for ids in chunk])
    return model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=batch["labels"]).loss


def held_out_loss(model: BertForMaskedLM, collator: Callable[[list[dict[str, list[int]]]], dict[str, torch.Tensor]],
                  chunks: Sequence[Sequence[list[int]]], seed: int) -> float:
    """Mean masked-LM loss over `chunks`, with the same masks every time it is called; the
    training's random stream is left as it was, so scoring does not change what is trained."""
    import torch

    model.eval()
    losses = []
    state = torch.random.get_rng_state()
    try:
        with torch.no_grad():
            torch.manual_seed(seed)
            for chunk in chunks:
                losses.append(float(_masked_loss(model, collator, chunk)))
    finally:
        torch.random.set_rng_state(state)
        model.train()
    return sum(losses) / max(1, len(losses))


def adapt(base: Path, texts: Sequence[str], out: Path, options: AdaptOptions,
          log: Callable[[str], None] = lambda line: None, source: AdaptSource | None = None) -> AdaptResult:
    """Continue masked-LM pretraining of `base` on `texts`; write a base folder to `out`,
    recording `source` (where the texts came from) with the options and losses."""
    import torch
    from transformers import AutoConfig, AutoTokenizer, BertForMaskedLM, DataCollatorForLanguageModeling

    if not texts:
        raise ValueError("no texts to adapt on: check the draw (corpus_unlabeled present? --articles >= 1?)")
    if options.threads:
        torch.set_num_threads(options.threads)
    tokenizer = AutoTokenizer.from_pretrained(str(base))
    if not tokenizer.is_fast:
        raise ValueError(f"{base} holds no fast tokenizer (tokenizer.json); adapt reads e5-format bases")
    config = AutoConfig.from_pretrained(str(base))
    if options.layers is not None:
        if options.layers > config.num_hidden_layers:
            raise ValueError(f"--layers {options.layers}: the base has only {config.num_hidden_layers} layers")
        config.num_hidden_layers = options.layers
    torch.manual_seed(options.seed)
    model = BertForMaskedLM.from_pretrained(str(base), config=config, dtype=torch.float32)
    pieces = [tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"] for text in texts]
    sequences = pack(pieces, cls_id=tokenizer.cls_token_id, sep_id=tokenizer.sep_token_id, max_tokens=options.max_tokens)
    random.Random(options.seed).shuffle(sequences)
    n_held = max(1, int(len(sequences) * options.held_out_share))
    if len(sequences) - n_held < 1:
        raise ValueError(f"{len(sequences)} sequences are too few to hold some out; draw more articles")
    held, train = sequences[:n_held], sequences[n_held:]
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=options.mask_probability, return_tensors="pt")
    held_chunks = _chunks(held, options.batch_size)
    before = held_out_loss(model, collator, held_chunks, options.seed)
    log(f"{len(texts)} articles -> {len(train)} training and {len(held)} held-out sequences of <= {options.max_tokens}; held-out loss {before:.3f}")

    encoder = [p for n, p in model.named_parameters() if n.startswith("bert.")]
    head = [p for n, p in model.named_parameters() if not n.startswith("bert.")]
    optimizer = torch.optim.AdamW([{"params": encoder, "lr": 0.0}, {"params": head, "lr": options.lr_head}], weight_decay=0.01)
    encoder_steps = options.max_steps - options.head_steps
    start, step, epoch = time.perf_counter(), 0, 0
    head_only: float | None = None  # measured when the encoder starts to move

    def out_of_time() -> bool:
        return options.minutes is not None and time.perf_counter() - start > 60 * options.minutes

    model.train()
    while step < options.max_steps and not out_of_time():
        order = list(range(len(train)))
        random.Random(options.seed + epoch).shuffle(order)
        for chunk in _chunks([train[i] for i in order], options.batch_size):
            if step >= options.max_steps or out_of_time():
                break
            # Encoder frozen while the fresh head fits, then linear warm-up and decay.
            k = step - options.head_steps
            if k == 0:
                head_only = held_out_loss(model, collator, held_chunks, options.seed)
                log(f"held-out loss {head_only:.3f} with the head fitted and the encoder as it came")
            for parameter in encoder:  # no backward pass through a frozen encoder
                parameter.requires_grad_(k >= 0)
            warm = min(1.0, (k + 1) / max(1, encoder_steps // 10))
            optimizer.param_groups[0]["lr"] = 0.0 if k < 0 else options.lr * warm * max(0.0, 1 - k / encoder_steps)
            loss = _masked_loss(model, collator, chunk)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            step += 1
            if step % 50 == 0:
                log(f"step {step}/{options.max_steps}  loss {loss.item():.3f}  {time.perf_counter() - start:.0f}s")
        epoch += 1
    after = held_out_loss(model, collator, held_chunks, options.seed)
    result = AdaptResult(
        articles=len(texts), sequences=len(train), held_out_sequences=len(held), steps=step,
        seconds=round(time.perf_counter() - start, 1), held_out_loss_before=round(before, 4),
        held_out_loss_head_only=None if head_only is None else round(head_only, 4), held_out_loss_after=round(after, 4),
    )
    fitted = "not reached" if head_only is None else f"{head_only:.3f}"
    log(f"held-out loss {before:.3f} with the fresh head, {fitted} with it fitted, {after:.3f} after {step} steps ({result.seconds:.0f}s)")
    _save(model, base, out, options, result, source)
    return result


def _save(model: BertForMaskedLM, base: Path, out: Path, options: AdaptOptions, result: AdaptResult,
          source: AdaptSource | None) -> None:
    """The encoder alone (no masked-LM head), as a base `chitieu train --base` reads."""
    head_only = result.held_out_loss_head_only
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    model.bert.save_pretrained(str(out))
    # The tokenizer, and the e5 build stamp that says what the weights derive from (and so
    # their licence: `chitieu train` reads it from the base folder).
    for path in base.iterdir():
        if path.is_file() and (path.name.startswith("tokenizer") or path.name == STAMP_FILE):
            shutil.copy(path, out / path.name)
    record = {"base": str(base), "source": None if source is None else asdict(source),
              "options": asdict(options), "result": asdict(result),
              "perplexity_head_only": None if head_only is None else round(math.exp(head_only), 2),
              "perplexity_after": round(math.exp(result.held_out_loss_after), 2)}
    (out / ADAPT_FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")
