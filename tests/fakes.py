"""A stand-in model for tests and demos: real Extractor stages around a lexicon "encoder".

The adapter gives each known word an id that encodes its BIO tag and the runner turns
ids back into near-one-hot probabilities, so the real prepare/decode/link code runs on
predictable entities without torch or a trained folder. The runner records its calls
(to check micro-batching) and can be slowed down, gated or made to fail.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from chitieu.extract.extractor import Extractor
from chitieu.labels import BIO_TAGS, TAG2ID
from chitieu.model_folder import read_meta
from chitieu.text import Token, split_words
from chitieu.windows import Window

LEXICON: dict[str, str] = {
    "Bến": "B-PROVINCE",
    "Tre": "I-PROVINCE",
    "Lê": "B-OFFICIAL",
    "Đức": "I-OFFICIAL",
    "Thọ": "I-OFFICIAL",
    "tăng": "B-INDICATOR",
    "trưởng": "I-INDICATOR",
    "GRDP": "I-INDICATOR",
    "9,3": "B-TARGET_VALUE",
    "%": "I-TARGET_VALUE",
    "trở": "I-TARGET_VALUE",
    "lên": "I-TARGET_VALUE",
}
TEXT = "Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ đề nghị phấn đấu đạt mức tăng trưởng GRDP 9,3% trở lên."
_TAG_BASE = 100
_OTHER = 5


class LexiconAdapter:
    kind = "fake"
    label_all_subwords = True
    cls_id, sep_id, pad_id = 1, 2, 0

    def __init__(self, max_tokens: int = 32) -> None:
        self.max_tokens = max_tokens

    def words(self, text: str) -> list[Token]:
        return split_words(text)

    def encode_words(self, text: str, words: list[Token]) -> list[list[int]]:
        return [[_TAG_BASE + TAG2ID[LEXICON[w.text]]] if w.text in LEXICON else [_OTHER] for w in words]

    def save(self, directory: Path) -> None:
        Path(directory).mkdir(parents=True, exist_ok=True)
        (Path(directory) / "lexicon.json").write_text(json.dumps(LEXICON, ensure_ascii=False), encoding="utf-8")


class LexiconRunner:
    engine = "lexicon"  # what /model and the metrics report as the arithmetic

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.calls: list[int] = []
        self.gate: threading.Event | None = None
        self.fail: Exception | None = None
        self._lock = threading.Lock()

    def __call__(self, windows: Sequence[Window]) -> list[np.ndarray]:
        with self._lock:
            self.calls.append(len(windows))
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if self.delay:
            time.sleep(self.delay)
        if self.fail is not None:
            raise self.fail
        out = []
        for window in windows:
            ids = np.asarray(window.input_ids)
            tags = np.where(ids >= _TAG_BASE, ids - _TAG_BASE, TAG2ID["O"])
            probs = np.full((len(ids), len(BIO_TAGS)), 0.1 / (len(BIO_TAGS) - 1), dtype=np.float32)
            probs[np.arange(len(ids)), tags] = 0.9
            out.append(probs)
        return out


def write_fake_model(folder: Path, name: str = "fake", version: str = "1", delay: float = 0.0) -> Path:
    """A folder `fake_loader` accepts: chitieu.json only."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = {
        "name": name,
        "version": version,
        "base": {"name": "lexicon"},
        "metrics": {"f1": 0.5},
        "options": {"fake_delay": delay},
    }
    (folder / "chitieu.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def fake_loader(folder: Path, device: str = "cpu", batch_size: int = 8) -> Extractor:
    """The Loader signature of chitieu.serve.state, reading only the folder's chitieu.json."""
    meta: dict[str, Any] = read_meta(folder)
    delay = float(meta.get("options", {}).get("fake_delay", 0.0))
    adapter = LexiconAdapter()
    return Extractor(adapter, LexiconRunner(delay), meta, max_tokens=adapter.max_tokens, overlap_tokens=4)
