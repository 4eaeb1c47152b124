"""Unicode forms: NFC, the key two mentions of a name are compared by, base letters."""

from __future__ import annotations

import unicodedata


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


#: The two places a tone goes on `oa`, `oe`, `uy`, lower case: (on the second vowel, the
#: older style `hoà`; on the first, the style the libraries and chitieu's canonical forms use,
#: `hòa`). `chitieu.provinces` folds names with them, `chitieu.roles` writes roles with them.
TONE_PLACEMENTS: tuple[tuple[str, str], ...] = tuple(
    (first + nfc(second + tone), nfc(first + tone) + second)
    for first, second in (("o", "a"), ("o", "e"), ("u", "y"))
    for tone in ("\u0300", "\u0301", "\u0309", "\u0303", "\u0323")
)


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
