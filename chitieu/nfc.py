"""NFC normalisation that remembers where each character came from.

Callers may send decomposed text (combining accents); the model reads NFC, and every
offset we return must point into the text the caller sent.
"""

from __future__ import annotations

import unicodedata


def nfc_with_map(text: str) -> tuple[str, list[int] | None]:
    """NFC text and, when it differs from the input, `map[i]` = input offset of NFC offset i.

    The map has len(nfc_text) + 1 entries so that span ends map too. Normalisation is done
    per cluster (a character with combining class 0 plus the marks after it), which is
    exact for Vietnamese and any text without cross-cluster composition; if that ever
    disagrees with whole-text NFC we fall back to whole-text NFC with a proportional map.
    """
    if unicodedata.is_normalized("NFC", text):
        return text, None
    pieces: list[str] = []
    mapping: list[int] = []
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        cluster = unicodedata.normalize("NFC", text[i:j])
        pieces.append(cluster)
        mapping.extend([i] * len(cluster))
        i = j
    mapping.append(n)
    out = "".join(pieces)
    if out != unicodedata.normalize("NFC", text):
        out = unicodedata.normalize("NFC", text)
        mapping = [round(k * n / max(len(out), 1)) for k in range(len(out) + 1)]
    return out, mapping
