"""Province-level units of Viet Nam before and after the July 2025 merger, and their names in text.

Sources (maintained libraries, nothing hand-typed but the abbreviations below):
- the 34 units after 1 July 2025, names and official codes: `vietnam_provinces` (2025.10.1);
- the 63 units before it, their official GSO codes (Bến Tre 83, Long An 80, ...) and the
  old -> new mapping: `underthesea/address/data/mapping.json` (built from vietnamadminunits).
  The library lists the pre-merger Thừa Thiên Huế under its 2025 name, `Huế` (code 46).

Records: an old unit whose territory and code carried over untouched (Hà Nội, Huế, Cao Bằng,
Thanh Hóa, ... 11 of them) is one record with era "both". Every other old unit has era "old"
and `successor`/`successor_code` naming the new unit it went into (Bến Tre 83 -> Vĩnh Long 86;
Lào Cai 10 -> Lào Cai 15); every new unit that is not "both" is a record with era "new".
Names are the libraries' short names (`Hồ Chí Minh`, `Bà Rịa - Vũng Tàu`); codes are
two-digit strings.

Names: `resolve` and `find_mentions` compare a key in which case, `Ð`/`Đ`, dash kind
and old/new tone placement (`Hoà`/`Hòa`, `Thuỷ`/`Thủy`) no longer matter. The aliases of
each unit are generated from the library name: tone placement both ways, ASCII folding
(`Dak Lak`), dash spacing (`Bà Rịa-Vũng Tàu`), plus the explicit abbreviations and
spellings in `_EXTRA_ALIASES`. A name shared by an old and a new record resolves to the
old one unless era="new" is asked for: our articles mostly predate the merger, and the old
record's successor leads to the new one.

Mentions (`find_mentions`) follow the project's guidelines:
- name only, without `tỉnh`; every written form of Ho Chi Minh City is one mention, its
  `Thành phố`/`TP` included; other centrally-run cities by name only (`TP Cần Thơ` -> `Cần Thơ`);
- skipped: a name after `thành phố`/`TP`/`thị xã`/`huyện`/`quận`/`thị trấn`/`xã`/`phường`
  when it is not a centrally-run city (the town of Bến Tre), after `đường`/`phố`/`sông`/`cầu`
  (streets, rivers, bridges), right after a common family or middle name (a person such as
  `Hoàng Khánh Hòa`), and inside `Thái Bình Dương` (the Pacific);
- the name must start with a capital letter (`Hải phòng` is a typo of the city, `thái bình`
  as an adjective is not a province);
- `Huế` alone (and `thành phố Huế`) is the city, not the province, for articles before 2025
  (era="old"); `Thừa Thiên Huế` in every form is always the province;
- `Sài Gòn`, bare `Hồ Chí Minh` and bare `HCM` resolve but are not mentions: they are
  mostly company names, the late president, and university abbreviations;
- the longest match wins (`Bà Rịa - Vũng Tàu` over `Bà Rịa`, `TP.HCM` over `HCM`).
"""

from __future__ import annotations

import importlib.util
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from vietnam_provinces import Province as _VPProvince

from chitieu.lexicon.places import CENTRAL_CITIES, HCMC
from chitieu.lexicon.unicode import TONE_PLACEMENTS

Era = Literal["old", "new", "both"]


@dataclass(frozen=True, slots=True)
class Province:
    name: str
    code: str
    successor: str | None
    successor_code: str | None
    era: Era



# Abbreviations and spellings the libraries do not carry, keyed by library short name.
_EXTRA_ALIASES: dict[str, tuple[str, ...]] = {
    HCMC: (
        "Thành phố Hồ Chí Minh", "TP Hồ Chí Minh", "TP. Hồ Chí Minh", "TP.Hồ Chí Minh",
        "Tp Hồ Chí Minh", "Tp. Hồ Chí Minh", "TP.HCM", "TP. HCM", "TPHCM", "TP HCM",
        "Tp.HCM", "Tp HCM", "Tp. HCM", "TP.HCMC", "Ho Chi Minh City",
    ),
    "Huế": ("Thừa Thiên Huế", "Thừa Thiên - Huế", "TT-Huế", "TT Huế", "T.T.Huế", "TT.Huế"),
    "Bà Rịa - Vũng Tàu": ("Bà Rịa Vũng Tàu", "BR-VT", "BR - VT", "BRVT"),
    "Đắk Lắk": ("Đắc Lắc", "Đăk Lăk", "Đắk Lăk", "Đăk Lắk", "Đắc Lắk", "Daklak", "Đaklak", "ĐắkLắk"),
    "Đắk Nông": ("Đăk Nông", "Đắc Nông", "Daknong", "Đắk Nong"),
    "Kon Tum": ("Kontum",),
    "Bắc Kạn": ("Bắc Cạn",),
}
# Names that resolve() accepts but find_mentions() never reports (see module docstring).
_RESOLVE_ONLY: dict[str, tuple[str, ...]] = {
    HCMC: ("Hồ Chí Minh", "HCM", "HCMC", "Sài Gòn", "Saigon"),
}
_ADMIN_PREFIX_RE = re.compile(r"^(?:tỉnh|thành phố|tp\.?|thủ đô)\s*", re.IGNORECASE)

