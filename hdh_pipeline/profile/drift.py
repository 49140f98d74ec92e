"""What moved between two refreshes of a source, from their exact profiles (catalogue rows).

Structure: tables and columns added or removed, observed types changed. Size and content, beyond the source's
tolerances: row count (relative change), completeness (absolute change of the share of non-missing values), and a
variable's distribution (total variation distance: half the sum of absolute differences of the two refreshes'
shares, over the values listed in both plus the rest, or over the union of their histogram bins). A change
breaks the dictionary when the data no longer matches what the dictionary declares: a declared table or column
gone, or a column it does not declare appearing in a table it describes.
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass

from hdh_pipeline.sources.declaration import Tolerances
from hdh_pipeline.vocabulary import OTHER

WITH_DATA = ("loaded", "empty")
COMPARED = ("tables", "variables", "value_frequencies", "histograms")  # the profile tables compare() reads
REST = ("rest",)


@dataclass(frozen=True)
class Change:
    table_name: str
    variable: str | None
    change: str  # e.g. "column removed", "distribution shifted"
    measure: str | None  # what was measured, and the tolerance it passed
    before: object
    after: object
    breaks_dictionary: bool = False

    def row(self, source_id: str) -> dict:
        """A row of the catalogue table `changes` (before and after as text: internal columns)."""
        text = {k: None if v is None else str(v) for k, v in (("before", self.before), ("after", self.after))}
        return {"source_id": source_id, **asdict(self), **text}


def _by(rows: list[dict], *keys: str) -> dict[tuple, dict]:
    return {tuple(r[k] for k in keys): r for r in rows}


def total_variation(before: dict[object, float], after: dict[object, float]) -> float:
    return sum(abs(before.get(v, 0.0) - after.get(v, 0.0)) for v in before.keys() | after.keys()) / 2


def _value_shares(frequencies: list[dict], count: int | None) -> dict[object, float]:
    """Share of each listed value among the variable's non-missing values (the `(other)` and missing rows left out)."""
    return {r["value"]: (r["frequency"] or 0) / count for r in frequencies
            if r["value"] is not None and not (r["value"] == OTHER and r["label"] is None)} if count else {}


def value_distance(before: dict[object, float], after: dict[object, float]) -> float:
    """Total variation distance over the values listed in both refreshes, every other value in one `rest` (a
    value listed in one refresh only is in the other's rest: it cannot count as absent)."""
    common = before.keys() & after.keys()
    a = {v: before[v] for v in common} | {REST: max(0.0, 1 - sum(before[v] for v in common))}
    b = {v: after[v] for v in common} | {REST: max(0.0, 1 - sum(after[v] for v in common))}
    return total_variation(a, b)


def _edge(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return float(dt.datetime.fromisoformat(text).timestamp())


def _masses(bins: list[dict], count: int | None, edges: list[float]) -> dict[object, float]:
    """A histogram's shares spread over the segments between `edges`, uniformly within each bin; the open bins
    at the ends (the few extreme values) keep their own keys."""
    masses: dict[object, float] = defaultdict(float)
    for b in bins:
        share, low, high = (b["frequency"] or 0) / count, _edge(b["lower"]), _edge(b["upper"])
        if low is None or high is None or high <= low:
            masses[(b["lower"], b["upper"])] += share
            continue
        for left, right in zip(edges, edges[1:]):
            overlap = min(high, right) - max(low, left)
            if overlap > 0:
                masses[left] += share * overlap / (high - low)
    return masses


def histogram_distance(before: list[dict], after: list[dict], count_before: int, count_after: int) -> float:
    """Total variation distance between two histograms, over the union of their bin edges (their bins move with
    the data's bounds from one refresh to the next)."""
    edges = sorted({e for b in before + after for e in (_edge(b["lower"]), _edge(b["upper"])) if e is not None})
    return total_variation(_masses(before, count_before, edges), _masses(after, count_after, edges))


def _grouped(rows: list[dict]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        out[(r["table_name"], r["variable"])].append(r)
    return out


def compare(before: dict[str, list[dict]], after: dict[str, list[dict]], limits: Tolerances) -> list[Change]:
    """The changes from one refresh's profile rows to the next's (no previous refresh: none)."""
    if not before.get("tables"):
        return []
    changes: list[Change] = []
    old_tables = {k: t for k, t in _by(before["tables"], "table_name").items() if t["status"] in WITH_DATA}
    new_tables = {k: t for k, t in _by(after["tables"], "table_name").items() if t["status"] in WITH_DATA}
    for (name,), table in new_tables.items():
        if (name,) not in old_tables:
            changes.append(Change(name, None, "table added", None, None, table["row_count"]))
    for (name,), table in old_tables.items():
        if (name,) not in new_tables:
            declared = any(t["table_name"] == name and t["status"] == "no data" for t in after["tables"])
            changes.append(Change(name, None, "table removed", None, table["row_count"], None, declared))
            continue
        rows_before, rows_after = table["row_count"], new_tables[(name,)]["row_count"]
        if rows_before and abs(rows_after - rows_before) / rows_before > limits.row_change:
            changes.append(Change(name, None, "row count changed",
                                  f"relative change in rows > {limits.row_change:g}", rows_before, rows_after))

    old_vars = {k: v for k, v in _by(before["variables"], "table_name", "variable").items() if (k[0],) in new_tables}
    new_vars = {k: v for k, v in _by(after["variables"], "table_name", "variable").items() if (k[0],) in old_tables}
    for key, var in new_vars.items():
        if key not in old_vars:
            undeclared = var["declared_type"] is None and any(
                v["declared_type"] is not None for k, v in new_vars.items() if k[0] == key[0])
            changes.append(Change(*key, "column added", None, None, var["observed_type"], undeclared))
    for key, var in old_vars.items():
        if key not in new_vars:
            changes.append(Change(*key, "column removed", None, var["observed_type"], None,
                                  var["declared_type"] is not None))
    old_freq, new_freq = _grouped(before.get("value_frequencies", [])), _grouped(after.get("value_frequencies", []))
    old_bins, new_bins = _grouped(before.get("histograms", [])), _grouped(after.get("histograms", []))
    for key in old_vars.keys() & new_vars.keys():
        old, new = old_vars[key], new_vars[key]
        if old["observed_type"] != new["observed_type"]:
            changes.append(Change(*key, "type changed", None, old["observed_type"], new["observed_type"]))
        if old["completeness_pct"] is not None and new["completeness_pct"] is not None and abs(
                new["completeness_pct"] - old["completeness_pct"]) / 100 > limits.completeness_change:
            changes.append(Change(*key, "completeness changed",
                                  f"absolute change in completeness > {limits.completeness_change:g}",
                                  old["completeness_pct"], new["completeness_pct"]))
        if not old["count"] or not new["count"]:
            continue
        if key in old_bins and key in new_bins:
            distance = histogram_distance(old_bins[key], new_bins[key], old["count"], new["count"])
            over = "histogram bins"
        elif key in old_freq and key in new_freq:
            distance = value_distance(_value_shares(old_freq[key], old["count"]),
                                      _value_shares(new_freq[key], new["count"]))
            over = "values listed in both and the rest"
        else:
            continue
        if distance > limits.distribution_shift:
            changes.append(Change(*key, "distribution shifted",
                                  f"total variation distance over {over} > {limits.distribution_shift:g}",
                                  None, round(distance, 4)))
    return changes
