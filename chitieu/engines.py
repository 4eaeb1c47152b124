"""How the tagger's arithmetic runs: the engine (fp32, bf16, fp16, int8) and the threads.

The model folder holds fp32-trainable weights (saved as fp16); the engine is chosen when
the folder is loaded, never saved, so one folder serves every engine:
- `fp32`: the weights as trained, on any device; the reference the others are held to.
- `int8`: ONNX Runtime, CPU only (chitieu.extract.onnx_run): the tagger exported once to
  ONNX and its matrix products quantised to int8 (weights per output channel, activations
  per window, each window run alone), except those that read GELU outputs and the head,
  which stay fp32. On a 2-core AVX2 machine it serves 1.3x the words per second of torch's fp32 (torch's own
  dynamic quantisation, which this engine replaced, 1.2x). Opt-in (`CHITIEU_ENGINE=int8`):
  its tuple F1 on the 6-layer default falls 0.022 below fp32's.
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

import importlib.util
import os
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
            # int8 is not chosen: on the 6-layer default its tuple F1 falls 0.022 below
            # fp32's on the test split (its span F1 holds), past F1_TOLERANCE (README, "Speed").
            return "bf16" if cpu_has_bf16() else "fp32"
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if engine == "int8" and on_gpu:
        raise EngineError("engine int8 (ONNX Runtime) runs on CPU only; on a GPU use bf16, fp16 or auto")
    if engine == "int8" and not has_onnxruntime():
        raise EngineError("engine int8 needs onnxruntime: `pip install -e .` installs it (pyproject.toml pins it)")
    if engine == "fp16" and not on_gpu:
        raise EngineError("engine fp16 runs on GPUs only (CPU fp16 kernels are slower than fp32); on CPU use int8, bf16 or fp32")
    return engine


def has_onnxruntime() -> bool:
    """Whether the int8 engine's runtime is installed (a core dependency; absent only in
    environments built by hand)."""
    return importlib.util.find_spec("onnxruntime") is not None


def apply_engine(model: Any, engine: Engine) -> Any:
    """The torch model (on its device, in eval mode) converted for `engine`: fp32 is left as
    is; bf16 and fp16 models must run under `autocast_dtype(engine)` (TorchRunner does).
    int8 does not run in torch (chitieu.extract.onnx_run)."""
    import torch

    if engine == "int8":
        raise EngineError("the int8 engine runs on ONNX Runtime, not torch: load it with Extractor.load(..., engine='int8')")
    if engine in ("bf16", "fp16"):
        dtype = autocast_dtype(engine)
        for module in model.base_model.modules():
            if isinstance(module, torch.nn.Linear):
                module.to(dtype)  # cast once here, not on every call under autocast
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
