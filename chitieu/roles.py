"""The office an official holds, read from the title words around the name, in one spelling.

Where the title is looked for (`find_role`):
1. just before the name, back to the last `;`, `.`, `:`, bracket, quote or line break,
   skipping an honorific (`ông`, `bà`, `đồng chí`) and a separator (`,`, `-`, `–`):
   `Bí thư Tỉnh ủy Bến Tre Lê Đức Thọ`, `Chủ tịch UBND tỉnh - Nguyễn Văn Út`,
   `Chủ tịch UBND tỉnh Bến Tre, ông Trần Ngọc Tam`;
2. else just after it, after `,` or a dash: `Ông Trần Ngọc Tam, Chủ tịch UBND tỉnh Bến Tre
   cho biết`.
A title starts with a head word (`Bí thư`, `Chủ tịch`, `Thủ tướng`, `Giám đốc`,
`Cục trưởng`, `ĐBQH`, ... optionally after `Phó`/`Quyền`) and runs until a word that cannot
be part of a title (a verb such as `cho biết`, `nhấn mạnh`, a function word such as `tại`,
`của`, a number). Several titles in a row (`Ủy viên Trung ương Đảng - Bí thư Tỉnh ủy`,
`Bí thư Tỉnh ủy, Chủ tịch HĐND tỉnh`) are all kept, nearest the name last on the left and
first on the right, joined by ", " in reading order.

Canonical form (`normalize_role`), chosen so that the same office reads the same in every
article:
- short forms for the councils and committees: `UBND`, `HĐND`, `ĐBQH`, `MTTQ`
  (`Ủy ban nhân dân` -> `UBND`); ministry and department abbreviations are spelled out
  (`KH&ĐT` -> `Kế hoạch và Đầu tư`);
- the place is dropped, the level word kept: `Chủ tịch UBND tỉnh Bến Tre` -> `Chủ tịch UBND
  tỉnh`, `Chủ tịch UBND TP.HCM` -> `Chủ tịch UBND thành phố`, `Bí thư Tỉnh ủy Bến Tre` ->
  `Bí thư Tỉnh ủy`, `Giám đốc Sở Tài chính Long An` -> `Giám đốc Sở Tài chính`,
  `Chủ tịch UBND huyện Ba Tri` -> `Chủ tịch UBND huyện`; `UBND Bến Tre` gains its level
  (`UBND tỉnh`);
- tone placement of `oa`/`oe`/`uy` on the first vowel (`Ủy`, `Hòa`), head words and
  `Tỉnh ủy`/`Thành ủy`/`Huyện ủy` capitalised as here (`Phó chủ tịch` -> `Phó Chủ tịch`);
- `Thủ tướng Chính phủ` -> `Thủ tướng`.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from chitieu.lexicon.places import CENTRAL_CITIES
from chitieu.lexicon.unicode import TONE_PLACEMENTS
from chitieu.provinces import find_mentions, match_key, resolve

# Head words in their canonical spelling, longest first so `Tổng cục trưởng` beats `Cục trưởng`.
HEADS: tuple[str, ...] = tuple(
    sorted(
        (
            "Tổng Bí thư", "Bí thư", "Chủ tịch nước", "Chủ tịch Quốc hội", "Chủ tịch", "Thủ tướng",
            "Bộ trưởng", "Thứ trưởng", "Giám đốc", "Tổng cục trưởng", "Cục trưởng",
            "Chi cục trưởng", "Vụ trưởng", "Viện trưởng", "Trưởng ban", "Trưởng phòng",
            "Trưởng đoàn", "Đội trưởng", "Chánh văn phòng", "Chánh thanh tra", "Chánh án",
            "Chủ nhiệm", "Tổng Kiểm toán Nhà nước", "Thống đốc", "Ủy viên", "Thường vụ",
            "Đại biểu Quốc hội", "ĐBQH", "Tư lệnh", "Chỉ huy trưởng", "Tổng Thư ký",
            "Trưởng Công an", "Bí thư Thường trực", "Đại biểu",
        ),
        key=len,
        reverse=True,
    )
)
_MODIFIERS = ("Phó", "Quyền")

# Words that end a title when written in lower case (verbs of saying and doing, function
# words, time words); organisation names capitalise their first syllable (`Sở Giao thông`).
_STOP_WORDS = frozenset(
    match_key(w)
    for w in (
        "cho nói nhấn khẳng phát đề yêu nhận đánh chia giao kêu báo trao ký trì dự "
        "tham làm đã sẽ cũng đang vừa tại trong khi về với là thì mà có được bày ghi chỉ "
        "đến tặng tiếp lưu theo của ngày sáng chiều tối hôm này đó các những để này "
        "mong cảm chúc khai bế đi đón gặp thăm hỏi trả lời nêu lưu ý đưa ra nhắc "
        "quyết tuyên thừa"
    ).split()
)

_HARD_STOP_RE = re.compile(r"[;:()\[\]\n“”\"!?]|\.(?=\s|$)")
_SEPARATOR_RE = re.compile(r"\s*(?:,|[-–—])\s*")
_HONORIFIC_RE = re.compile(r"(?:^|[\s,\-–—])(?:ông|bà|đồng chí|đ/c)\s*$", re.IGNORECASE)
_WORD_RE = re.compile(r"[^\W_]+(?:&[^\W_]+)*")

# A head word with its optional `Phó`/`Quyền`; match it against match_key(text), whose
# offsets are the text's.
HEAD_RE = re.compile(
    r"(?<!\w)(?:(?:" + "|".join(match_key(m) for m in _MODIFIERS) + r")\s+)?(?:"
    + "|".join(re.escape(match_key(h)).replace(r"\ ", r"\s+") for h in HEADS)
    + r")(?!\w)"
)

# Council and committee names to their short forms; abbreviations to full department names.
_CONTRACT: tuple[tuple[str, str], ...] = (
    ("ủy ban nhân dân", "UBND"),
    ("hội đồng nhân dân", "HĐND"),
    ("đại biểu quốc hội", "ĐBQH"),
    ("mặt trận tổ quốc", "MTTQ"),
    ("thủ tướng chính phủ", "Thủ tướng"),
    ("kh&đt", "Kế hoạch và Đầu tư"),
    ("khđt", "Kế hoạch và Đầu tư"),
    ("nn&ptnt", "Nông nghiệp và Phát triển nông thôn"),
    ("nn-ptnt", "Nông nghiệp và Phát triển nông thôn"),
    ("tn&mt", "Tài nguyên và Môi trường"),
    ("tn-mt", "Tài nguyên và Môi trường"),
    ("gd&đt", "Giáo dục và Đào tạo"),
    ("gd-đt", "Giáo dục và Đào tạo"),
    ("lđ-tb&xh", "Lao động - Thương binh và Xã hội"),
    ("lđtb&xh", "Lao động - Thương binh và Xã hội"),
    ("kh&cn", "Khoa học và Công nghệ"),
    ("tt&tt", "Thông tin và Truyền thông"),
    ("vh-tt&dl", "Văn hóa, Thể thao và Du lịch"),
    ("vhttdl", "Văn hóa, Thể thao và Du lịch"),
    ("gtvt", "Giao thông vận tải"),
    ("tỉnh ủy", "Tỉnh ủy"),
    ("thành ủy", "Thành ủy"),
    ("huyện ủy", "Huyện ủy"),
)
_LOCAL_LEVEL_RE = re.compile(
    r"(?<!\w)(huyện|quận|thị xã|thị trấn|xã|phường|thành phố)((?:\s+[A-ZĐÀ-Ỹ][^\s,]*)+)"
)


def _canonical_tones(text: str) -> str:
    """Tone on the first vowel of open oa/oe/uy, case kept (`Uỷ` -> `Ủy`, `hoà` -> `hòa`).

    Only at the end of a syllable: `hoạch` and `khoản` are spelled one way only.
    """
    for old, new in TONE_PLACEMENTS:
        for a, b in ((old, new), (old[0].upper() + old[1:], new[0].upper() + new[1:])):
            text = re.sub(re.escape(a) + r"(?![^\W\d_])", b, text)
    return text


def _replace_ci(text: str, needle: str, replacement: str) -> str:
    """Case- and tone-insensitive whole-word replacement (match_key keeps offsets)."""
    key = match_key(text)
    pattern = re.compile(r"(?<!\w)" + re.escape(match_key(needle)).replace(r"\ ", r"\s+") + r"(?!\w)")
    out, last = [], 0
    for m in pattern.finditer(key):
        out.append(text[last : m.start()])
        out.append(replacement)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def _drop_provinces(role: str) -> str:
    for start, end, province in reversed(find_mentions(role)):
        before = role[:start].rstrip()
        after = role[end:]
        central = province.name in CENTRAL_CITIES
        level = "thành phố" if central else "tỉnh"
        tail = re.search(r"(?<!\w)(tỉnh|thành phố|tp\.?|TP\.?|Tp\.?|thủ đô|Thủ đô)$", before)
        if tail:
            before = before[: tail.start()] + ("thành phố" if tail.group(1).lower().startswith(("tp", "thành", "thủ")) else "tỉnh")
        elif re.search(r"(?<!\w)(UBND|HĐND|MTTQ)$", before):
            before = before + " " + level  # `UBND TP.HCM`, `UBND Bến Tre`
        role = (before + after).strip()
    return role


def _canonical_heads(role: str) -> str:
    key = match_key(role)
    canon = {match_key(h): h for h in HEADS} | {match_key(m): m for m in _MODIFIERS}
    out, last = [], 0
    for m in re.finditer(
        r"(?<!\w)(?:" + "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in sorted(canon, key=len, reverse=True)) + r")(?!\w)",
        key,
    ):
        out.append(role[last : m.start()])
        out.append(canon[re.sub(r"\s+", " ", m.group())])
        last = m.end()
    out.append(role[last:])
    return "".join(out)


def normalize_role(raw: str) -> str:
    """One spelling per office; see the module docstring for the canonical form."""
    role = _canonical_tones(unicodedata.normalize("NFC", raw))
    role = re.sub(r"\s+", " ", role).strip(" ,-–—")
    for needle, replacement in _CONTRACT:
        role = _replace_ci(role, needle, replacement)
    role = _drop_provinces(role)
    role = _LOCAL_LEVEL_RE.sub(lambda m: m.group(1), role)
    role = _canonical_heads(role)
    role = re.sub(r"\s+", " ", role)
    return re.sub(r"(?:\s*(?:,|[-–—]|\bvà\b|\bcùng\b))+$", "", role).strip()


def _is_stop(word: str) -> bool:
    return word[0].isdigit() or (word.islower() and match_key(word) in _STOP_WORDS)


def _blank_heads(segment: str) -> str:
    """The segment with its head words blanked, so `Phó chủ tịch` is not read as a verb."""
    out = segment
    for m in HEAD_RE.finditer(match_key(segment)):
        out = out[: m.start()] + " " * (m.end() - m.start()) + out[m.end() :]
    return out


def has_stop_word(segment: str) -> bool:
    """Whether the segment holds a word that cannot be part of a title (head words aside)."""
    return any(_is_stop(w) for w in _WORD_RE.findall(_blank_heads(segment)))


def _cut_at_stop_word(segment: str) -> tuple[str, bool]:
    for m in _WORD_RE.finditer(_blank_heads(segment)):
        if _is_stop(m.group()):
            return segment[: m.start()], True
    return segment, False


def _starts_with_head(segment: str) -> bool:
    m = HEAD_RE.match(match_key(segment.strip()))
    return m is not None


def _split_chain(text: str) -> list[str]:
    """Split at commas and dashes that are followed by a new head word."""
    parts, last = [], 0
    for m in _SEPARATOR_RE.finditer(text):
        if _starts_with_head(text[m.end() :]) and m.start() > last:
            parts.append(text[last : m.start()])
            last = m.end()
    parts.append(text[last:])
    return [p for p in (p.strip() for p in parts) if p]


def _role_before(text: str, name_start: int) -> list[str]:
    window = text[max(0, name_start - 250) : name_start]
    stops = list(_HARD_STOP_RE.finditer(window))
    if stops:
        window = window[stops[-1].end() :]
    window = window.rstrip(" \t,-–—")
    honorific = _HONORIFIC_RE.search(window)
    if honorific:
        window = window[: honorific.start()].rstrip(" \t,-–—")
    key = match_key(window)
    start = None
    for m in HEAD_RE.finditer(key):
        if not has_stop_word(window[m.start() :]):
            start = m.start()
            break
    if start is None:
        return []
    chain = _split_chain(window[start:])
    # Earlier titles of the chain are kept only up to another person's name.
    kept = [chain[-1]]
    for part in reversed(chain[:-1]):
        if _ends_with_person(part):
            break
        kept.insert(0, part)
    return kept


def _role_after(text: str, name_end: int) -> list[str]:
    m = re.match(r"\s*(?:,|[-–—])\s*", text[name_end:])
    if not m:
        return []
    rest = text[name_end + m.end() : name_end + m.end() + 250]
    stop = _HARD_STOP_RE.search(rest)
    if stop:
        rest = rest[: stop.start()]
    if not _starts_with_head(rest):
        return []
    kept = []
    for part in _split_chain(rest):
        if not _starts_with_head(part):
            break
        part, cut = _cut_at_stop_word(part)
        if part.strip(" ,-–—"):
            kept.append(part)
        if cut:
            break
    return kept


def _ends_with_person(segment: str) -> bool:
    words = segment.split()
    tail: list[str] = []
    for w in reversed(words):
        if not (w[:1].isupper() and w[1:].islower()):
            break
        tail.insert(0, w)
    return len(tail) >= 2 and match_key(tail[0]) in SURNAME_KEYS and resolve(" ".join(tail)) is None


SURNAMES: tuple[str, ...] = tuple(
    (
        "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đào Đoàn Trịnh "
        "Trương Lâm Mai Tô Tạ Lưu Lương Đinh Châu Quách Phùng Đàm Mã Kiều Hứa Triệu Chu Lại Cao "
        "Hà Văn Thái Vương Tống Khổng Thân Nông Điểu Lò Giàng Hầu Từ Diệp Âu La Lã Cù Kha Y "
        "Bạch Tăng Phí Doãn Khúc Mạc Uông Thạch Danh Lục Ma Tòng Hoàng"
    ).split()
)
SURNAME_KEYS = frozenset(match_key(s) for s in SURNAMES)


# Cached: the official check reads each OFFICIAL's role as a feature and linking reads it again
# for the tuple (about 0.5 ms a mention). A few hundred entries hold a few articles' texts.
@lru_cache(maxsize=512)
def find_role(text: str, name_start: int, name_end: int) -> str | None:
    """The normalised office of the person named at text[name_start:name_end], or None."""
    parts = _role_before(text, name_start) or _role_after(text, name_end)
    roles = [r for r in (normalize_role(p) for p in parts) if r]
    return ", ".join(roles) if roles else None
