"""Stage 2, run: windows -> per-position tag probabilities, batched by length.

Reads `Prepared.windows` (of one article, or pooled from many: the service's micro-batcher
calls the runner on the windows of concurrent requests at once); writes one probability row
per window position, which decode (stage 3) reads. `WindowRunner` is the stage's type;
`TorchRunner` wraps a tagger's forward (a transformers token-classification model through
`for_model`, or training's own tagger), so inference and dev evaluation batch and score
windows the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np

from chitieu.windows import Window

#: The share of a batch's positions that may be padding before a shorter window starts a
#: batch of its own (the last window of an article is often a fraction of a full one).
MAX_PADDING = 0.1
#: Batch widths are rounded up to a multiple of this many positions. oneDNN and MKL keep
#: kernels and buffers for every input shape they meet: with any width from 3 to 256 a
#: server's memory grew by 1.5 GB over 400 shapes (bf16), with multiples of 32 it stays flat.
PAD_MULTIPLE = 32


class WindowRunner(Protocol):
    """The model stage: class probabilities for every position of every window."""

    def __call__(self, windows: Sequence[Window], /) -> list[np.ndarray]: ...


def batches(
    windows: Sequence[Window], batch_size: int, pad_id: int, multiple: int = 1
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Padded input ids and attention masks, longest-first so padding stays small; widths
    rounded up to `multiple` (a model runner keeps the number of shapes it meets small)."""
    for k in range(0, len(windows), batch_size):
        chunk = windows[k : k + batch_size]
        width = -(-max(len(w.input_ids) for w in chunk) // multiple) * multiple
        ids = np.full((len(chunk), width), pad_id, dtype=np.int64)
        mask = np.zeros((len(chunk), width), dtype=np.int64)
        for row, w in enumerate(chunk):
            ids[row, : len(w.input_ids)] = w.input_ids
            mask[row, : len(w.input_ids)] = 1
        yield ids, mask


def length_groups(lengths: Sequence[int], max_batch: int, max_padding: float = MAX_PADDING) -> list[list[int]]:
    """Indices of `lengths` in batches of similar length, longest first.

    A batch is padded to its longest window; a window joins the current batch only while
    at most `max_padding` of the batch's positions would be padding, so a 40-token tail
    never costs the 256 positions of the full windows it would otherwise be padded to.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    groups: list[list[int]] = []
    used = 0
    for i in order:
        group = groups[-1] if groups else None
        if group is not None and len(group) < max_batch:
            width = lengths[group[0]]
            positions = width * (len(group) + 1)
            if positions - (used + lengths[i]) <= max_padding * positions:
                group.append(i)
                used += lengths[i]
                continue
        groups.append([i])
        used = lengths[i]
    return groups


class TorchRunner:
    """The `run` stage for a torch tagger: windows -> probabilities.

    `logits_of(input_ids, attention_mask)` is the tagger's forward; `for_model` wraps a
    transformers token-classification model, and training passes its own tagger, so
    inference and dev evaluation batch and score windows the same way. Windows are batched
    by length (`length_groups`), so padding costs at most `max_padding` of the positions
    (before widths are rounded up to `pad_multiple`).
    """

    def __init__(
        self,
        logits_of: Callable[[Any, Any], Any],
        pad_id: int,
        device: Any,
        batch_size: int = 8,
        *,
        engine: str = "fp32",
        max_padding: float = MAX_PADDING,
        pad_multiple: int = PAD_MULTIPLE,
    ) -> None:
        self.logits_of = logits_of
        self.pad_id = pad_id
        self.device = device
        self.batch_size = batch_size
        #: What the arithmetic runs in (chitieu.engines); for reports, the model is already converted.
        self.engine = engine
        self.max_padding = max_padding
        self.pad_multiple = pad_multiple

    @classmethod
    def for_model(cls, model: Any, pad_id: int, device: Any, batch_size: int = 8, *, engine: str = "fp32") -> "TorchRunner":
        """`model` as `chitieu.engines.apply_engine` left it for `engine`."""
        import torch

        from chitieu.engines import autocast_dtype

        half = autocast_dtype(engine)

        def logits_of(ids: Any, mask: Any) -> Any:
            if half is None:
                return model(input_ids=ids, attention_mask=mask).logits
            with torch.autocast(device_type=torch.device(device).type, dtype=half):
                return model(input_ids=ids, attention_mask=mask).logits

        return cls(logits_of, pad_id, device, batch_size, engine=engine)

    def __call__(self, windows: Sequence[Window]) -> list[np.ndarray]:
        import torch

        out: list[np.ndarray] = [np.empty(0)] * len(windows)
        groups = length_groups([len(w.input_ids) for w in windows], self.batch_size, self.max_padding)
        with torch.inference_mode():
            for group in groups:
                chunk = [windows[i] for i in group]
                ids, mask = next(batches(chunk, len(chunk), self.pad_id, self.pad_multiple))
                logits = self.logits_of(torch.from_numpy(ids).to(self.device), torch.from_numpy(mask).to(self.device))
                probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
                for row, i in enumerate(group):
                    out[i] = probs[row, : len(windows[i].input_ids)]
        return out
