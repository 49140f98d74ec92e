"""A table's statistics (engines/base.py's definitions) computed by Spark, only aggregates coming back.

A short table (LONG_FORM_MAX_ROWS rows or fewer) is counted value by value with the source's other short tables
(counts.py), and every statistic derived from the counts (`from_counts`). A long table:
- one aggregation: rows, and per column its values, mean, sample standard deviation, zeros, negatives, bounds,
  lengths, true values and an estimate of its distinct values;
- the exact count of every value of the columns estimated at CATEGORICAL_MAX values or fewer, in one query: from
  these the driver derives, as DuckDB does, exact distinct values, frequencies, the k smallest and largest values,
  quantiles and histogram bins (bounded: CATEGORICAL_MAX counts a column);
- each other column: its exact distinct count, its k smallest and largest values (Spark's top-k), quantiles (exact
  `percentile_disc` up to QUANTILE_SAMPLE values, else `percentile_approx`, as DuckDB samples beyond them); their
  bins counted in one aggregation.
Values are compared as Spark compares them; text as UTF-8 bytes, as DuckDB does.
"""
from __future__ import annotations

import datetime as dt
import math

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from hdh_pipeline.engines.base import (
    CATEGORICAL_MAX,
    QUANTILE_SAMPLE,
    QUANTILES,
    ColumnStatistics,
    bin_edges,
    bin_index,
    bins,
    lower_quantile,
    moments,
)
from hdh_pipeline.engines.spark.counts import Counted, typed
from hdh_pipeline.vocabulary import kind_of

LONG_FORM_MAX_ROWS = 100_000  # as the DuckDB engine's; tables this short are counted value by value (counts.py)


def from_counts(table: str, columns: dict[str, str], spark_types: dict[str, str], counted: Counted, k: int,
                no_values: set[str]) -> list[ColumnStatistics]:
    """A short table's column statistics, every one from the exact value counts."""
    out = []
    for position, (name, type_) in enumerate(columns.items(), start=1):
        column = ColumnStatistics(name, position, type_, kind_of(type_), counted.rows, 0)
        counts = counted.values(name, spark_types[name])
        column.non_null = sum(n for _, n in counts)
        if counts:
            column.min, column.max = counts[0][0], counts[-1][0]
            if column.kind == "numeric":
                column.mean, column.std = moments(dict(counts))
                column.zeros = sum(n for v, n in counts if v == 0)
                column.negatives = sum(n for v, n in counts if v < 0)
            elif column.kind == "text":
                lengths = [(len(v), n) for v, n in counts]
                column.min_length, column.max_length = min(lengths)[0], max(lengths)[0]
                column.mean_length = math.fsum(length * n for length, n in lengths) / column.non_null
            elif column.kind == "boolean":
                column.true_count = sum(n for v, n in counts if v)
            _from_counts(column, counts, k, no_values)
        elif column.kind == "numeric":
            column.zeros = column.negatives = 0
        elif column.kind == "boolean":
            column.true_count = 0
        out.append(column)
    return out


def profile_frame(frame: DataFrame, columns: dict[str, str], k: int, no_values: set[str]
                  ) -> tuple[int, list[ColumnStatistics]]:
    """(rows, a ColumnStatistics per column) of a long table's frame whose columns have these types: one
    aggregation, the value counts of the columns with few values, and each other column on its own."""
    rows, first = _first_pass(frame, columns)
    stats = []
    for position, (name, type_) in enumerate(columns.items(), start=1):
        column = ColumnStatistics(name, position, type_, kind_of(type_), rows, 0)
        _read_first(column, first, position - 1)
        stats.append(column)
    counted = [c for c in stats if c.non_null and c.distinct <= CATEGORICAL_MAX]
    for column, counts in zip(counted, _value_counts(frame, [c.name for c in counted])):
        _from_counts(column, counts, k, no_values)
    for column in stats:
        if column.non_null and column not in counted:
            _long_column(frame, column, k)
    _long_bins(frame, [c for c in stats if c.non_null and c not in counted], no_values)
    return rows, stats


