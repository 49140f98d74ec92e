"""Disclosure control: which published counts could single out fewer than k people.

A reader holds every public file at once, so counts are not controlled one by one but
together, in a `Ledger` per source: every count the catalogue could publish or imply
(`cell`), and every sum that ties counts together (`sum`: the rows of a table are its
variable's values plus its missing values, the values are the listed values plus
`(other)`, the bins, and so on, across tables up to the database's total). A cell that is
never published but follows from others (the passing rows of a check: evaluated - failing)
is a *derived* cell, controlled like the others.

- primary suppression: a count in 1..k-1 is hidden (a derived one must not be derivable);
- complementary suppression: no sum may leave exactly one hidden cell unknown (it would
  come back by subtraction), the hidden parts of a published total add up to k or more, and what
  they leave beyond what a reader knows of each (a listed value is seen k times or more, a hidden
  count is not 0) keeps `protected(k)` values possible for each small one;
  the cell hidden to protect another is the one whose hiding loses least: its value times one
  plus the sums it would open in turn (so the smallest first, but a database's total goes
  before a table's rows, which would open every variable of the table);
- a share is published only when its part and its whole both are (it then tells nothing more).

The sums of a source form a hierarchy (database, tables, variables, values), in which
"every sum with a hidden cell has two unknown cells" is enough for no hidden cell to be
recoverable by any combination of sums; `tests/test_disclosure.py` attacks the published
catalogues with every relation of `docs/catalogue.md` to check it.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable

Cell = Hashable


def is_small(count: int | None, k: int) -> bool:
    return count is not None and 0 < count < k


def protected(k: int) -> int:
    """How many values a reader holding every published number must still see possible for a hidden count below
    k: half the range 1..k-1 (5 of 1..10 for k = 11)."""
    return -(-(k - 1) // 2)


class Ledger:
    """The counts of one source that a reader could tie together, and the sums that tie them."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.values: dict[Cell, int] = {}
        self.derived: set[Cell] = set()
        self.sums: list[tuple[Cell, tuple[Cell, ...]]] = []
        self._alias: dict[Cell, Cell] = {}
        self.floors: dict[Cell, int] = {}
        self._hidden: set[Cell] | None = None

    def cell(self, key: Cell, value: int | None, *, derived: bool = False, same_as: Iterable[Cell] = (),
             floor: int = 0) -> Cell:
        """Record a count (None: unknown to everyone, so not a cell). `same_as`: cells this count is
        the same number of the same rows as, when their values are equal (a check that evaluates
        every row of a table counts the table's rows): they are then one cell. `floor`: what every reader
        knows it is at least (a listed value is seen k times or more)."""
        if value is None:
            return key
        if floor:
            self.floors[key] = floor
        for other in same_as:
            other = self.resolve(other)
            if self.values.get(other) == value:
                self._alias[key] = other
                return other
        self.values[key] = int(value)
        if derived:
            self.derived.add(key)
        return key

    def resolve(self, key: Cell) -> Cell:
        return self._alias.get(key, key)

    def sum(self, total: Cell, parts: Iterable[Cell]) -> None:
        """total = sum of parts (ignored when one of them is unknown)."""
        cells = (self.resolve(total), *(self.resolve(p) for p in parts))
        if all(c in self.values for c in cells) and len(cells) > 1:
            self.sums.append((cells[0], cells[1:]))
            self._hidden = None

    def published(self, key: Cell) -> int | None:
        """The count as published: None when hidden, derived or unknown."""
        key = self.resolve(key)
        if key not in self.values or key in self.derived or key in self.hidden():
            return None
        return self.values[key]

    def share(self, part: Cell, whole: Cell, digits: int = 2) -> float | None:
        """part / whole in %, when both are published (and whole is not 0)."""
        p, w = self.published(part), self.published(whole)
        return None if p is None or not w else round(100.0 * p / w, digits)

    def hidden(self) -> set[Cell]:
        """The cells to hide: primary, then complementary until no sum gives one back."""
        if self._hidden is None:
            self._hidden = self._suppress()
        return self._hidden

    def _suppress(self) -> set[Cell]:
        k, values = self.k, self.values
        self._sums_of: dict[Cell, list[int]] = defaultdict(list)
        for i, (total, parts) in enumerate(self.sums):
            for c in (total, *parts):
                self._sums_of[c].append(i)
        hidden = {c for c, v in values.items() if is_small(v, k)}
        while True:
            determined = self._determined(hidden)
            floors = self._floors(hidden, determined)
            more = set()
            for total, parts in self.sums:
                unknown = [c for c in (total, *parts) if self._unknown(c, hidden, determined)]
                exposed = len(unknown) == 1 and unknown[0] in hidden
                too_few = (total not in unknown and unknown and all(c in hidden for c in unknown)
                           and sum(values[c] for c in unknown) < k)
                narrowed = total not in unknown and self._narrowed(unknown, hidden, floors)
                if exposed or too_few or narrowed:
                    cells = (total, *parts)
                    if narrowed:  # or a published part of a sum that gave one of these cells its floor
                        cells += tuple(c for u in unknown if floors[u][1] is not None
                                       for c in (self.sums[floors[u][1]][1]))
                    candidates = self._candidates(cells, hidden, determined, set())
                    if candidates:
                        more.add(min(candidates, key=lambda c: (self._cost(c, hidden, determined), str(c))))
            if not more:
                return hidden
            hidden |= more

    def _floors(self, hidden: set[Cell], determined: dict[Cell, int]) -> dict[Cell, tuple[int, int | None]]:
        """What a reader knows each cell is at least -> (that floor, the sum that gives it, if any): its own floor,
        1 for a hidden count, and for an unknown total the sum of its parts' values or floors."""
        floors = {c: (max(self.floors.get(c, 0), 1 if c in hidden else 0), None) for c in self.values}
        for _ in range(3):  # sums nest a few levels deep (database, table, variable, values)
            for i, (total, parts) in enumerate(self.sums):
                if self._unknown(total, hidden, determined):
                    floor = sum(floors[p][0] if self._unknown(p, hidden, determined) else self.values[p]
                                for p in parts)
                    if floor > floors[total][0]:
                        floors[total] = (floor, i)
        return floors

    def _narrowed(self, unknown: list[Cell], hidden: set[Cell], floors: dict[Cell, tuple[int, int | None]]) -> bool:
        """Whether a sum whose total is known pins one of its small hidden cells to fewer than `protected(k)`
        values: the unknown cells add up to the total minus the known ones, and a reader knows each is at
        least its floor."""
        left = sum(self.values[c] - floors[c][0] for c in unknown)  # what the floors leave to spread
        return left + 1 < protected(self.k) and any(is_small(self.values[c], self.k) and c in hidden
                                                       for c in unknown)

    def _cost(self, cell: Cell, hidden: set[Cell], determined: dict[Cell, int]) -> int:
        """What hiding a cell loses: its value, times one plus the sums it would open (those of its sums
        with no unknown cell yet, which would then need another cell hidden)."""
        opened = sum(1 for i in self._sums_of[cell]
                     if not any(self._unknown(c, hidden, determined) for c in (self.sums[i][0], *self.sums[i][1])))
        return self.values[cell] * (1 + opened)

    def _unknown(self, cell: Cell, hidden: set[Cell], determined: dict[Cell, int]) -> bool:
        return cell in hidden or (cell in self.derived and cell not in determined)

    def _determined(self, hidden: set[Cell]) -> dict[Cell, int]:
        """Derived cells (not small) that follow from published ones -> the sum they follow from."""
        determined: dict[Cell, int] = {}
        changed = True
        while changed:
            changed = False
            for i, (total, parts) in enumerate(self.sums):
                unknown = [c for c in (total, *parts) if self._unknown(c, hidden, determined)]
                if len(unknown) == 1 and unknown[0] in self.derived and unknown[0] not in hidden:
                    determined[unknown[0]] = i
                    changed = True
        return determined

    def _candidates(self, cells: tuple[Cell, ...], hidden: set[Cell], determined: dict[Cell, int],
                    seen: set[int]) -> list[Cell]:
        """Published non-zero cells whose hiding would break this sum (directly, or through a derived cell)."""
        out = [c for c in cells if c not in hidden and c not in self.derived and self.values[c] > 0]
        for c in cells:
            i = determined.get(c)
            if i is not None and i not in seen:
                seen.add(i)
                total, parts = self.sums[i]
                out += self._candidates((total, *parts), hidden, determined, seen)
        return out
