"""An attacker holding every public table of a catalogue at once.

It writes down every linear relation between published numbers that the catalogue's
documentation implies (docs/catalogue.md, "Relations between published numbers"), with a
suppressed count as an unknown, plus the counts nobody publishes but anyone can derive
(the passing rows of a check, the unmatched rows of a key, the distinct keys of a table,
the individuals with a plausible or unknown age), and solves the system exactly (Gaussian
elimination over the rationals). Published shares are used too: a share and its whole give
the part (or a share and its part the whole) when only one integer fits the rounding. Beyond
equations, it bounds: the order of a variable's listed values (their ranks), what every reader
knows of a count (a listed value is seen k times or more, a hidden count is not 0, a composite
key's distinct keys are at least any key column's distinct values), carried through every
relation by interval arithmetic; a hidden count pinned to fewer than half of 1..k-1 is a leak.

Written apart from `hdh_pipeline.catalogue` on purpose: it reads public rows only.
"""
from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import duckdb

from hdh_pipeline.vocabulary import EVENT_ROLES, INTEGER_TYPES, OTHER

ROWS_CHECKS = {"expect_column_values_to_not_be_null", "unexpected_rows_expectation"}
VALUE_CHECKS = {"expect_column_values_to_be_between", "expect_column_values_to_be_in_set",
                "expect_column_value_lengths_to_be_between"}


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _event_date(variable: dict) -> bool:
    return variable["role"] in EVENT_ROLES and variable["observed_type"].startswith(("DATE", "TIMESTAMP"))


@dataclass
class System:
    known: dict = field(default_factory=dict)     # cell -> value
    unknown: set = field(default_factory=set)     # cells suppressed (published as NULL)
    derived: set = field(default_factory=set)     # cells nobody publishes
    equations: list = field(default_factory=list)  # ({cell: coefficient}, constant): sum(coef * cell) = constant
    shares: list = field(default_factory=list)    # (share %, part cell, whole cell)
    order: list = field(default_factory=list)     # per variable: its listed values' cells, by rank
    floors: list = field(default_factory=list)    # (cell, a value it is known to be at least)

    def count(self, cell, value, derived: bool = False):
        if derived:
            self.derived.add(cell)
        elif value is None:
            self.unknown.add(cell)
        else:
            self.known[cell] = value
        return cell

    def equal(self, total, parts, minus=()) -> None:
        """total = sum(parts) - sum(minus)."""
        coefficients: dict = defaultdict(int)
        coefficients[total] += 1
        for p in parts:
            coefficients[p] -= 1
        for m in minus:
            coefficients[m] += 1
        self.equations.append(dict(coefficients))


