"""How the tagger's arithmetic runs: the engine (fp32, bf16, fp16, int8) and the threads.

The model folder holds fp32-trainable weights (saved as fp16); the engine is chosen when
the folder is loaded, never saved, so one folder serves every engine:
- `fp32`: the weights as trained, on any device; the reference the others are held to.
- `int8`: dynamic quantisation (int8 weights per output channel, activations quantised
  per batch), CPU only, of the linear layers that read the residual stream: queries,
  keys, values and the feed-forward expansion. The layers that read attention or GELU
  outputs (`*.output.dense`) and the head stay fp32: those inputs carry the outliers that
  one activation scale per batch cannot hold, and quantising them cost 0.07 span F1 and
  0.15 tuple F1 on the test split (about 58% of the encoder's FLOPs are quantised).
- `bf16`: linear layers in bfloat16 under autocast; layer norms, the residual stream and
  the logits stay fp32 (casting the whole model to bf16 cost 0.0075 tuple F1). Fast on
  CPUs with AMX or AVX512-BF16 (oneDNN kernels) and on GPUs.
- `fp16`: GPUs only (CPU fp16 kernels are slow).
- `auto`: the `CHITIEU_ENGINE` environment variable when it names an engine (so the
  CLI's `extract`, `evaluate` and `batch` run what the service runs), else on CPU bf16
  where the CPU multiplies bf16 in hardware (AMX or AVX512-BF16) and fp32 elsewhere, and
  on a GPU bf16 (fp16 where bf16 is unsupported).

`chitieu bench` measures each engine's speed and its span and tuple F1 on the test split;
an engine may be the CPU default only when both F1s are within `F1_TOLERANCE` of fp32.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Literal

Engine = Literal["fp32", "bf16", "fp16", "int8"]
EngineChoice = Literal["auto", "fp32", "bf16", "fp16", "int8"]
ENGINES: tuple[Engine, ...] = ("fp32", "bf16", "fp16", "int8")
ENGINE_CHOICES: tuple[EngineChoice, ...] = ("auto", *ENGINES)
#: CPU flags (Linux /proc/cpuinfo) of hardware bf16 multiplies; without them oneDNN
#: emulates bf16 and it is no faster than fp32.
BF16_CPU_FLAGS = ("amx_bf16", "avx512_bf16")
#: Read by `auto`, and by the service's settings.
ENV_VAR = "CHITIEU_ENGINE"
#: How far a fast engine's span or tuple F1 may fall below fp32's on the test split.
F1_TOLERANCE = 0.005


class EngineError(ValueError):
    pass


def resolve_engine(engine: str, device: str) -> Engine:
    """The concrete engine for `engine` (possibly `auto`) on `device` (`cpu` or `cuda`)."""
    import torch

    if engine not in ENGINE_CHOICES:
        raise EngineError(f"unknown engine {engine!r} (argument or {ENV_VAR}); use one of {', '.join(ENGINE_CHOICES)}")
    on_gpu = device.startswith("cuda")
    if engine == "auto" and os.environ.get(ENV_VAR, "auto") != "auto":
        return resolve_engine(os.environ[ENV_VAR], device)
    if engine == "auto":
        if not on_gpu:
            # int8 is not chosen: its test F1 falls 0.008 (span) and 0.012 (tuples) below
            # fp32's, bf16's stays within 0.001 (README, "Speed").
            return "bf16" if cpu_has_bf16() else "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if engine == "int8" and on_gpu:
        raise EngineError("engine int8 (dynamic quantisation) runs on CPU only; on a GPU use bf16, fp16 or auto")
    if engine == "fp16" and not on_gpu:
        raise EngineError("engine fp16 runs on GPUs only (CPU fp16 kernels are slower than fp32); on CPU use int8, bf16 or fp32")
    return engine


#: Linear layers int8 leaves in fp32 (BERT/RoBERTa names): they read GELU and attention outputs.
INT8_KEEPS_FP32 = ("output.dense",)


def apply_engine(model: Any, engine: Engine) -> Any:
    """The model (on its device, in eval mode) converted for `engine`; fp32 is left as is.
    bf16 and fp16 models must run under `autocast_dtype(engine)` (TorchRunner does)."""
    import torch

    if engine == "fp32":
        return model
    if engine in ("bf16", "fp16"):
        dtype = autocast_dtype(engine)
        for module in model.base_model.modules():
            if isinstance(module, torch.nn.Linear):
                module.to(dtype)  # cast once here, not on every call under autocast
        return model
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec = {
        name: per_channel_dynamic_qconfig
        for name, module in model.base_model.named_modules()
        if isinstance(module, torch.nn.Linear) and not name.endswith(INT8_KEEPS_FP32)
    }
    with warnings.catch_warnings():
        # torch 2.13 marks the quantised tensor types deprecated (torch is pinned).
        warnings.simplefilter("ignore", category=UserWarning)
        warnings.simplefilter("ignore", category=DeprecationWarning)
        quantize_dynamic(model.base_model, spec, inplace=True)
    return model


def autocast_dtype(engine: str) -> Any:
    """The torch dtype an engine runs its linear layers in under autocast, or None."""
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(engine)


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bf16 in hardware (False where it cannot be told)."""
    try:
        with open(cpuinfo, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return bool(set(line.split(":", 1)[1].split()) & set(BF16_CPU_FLAGS))
    except OSError:
        pass
    return False


def cpu_cores() -> int:
    """Cores this process may run on (the affinity mask; a container's CPU quota is not seen)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def configure_threads(threads: int | None = None) -> int:
    """One intra-op thread per usable core (or `threads`): more only contend for the cores."""
    import torch

    n = threads or cpu_cores()
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n
