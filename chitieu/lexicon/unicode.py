"""Unicode forms: NFC, the key two mentions of a name are compared by, base letters."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def name_key(name: str) -> str:
    """NFC, white space collapsed, case-folded: `Trần  Văn DŨNG` and `trần văn dũng` are one name."""
    return nfc(" ".join(name.split())).casefold()


def base_letter(ch: str) -> str:
    """One character's base letter, case-folded: `Ấ` -> `a`, `đ`/`ð` -> `d`; length stays 1."""
    base = unicodedata.normalize("NFD", ch.replace("ð", "đ").replace("Ð", "Đ"))[0].casefold()
    return "d" if base == "đ" else base[:1] or ch


def base_letters(text: str) -> str:
    """Base letters only, lower case: survives diacritic re-placement and case changes."""
    decomposed = unicodedata.normalize("NFD", text.replace("ð", "đ").replace("Ð", "Đ"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D").casefold()