def _parts(name: str, kind: str) -> list[Column]:
    c = F.col(name)
    parts = [F.count(c), F.approx_count_distinct(c)]
    if kind == "numeric":
        parts += [F.avg(c), F.stddev_samp(c), F.count_if(c == 0), F.count_if(c < 0), F.min(c), F.max(c)]
    elif kind == "date":
        parts += [F.min(c), F.max(c)]
    elif kind == "text":
        parts += [F.min(c), F.max(c), F.min(F.length(c)), F.max(F.length(c)), F.avg(F.length(c))]
    elif kind == "boolean":
        parts += [F.count_if(c)]
    return parts


def _first_pass(frame: DataFrame, columns: dict[str, str]) -> tuple[int, list[list]]:
    parts = [F.count(F.lit(1))]
    sizes = []
    for name, type_ in columns.items():
        mine = _parts(name, kind_of(type_))
        sizes.append(len(mine))
        parts += mine
    row = list(frame.agg(*parts).first())
    out, i = [], 1
    for size in sizes:
        out.append(row[i:i + size])
        i += size
    return row[0], out


def _read_first(column: ColumnStatistics, first: list[list], index: int) -> None:
    values = first[index]
    column.non_null, column.distinct = values[0], min(values[1], values[0])
    rest = values[2:]
    if column.kind == "numeric":
        column.mean, column.std, column.zeros, column.negatives, column.min, column.max = rest
        column.mean = None if column.mean is None else float(column.mean)
        column.std = None if column.std is None else float(column.std)
    elif column.kind == "date":
        column.min, column.max = rest
    elif column.kind == "text":
        column.min, column.max, column.min_length, column.max_length, column.mean_length = rest
    elif column.kind == "boolean":
        column.true_count = rest[0]


def _value_counts(frame: DataFrame, names: list[str]) -> list[list[tuple[object, int]]]:
    """Each column's (value, count) pairs, sorted by value, in one scan: every row unpivoted to (column, value as
    text), then counted; values travel as text and are read back in their type."""
    if not names:
        return []
    pairs = F.explode(F.array(*[F.struct(F.lit(i).alias("i"), F.col(n).cast("STRING").alias("v"))
                                for i, n in enumerate(names)])).alias("p")
    counted = frame.select(pairs).select("p.i", "p.v").where(F.col("v").isNotNull()).groupBy("i", "v").count()
    types = dict(frame.dtypes)
    counts: list[list[tuple[object, int]]] = [[] for _ in names]
    for i, value, count in counted.collect():
        counts[i].append((typed(value, types[names[i]]), count))
    for pairs in counts:
        pairs.sort(key=lambda pair: pair[0])
    return counts


def _from_counts(column: ColumnStatistics, counts: list[tuple[object, int]], k: int, no_values: set[str]) -> None:
    """Every statistic the exact value counts give, as the DuckDB engine computes them."""
    column.distinct, column.distinct_exact = len(counts), True
    column.smallest = first_values(counts, k)
    column.largest = first_values(list(reversed(counts)), k)
    if column.kind in ("numeric", "date"):
        column.quantiles = {q: _quantile(column, lower_quantile(counts, q)) for q in QUANTILES}
    valued = column.name not in no_values and not column.looks_like_identifier
    if valued and len(counts) <= CATEGORICAL_MAX and column.kind != "date":
        column.frequencies = dict(counts)
        if column.kind == "numeric":
            column.mean, column.std = moments(column.frequencies)
    if valued and column.kind in ("numeric", "date") and (binning := bin_edges(column)):
        edges, closed = binning
        binned: dict[int, int] = {}
        for value, count in counts:
            index = bin_index(value, edges, closed)
            binned[index] = binned.get(index, 0) + count
        column.bins = bins(edges, binned, column.kind)


def _quantile(column: ColumnStatistics, value: object) -> object:
    """Quantiles of numbers as doubles (DuckDB computes them over the values cast to DOUBLE)."""
    return float(value) if column.kind == "numeric" else value


