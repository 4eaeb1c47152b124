"""The Dockerfile, checked without a Docker engine: parsed with the `dockerfile` package."""

from __future__ import annotations

import re
import tomllib

import dockerfile
import pytest

from chitieu.paths import REPO_ROOT

DOCKERFILE = REPO_ROOT / "Dockerfile"


@pytest.fixture(scope="module")
def commands() -> tuple[dockerfile.Command, ...]:
    return dockerfile.parse_file(str(DOCKERFILE))


def _args(commands: tuple[dockerfile.Command, ...]) -> dict[str, str]:
    out = {}
    for c in commands:
        if c.cmd == "ARG" and "=" in c.value[0]:
            name, _, default = c.value[0].partition("=")
            out[name] = default
    return out


def _expand(text: str, args: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), text)


def _final_stage(commands: tuple[dockerfile.Command, ...]) -> list[dockerfile.Command]:
    last_from = max(i for i, c in enumerate(commands) if c.cmd == "FROM")
    return list(commands[last_from:])


def test_base_images_are_pinned_by_explicit_tags(commands) -> None:
    args = _args(commands)
    stages = {c.value[2].lower() for c in commands if c.cmd == "FROM" and len(c.value) == 3}
    images = [_expand(c.value[0], args) for c in commands if c.cmd == "FROM"]
    assert images
    for image in images:
        if image.lower() in stages:
            continue
        name, _, digest = image.partition("@")
        assert ":" in name.rsplit("/", 1)[-1], f"{image} has no tag"
        tag = name.rsplit(":", 1)[1]
        assert tag != "latest" and "$" not in image, image
        # A full version (3.11.15), not a moving one (3.11 or 3).
        assert re.match(r"\d+\.\d+\.\d+", tag), f"{image}: pin a full version tag"
        assert not digest or re.fullmatch(r"sha256:[0-9a-f]{64}", digest), image
    assert args["BASE_IMAGE"].startswith("python:3.11.") and "-slim" in args["BASE_IMAGE"]


def test_runs_as_a_non_root_user(commands) -> None:
    users = [c.value[0] for c in _final_stage(commands) if c.cmd == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")


def test_healthcheck_asks_ready(commands) -> None:
    [check] = [c for c in _final_stage(commands) if c.cmd == "HEALTHCHECK"]
    assert check.value[0] == "CMD" and "/ready" in " ".join(check.value)
    assert any(f.startswith("--start-period=") for f in check.flags), "give the model time to load"


def test_exposes_and_serves_port_8000(commands) -> None:
    final = _final_stage(commands)
    assert "8000" in [v for c in final if c.cmd == "EXPOSE" for v in c.value]
    [cmd] = [c for c in final if c.cmd == "CMD"]
    assert cmd.json and list(cmd.value) == ["chitieu", "serve", "--host", "0.0.0.0", "--port", "8000"]


def test_torch_comes_from_the_cpu_index_at_the_project_pin(commands) -> None:
    args = _args(commands)
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    [torch_pin] = [d for d in pyproject["project"]["dependencies"] if d.startswith("torch")]
    assert torch_pin == f"torch=={args['TORCH_VERSION']}"
    assert args["TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
    runs = [_expand(c.value[0], args) for c in commands if c.cmd == "RUN"]
    assert any(f"--index-url {args['TORCH_INDEX']} {torch_pin}" in r for r in runs)


def test_the_image_gets_every_package_of_the_project(commands) -> None:
    """Every package dir pyproject maps is copied in, and pyproject lists every subpackage.

    `pip install .` (not editable) installs only the packages pyproject names, so a
    subpackage missing there (chitieu.serve.routes) would be missing from the image.
    """
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    package_dir: dict[str, str] = pyproject["tool"]["setuptools"]["package-dir"]
    copied = {c.value[0].strip("./") for c in commands if c.cmd == "COPY" and not c.flags}
    assert set(package_dir.values()) <= copied
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    for package, folder in package_dir.items():
        for init in sorted((REPO_ROOT / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(REPO_ROOT / folder)
            name = ".".join((package, *relative.parts))
            assert name in listed, f"add {name!r} to [tool.setuptools] packages in pyproject.toml"


def test_dockerignore_keeps_the_context_small() -> None:
    ignored = (REPO_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for pattern in (".git", "tests", "annotations", "**/__pycache__", "venv"):
        assert pattern in ignored
