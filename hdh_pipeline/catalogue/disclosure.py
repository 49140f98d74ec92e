"""Disclosure control: which published numbers could single out fewer than k people.

- primary suppression: a count in 1..k-1 is not published;
- complementary suppression: in a set of counts whose total is known (the frequencies of a
  variable, the bins of a histogram, men/women/other), once a cell is suppressed, more are
  suppressed, smallest first, until at least two are and they add up to k or more, so no
  cell can be recovered by subtraction;
- a percentage is published only when neither its part nor the rest is in 1..k-1.
"""
from __future__ import annotations

from collections.abc import Sequence

DEFAULT_K = 11


def is_small(count: int | None, k: int) -> bool:
    return count is not None and 0 < count < k


def publishable(count: int | None, k: int) -> int | None:
    """The count, or None where it is in 1..k-1."""
    return None if is_small(count, k) else count


def suppressed_cells(cells: Sequence[int], k: int) -> set[int]:
    """Indexes of the cells of a partition to suppress (primary, then complementary)."""
    hidden = {i for i, c in enumerate(cells) if is_small(c, k)}
    if not hidden:
        return hidden
    candidates = sorted((c, i) for i, c in enumerate(cells) if i not in hidden and c > 0)
    while candidates and (len(hidden) < 2 or sum(cells[i] for i in hidden) < k):
        hidden.add(candidates.pop(0)[1])
    return hidden


def controlled_partition(cells: Sequence[int | None], k: int) -> list[int | None]:
    """The cells as published: None where suppressed. Unknown cells (None) stay unknown."""
    known = [(i, c) for i, c in enumerate(cells) if c is not None]
    hidden = {known[j][0] for j in suppressed_cells([c for _, c in known], k)}
    return [None if i in hidden else c for i, c in enumerate(cells)]


def safe_share(part: int | None, total: int | None, k: int, digits: int = 2) -> float | None:
    """part / total in %, unless part or total - part is in 1..k-1 (it would give that count away)."""
    if part is None or total in (None, 0) or is_small(part, k) or is_small(total - part, k):
        return None
    return round(100.0 * part / total, digits)