def first_values(counts: list[tuple[object, int]], k: int) -> list:
    out: list = []
    for value, count in counts:
        out += [value] * min(count, k - len(out))
        if len(out) >= k:
            break
    return out


def _long_column(frame: DataFrame, column: ColumnStatistics, k: int) -> None:
    """A column of a long table with many distinct values: exact distinct count, k smallest and largest, quantiles."""
    c = F.col(column.name)
    present = frame.select(c).where(c.isNotNull())
    column.distinct, column.distinct_exact = present.distinct().count(), True
    column.smallest = [r[0] for r in present.orderBy(c.asc()).limit(k).collect()]
    column.largest = [r[0] for r in present.orderBy(c.desc()).limit(k).collect()]
    if column.kind in ("numeric", "date"):
        value = c.cast("DOUBLE") if column.kind == "numeric" else _epoch(column)
        values, n = frame.select(value.alias("hdh_value")).where(F.col("hdh_value").isNotNull()), column.non_null
        if n <= QUANTILE_SAMPLE:  # exact, DuckDB's rule: the value at position floor(q (n - 1))
            parts = [F.expr(f"percentile_disc({(int(q * (n - 1)) + 0.5) / n!r}) WITHIN GROUP (ORDER BY hdh_value)")
                     for q in QUANTILES]
        else:  # approximate beyond, as DuckDB's sample is
            parts = [F.percentile_approx("hdh_value", F.lit(q), F.lit(10_000)) for q in QUANTILES]
        found = values.agg(*parts).first()
        column.quantiles = {q: _from_epoch(column, v) for q, v in zip(QUANTILES, found)}


def _epoch(column: ColumnStatistics) -> Column:
    c = F.col(column.name)
    return F.unix_date(c).cast("DOUBLE") * 86400 if column.type == "DATE" else F.unix_micros(c.cast("TIMESTAMP")) / 1e6


def _from_epoch(column: ColumnStatistics, value: object) -> object:
    if value is None or column.kind == "numeric":
        return value
    moment = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=float(value))
    return moment.date() if column.type == "DATE" else moment


def _long_bins(frame: DataFrame, columns: list[ColumnStatistics], no_values: set[str]) -> None:
    """The histogram bins of the long table's many-valued numeric and date columns, counted in one scan: each row's
    bin index per column, unpivoted to (column, bin) and grouped."""
    wanted = [(c, binning) for c in columns if c.name not in no_values and not c.looks_like_identifier
              and c.kind in ("numeric", "date") and (binning := bin_edges(c))]
    if not wanted:
        return
    indexes = F.explode(F.array(*[F.struct(F.lit(i).alias("i"), _bin_column(F.col(column.name), *binning).alias("b"))
                                  for i, (column, binning) in enumerate(wanted)])).alias("p")
    counted: list[dict[int, int]] = [{} for _ in wanted]
    for i, index, count in (frame.select(indexes).select("p.i", "p.b").where(F.col("b").isNotNull())
                            .groupBy("i", "b").count().collect()):
        counted[i][index] = count
    for (column, (edges, _)), counts in zip(wanted, counted):
        column.bins = bins(edges, counts, column.kind)


def _bin_column(c: Column, edges: list, closed: bool) -> Column:
    """bin_index's rule as a Spark expression."""
    last = len(edges) - 1
    if not closed and all(isinstance(e, dt.date) and (e.month, e.day) == (1, 1) for e in edges):
        return F.least(F.greatest(F.year(c) - edges[0].year, F.lit(-1)), F.lit(last))
    if not closed and all(isinstance(e, int) for e in edges):
        return F.least(F.greatest(c - edges[0], F.lit(-1)), F.lit(last))
    expression = F.when(c.isNull(), F.lit(None))
    for i, edge in enumerate(edges):
        expression = expression.when(c < F.lit(edge), F.lit(i - 1))
    if closed:
        expression = expression.when(c == F.lit(edges[-1]), F.lit(last - 1))
    return expression.otherwise(F.lit(last))