_CHAR_MAP = {"ð": "đ", "–": "-", "—": "-", "‐": "-", "‑": "-", "\u00a0": " "}


def match_key(text: str) -> str:
    """Case-, dash- and tone-placement-insensitive form; same length as text (offsets hold)."""
    chars = []
    for c in text:
        low = c.lower()
        c = low if len(low) == 1 else c
        chars.append(_CHAR_MAP.get(c, c))
    out = "".join(chars)
    for old, new in TONE_PLACEMENTS:
        out = out.replace(old, new)
    return out


def _lookup_key(name: str) -> str:
    """Key for resolve(): also collapses spacing around dashes, dots and between words."""
    k = match_key(unicodedata.normalize("NFC", name)).strip()
    k = re.sub(r"\s*-\s*", "-", k)
    k = re.sub(r"\.\s*", ".", k)
    return re.sub(r"\s+", " ", k)


def _ascii(text: str) -> str:
    text = text.replace("Đ", "D").replace("đ", "d").replace("Ð", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _swap_tone_style(text: str) -> str:
    """`Hòa` <-> `Hoà`: the other tone placement of the same name."""
    out = text
    for old, new in TONE_PLACEMENTS:
        for a, b in ((old, new), (old.capitalize(), new.capitalize())):
            if b in out:
                out = out.replace(b, a)
            elif a in out:
                out = out.replace(a, b)
    return out


def _dash_spacings(text: str) -> set[str]:
    if "-" not in text:
        return {text}
    parts = [p.strip() for p in text.split("-")]
    return {" - ".join(parts), "-".join(parts), " – ".join(parts), "–".join(parts)}


def _variants(name: str) -> set[str]:
    out: set[str] = set()
    for form in (name, _swap_tone_style(name)):
        for spaced in _dash_spacings(form):
            out.add(spaced)
            out.add(_ascii(spaced))
    return out


def _underthesea_mapping() -> dict:
    spec = importlib.util.find_spec("underthesea")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("underthesea is not installed: `pip install underthesea==9.5.0` (the old-province data)")
    path = Path(list(spec.submodule_search_locations)[0]) / "address" / "data" / "mapping.json"
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _short(name: str) -> str:
    return re.sub(r"^(?:Thành phố|Tỉnh)\s+", "", name)


@lru_cache(maxsize=1)
def all_provinces() -> tuple[Province, ...]:
    """Every record: the 63 old units (era old/both) then the new-only ones (era new)."""
    data = _underthesea_mapping()
    new_by_code = {f"{int(p.code):02d}": _short(p.name) for p in _VPProvince.iter_all()}
    new_names = data["province_names"]
    for info in new_names.values():
        if new_by_code.get(info["code"]) != info["short"]:
            raise RuntimeError(
                f"vietnam_provinces and underthesea disagree on new unit {info['code']} "
                f"({new_by_code.get(info['code'])!r} vs {info['short']!r}): check their versions"
            )
    members: dict[str, list[str]] = {}
    for old_key, new_key in data["province_mapping"].items():
        members.setdefault(new_key, []).append(old_key)

    records: list[Province] = []
    both_new_keys: set[str] = set()
    for old_key, info in data["old_province_names"].items():
        new_key = data["province_mapping"][old_key]
        new = new_names[new_key]
        unchanged = members[new_key] == [old_key] and new["code"] == info["code"] and new["short"] == info["short"]
        if unchanged:
            both_new_keys.add(new_key)
            records.append(Province(info["short"], info["code"], None, None, "both"))
        else:
            records.append(Province(info["short"], info["code"], new["short"], new["code"], "old"))
    for new_key, info in new_names.items():
        if new_key not in both_new_keys:
            records.append(Province(info["short"], info["code"], None, None, "new"))
    return tuple(records)


def by_code(code: str | int, era: Literal["old", "new"] = "old") -> Province | None:
    """The unit with this official code in the given era (codes were reused after the merger)."""
    wanted = f"{int(code):02d}"
    for p in all_provinces():
        if p.code == wanted and (p.era == "both" or p.era == era):
            return p
    return None


def aliases(province: Province, for_mentions: bool = False) -> tuple[str, ...]:
    """Every written form of the unit's name; for_mentions leaves out resolve-only names."""
    names = {province.name, *_EXTRA_ALIASES.get(province.name, ())}
    if not for_mentions:
        names.update(_RESOLVE_ONLY.get(province.name, ()))
    out: set[str] = set()
    for name in names:
        out |= _variants(name)
    if for_mentions:
        out -= {v for n in _RESOLVE_ONLY.get(province.name, ()) for v in _variants(n)}
    return tuple(sorted(out))


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, list[Province]]:
    index: dict[str, list[Province]] = {}
    for p in all_provinces():
        for alias in aliases(p):
            bucket = index.setdefault(_lookup_key(alias), [])
            if p not in bucket:
                bucket.append(p)
    return index


