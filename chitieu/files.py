"""The one way chitieu writes a file: atomically and durably.

A unique temp file beside the target, flushed to disk, made readable by other users (a
service may run as another one), renamed over the target, then the folder flushed so the
rename itself survives a crash. A reader sees the old or the new content, never half a
file, and two writers never share a temp file.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _sync_folder(path.parent)
    return path


def write_text(path: Path, text: str) -> Path:
    """`text` as UTF-8 in `path`, replacing it atomically."""
    return write_bytes(path, text.encode("utf-8"))


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform that cannot open folders: the rename is still atomic
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
