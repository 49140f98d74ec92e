"""A table as a catalogue row (`tables`), profiled or not, and its time coverage."""
from __future__ import annotations

import datetime as dt

from hdh_pipeline.engines.base import ColumnStatistics, DatedColumn, TableStatistics
from hdh_pipeline.sources.dictionary import TableSpec
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import EVENT_ROLES


def as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def event_columns(columns: list[ColumnStatistics], roles: dict[str, str]) -> list[ColumnStatistics]:
    """The table's date columns with an event role: its time coverage."""
    return [c for c in columns if roles.get(c.name) in EVENT_ROLES and c.kind == "date"]


def _history(spec: TableSpec | None) -> dict:
    history = spec.history if spec else None
    return {"created": history.created or None if history else None,
            "deleted": history.deleted or None if history else None,
            "missing_dates": "; ".join(history.missing) or None if history else None}


def _join_keys(spec: TableSpec | None) -> str | None:
    return "; ".join(f"{', '.join(fk.columns)} -> {fk.table}({', '.join(fk.referenced_columns)})"
                     for fk in (spec.foreign_keys if spec else ())) or None


def table_row(source: Source, name: str, spec: TableSpec | None, title: str, description: str,
              statistics: TableStatistics, roles: dict[str, str]) -> dict:
    """A profiled table (its time coverage is set once the reference date is known: `coverage`)."""
    dated = event_columns(statistics.columns, roles)
    return {
        "source_id": source.id, "table_name": name, "title": title or None, "description": description or None,
        "product": spec.product if spec else None, "status": "loaded" if statistics.rows else "empty",
        "row_count": statistics.rows, "rejected_rows": statistics.rejected_lines,
        "column_count": len(statistics.columns),
        "primary_key": ", ".join(spec.primary_key) if spec and spec.primary_key else None,
        "primary_key_unique": None if statistics.duplicate_keys is None else statistics.duplicate_keys == 0,
        "duplicate_key_rows": statistics.duplicate_keys, "join_keys": _join_keys(spec),
        "first_date": None, "last_date": None, **_history(spec),
        "completeness_pct": None,  # computed from the published variables
        "raw_first_date": min((as_date(c.min) for c in dated if c.min is not None), default=None),
        "raw_last_date": max((as_date(c.max) for c in dated if c.max is not None), default=None),
    }


def unloaded_row(source: Source, spec: TableSpec | None, name: str, status: str, title: str,
                 description: str) -> dict:
    """A table without rows to profile: described (from the dictionary), its status says why."""
    return {"source_id": source.id, "table_name": name, "title": title or None, "description": description or None,
            "product": spec.product if spec else None, "status": status, "row_count": None, "rejected_rows": None,
            "column_count": len(spec.columns) if spec else None,
            "primary_key": ", ".join(spec.primary_key) if spec and spec.primary_key else None,
            "primary_key_unique": None, "duplicate_key_rows": None, "join_keys": _join_keys(spec),
            "first_date": None, "last_date": None, "completeness_pct": None, "raw_first_date": None,
            "raw_last_date": None, **_history(spec)}


def coverage(dated: list[ColumnStatistics], up_to: dict[str, DatedColumn], reference: dt.date, k: int
             ) -> tuple[dt.date | None, dt.date | None, dict[str, int]]:
    """A table's time coverage: the k-th earliest and latest event dates up to `reference`, over event columns
    with at least 2k such dates (with fewer, the k-th earliest would come after the k-th latest); and, per event
    column, its dates after `reference` (implausible, left out). `up_to`: the columns with dates after
    `reference`, counted up to it by the engine."""
    bounds = {c.name: up_to.get(c.name, DatedColumn(c.non_null, c.smallest, c.largest)) for c in dated}
    events = [b for b in bounds.values() if b.count >= 2 * k]
    return (min((as_date(b.smallest[-1]) for b in events), default=None),
            max((as_date(b.largest[-1]) for b in events), default=None),
            {c.name: c.non_null - bounds[c.name].count for c in dated})
