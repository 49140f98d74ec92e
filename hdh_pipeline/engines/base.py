"""What the private profile asks of the engine that holds a source's data, and what it gets back.

An engine (one folder each: `duckdb/`, the default, copies every source into one local DuckDB file; `spark/`
reads a source where it lives) answers the questions of `Engine` with aggregates only: a few numbers per
table and column, never rows. The definitions are here, so that every engine computes the same thing:

- a column's statistics (`ColumnStatistics`): counts, nulls, exact distinct values, the k smallest and k largest
  values, mean and sample standard deviation, zeros, negatives, lengths, quantiles (the value at position
  floor(q (n - 1)) of the sorted values: `lower_quantile`, exact up to QUANTILE_SAMPLE values), the exact frequency
  of every value of columns with at most CATEGORICAL_MAX distinct values, and histogram bins between the k-th
  smallest and k-th largest values (`bin_edges`, `bin_index`);
- the matches of a key against a referenced table or code list, compared as text;
- the time coverage up to a reference date, and the persons of a population table.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import pyarrow as pa

from hdh_pipeline.vocabulary import is_integer, looks_like_identifier

CATEGORICAL_MAX = 5000  # columns with at most this many distinct values get every value's exact frequency
HISTOGRAM_BINS = 20
QUANTILES = (0.01, 0.25, 0.5, 0.75, 0.99)
QUANTILE_SAMPLE = 1_000_000  # quantiles of up to this many values are exact; beyond, from a sample of this many
BAND_YEARS = 5  # the population's age bands
AGE_BANDS = [f"{a}-{a + BAND_YEARS - 1}" for a in range(0, 100, BAND_YEARS)] + ["100+"]
SEXES = ("men", "women", "other")


@dataclass
class Bin:
    label: str
    lower: str | None  # inclusive; None: open below
    upper: str | None  # exclusive; None: open above
    count: int


@dataclass
class ColumnStatistics:
    name: str
    position: int
    type: str  # in the catalogue's vocabulary (vocabulary.py)
    kind: str  # vocabulary.kind_of(type)
    rows: int
    non_null: int
    distinct: int | None = None
    distinct_exact: bool = False
    min: object = None
    max: object = None
    smallest: list = field(default_factory=list)  # the k smallest values, ascending
    largest: list = field(default_factory=list)   # the k largest values, descending
    mean: float | None = None
    std: float | None = None
    quantiles: dict[float, object] = field(default_factory=dict)
    zeros: int | None = None
    negatives: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    mean_length: float | None = None
    true_count: int | None = None
    frequencies: dict[object, int] | None = None  # every value -> count, for categorical columns
    bins: list[Bin] | None = None

    @property
    def missing(self) -> int:
        return self.rows - self.non_null

    @property
    def looks_like_identifier(self) -> bool:
        return looks_like_identifier(self.type, self.non_null, self.distinct)


@dataclass(frozen=True)
class TableStatistics:
    rows: int
    columns: list[ColumnStatistics]
    rejected_lines: int  # lines of the source's files that did not parse
    duplicate_keys: int | None  # rows whose primary key already appeared (None: no complete key)


@dataclass(frozen=True)
class KeyCheck:
    """Do the values of `columns` of a table appear among those of `referenced_columns` of `referenced` (a table
    of the source, or a code list)? Compared as text; rows with a null in the key are not checked."""

    columns: tuple[str, ...]
    referenced: str
    referenced_columns: tuple[str, ...]
    code_list: bool


@dataclass(frozen=True)
class DatedColumn:
    """An event column's dates up to a reference date: how many, the k earliest and the k latest."""

    count: int
    smallest: list
    largest: list


@dataclass(frozen=True)
class Persons:
    """A population table's individuals, each counted once: by sex (`men`, `women`, `other`: every code male,
    every code female, else) and age band (AGE_BANDS' index, then `implausible`, then `unknown`)."""

    individuals: int
    by_sex: dict[str, int]
    implausible: int  # ages below AGE_MIN or above AGE_MAX
    plausible: int
    age_low: float | None  # the k-th smallest plausible age
    age_median: float | None
    age_high: float | None  # the k-th largest plausible age
    grid: dict[tuple[int, str], int]  # (band order, sex) -> individuals


@dataclass(frozen=True)
class PopulationQuery:
    table: str
    person: tuple[str, ...]
    sex: str
    male: tuple[str, ...]
    female: tuple[str, ...]
    age: str | None  # an age column, else
    birth_year: str | None  # a birth year column, else
    birth_date: str | None  # a birth date column
    reference: dt.date


