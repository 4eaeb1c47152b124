"""Which character ranges of a document are taken, asked once per entity in O(log n).

The refine stage (may a value grow over these words?) and the goal vote (does this value
overlap another entity?) used to compare each range with every entity: quadratic in a
document of thousands of figures.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterable
from itertools import accumulate


class Occupied:
    """Ranges [start, end): a fixed set, overlapping or not, and ranges added later, each of
    which the caller has checked overlaps nothing taken (so the added ones are disjoint)."""

    def __init__(self, ranges: Iterable[tuple[int, int]]) -> None:
        fixed = sorted(ranges)
        self._starts = [a for a, _ in fixed]
        # The largest end among the fixed ranges that start at or before each one.
        self._max_end = list(accumulate((b for _, b in fixed), max))
        self._added: list[tuple[int, int]] = []

    def overlaps(self, start: int, end: int) -> bool:
        """Whether some taken [a, b) has a < end and start < b."""
        k = bisect_left(self._starts, end)
        if k and self._max_end[k - 1] > start:
            return True
        # Disjoint ranges sorted by start have sorted ends: the last one that starts before
        # `end` reaches furthest.
        j = bisect_left(self._added, (end,))
        return j > 0 and self._added[j - 1][1] > start

    def add(self, start: int, end: int) -> None:
        insort(self._added, (start, end))
