"""A table's statistics (engines/base.py's definitions), computed by DuckDB in two scans.

Scan 1 computes, for every column at once: counts, nulls, bounds, the k smallest and k
largest values, mean, standard deviation, zeros, negatives, lengths, an approximate
distinct count and quantiles. Scan 2 computes, again for all columns at once,
the exact frequency of every value of columns with few distinct values, and histogram
bins of numeric and date columns between bounds found by scan 1.

How a scan runs depends on the table's length. A long table is read once with every
column's aggregates in one SELECT. DuckDB's cost of a SELECT grows faster than its number of
aggregates (a 157-column table of 10 rows takes 1.5 s that way), so a short table
(LONG_FORM_MAX_ROWS rows or fewer) is unpivoted instead: one query per column type, whose
aggregates are written once and grouped by column name. Both forms compute the same values.

Exact: counts, nulls, min, max, k-th smallest/largest, mean, std, zeros, negatives,
lengths, frequencies, histogram bins, distinct counts (an estimate, HyperLogLog, only chooses
between frequencies and a distinct count), quantiles of columns with up to QUANTILE_SAMPLE values.
Approximate: quantiles of longer columns, from a uniform sample of QUANTILE_SAMPLE values
(DuckDB's `reservoir_quantile`: a tenth of the cost of its t-digest `approx_quantile`, which
took 60 % of a 10M-row scan).
"""
from __future__ import annotations

import datetime as dt

import duckdb

from hdh_pipeline.engines.base import (
    CATEGORICAL_MAX,
    QUANTILE_SAMPLE,
    QUANTILES,
    ColumnStatistics,
    bin_edges,
    bins,
    moments,
)
from hdh_pipeline.engines.duckdb.warehouse import quote, table_columns
from hdh_pipeline.vocabulary import kind_of, looks_like_identifier, may_identify

LONG_FORM_MAX_ROWS = 100_000
EPOCH = dt.datetime(1970, 1, 1)


def identifier_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: dict[str, str],
                       rows: int) -> set[str]:
    """The columns of a table of `rows` rows and these `columns` (name -> DuckDB type) that look like
    identifiers (approximate distinct counts, one scan)."""
    target = f"{quote(schema)}.{quote(table)}"
    wanted = {name: (duck_type, ["count({c})", "approx_count_distinct({c})"]) for name, duck_type in columns.items()
              if may_identify(duck_type)}
    counts = _aggregate(conn, target, wanted, long_form=0 < rows <= LONG_FORM_MAX_ROWS)
    return {name for name, (non_null, distinct) in counts.items()
            if looks_like_identifier(columns[name], non_null, min(distinct, non_null))}


def _scan_one(kind: str, k: int) -> list[str]:
    """Scan 1's aggregates of one column, `{c}` standing for the column."""
    parts = ["count({c})", "approx_count_distinct({c})"]
    if kind in ("numeric", "date"):
        value = "epoch({c})" if kind == "date" else "CAST({c} AS DOUBLE)"  # dates as seconds since 1970
        parts += ["min({c})", "max({c})", f"min({{c}}, {k})", f"max({{c}}, {k})",
                  f"reservoir_quantile({value}, {list(QUANTILES)}, {QUANTILE_SAMPLE})"]
    if kind == "numeric":
        parts += ["avg({c})", "stddev_samp({c})", "count(*) FILTER (WHERE {c} = 0)", "count(*) FILTER (WHERE {c} < 0)"]
    elif kind == "text":
        text = "CAST({c} AS VARCHAR)"  # a no-op for text; other types profiled as text (TIME, UUID) by their text
        parts += ["min({c})", "max({c})", f"min({{c}}, {k})", f"max({{c}}, {k})", f"min(length({text}))",
                  f"max(length({text}))", f"avg(length({text}))"]
    elif kind == "boolean":
        parts += ["count(*) FILTER (WHERE {c})"]
    return parts


def _aggregate(conn: duckdb.DuckDBPyConnection, target: str, wanted: dict[str, tuple[str, list[str]]],
               long_form: bool) -> dict[str, list]:
    """Column -> the values of its aggregates. `wanted` maps a column to its DuckDB type and its
    aggregates, written with `{c}` for the column."""
    if not wanted:
        return {}
    if not long_form:
        names, parts = [], []
        for name, (_, templates) in wanted.items():
            names += [name] * len(templates)
            parts += [t.format(c=quote(name)) for t in templates]
        out: dict[str, list] = {name: [] for name in wanted}
        for name, value in zip(names, conn.execute(f"SELECT {', '.join(parts)} FROM {target}").fetchone()):
            out[name].append(value)
        return out
    groups: dict[tuple, list[str]] = {}
    for name, (duck_type, templates) in wanted.items():
        groups.setdefault((duck_type, tuple(templates)), []).append(name)
    out = {}
    for (_, templates), names in groups.items():
        aggregates = ", ".join(t.format(c="hdh_value") for t in templates)
        columns = ", ".join(quote(n) for n in names)
        for name, *values in conn.execute(
                f"SELECT hdh_column, {aggregates} FROM {target} UNPIVOT INCLUDE NULLS "
                f"(hdh_value FOR hdh_column IN ({columns})) GROUP BY hdh_column").fetchall():
            out[name] = values
    return out


