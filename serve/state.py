"""The model being served: where folders come from, how one is loaded, warmed and swapped.

Swapping is one reference assignment (atomic under the GIL): a request reads
`slot.current` once and keeps that extractor for its whole life, so a reload never mixes
two models inside one request and never fails a request that is already running.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chitieu.serve.batcher import Extracting
from chitieu.serve.logging import get_logger
from chitieu.serve.settings import Settings
from chitieu.text import warm_word_segmenter

log = get_logger("model")

#: (model folder, device, micro-batch size) -> a loaded extractor; tests pass fakes.
Loader = Callable[[Path, str, int], Extracting]

# Short and typical: a province, an official, an indicator and a value, so warm-up
# touches every stage (tokeniser, model, decoding, linking, value parsing).
WARMUP_TEXT = "Chủ tịch UBND tỉnh Bến Tre Trần Ngọc Tam cho biết năm 2023 tỉnh phấn đấu tăng trưởng GRDP từ 7% trở lên."


class BadModelName(ValueError):
    """A name that could reach outside the models directory (a client error: 400)."""


class ModelNotFound(LookupError):
    """No such folder in the models directory (404), or no model configured at all."""


class LoadFailed(RuntimeError):
    """The folder could not be loaded: broken or incompatible files (the folder's fault)."""


class WarmupFailed(RuntimeError):
    """The model loaded but its first extraction failed (the server's or the model's fault)."""


#: Adapter kinds this chitieu can serve (`adapter.kind`, from the folder's adapter.json or files).
SERVABLE_ADAPTER_KINDS = ("e5", "phobert")
#: What a model folder name may be, for /admin/reload and CHITIEU_MODEL: the names training
#: writes (`e5-small-20261201-152247-1afde457`, `--name curve-0.25`), nothing that is a path.
MODEL_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$"
_MODEL_NAME_RE = re.compile(MODEL_NAME_PATTERN)


def load_extractor(directory: Path, device: str, batch_size: int, engine: str = "auto") -> Extracting:
    from chitieu.extract.extractor import Extractor

    _quiet_progress_bars()
    extractor = Extractor.load(directory, device=device, batch_size=batch_size, engine=engine)
    kind = getattr(extractor.adapter, "kind", None)
    if kind not in SERVABLE_ADAPTER_KINDS:
        raise ValueError(
            f"the folder's adapter kind is {kind!r}; this chitieu serves {', '.join(SERVABLE_ADAPTER_KINDS)} models: "
            "retrain it with this version or fix adapter.json"
        )
    return extractor


def _quiet_progress_bars() -> None:
    # transformers draws a tqdm bar on stderr while it loads weights: it would land in the
    # JSON log on every load and reload.
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()


def safe_model_folder(models_dir: Path, name: str) -> Path:
    """`models_dir/name` for a plain folder name that stays inside models_dir.

    Raises BadModelName for anything but MODEL_NAME_PATTERN (separators, `..`, absolute
    paths, names too long for the file system, text that is not valid Unicode) and for
    symlinks leading outside, ModelNotFound when there is no such folder.
    """
    if not _MODEL_NAME_RE.fullmatch(name):
        shown = name[:60] + "..." if len(name) > 60 else name
        raise BadModelName(
            f"model must be a folder name directly under the models directory (letters, digits, `.`, `_`, `+`, `-`, "
            f"at most 200, starting with a letter or digit), got {shown!r}"
        )
    root = Path(models_dir).resolve()
    try:
        folder = (root / name).resolve()
        is_dir = folder.is_dir()
    except (OSError, ValueError) as err:  # the file system refuses the name
        raise BadModelName(f"model {name!r} is not a usable folder name in the models directory ({getattr(err, 'strerror', None) or err})") from None
    # resolve() follows symlinks, so a link pointing outside the models dir is caught here.
    if folder.parent != root:
        raise BadModelName(f"model {name!r} resolves outside the models directory; use a folder inside it")
    if not is_dir:
        available = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise ModelNotFound(f"no model folder {name!r} in the models directory; available: {available or 'none'}")
    return root / name


def startup_model_folder(settings: Settings) -> Path:
    """The folder named by settings (a name under models_dir or an operator-given path), else PROMOTED."""
    from chitieu.model_folder import read_promoted

    if settings.model:
        candidate = Path(settings.model)
        if candidate.is_absolute() or len(candidate.parts) > 1:
            return candidate  # the operator chose a path on purpose; only admin reload is confined
        return safe_model_folder(settings.models_dir, settings.model)
    promoted = read_promoted(settings.models_dir)
    if promoted is None:
        raise ModelNotFound(
            f"no model given and {settings.models_dir}/PROMOTED is missing; set CHITIEU_MODEL or promote a model"
        )
    return promoted


def public_load_error(err: Exception) -> str:
    """What /ready and unauthenticated 503s may say about a failed load: what to do, without
    the paths and exception names that the log keeps."""
    if isinstance(err, ModelNotFound):
        return (
            "no model to serve: the configured folder is missing or models/PROMOTED names none; "
            "set CHITIEU_MODEL or promote a model, then POST /admin/reload"
        )
    if isinstance(err, BadModelName):
        return "CHITIEU_MODEL is not a folder name under the models directory; fix it and restart"
    return "the model failed to load (the server log says why); an operator must fix it or POST /admin/reload"


@dataclass
class Loaded:
    extractor: Extracting
    folder: Path
    loaded_at: float
    #: One warm extraction of WARMUP_TEXT (seconds): the first guess of the service's speed.
    warm_seconds: float = 0.0


class ModelSlot:
    def __init__(self, loader: Loader, device: str, batch_size: int) -> None:
        self.loader = loader
        self.device = device
        self.batch_size = batch_size
        self.current: Loaded | None = None
        self.error: str | None = None
        # One reload at a time: two concurrent swaps would race on which one wins.
        self.lock = asyncio.Lock()

    def load_and_warm(self, folder: Path) -> Loaded:
        """Blocking: run it in a thread. Raises LoadFailed or WarmupFailed."""
        started = time.monotonic()
        try:
            extractor = self.loader(folder, self.device, self.batch_size)
        except Exception as err:  # any loader failure (bad JSON, SafetensorError, ...) is the folder's
            raise LoadFailed(f"{type(err).__name__}: {err}") from err
        try:
            warm_word_segmenter()
            prepared = extractor.prepare(WARMUP_TEXT, "warmup")
            extractor.finish(prepared, extractor.run(prepared.windows))
            # Timed again, warm: the admission's first guess of how fast this model is.
            warm_started = time.monotonic()
            prepared = extractor.prepare(WARMUP_TEXT, "warmup")
            extractor.finish(prepared, extractor.run(prepared.windows))
            warm_seconds = time.monotonic() - warm_started
        except Exception as err:
            raise WarmupFailed(f"it loaded but its warm-up extraction failed: {type(err).__name__}: {err}") from err
        log.info("model loaded", extra={"folder": str(folder), "seconds": round(time.monotonic() - started, 3)})
        return Loaded(extractor, folder, time.time(), warm_seconds)

    async def swap_to(self, folder: Path) -> tuple[Loaded, Loaded | None]:
        """Load and warm `folder` off the event loop, then swap it in: (new, replaced).

        The old model keeps serving while the new one loads, and stays if loading fails.
        """
        async with self.lock:
            loaded = await asyncio.to_thread(self.load_and_warm, folder)
            previous, self.current = self.current, loaded
            self.error = None
            return loaded, previous