def relations(public: dict[str, list[dict]]) -> System:
    """Every relation the documentation states between the published numbers."""
    s = System()
    tables = defaultdict(list)
    distinct = {(v["source_id"], v["table_name"], v["variable"]): v["distinct_count"] for v in public["variables"]}
    for t in public["tables"]:
        tables[t["source_id"]].append(t)
        rows = s.count(("rows", t["source_id"], t["table_name"]), t["row_count"])
        if t["primary_key"] and t["primary_key_unique"] is not None:
            duplicates = s.count(("duplicates", t["source_id"], t["table_name"]), t["duplicate_key_rows"])
            key = (t["source_id"], t["table_name"], t["primary_key"])
            # duplicate key rows = rows - distinct keys, and a one-column key's distinct keys are its distinct values
            keys = s.count(("distinct", *key), distinct[key]) if key in distinct else \
                s.count(("distinct keys", *key[:2]), None, True)
            s.equal(rows, [duplicates, keys])
            for column in t["primary_key"].split(", "):  # the distinct keys are at least any column's distinct values
                if distinct.get((*key[:2], column)) is not None and len(t["primary_key"].split(", ")) > 1:
                    s.floors.append((keys, distinct[(*key[:2], column)]))
    for d in public["databases"]:
        src = d["source_id"]
        total = s.count(("total_rows", src), d["total_rows"])
        s.equal(total, [("rows", src, t["table_name"]) for t in tables[src] if t["status"] in ("loaded", "empty")])
        if d["population_table"]:
            individuals = s.count(("individuals", src), d["individuals"])
            s.equal(individuals, [s.count((sex, src), d[sex]) for sex in ("men", "women", "sex_other")])
            grid = [r for r in public.get("population", []) if r["source_id"] == src]
            for sex, column in (("men", "men"), ("women", "women"), ("other", "sex_other")):
                s.equal((column, src), [s.count(("population", src, r["band"], sex), r["individuals"])
                                        for r in grid if r["sex"] == sex])
            s.equal(individuals, [s.count(("implausible_ages", src), d["implausible_ages"]),
                                  s.count(("other ages", src), None, True)])
            s.equal(("implausible_ages", src), [("population", src, "implausible", sex)
                                                for sex in ("men", "women", "other")])
        s.equal(s.count(("events_after_reference", src), d["events_after_reference"]),
                [("after_reference", v["source_id"], v["table_name"], v["variable"]) for v in public["variables"]
                 if v["source_id"] == src and _event_date(v)])
    frequencies, bins = defaultdict(list), defaultdict(list)
    for f in public["value_frequencies"]:
        frequencies[(f["source_id"], f["table_name"], f["variable"])].append(f)
    for b in public["histograms"]:
        bins[(b["source_id"], b["table_name"], b["variable"])].append(b)
    for v in public["variables"]:
        key = (v["source_id"], v["table_name"], v["variable"])
        rows = ("rows", *key[:2])
        count = s.count(("count", *key), v["count"])
        missing = s.count(("missing", *key), v["missing_count"])
        s.equal(rows, [count, missing])
        s.shares.append((v["completeness_pct"], count, rows))
        if _event_date(v):
            s.equal(count, [s.count(("after_reference", *key), v["after_reference"]),
                            s.count(("up to the reference date", *key), None, True)])
        if v["is_unique"]:
            s.equal(count, [s.count(("distinct", *key), v["distinct_count"])])
        if listed := frequencies.get(key):  # listed values are seen k times or more, by count, largest first
            s.order.append([("frequency", *key, f["value"]) for f in sorted(listed, key=lambda f: f["rank"])
                            if f["value"] not in (None, OTHER)])
        listed = frequencies.get(key, [])
        if listed:
            cells = []
            for f in listed:
                cell = missing if f["value"] is None else s.count(("frequency", *key, f["value"]), f["frequency"])
                if f["value"] is None:
                    s.equal(missing, [s.count(("missing row", *key), f["frequency"])])
                cells.append(cell)
                s.shares.append((f["share_pct"], cell, rows))
            s.equal(rows, cells)
        histogram = bins.get(key, [])
        if histogram:
            cells = [s.count(("bin", *key, b["bin"]), b["frequency"]) for b in histogram]
            s.equal(count, cells)
            if any(_number(b[e]) == 0 for b in histogram for e in ("lower", "upper")):
                s.equal(s.count(("negatives", *key), v["negatives"]),
                        [c for c, b in zip(cells, histogram) if b["upper"] is not None and _number(b["upper"]) <= 0])
            for c, b in zip(cells, histogram):
                if (_number(b["lower"]) == 0 and b["upper"] is not None and _number(b["upper"]) <= 1
                        and v["observed_type"] in INTEGER_TYPES):
                    s.equal(s.count(("zeros", *key), v["zeros"]), [c])
    for r in public["relations"]:
        if r["status"] != "checked":
            continue
        key = (r["source_id"], r["table_name"], r["columns"], r["referenced_table"])
        checked = s.count(("checked", *key), r["checked_rows"])
        matched = s.count(("matched", *key), r["matched_rows"])
        s.equal(checked, [matched, s.count(("unmatched", *key), None, True)])
        s.shares.append((r["match_pct"], matched, checked))
        if "," not in r["columns"]:
            s.equal(checked, [("count", *key[:3])])
    for v in public["variables"]:
        if v["nomenclature_conformance_pct"] is not None:
            key = (v["source_id"], v["table_name"], v["variable"], v["nomenclature"])
            s.shares.append((v["nomenclature_conformance_pct"], ("matched", *key), ("checked", *key)))
    for q in public["quality_results"]:
        if q["status"] not in ("passed", "failed"):
            continue
        key = (q["source_id"], q["table_name"], q["check_id"])
        evaluated = s.count(("evaluated", *key), q["evaluated_rows"])
        failing = s.count(("failing", *key), q["failing_rows"])
        s.equal(evaluated, [failing, s.count(("passing", *key), None, True)])
        s.shares.append((q["failing_pct"], failing, evaluated))
        column = (q["source_id"], q["table_name"], q["variable"])
        if q["expectation"] in ROWS_CHECKS:
            s.equal(evaluated, [("rows", *column[:2])])
        if q["expectation"] in VALUE_CHECKS:
            s.equal(evaluated, [("count", *column)])
        if q["expectation"] == "expect_column_values_to_not_be_null":
            s.equal(failing, [("missing", *column)])
    return s