class Engine(Protocol):
    """The questions the profile asks of a source's data; every answer is aggregates."""

    def tables(self) -> dict[str, dict[str, str]]:
        """Each table of the source the engine can read -> its columns (name -> type), in order."""

    def code_lists(self) -> dict[str, dict[str, str]]:
        """Each code list of the source the engine can read -> its columns."""

    def code_list(self, name: str) -> pa.Table:
        """A code list's rows, every column as text (reference data: a few thousand rows)."""

    def row_count(self, table: str) -> int:
        """A table's rows."""

    def labels(self, table: str, key: str, label: str, values: list[str]) -> dict[str, str]:
        """The labels of some keys of a table of the source (its concepts' names), both as text."""

    def statistics(self, tables: list[tuple[str, set[str], tuple[str, ...]]], k: int) -> Iterator[TableStatistics]:
        """Each (table, columns whose values are not to be described, primary key)'s statistics, in order."""

    def matches(self, table: str, checks: list[KeyCheck]) -> list[tuple[int, int]]:
        """(rows checked, rows matched) of each check of the table."""

    def dates_up_to(self, table: str, columns: list[str], reference: dt.date, k: int) -> dict[str, DatedColumn]:
        """The dates of these date columns up to `reference`."""

    def persons(self, query: PopulationQuery, k: int) -> Persons:
        """The individuals of a population table."""



def bin_edges(column: ColumnStatistics) -> tuple[list, bool] | None:
    """Edges of the histogram between the k-th smallest and k-th largest values (outside: open-ended bins),
    and whether the last edge closes the last bin; None when fewer than 2k values leave no room for bins."""
    if not column.smallest or column.non_null == 0:
        return None
    low, high = column.smallest[-1], column.largest[-1]
    if low > high:  # fewer than 2k values: no bin lies between the bounds
        return None
    if column.kind == "date":
        return [dt.date(year, 1, 1) for year in range(low.year, high.year + 2)], False
    if is_integer(column.type) and high - low < HISTOGRAM_BINS:
        return list(range(int(low), int(high) + 2)), False
    if low == high:
        return [low, low + 1], False
    width = (high - low) / HISTOGRAM_BINS
    return [low + i * width for i in range(HISTOGRAM_BINS)] + [high], True


def _label(value: object) -> str:
    if isinstance(value, dt.date):
        return value.isoformat()
    return f"{value:g}" if isinstance(value, float) else str(value)


def bins(edges: list, counts: dict[int, int], kind: str) -> list[Bin]:
    """The bins between `edges`, with open bins below and above; `counts`: bin index -> values (-1 below the first
    edge, len(edges) - 1 at or above the last)."""
    out = [Bin(f"< {_label(edges[0])}", None, _label(edges[0]), counts.get(-1, 0))]
    for i in range(len(edges) - 1):
        low, high = edges[i], edges[i + 1]
        label = str(low.year) if kind == "date" else f"[{_label(low)}, {_label(high)})"
        out.append(Bin(label, _label(low), _label(high), counts.get(i, 0)))
    out.append(Bin(f">= {_label(edges[-1])}", _label(edges[-1]), None, counts.get(len(edges) - 1, 0)))
    return out


def bin_index(value: object, edges: list, closed: bool) -> int:
    """The bin of a value: -1 below the first edge, len(edges) - 1 at or above the last (or, when `closed`, above
    it: the last edge is then the k-th largest value, inside the last bin). Engines that bin in SQL write the same
    rule (engines/duckdb/statistics.py `_bin_expression`)."""
    last = len(edges) - 1
    if not closed and all(isinstance(e, dt.date) and (e.month, e.day) == (1, 1) for e in edges):
        return min(max(value.year - edges[0].year, -1), last)
    if not closed and all(isinstance(e, int) for e in edges):
        return min(max(int(value) - edges[0], -1), last)
    for i, edge in enumerate(edges):
        if value < edge:
            return i - 1
    return last - 1 if closed and value == edges[-1] else last


def lower_quantile(counts: list[tuple[object, int]], q: float) -> object:
    """The value at position floor(q (n - 1)) of the n sorted values given as sorted (value, count) pairs: DuckDB's
    `reservoir_quantile` when it holds every value (up to QUANTILE_SAMPLE)."""
    n = sum(count for _, count in counts)
    target, seen = int(q * (n - 1)), 0
    for value, count in counts:
        seen += count
        if seen > target:
            return value
    raise ValueError("no values")


def moments(frequencies: dict[object, int]) -> tuple[float | None, float | None]:
    """Mean and sample standard deviation of numbers given as value -> count, in two exact passes (an engine's
    one-pass aggregate loses digits on values far from zero): every engine computes them so where it knows every
    value's count."""
    n = sum(frequencies.values())
    if n == 0:
        return None, None
    mean = math.fsum(float(v) * c for v, c in frequencies.items()) / n
    if n == 1:
        return mean, None
    return mean, math.sqrt(math.fsum(c * (float(v) - mean) ** 2 for v, c in frequencies.items()) / (n - 1))