def _pick(candidates: list[Province], era: Literal["old", "new"]) -> Province:
    for p in candidates:
        if p.era == era or p.era == "both":
            return p
    return candidates[0]


def resolve(name: str, era: Literal["old", "new"] = "old") -> Province | None:
    """The unit a name denotes (any alias, any case, with or without `tỉnh`/`thành phố`)."""
    index = _alias_index()
    key = _lookup_key(name)
    for candidate in (key, _ADMIN_PREFIX_RE.sub("", key)):
        if candidate in index:
            return _pick(index[candidate], era)
    folded = _lookup_key(_ascii(name))
    for candidate in (folded, _ADMIN_PREFIX_RE.sub("", folded)):
        if candidate in index:
            return _pick(index[candidate], era)
    return None


# ---- mentions in running text -------------------------------------------------------

_LOCAL_PREFIX = r"(?<!\w)(?:thành phố|tp\.?|tx\.?|thị xã|huyện|quận|thị trấn|xã|phường)"
# `yêu cầu` (to ask) is no bridge, and `đường phố Hà Nội`, `tuyến phố Hà Nội` are the city's streets.
_PLACE_PREFIX = r"(?<!\w)(?:đường|(?<!thành )(?<!đường )(?<!tuyến )phố|sông|(?<!yêu )cầu|cao tốc|quốc lộ)"
# Companies, banks, schools, hospitals, stations, plants, named projects, ports, clubs,
# associations and venues: a province name inside their names is not labelled (guidelines,
# project decisions). Lower-case `dự án` and a bare `Viện` are left out: `Ban quản lý ... dự
# án giao thông Bắc Ninh` is the province's own board, and `Viện` is also a given name.
_ORG_BEFORE = re.compile(
    r"(?<![\w&])(?:Công ty|công ty|Cty|CTCP|Tập đoàn|Ngân hàng|Chi nhánh|CN|(?<!phố )Cảng|Sân bay|Hiệp hội|"
    r"Hội [Dd]oanh nghiệp|CLB|Câu lạc bộ|Bệnh viện|BV|Trường|Đại học|ĐH|ĐHQG|Học viện|Trung tâm Hội nghị|"
    r"Khu công nghiệp|KCN|Becamex|Software|[Nn]hà máy|Dự án|[Gg]a|Sở [Gg]iao dịch [Cc]hứng khoán|"
    r"Khách sạn|Siêu thị|Bến xe|Nghĩa trang|Sân vận động|cửa khẩu|cao tốc)"
    # A province's own bodies between them are labelled (`KCN tỉnh Long An`, `cao tốc UBND tỉnh X`);
    # `nhỏ và vừa` is one phrase, and an abbreviation in brackets is one word (`Hiệp hội Bất động
    # sản (BĐS) TP Hồ Chí Minh`).
    r"(?:\s+(?!tại|của|trên|ở|cho|với|và(?! vừa)|tỉnh|UBND|HĐND)(?:[^\s,;.:()]+|\([^\s()]+\))){0,6}\s+$"
)
_BLOCKERS = ("Thái Bình Dương",)
# Common family and middle names: a province name right after one is part of a person's name.
_NAME_PARTS = frozenset(
    match_key(w)
    for w in (
        "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đoàn Trịnh "
        "Trương Lâm Mai Tô Tạ Lưu Lương Đinh Châu Quách Phùng Đàm Mã Kiều Hứa Triệu Chu Lại "
        "Văn Thị Hữu Đình Công Quang Đức Ngọc Thanh Minh Xuân Hồng Kim Khánh Bá Tấn Thế Duy"
    ).split()
)
_WORD_RE = re.compile(r"[^\W\d_]+")