def _read_scan_one(profile: ColumnStatistics, values: list) -> None:
    profile.non_null, profile.distinct = values[0], values[1]
    rest = values[2:]
    if profile.kind in ("numeric", "date"):
        profile.min, profile.max, profile.smallest, profile.largest, quantiles = rest[:5]
        if profile.kind == "date" and quantiles:
            moments = [EPOCH + dt.timedelta(seconds=s) for s in quantiles]
            quantiles = [m.date() for m in moments] if profile.type.upper() == "DATE" else moments
        profile.quantiles = dict(zip(QUANTILES, quantiles or [None] * len(QUANTILES)))
        rest = rest[5:]
    if profile.kind == "numeric":
        profile.mean, profile.std, profile.zeros, profile.negatives = rest
    elif profile.kind == "text":
        (profile.min, profile.max, profile.smallest, profile.largest, profile.min_length, profile.max_length,
         profile.mean_length) = rest
    elif profile.kind == "boolean":
        profile.true_count = rest[0]


def _literal(value: object) -> str:
    if isinstance(value, dt.datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return repr(float(value))


def _bin_expression(c: str, edges: list, closed: bool) -> str:
    """SQL giving each value of the column expression `c` its bin: -1 below the first edge, len(edges)-1 at
    or above the last (or, when `closed`, above it: the last edge is then the k-th largest value, inside
    the last bin)."""
    last = len(edges) - 1
    # whole years and whole numbers: the bin is a difference (a 20-branch CASE costs more per row)
    if not closed and all(isinstance(e, dt.date) and (e.month, e.day) == (1, 1) for e in edges):
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE least(greatest(year({c}) - {edges[0].year}, -1), {last}) END"
    if not closed and all(isinstance(e, int) for e in edges):
        return f"CASE WHEN {c} IS NULL THEN NULL ELSE least(greatest({c} - {edges[0]}, -1), {last}) END"
    cases = " ".join(f"WHEN {c} < {_literal(edge)} THEN {i - 1}" for i, edge in enumerate(edges))
    closing = f"WHEN {c} = {_literal(edges[-1])} THEN {last - 1} " if closed else ""
    return f"CASE WHEN {c} IS NULL THEN NULL {cases} {closing}ELSE {last} END"


def profile_table(conn: duckdb.DuckDBPyConnection, schema: str, table: str, k: int,
                  no_values: set[str] = frozenset(), columns: dict[str, str] | None = None
                  ) -> tuple[int, list[ColumnStatistics]]:
    """(row count, a profile per column). Columns in `no_values`, and columns that look like identifiers,
    get no frequencies or bins. `columns` (name -> DuckDB type) saves looking them up."""
    target = f"{quote(schema)}.{quote(table)}"
    columns = columns if columns is not None else table_columns(conn, schema, table)
    rows = conn.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    long_form = 0 < rows <= LONG_FORM_MAX_ROWS
    first = _aggregate(conn, target, {name: (duck_type, _scan_one(kind_of(duck_type), k))
                                      for name, duck_type in columns.items()}, long_form)
    profiles = []
    for position, (name, duck_type) in enumerate(columns.items(), start=1):
        profile = ColumnStatistics(name, position, duck_type, kind_of(duck_type), rows, 0)
        _read_scan_one(profile, first[name])
        profiles.append(profile)

    frequencies, binned, distinct = {}, {}, {}
    for profile in profiles:
        if profile.non_null == 0:
            continue
        valued = profile.name not in no_values and not profile.looks_like_identifier
        if valued and profile.distinct <= CATEGORICAL_MAX and profile.kind != "date":
            frequencies[profile.name] = (profile.type, ["histogram({c})"])
        else:  # the estimate only chose the way: every distinct count is exact
            distinct[profile.name] = (profile.type, ["count(DISTINCT {c})"])
        if valued and profile.kind in ("numeric", "date") and (binning := bin_edges(profile)):
            binned[profile.name] = (profile.type, [f"histogram({_bin_expression('{c}', *binning)})"])
    by_name = {p.name: p for p in profiles}
    for profile in profiles:  # an estimate never says more distinct values than values
        profile.distinct = min(profile.distinct, profile.non_null)
    for name, (value,) in _aggregate(conn, target, frequencies, long_form).items():
        profile = by_name[name]
        profile.frequencies = {v: n for v, n in (value or {}).items() if v is not None}
        profile.distinct, profile.distinct_exact = len(profile.frequencies), True
        if profile.kind == "numeric":
            profile.mean, profile.std = moments(profile.frequencies)
    for name, (value,) in _aggregate(conn, target, distinct, long_form).items():
        by_name[name].distinct, by_name[name].distinct_exact = value, True
    # each column has its own bin edges: one aggregate per column, in the wide form
    for name, (value,) in _aggregate(conn, target, binned, long_form=False).items():
        profile = by_name[name]
        profile.bins = bins(bin_edges(profile)[0], dict(value or {}), profile.kind)
    return rows, profiles
