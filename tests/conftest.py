from pathlib import Path

import pytest

from chitieu.model_folder import read_promoted
from chitieu.paths import models_dir, shared_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that reads the committed default model (the `default_model_dir` fixture)
    is marked `model`: the default run leaves them out (`make test` runs them after it),
    so a newcomer's `pytest` stays fast and a marker cannot be forgotten."""
    for item in items:
        if "default_model_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def default_model_dir() -> Path:
    """The committed default model that `serve` loads (models/PROMOTED)."""
    folder = read_promoted(models_dir())
    if folder is None or not folder.exists():
        pytest.fail("no promoted model under models/: train one and run `chitieu models promote NAME`")
    return folder


@pytest.fixture(scope="session")
def shared() -> Path:
    path = shared_dir()
    if not path.exists():
        pytest.skip(f"{path} is absent: this test reads the shared data folder beside the checkout")
    return path