def _alias_pattern(alias_key: str) -> str:
    out = re.escape(alias_key)
    out = out.replace(r"\-", "-")
    out = re.sub(r"(?:\\ )*-(?:\\ )*", r"\\s*-\\s*", out)
    out = out.replace(r"\ ", r"\s+").replace(r"\.", r"\.\s*")
    return out


@lru_cache(maxsize=2)
def _mention_matcher(era: Literal["old", "new"]) -> tuple[re.Pattern[str], dict[str, Province | None]]:
    owner: dict[str, Province | None] = {}
    for p in all_provinces():
        if era == "old" and p.era == "new":
            continue
        if era == "new" and p.era == "old" and any(q.name == p.name and q.era == "new" for q in all_provinces()):
            continue
        forms = set(aliases(p, for_mentions=True))
        if p.name == "Huế" and era == "old":
            forms -= _variants("Huế")
        for form in forms:
            owner.setdefault(_lookup_key(form), p)
    for blocker in _BLOCKERS:
        owner[_lookup_key(blocker)] = None
    keys = sorted(owner, key=len, reverse=True)
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(_alias_pattern(k) for k in keys) + r")(?!\w)")
    return pattern, owner


def _capitalised(surface: str) -> bool:
    """The first word of the name (after `thành phố`/`TP`) starts with a capital letter."""
    for word in _WORD_RE.findall(surface):
        if match_key(word) in {"thành", "phố", "tp"}:
            continue
        return word[0].isupper()
    return False


def find_mentions(text: str, era: Literal["old", "new"] = "old") -> list[tuple[int, int, Province]]:
    """Province mentions as (start, end, unit), by the guideline rules in the module docstring.

    text must be NFC (as stored documents are). era="new" is for articles written after the
    2025 reforms: shared names then mean the new units and `Huế` alone is the province.
    """
    pattern, owner = _mention_matcher(era)
    key_text = match_key(text)
    out: list[tuple[int, int, Province]] = []
    for m in pattern.finditer(key_text):
        province = owner.get(_lookup_key(m.group()))
        surface = text[m.start() : m.end()]
        if province is None or not _capitalised(surface):
            continue
        if _refused_by_context(text, m.start(), key_text[max(0, m.start() - 20) : m.start()], province, era) is None:
            out.append((m.start(), m.end(), province))
    return out


#: Why `refused_context` turns a province name down, in the order the rules are tried.
CONTEXT_REASONS = ("bare-name", "place", "town", "organisation", "person")


def refused_context(text: str, start: int, end: int, era: Literal["old", "new"] = "old") -> str | None:
    """Why the guidelines' context rules (those of `find_mentions`) refuse the province name
    at `text[start:end]`, one of `CONTEXT_REASONS`: a form that is never a mention
    (`Sài Gòn`, bare `Hồ Chí Minh`: `bare-name`), after a street, river or bridge word
    (`place`), a town that shares a province's name (`thành phố Bến Tre`: `town`), inside a
    company's, bank's or association's name (`organisation`), or part of a person's name
    (`person`); None when they accept it or the span is no province name. For a tagger's
    PROVINCE span, whose form `find_mentions` may not know (a typo, a name glued to a list
    number), so that only the context decides."""
    province = resolve(text[start:end], era)
    if province is None:
        return None
    if _lookup_key(text[start:end]) in _resolve_only_keys():
        return "bare-name"
    return _refused_by_context(text, start, match_key(text[max(0, start - 20) : start]), province, era)


@lru_cache(maxsize=2)
def _central_cities(era: Literal["old", "new"]) -> frozenset[str]:
    """The names a local prefix does not demote (`thành phố Đà Nẵng` is the province)."""
    return frozenset(CENTRAL_CITIES) | ({"Huế"} if era == "new" else frozenset())


@lru_cache(maxsize=1)
def _resolve_only_keys() -> frozenset[str]:
    return frozenset(_lookup_key(form) for forms in _RESOLVE_ONLY.values() for form in forms)


def _refused_by_context(text: str, start: int, before: str, province: Province, era: Literal["old", "new"]) -> str | None:
    """`refused_context` for the name at `text[start:]`; `before` is `match_key` of the 20
    characters before it."""
    if re.search(_PLACE_PREFIX + r"\s+$", before):
        return "place"
    if province.name not in _central_cities(era) and re.search(_LOCAL_PREFIX + r"\s*$", before):
        return "town"
    if _ORG_BEFORE.search(text[max(0, start - 80) : start]):
        return "organisation"
    prev_word = re.search(r"([^\W\d_]+)\s+$", before)
    if prev_word and prev_word.group(1) in _NAME_PARTS and text[start - len(prev_word.group(0))].isupper():
        return "person"
    return None
