"""Who sets a goal: the guidelines count a state's targets, not a company's.

"A figure is a target when a state body sets it or an official announces it as the
state's ... It is not when a company (state-owned included, unless a ministry or the
Government assigns the figure), a bank, an industry association or a private person sets
it" (annotations/GUIDELINES.md, the 2026-12-06d adjudication: the commonest confusion).
The goal readers see `đặt mục tiêu`, `phấn đấu`, `kế hoạch` and cannot tell `Samsung
phấn đấu` from `tỉnh phấn đấu`. What they miss is the subject: a sentence that names a
company before its figure and no state body at all (`Mục tiêu của công ty là năm nay sẽ
tăng 50%`, `Tập đoàn Guangdong Wen ... đặt mục tiêu nâng con số này lên 27,5 triệu con`).

A news agency (`hãng tin`) is no company here. Banks are left out of the company words: central banks set targets (`Ngân hàng T.Ư Mỹ đặt
mục tiêu giữ tỷ lệ lạm phát ở mức 1,4%`). A state word anywhere before the figure
(`UBND`, `Bộ`, `giao`, `tỉnh`, ...) keeps it: a province requiring a company to reach a
figure sets a target.
"""

from __future__ import annotations

import re

from chitieu.provinces import resolve

#: A company's kind, written before its name (`Tập đoàn Samsung`).
COMPANY_KINDS: tuple[str, ...] = ("[Cc]ông ty", "[Tt]ập đoàn", "CTCP", "[Hh]ãng(?! tin| thông tấn)")
#: A company as the subject: its kind, its board and shareholders, its own accounts.
COMPANY_WORDS: tuple[str, ...] = (
    *COMPANY_KINDS, "[Dd]oanh nghiệp này", "Doanh nghiệp", "[Cc]ổ đông",
    "[Hh]ội đồng [Qq]uản trị", "HĐQT", "[Ll]ợi nhuận (?:trước|sau) thuế", "[Cc]ổ tức",
)  # fmt: skip
#: A state body, or the state assigning the figure. A source the figure is quoted from (`Theo
#: Công ty Chứng khoán SSI, Việt Nam đặt mục tiêu ...`) is read as the subject; such quotes are
#: forecasts more often than goals, and a country's name is not among these words.
STATE_WORDS: tuple[str, ...] = (
    "UBND", "HĐND", "[Tt]ỉnh", "[Tt]hành phố", "TP", "[Cc]hính phủ", "[Cc]hính quyền", "Bộ", "Thủ tướng",
    "giao(?! dịch| thông| lưu)", "Nghị quyết", "Quốc hội", "[Hh]uyện", "Sở", "Tổng cục", "[Nn]hà nước", "Đảng", "ngành",
)  # fmt: skip

_COMPANY_RE = re.compile(r"(?<!\w)(?:" + "|".join(COMPANY_WORDS) + r")(?!\w)")
_STATE_RE = re.compile(r"(?<!\w)(?:" + "|".join(STATE_WORDS) + r")(?!\w)")


# ---- companies named without their kind: `Samsung phấn đấu đạt doanh thu 60 tỷ USD`, once
# the article has said `Tập đoàn Samsung`; `NT2 đề ra kế hoạch`, after `(mã CK: NT2)`.

#: Words that introduce a company's name (`Hãng sản xuất xe ôtô Ford`, `Tập đoàn A.S. Watson`):
#: its kind, and two more that name one but are no subject of their own (`tổ hợp`, `nhà mạng`).
_KIND_RE = re.compile(r"(?<!\w)(?:" + "|".join((*COMPANY_KINDS, "[Tt]ổ hợp", "[Nn]hà mạng")) + r")(?!\w)")
#: A listed company's ticker: `(mã CK: NT2)`, `(HOSE: VNM)`.
_TICKER_RE = re.compile(r"\((?:[Mm]ã(?: CK| chứng khoán)?|HOSE|HNX|UPCoM)\s*:\s*([A-Z][A-Z0-9]{1,4})\)")
_TOKEN_RE = re.compile(r"(?:[A-Z]\.){2,}|\w+(?:[.'-]\w+)*|[^\w\s]")
#: Descriptive words between the kind and the name (`sản xuất xe ôtô`, `cổ phần`): at most this many.
_MAX_DESCRIPTORS = 5
_MAX_NAME_TOKENS = 5
# A Vietnamese syllable: onset, vowels, coda. A name token that is not one (`Samsung`,
# `Watson`, `Viettel`, `NT2`) names the company on its own; one that is (`Minh`, `Nam`) does
# not: `Samsung Việt Nam` must not make every `Việt Nam` a company.
_SYLLABLE_RE = re.compile(
    r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdđghklmnprstvx])?"
    r"[aăâeêioôơuưyàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]+"
    r"(?:ch|ng|nh|[cmnpt])?",
    re.IGNORECASE,
)


#: Legal forms between the kind and the name (`Công ty TNHH MTV ...`): descriptors, not names.
_LEGAL_FORMS = frozenset({"TNHH", "MTV", "CP", "CPĐT"})


def _is_name_token(token: str) -> bool:
    return token not in _LEGAL_FORMS and (token == "&" or token[0].isupper() or token[0].isdigit())


def _names_after(text: str, start: int) -> list[str]:
    """The company name that follows a kind word ending at `start`, and its own-standing
    tokens: `Hãng sản xuất xe ôtô Ford của Mỹ` -> [`Ford`]."""
    tokens = _TOKEN_RE.findall(text[start : start + 120])
    i = 0
    while i < len(tokens) and i < _MAX_DESCRIPTORS and tokens[i][0].isalpha() and not _is_name_token(tokens[i]):
        i += 1
    run: list[str] = []
    while i < len(tokens) and len(run) < _MAX_NAME_TOKENS and (tokens[i][0].isalnum() or tokens[i] == "&") and _is_name_token(tokens[i]):
        run.append(tokens[i])
        i += 1
    if not run:
        return []
    own = [t for t in run if len(t) >= 3 and t[0].isalpha() and _SYLLABLE_RE.fullmatch(t) is None]
    # One Vietnamese syllable (`Tập đoàn Thủy sản`: `Thủy`) is a descriptor's capital, not a name.
    return ([" ".join(run)] if len(run) > 1 or own else []) + own


def company_names(text: str) -> frozenset[str]:
    """Names the article gives a company: after a kind word (`Tập đoàn Samsung`) or as a
    ticker (`(mã CK: NT2)`). A name that is also a state body or a province is left out."""
    names = {n for m in _KIND_RE.finditer(text) for n in _names_after(text, m.end())}
    names.update(m.group(1) for m in _TICKER_RE.finditer(text))
    # `Công ty Hà Nội ...` must not make the city a company wherever it sets a goal.
    return frozenset(n for n in names if _STATE_RE.search(n) is None and resolve(n) is None)


class CompanySetter:
    """Whether a sentence's words before a figure name a company and no state body, for the
    sentences of one article: a company by its words (`COMPANY_WORDS`) or by a name the
    article gave one (`company_names`)."""

    def __init__(self, text: str) -> None:
        names = sorted(company_names(text), key=len, reverse=True)
        words = [re.escape(n).replace(r"\ ", r"\s+") for n in names]
        self._names_re = re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)") if words else None

    def __call__(self, before: str) -> bool:
        """Whether the words of a sentence before a figure name a company (by its kind or by a
        name the article gave one) and no state body."""
        if _STATE_RE.search(before) is not None:
            return False
        return _COMPANY_RE.search(before) is not None or (self._names_re is not None and self._names_re.search(before) is not None)
