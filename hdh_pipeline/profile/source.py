"""Profile a whole source: the catalogue's rows for it, exact and private, from the aggregates its engine computes.

The rows have the columns of `schema.py` (with raw, unsuppressed values) plus the internal ones of
`store.INTERNAL`, which disclosure control needs and never publishes.
"""
from __future__ import annotations

import datetime as dt
import time
from contextlib import closing
from dataclasses import dataclass, field

import pyarrow as pa

from hdh_pipeline import words
from hdh_pipeline.engines.base import Engine, TableStatistics
from hdh_pipeline.profile.codes import CodeLists
from hdh_pipeline.profile.documentation import documentation
from hdh_pipeline.profile.population import population
from hdh_pipeline.profile.relations import relations
from hdh_pipeline.profile.tables import as_date, coverage, event_columns, table_row, unloaded_row
from hdh_pipeline.profile.variables import TOP_VALUES, frequency_rows, histogram_rows, top_values, variable_row
from hdh_pipeline.schema import CODES, arrow_table
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import reference_date


@dataclass
class SourceProfile:
    """Rows per catalogue table, for one source (the code lists: an Arrow table)."""

    rows: dict[str, list[dict] | pa.Table] = field(default_factory=lambda: {
        "databases": [], "tables": [], "variables": [], "value_frequencies": [], "histograms": [], "relations": [],
        "population": [], CODES: arrow_table(CODES, [])})


@dataclass
class _Dated:
    """A profiled table waiting for the reference date: its time coverage depends on it."""

    row: dict
    statistics: TableStatistics
    roles: dict[str, str]
    variables: dict[str, dict]


def _profiled(source: Source, table: SourceTable, statistics: TableStatistics, codes: CodeLists,
              engine: Engine, result: SourceProfile) -> _Dated:
    """Add a profiled table's rows (relations, table, variables, frequencies, histograms) to `result`."""
    roles = table.roles.by_column()
    columns = {c.name: c for c in statistics.columns}
    found = relations(engine, source, table, columns, codes)
    result.rows["relations"] += found
    row = table_row(source, table.name, table.spec, table.title, table.description, statistics, roles)
    result.rows["tables"].append(row)
    variables = {}
    for c in statistics.columns:
        variable = variables[c.name] = variable_row(source, table, c, roles.get(c.name), found)
        result.rows["variables"].append(variable)
        if variable["is_identifier"]:
            continue
        categorical = c.kind in ("text", "boolean") or c.distinct <= TOP_VALUES or variable["nomenclature"]
        if categorical and c.frequencies is not None:
            spec = table.spec.column(c.name) if table.spec else None
            ref = spec.nomenclature if spec else None
            labels = codes.labels(ref.table, ref.column) if ref and ref.table in codes else \
                codes.table_labels(ref.table, ref.column, top_values(c)) if ref else {}
            result.rows["value_frequencies"] += frequency_rows(source, table, c, labels)
        elif c.bins is not None:
            result.rows["histograms"] += histogram_rows(source, table, c)
    return _Dated(row, statistics, roles, variables)


def _database_row(source: Source, tables: list[dict], variables: int, reference: dt.date, population_fields: dict,
                  after_reference: int, k: int, started: float) -> dict:
    d = source.declaration
    first = min((t["first_date"] for t in tables if t["first_date"]), default=None)
    last = max((t["last_date"] for t in tables if t["last_date"]), default=None)
    return {
        "source_id": source.id, "title": d.title, "description": d.description, "producer": d.producer.name,
        "producer_url": d.producer.url, "contact": " ".join(filter(None, [d.contact.name, d.contact.email])) or None,
        "licence": d.licence, "access": d.access.conditions or None,
        "access_procedure_url": d.access.procedure_url, "access_delay": d.access.delay or None,
        "access_contact": d.access.contact or None, "update_frequency": d.update_frequency,
        "update_frequency_text": words.schedule(d.update_frequency, d.language),
        "table_count": len(tables), "variable_count": variables,
        "total_rows": sum(t["row_count"] or 0 for t in tables),
        **population_fields, "reference_date": reference,
        "first_date": first, "last_date": last, "events_after_reference": after_reference,
        "time_depth_years": round((last - first).days / 365.25, 1) if first and last else None,
        "quality_checks_passed_pct": None, "disclosure_k": k, "language": d.language,
        "last_refresh": dt.datetime.now(dt.UTC).replace(tzinfo=None),
        "raw_first_date": min((t["raw_first_date"] for t in tables if t["raw_first_date"]), default=None),
        "raw_last_date": max((t["raw_last_date"] for t in tables if t["raw_last_date"]), default=None),
        "profiling_seconds": round(time.perf_counter() - started, 3),
    }


def profile_source(engine: Engine, source: Source, k: int) -> SourceProfile:
    """Every table of the source the engine can read: variables, frequencies, histograms, relations, tables,
    population, code lists, database."""
    started = time.perf_counter()
    result = SourceProfile()
    loaded = engine.tables()
    codes = CodeLists(engine, source)
    requests = [(t.name, set(t.roles.person_id), _complete_key(t, loaded[t.name]))
                for t in source.tables if t.name in loaded]
    dated = []
    with closing(engine.statistics(requests, k)) as profiled:
        for table in source.tables:
            if table.name not in loaded:
                result.rows["tables"].append(unloaded_row(source, table.spec, table.name, "not loaded", table.title,
                                                          table.description))
                continue
            dated.append(_profiled(source, table, next(profiled), codes, engine, result))
    for spec in source.without_data:
        result.rows["tables"].append(unloaded_row(source, spec, spec.name, "no data", spec.title, spec.description))
    tables = result.rows["tables"]
    reference = reference_date(source.declaration.reference_date,
                               max((t["raw_last_date"] for t in tables if t["raw_last_date"]), default=None))
    after_reference = 0
    for table in dated:
        events = event_columns(table.statistics.columns, table.roles)
        late = [c.name for c in events if c.max is not None and as_date(c.max) > reference]
        up_to = engine.dates_up_to(table.row["table_name"], late, reference, k)
        table.row["first_date"], table.row["last_date"], after = coverage(events, up_to, reference, k)
        for name, count in after.items():
            table.variables[name]["after_reference"] = count
            after_reference += count
    population_fields, result.rows["population"] = population(engine, source, reference, k)
    result.rows[CODES] = codes.published()
    result.rows["databases"].append(_database_row(source, tables, len(result.rows["variables"]), reference,
                                                  population_fields, after_reference, k, started))
    listed = result.rows[CODES]
    result.rows["databases"][0]["documentation_pct"] = documentation(
        source.declaration, tables, result.rows["variables"],
        zip(listed["nomenclature"].to_pylist(), listed["label"].to_pylist())).pct
    return result


def _complete_key(table: SourceTable, columns: dict[str, str]) -> tuple[str, ...]:
    """The table's declared primary key when every column of it is loaded (else none: no duplicates counted)."""
    key = table.spec.primary_key if table.spec else ()
    return key if key and set(key) <= set(columns) else ()
