"""Every write goes through chitieu.files: atomic, durable, no temp file left behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chitieu import files
from chitieu.annotate.corpus import Document, Span, read_documents, update_splits, write_documents


def test_write_text_replaces_whole_and_leaves_nothing_beside(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.json"
    files.write_text(target, "old")
    files.write_text(target, "nếu mới")
    assert target.read_text(encoding="utf-8") == "nếu mới"
    assert os.listdir(target.parent) == ["out.json"]
    assert target.stat().st_mode & 0o777 == 0o644


def test_a_failed_write_keeps_the_old_file_and_removes_its_temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "splits.json"
    files.write_text(target, "old")

    def no_space(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", no_space)
    with pytest.raises(OSError):
        files.write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "old"
    assert os.listdir(tmp_path) == ["splits.json"]


def test_corpus_and_splits_are_written_through_the_atomic_writer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[str] = []
    real = files.write_bytes

    def spy(path: Path, data: bytes) -> Path:
        written.append(Path(path).name)
        return real(path, data)

    monkeypatch.setattr(files, "write_bytes", spy)
    doc = Document(id="d1", text="Bến Tre", spans=[Span(start=0, end=7, label="PROVINCE")])
    write_documents([doc], tmp_path / "corpus.jsonl")
    update_splits([doc], tmp_path)
    assert written == ["corpus.jsonl", "splits.json"]
    assert read_documents(tmp_path / "corpus.jsonl")[0].spans[0].text == "Bến Tre"
    assert sorted(os.listdir(tmp_path)) == ["corpus.jsonl", "splits.json"]
