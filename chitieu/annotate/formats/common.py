"""What every converter reports: how many spans it kept, and which it could not carry."""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from chitieu.nfc import nfc_with_map


class ImportFormatError(ValueError):
    """A file that is not the format asked for (or a lossy export of it); the message says which to use."""


@dataclass(frozen=True)
class Skipped:
    """A task or record that was read but not imported, and why."""

    where: str
    reason: str


@dataclass
class ConversionReport:
    documents: int = 0
    spans: int = 0
    #: One human-readable line per span that the target format could not represent exactly.
    problems: list[str] = field(default_factory=list)
    #: Tasks not imported at all (no annotation, only cancelled ones, no text).
    skipped: list[Skipped] = field(default_factory=list)
    #: One line per task that had several annotations: which was kept, which were dropped.
    dropped: list[str] = field(default_factory=list)
    #: Imported documents whose kept annotation has no span (annotated as holding none).
    empty: int = 0

    def summary(self) -> str:
        line = f"{self.documents} documents, {self.spans} spans"
        if self.empty:
            line += f" ({self.empty} documents annotated with no span)"
        if self.skipped:
            reasons = Counter(s.reason for s in self.skipped)
            line += f"; {len(self.skipped)} tasks skipped (" + ", ".join(f"{n} {r}" for r, n in reasons.items()) + ")"
        if self.dropped:
            line += f"; {len(self.dropped)} tasks had several annotations: one kept each, the others dropped (listed above)"
        if self.problems:
            line += f", {len(self.problems)} spans NOT represented exactly (listed above)"
        return line


def nfc_with_offsets(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    """NFC-normalise text and move offsets with it (composition can shorten the text)."""
    nfc_text, to_original = nfc_with_map(text)
    if to_original is None:
        return text, offsets
    return nfc_text, [bisect.bisect_left(to_original, o) for o in offsets]


def utf16_to_codepoint(text: str, offset: int) -> int:
    """Label Studio's front end counts UTF-16 code units; Python counts code points."""
    units = 0
    for i, ch in enumerate(text):
        if units >= offset:
            return i
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)


def codepoint_to_utf16(text: str, offset: int) -> int:
    return offset + sum(1 for ch in text[:offset] if ord(ch) > 0xFFFF)
