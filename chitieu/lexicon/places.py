"""Place names the rules need beyond the gazetteer (`chitieu.provinces`)."""

from __future__ import annotations

HCMC = "Hồ Chí Minh"
#: Centrally run cities (`thành phố trực thuộc trung ương`): their officials' titles say
#: `thành phố`, not `tỉnh`, and `TP X` names the province itself.
CENTRAL_CITIES: frozenset[str] = frozenset({"Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", HCMC})
