"""The compute limit: what the encoder must compute, and how fast this machine multiplies.

A BERT layer over a window of L tokens costs about 2·L·(4·h² + 2·h·i) multiply-adds
counted as FLOPs in its dense layers (Q, K, V, output; the two feed-forward matrices) plus
4·L²·h in attention (scores and the weighted sum). The head adds 2·L·h·labels. Dividing
by the machine's measured matrix-multiply rate gives the least time any engine could take;
how far an engine is from it says what is left to gain by arithmetic, and what only less
work (fewer tokens, fewer layers) can buy.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int
    labels: int

    @classmethod
    def of_config(cls, config: Any) -> "EncoderShape":
        """From a transformers config (BERT/RoBERTa names)."""
        return cls(
            layers=int(config.num_hidden_layers),
            hidden=int(config.hidden_size),
            intermediate=int(config.intermediate_size),
            labels=int(getattr(config, "num_labels", 9)),
        )

    def dense_flops(self, tokens: int) -> int:
        """The linear layers and the head: what int8 and bf16 speed up."""
        h, i, n = self.hidden, self.intermediate, tokens
        return self.layers * 2 * n * (4 * h * h + 2 * h * i) + 2 * n * h * self.labels

    def attention_flops(self, tokens: int) -> int:
        """Scores and weighted sums, quadratic in the window (int8 leaves them in fp32)."""
        return self.layers * 4 * tokens * tokens * self.hidden

    def window_flops(self, tokens: int) -> int:
        return self.dense_flops(tokens) + self.attention_flops(tokens)

    def flops(self, window_lengths: Sequence[int]) -> int:
        return sum(self.window_flops(n) for n in window_lengths)


@dataclass(frozen=True)
class MatmulRate:
    """Measured multiply rate of one kind of arithmetic, in GFLOP/s (int8: GOP/s)."""

    kind: str
    shape: tuple[int, int, int]
    best_gflops: float
    median_gflops: float


def matmul_rate(kind: str, m: int, k: int, n: int, repeats: int = 20) -> MatmulRate:
    """An (m x k) @ (k x n) product `repeats` times on the current torch threads.

    `fp32`, `bf16`, `fp16`: torch.mm in that type; `int8`: a dynamically quantised linear
    layer (int8 weights per channel, activations quantised on the fly), as the int8 engine
    runs its encoder. The best run is the limit; the median shows the noise.
    """
    import warnings

    import torch

    with torch.inference_mode():
        if kind == "int8":
            from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                layer = quantize_dynamic(
                    torch.nn.Sequential(torch.nn.Linear(k, n, bias=False)), {torch.nn.Linear: per_channel_dynamic_qconfig}
                )
            a = torch.randn(m, k)

            def step() -> None:
                layer(a)
        else:
            dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[kind]
            a, b = torch.randn(m, k).to(dtype), torch.randn(k, n).to(dtype)

            def step() -> None:
                torch.mm(a, b)

        for _ in range(3):  # kernels chosen and caches warm
            step()
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            step()
            seconds.append(time.perf_counter() - started)
    flops = 2 * m * k * n
    return MatmulRate(kind, (m, k, n), round(flops / min(seconds) / 1e9, 2), round(flops / statistics.median(seconds) / 1e9, 2))
