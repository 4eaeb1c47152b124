"""NFC normalisation that remembers where each character came from.

Callers may send decomposed text (combining accents); the model reads NFC, and every
offset we return must point into the text the caller sent.
"""

from __future__ import annotations

import unicodedata


class NfcOffsetError(ValueError):
    """Offsets into the caller's text cannot be kept exact through NFC."""


def nfc_with_map(text: str) -> tuple[str, list[int] | None]:
    """NFC text and, when it differs from the input, `map[i]` = input offset of NFC offset i.

    The map has len(nfc_text) + 1 entries so that span ends map too. Normalisation is done
    per cluster (a character with combining class 0 plus the marks after it), which is
    exact for Vietnamese and any text without cross-cluster composition. Text that composes
    across clusters (Hangul conjoining jamo) raises `NfcOffsetError`: offsets into it could
    only be approximate, and every offset chitieu returns must be exact.
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
    whole = unicodedata.normalize("NFC", text)
    if out != whole:
        k = next((k for k, (a, b) in enumerate(zip(out, whole)) if a != b), min(len(out), len(whole)))
        raise NfcOffsetError(
            f"the text composes across characters under Unicode NFC near offset {mapping[min(k, len(mapping) - 1)]} "
            "(e.g. Hangul conjoining jamo), so offsets into it cannot be kept exact: send the text NFC-normalised"
        )
    return out, mapping
