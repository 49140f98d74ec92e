"""A table's variables as catalogue rows: `variables`, `value_frequencies` (the top values, then `(other)` and
missing, adding up to the rows) and `histograms`, exact and private."""
from __future__ import annotations

import datetime as dt

from hdh_pipeline.engines.base import ColumnStatistics
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import OTHER, QUASI_ROLES

TOP_VALUES = 20


def text(value: object) -> str | None:
    """A value as the catalogue writes it (dates in ISO, numbers with 6 significant digits)."""
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def variable_row(source: Source, table: SourceTable, p: ColumnStatistics, role: str | None,
                 relations: list[dict]) -> dict:
    spec = table.spec.column(p.name) if table.spec else None
    nomenclature = next((r for r in relations if r["columns"] == p.name and r["kind"] == "nomenclature"), None)
    identifier = role == "person_id" or p.looks_like_identifier
    quasi = (role in QUASI_ROLES or p.kind == "date") and not identifier
    q = p.quantiles
    return {
        "source_id": source.id, "table_name": table.name, "variable": p.name, "position": p.position,
        "description": spec.description if spec else None,
        "declared_type": (spec.type + ("" if spec.format == "default" else f" ({spec.format})")) if spec else None,
        "declared_length": spec.length if spec else None,
        "management_rule": (spec.management_rule or None) if spec else None,
        "dictionary_format": spec.snds_format if spec else None,
        "created": (spec.history.created or None) if spec else None,
        "deleted": (spec.history.deleted or None) if spec else None,
        "missing_dates": "; ".join(spec.history.missing) or None if spec else None,
        "observed_type": p.type, "role": role,
        "nomenclature": spec.nomenclature.table if spec and spec.nomenclature else None,
        "nomenclature_conformance_pct": nomenclature["match_pct"] if nomenclature else None,
        "count": p.non_null, "missing_count": p.missing,
        "completeness_pct": round(100.0 * p.non_null / p.rows, 2) if p.rows else None,
        "distinct_count": p.distinct, "distinct_exact": p.distinct_exact,
        "mean": p.mean, "std": p.std,
        "min": text(p.min), "p01": text(q.get(0.01)), "q1": text(q.get(0.25)), "median": text(q.get(0.5)),
        "q3": text(q.get(0.75)), "p99": text(q.get(0.99)), "max": text(p.max),
        "bounds_coarsened": False, "zeros": p.zeros, "negatives": p.negatives,
        "min_length": p.min_length, "max_length": p.max_length,
        "mean_length": round(p.mean_length, 2) if p.mean_length is not None else None,
        "is_constant": p.distinct == 1, "is_unique": p.non_null > 0 and p.distinct_exact and p.distinct == p.non_null,
        "is_mostly_missing": p.rows > 0 and p.missing > p.rows / 2,
        "is_identifier": identifier, "is_quasi_identifier": quasi, "after_reference": None,
        "k_smallest": text(p.smallest[-1]) if p.smallest else None,
        "k_largest": text(p.largest[-1]) if p.largest else None,
    }


def _ranked(p: ColumnStatistics) -> list[tuple[object, int]]:
    return sorted(p.frequencies.items(), key=lambda item: (-item[1], str(item[0])))


def top_values(p: ColumnStatistics) -> list[str]:
    """The values `frequency_rows` lists, as text."""
    return [text(v) for v, _ in _ranked(p)[:TOP_VALUES]]


def frequency_rows(source: Source, table: SourceTable, p: ColumnStatistics, labels: dict[str, str]) -> list[dict]:
    """Top values, then one `(other)` row and one missing row: together they add up to the rows."""
    ranked = _ranked(p)
    top, rest = ranked[:TOP_VALUES], ranked[TOP_VALUES:]
    base = {"source_id": source.id, "table_name": table.name, "variable": p.name}
    rows = [base | {"rank": i, "value": text(v), "label": labels.get(text(v)), "frequency": n}
            for i, (v, n) in enumerate(top, start=1)]
    rows.append(base | {"rank": len(top) + 1, "value": OTHER, "label": None, "frequency": sum(n for _, n in rest)})
    rows.append(base | {"rank": len(top) + 2, "value": None, "label": "missing", "frequency": p.missing})
    for row in rows:
        row["share_pct"] = round(100.0 * row["frequency"] / p.rows, 2) if p.rows else None
    return rows


def histogram_rows(source: Source, table: SourceTable, p: ColumnStatistics) -> list[dict]:
    base = {"source_id": source.id, "table_name": table.name, "variable": p.name}
    return [base | {"bin": i, "label": b.label, "lower": b.lower, "upper": b.upper, "frequency": b.count}
            for i, b in enumerate(p.bins)]