def _solve(s: System) -> dict:
    """Unknown cells the equations determine -> their value (reduced row echelon form, sparse)."""
    pivots: dict = {}       # pivot cell -> (row {cell: coef}, constant), row[pivot] == 1, no other pivot in row
    holders = defaultdict(set)  # cell -> pivots whose row holds it
    variables = s.unknown | s.derived
    for coefficients in s.equations:
        row, constant = {}, Fraction(0)
        for cell, c in coefficients.items():
            if c == 0:
                continue
            if cell in variables:
                row[cell] = row.get(cell, 0) + Fraction(c)
            elif cell in s.known:
                constant -= c * s.known[cell]
            else:
                row = None  # a cell absent from the public tables: the relation does not hold here
                break
        if row is None:
            continue
        for cell in [c for c in row if c in pivots]:
            c = row.pop(cell, 0)
            if c == 0:
                continue
            prow, pconstant = pivots[cell]
            for other, a in prow.items():
                if other != cell:
                    row[other] = row.get(other, 0) - c * a
                    if row[other] == 0:
                        del row[other]
            constant -= c * pconstant
        if not row:
            assert constant == 0, f"a documented relation does not hold: {coefficients}"
            continue
        pivot = min(row, key=lambda cell: len(holders[cell]))
        scale = row[pivot]
        row = {cell: c / scale for cell, c in row.items()}
        constant /= scale
        for other in list(holders[pivot]):  # keep every pivot row free of the new pivot
            orow, oconstant = pivots[other]
            c = orow.pop(pivot)
            for cell, a in row.items():
                if cell != pivot:
                    value = orow.get(cell, 0) - c * a
                    if value == 0:
                        orow.pop(cell, None)
                        holders[cell].discard(other)
                    else:
                        orow[cell] = value
                        holders[cell].add(other)
            pivots[other] = (orow, oconstant - c * constant)
        holders[pivot] = set()
        pivots[pivot] = (row, constant)
        for cell in row:
            if cell != pivot:
                holders[cell].add(pivot)
    return {cell: constant for cell, (row, constant) in pivots.items() if len(row) == 1}


def _integers(low: float, high: float) -> list[int]:
    return list(range(math.floor(low) + 1, math.ceil(high))) if high - low < 1e6 else []


def recover(public: dict[str, list[dict]]) -> dict:
    """Every suppressed or derived cell the attacker determines -> its value."""
    s = relations(public)
    while True:
        found = _solve(s)
        value = {**s.known, **found}
        added = 0
        for share, part, whole in s.shares:
            if share is None:
                continue
            if whole in value and part not in value:  # part = share * whole / 100, share rounded to 0.01
                fits = _integers(float(value[whole]) * (share - 0.005) / 100 - 1e-9,
                                 float(value[whole]) * (share + 0.005) / 100 + 1e-9)
                if len(fits) == 1:
                    s.equations.append({part: 1, ("constant", part): -1})
                    s.known[("constant", part)] = fits[0]
                    added += 1
            elif part in value and whole not in value and share > 0:
                fits = _integers(float(value[part]) * 100 / (share + 0.005), float(value[part]) * 100 / (share - 0.005))
                if len(fits) == 1:
                    s.equations.append({whole: 1, ("constant", whole): -1})
                    s.known[("constant", whole)] = fits[0]
                    added += 1
        if not added:
            return found


