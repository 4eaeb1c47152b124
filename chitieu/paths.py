"""Where the project keeps things; every location can be overridden from the environment."""

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The read-only data folder beside the checkout (`../shared`), or CHITIEU_SHARED."""
    return Path(os.environ.get("CHITIEU_SHARED", REPO_ROOT.parent / "shared"))


def annotations_dir() -> Path:
    return Path(os.environ.get("CHITIEU_ANNOTATIONS", REPO_ROOT / "annotations"))


def models_dir() -> Path:
    return Path(os.environ.get("CHITIEU_MODELS_DIR", REPO_ROOT / "models"))


def cache_dir() -> Path:
    """Built artefacts that are derived, never committed (the converted e5-small base)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "chitieu"
    return Path(os.environ.get("CHITIEU_CACHE", default))
