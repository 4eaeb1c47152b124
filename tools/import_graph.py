"""The first-party import graph of chitieu, at a git revision or in the working tree.

One line per module: the chitieu modules it imports (at module level or inside functions),
names shortened (`chitieu.` dropped; `serve/` and `train/` read as `serve.` and `train.`).
ARCHITECTURE.md shows it for the commit before issue 14 and for now:

    python tools/import_graph.py --rev 1e59754 --from extractor          # one extraction, before issue 14
    python tools/import_graph.py --from extract.extractor                # one extraction, now
    python tools/import_graph.py                                          # every module, now
"""

from __future__ import annotations

import argparse
import ast
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"chitieu": "", "serve": "serve.", "train": "train."}


def _files(rev: str | None) -> dict[str, str]:
    """path -> source of the package's Python files (tests and tools left out)."""
    out: dict[str, str] = {}
    if rev is None:
        for folder in FOLDERS:
            for path in sorted((ROOT / folder).rglob("*.py")):
                relative = path.relative_to(ROOT)
                if relative.parts[:2] in (("chitieu", "serve"), ("chitieu", "train")):
                    continue  # the links to serve/ and train/
                out[relative.as_posix()] = path.read_text(encoding="utf-8")
        return out
    names = subprocess.run(["git", "-C", str(ROOT), "ls-tree", "-r", "--name-only", rev], check=True, capture_output=True, text=True).stdout
    for name in names.splitlines():
        if name.endswith(".py") and name.split("/")[0] in FOLDERS:
            out[name] = subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{name}"], check=True, capture_output=True, text=True).stdout
    return out


def _module(path: str) -> str:
    parts = path.removesuffix(".py").split("/")
    prefix = FOLDERS[parts[0]]
    rest = [p for p in parts[1:] if p != "__init__"]
    return (prefix + ".".join(rest)).strip(".") or parts[0]


def _short(name: str) -> str:
    for long, short in (("chitieu.serve.", "serve."), ("chitieu.train.", "train."), ("chitieu.", "")):
        if name.startswith(long):
            return short + name[len(long) :]
    return name


def graph(rev: str | None) -> dict[str, set[str]]:
    files = _files(rev)
    modules = {_module(p) for p in files}
    edges: dict[str, set[str]] = {}
    for path, source in files.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("chitieu"):
                base = _short(node.module)
                # `from chitieu import linking` names a module; `from chitieu.x import f` names x.
                found.update(f"{base}.{a.name}".strip(".") if f"{base}.{a.name}".strip(".") in modules else base for a in node.names)
            elif isinstance(node, ast.Import):
                found.update(_short(a.name) for a in node.names if a.name.startswith("chitieu"))
        me = _module(path)
        edges[me] = {m for m in found if m and m != me and m != "chitieu"}
    return edges


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rev", default=None, help="a git revision [default: the working tree]")
    parser.add_argument("--from", dest="start", default=None, help="only the modules this one reaches (e.g. extractor)")
    args = parser.parse_args()
    edges = graph(args.rev)
    if args.start is not None:
        reached, todo = set(), [args.start]
        while todo:
            m = todo.pop()
            if m not in reached:
                reached.add(m)
                todo.extend(edges.get(m, ()))
        edges = {m: edges.get(m, set()) for m in reached}
    n_edges = sum(map(len, edges.values()))
    print(f"{len(edges)} modules, {n_edges} imports")
    for module in sorted(edges):
        print(f"{module:24} -> {', '.join(sorted(edges[module])) or '-'}")


if __name__ == "__main__":
    main()