def leaks(public: dict[str, list[dict]], k_of: dict[str, int]) -> list[tuple]:
    """(cell, value) for every suppressed count recovered, and every derived count in 1..k-1 recovered; then
    (cell, (lowest, highest)) for every count pinned inside 1..k-1 (`_narrowed`)."""
    s, found = relations(public), recover(public)
    out = [(cell, value) for cell, value in found.items()
           if cell in s.unknown or (cell in s.derived and 0 < value < k_of[cell[1]])]
    return sorted(out, key=str) + _narrowed(_bounds(s, found, k_of), k_of)


def _contribution(a, cell, value, low, high) -> tuple[float, float]:
    """The interval of a * cell."""
    if cell in value:
        return a * value[cell], a * value[cell]
    return (a * low[cell], a * high[cell]) if a > 0 else (a * high[cell], a * low[cell])


def _bounds(s: System, found: dict, k_of: dict[str, int]) -> dict:
    """Cell -> (lowest, highest) value the attacker can tell it lies between, for every hidden or derived cell:
    from the order of a variable's listed values (by count, largest first; each seen k times or more) and a
    composite key's distinct values (at least any of its columns'), then through every relation (interval
    arithmetic until nothing narrows)."""
    value = {**s.known, **found}
    low, high = defaultdict(int), defaultdict(lambda: math.inf)
    for cell in s.unknown - set(value):
        low[cell] = 1  # a zero is never hidden
    for cells in s.order:
        for i, cell in enumerate(cells):
            if cell not in value:
                low[cell] = max([k_of[cell[1]], *(value[c] for c in cells[i + 1:] if c in value)])
                high[cell] = min([math.inf, *(value[c] for c in cells[:i] if c in value)])
    for cell, floor in s.floors:
        if cell not in value:
            low[cell] = max(low[cell], floor)
    equations = [e for e in s.equations if any(c not in value for c in e)
                 and all(c in value or c in s.unknown or c in s.derived for c in e)]
    for _ in range(100):
        changed = False
        for equation in equations:  # sum(a * cell) = 0
            terms = [(cell, a, *_contribution(a, cell, value, low, high)) for cell, a in equation.items() if a]
            lows, highs = [t[2] for t in terms], [t[3] for t in terms]
            finite_low = sum(x for x in lows if x != -math.inf)
            finite_high = sum(x for x in highs if x != math.inf)
            minus, plus = lows.count(-math.inf), highs.count(math.inf)
            for cell, a, own_low, own_high in terms:
                if cell in value:
                    continue
                others_low = -math.inf if minus - (own_low == -math.inf) else \
                    finite_low - (own_low if own_low != -math.inf else 0)
                others_high = math.inf if plus - (own_high == math.inf) else \
                    finite_high - (own_high if own_high != math.inf else 0)
                new = sorted((-others_high / a, -others_low / a))  # a * cell = -others
                if math.isfinite(new[0]) and new[0] > low[cell] + 1e-9:
                    low[cell], changed = math.ceil(new[0] - 1e-9), True
                if math.isfinite(new[1]) and new[1] < high[cell] - 1e-9:
                    high[cell], changed = math.floor(new[1] + 1e-9), True
        if not changed:
            break
    return {cell: (low[cell], high[cell]) for cell in s.unknown | s.derived if cell not in value}


def _narrowed(bounded: dict, k_of: dict[str, int]) -> list[tuple]:
    """(cell, bounds) for every hidden or derived count the attacker pins inside 1..k-1 to fewer than half its
    values (5 of 1..10 for k = 11): a hidden count is known to be below k (or hidden to protect another), not
    much more."""
    out = []
    for cell, (lowest, highest) in bounded.items():
        k = k_of[cell[1]]
        if lowest >= 1 and highest <= k - 1 and highest - lowest + 1 < math.ceil((k - 1) / 2):
            out.append((cell, (lowest, highest)))
    return sorted(out, key=str)


def read(catalogue: Path) -> dict[str, list[dict]]:
    """Every table of a published catalogue.duckdb."""
    with duckdb.connect(str(catalogue), read_only=True) as conn:
        out = {}
        for (table,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall():
            cursor = conn.execute(f'SELECT * FROM "{table}"')
            names = [d[0] for d in cursor.description]
            out[table] = [dict(zip(names, row)) for row in cursor.fetchall()]
    return out
