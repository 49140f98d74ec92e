"""The Spark engine: a source read where it lives answers the profile's questions (engines/base.py) with Spark
aggregations; only aggregates reach this process."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from functools import reduce
from pathlib import Path

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from hdh_pipeline.engines.base import (
    AGE_BANDS,
    BAND_YEARS,
    DatedColumn,
    KeyCheck,
    Persons,
    PopulationQuery,
    TableStatistics,
)
from hdh_pipeline.engines.plan import IngestionError
from hdh_pipeline.engines.spark.counts import Counted, collect_union, count_tables
from hdh_pipeline.engines.spark.read import REASON, SparkTable, read_table, rejected
from hdh_pipeline.engines.spark.statistics import LONG_FORM_MAX_ROWS, first_values, from_counts, profile_frame
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import AGE_MAX, AGE_MIN

REJECTS_KEPT = 1000  # rejected lines of a table whose text is kept (internal), with their reason; all are counted


class SparkEngine:
    """A source's tables and code lists as Spark reads them (read.py); a table Spark cannot read is in `failures`."""

    def __init__(self, spark: SparkSession, source: Source, staging: Path):
        self.spark, self.source = spark, source
        self.failures: dict[str, IngestionError] = {}
        self._tables = self._read(source.tables, source.declaration, staging / source.id)
        codes = source.declaration.for_nomenclatures() if source.nomenclatures else None
        self._codes = self._read(source.nomenclatures, codes, staging / "codes") if codes else {}
        self._rows: dict[str, int] = {}
        self._rejected: dict[str, int] = {}
        self._counted: dict[str, Counted] | None = None  # the short tables' value counts
        self._code_texts: dict[str, list[dict]] | None = None

    def _read(self, tables: tuple, declaration: object, staging: Path) -> dict[str, SparkTable]:
        read = {}
        for table in tables:
            try:
                read[table.name] = read_table(self.spark, declaration, table, staging, self.source.remote)
            except IngestionError as error:
                self.failures[table.name] = error
        return read

    def release(self) -> None:
        """Spark's copies of the parsed lines are dropped (a later run reads the files again)."""
        for table in (*self._tables.values(), *self._codes.values()):
            if table.lines is not None:
                table.lines.unpersist()

    def table(self, name: str) -> SparkTable:
        return self._tables[name]

    def code_table(self, name: str) -> SparkTable:
        return self._codes[name]

    def tables(self) -> dict[str, dict[str, str]]:
        return {name: table.columns for name, table in self._tables.items()}

    def code_lists(self) -> dict[str, dict[str, str]]:
        return {name: table.columns for name, table in self._codes.items()}

    def labels(self, table: str, key: str, label: str, values: list[str]) -> dict[str, str]:
        if not values:
            return {}
        frame = self._tables[table].frame
        found = frame.where(F.col(key).cast("STRING").isin(values)).groupBy(F.col(key).cast("STRING").alias("k")) \
            .agg(F.first(F.col(label).cast("STRING")).alias("v")).collect()
        return {row["k"]: row["v"] for row in found}

    def code_list(self, name: str) -> pa.Table:
        """A code list, every column as text; all the source's code lists are read in one job, at the first call."""
        if self._code_texts is None:
            frames = [frame.select(F.lit(i).alias("i"), F.to_json(F.struct(*[F.col(c).cast("STRING").alias(c)
                                                                              for c in frame.columns])).alias("j"))
                      for i, frame in enumerate(t.frame for t in self._codes.values())]
            rows: dict[str, list[dict]] = {n: [] for n in self._codes}
            names = list(self._codes)
            for i, text in collect_union(frames):
                rows[names[i]].append(json.loads(text))
            self._code_texts = rows
        columns = list(self._codes[name].columns)
        return pa.table({c: pa.array([r.get(c) for r in self._code_texts[name]], pa.string()) for c in columns})

    def _count(self) -> None:
        """Every table's rows in one job, but for tables whose files show they are short; then the short tables'
        values (and so their rows) in another (counts.py)."""
        if self._counted is not None:
            return
        short = {n: t for n, t in self._tables.items() if t.most_rows is not None and t.most_rows <= LONG_FORM_MAX_ROWS}
        unknown = [n for n in self._tables if n not in short]
        parts = [_lines_and_rejects(self._tables[n]).select(F.lit(i).alias("i"), "rows", "rejected")
                 for i, n in enumerate(unknown)]
        for i, rows, refused in collect_union(parts):
            self._rows[unknown[i]], self._rejected[unknown[i]] = rows, refused
        short |= {n: self._tables[n] for n in unknown if self._rows[n] <= LONG_FORM_MAX_ROWS}
        self._counted = count_tables(short, self._tuples())
        for name, counted in self._counted.items():
            self._rows[name], self._rejected[name] = counted.rows, counted.rejected

    def _tuples(self) -> dict[str, list[tuple[tuple[str, ...], bool]]]:
        """The key tuples of several columns the profile compares: a primary key (its rows, nulls as values), a
        foreign key's columns (complete tuples only) and the columns it references."""
        wanted: dict[str, list] = {}
        for table in self.source.tables:
            spec, columns = table.spec, self._tables[table.name].columns if table.name in self._tables else {}
            if spec is None:
                continue
            if len(spec.primary_key) > 1 and set(spec.primary_key) <= set(columns):
                wanted.setdefault(table.name, []).append((tuple(spec.primary_key), False))
            for fk in spec.foreign_keys:
                if len(fk.columns) > 1:
                    wanted.setdefault(table.name, []).append((tuple(fk.columns), True))
                    wanted.setdefault(fk.table, []).append((tuple(fk.referenced_columns), False))
        return {name: [t for t in dict.fromkeys(tuples) if set(t[0]) <= set(self._tables[name].columns)]
                for name, tuples in wanted.items() if name in self._tables}

    def row_count(self, table: str) -> int:
        self._count()
        return self._rows[table]

    def rejected_lines(self, table: str) -> tuple[int, list[tuple[str, str]]]:
        """(the table's rejected lines, (reason, line) of the first REJECTS_KEPT)."""
        self._count()
        lines = rejected(self._tables[table])
        count = self._rejected.get(table, 0)
        return count, [] if lines is None or not count else [
            (row[0], row[1]) for row in lines.limit(REJECTS_KEPT).collect()]

    def statistics(self, tables: list[tuple[str, set[str], tuple[str, ...]]], k: int) -> Iterator[TableStatistics]:
        self._count()
        for name, no_values, key in tables:
            table = self._tables[name]
            counted = self._counted.get(name)
            if counted is not None:
                rows = counted.rows
                columns = from_counts(name, table.columns, dict(table.frame.dtypes), counted, k, no_values)
            else:
                rows, columns = profile_frame(table.frame, table.columns, k, no_values)
            yield TableStatistics(rows, columns, self._rejected.get(name, 0), self._duplicates(name, key, rows))

    def _duplicates(self, name: str, key: tuple[str, ...], rows: int) -> int | None:
        """Rows less distinct keys, as DuckDB counts them: a one-column key's nulls are not values, a tuple's are."""
        if not key:
            return None
        counted = self._counted.get(name)
        if counted is not None:
            return rows - len(counted.texts.get(key[0], {}) if len(key) == 1 else counted.tuples[(key, False)])
        keys = self._tables[name].frame.select(*key)
        return rows - (keys.where(F.col(key[0]).isNotNull()) if len(key) == 1 else keys).distinct().count()

    def _known(self, check: KeyCheck) -> set[str] | None:
        """The referenced keys of a check as text, when counted (or a code list); None: Spark joins."""
        if check.code_list:
            codes = self.code_list(check.referenced)
            return {c for c in codes[check.referenced_columns[0]].to_pylist() if c is not None} \
                if len(check.referenced_columns) == 1 else None
        counted = self._counted.get(check.referenced)
        if counted is None:
            return None
        if len(check.referenced_columns) == 1:
            return set(counted.texts.get(check.referenced_columns[0], {}))
        return set(counted.tuples.get((check.referenced_columns, False), {}))

    def matches(self, table: str, checks: list[KeyCheck]) -> list[tuple[int, int]]:
        """Each key against its referenced table or code list, compared as text: from the counts of short tables,
        else one join each."""
        self._count()
        counted, out = self._counted.get(table), []
        for check in checks:
            known = self._known(check) if counted is not None else None
            if known is not None:
                mine = counted.texts.get(check.columns[0], {}) if len(check.columns) == 1 else \
                    counted.tuples.get((check.columns, True), {})
                out.append((sum(mine.values()), sum(n for text, n in mine.items() if text in known)))
            else:
                out.append(self._join(table, check))
        return out

    def outside_code_list(self, table: str, column: str, code_list: str, code: str) -> int | None:
        """Rows whose `column` is not a code of the code list, compared as text, from the value counts of a short
        table (None: the table is long, Spark counts)."""
        self._count()
        counted = self._counted.get(table)
        if counted is None or code_list not in self._codes:
            return None
        codes = set(self.code_list(code_list)[code].to_pylist())
        return sum(n for text, n in counted.texts.get(column, {}).items() if text not in codes)

    def _join(self, table: str, check: KeyCheck) -> tuple[int, int]:
        frame = self._tables[table].frame
        referenced = (self._codes if check.code_list else self._tables)[check.referenced].frame
        keys = referenced.select(*[F.col(c).cast("STRING").alias(f"k{i}")
                                   for i, c in enumerate(check.referenced_columns)]).distinct() \
            .withColumn("hdh_found", F.lit(True))
        mine = frame.select(*[F.col(c).cast("STRING").alias(f"t{i}") for i, c in enumerate(check.columns)])
        on = reduce(lambda a, b: a & b, [mine[f"t{i}"] == keys[f"k{i}"] for i in range(len(check.columns))])
        present = reduce(lambda a, b: a & b, [F.col(f"t{i}").isNotNull() for i in range(len(check.columns))])
        return tuple(mine.join(keys, on, "left").agg(F.count_if(present), F.count("hdh_found")).first())

    def dates_up_to(self, table: str, columns: list[str], reference: dt.date, k: int) -> dict[str, DatedColumn]:
        self._count()
        counted, frame, out = self._counted.get(table), self._tables[table].frame, {}
        types = dict(frame.dtypes)
        for name in columns:
            if counted is not None:
                values = [(v, n) for v, n in counted.values(name, types[name])
                          if (v.date() if isinstance(v, dt.datetime) else v) <= reference]
                out[name] = DatedColumn(sum(n for _, n in values), first_values(values, k),
                                        first_values(values[::-1], k))
                continue
            c = F.col(name)
            kept = frame.select(c).where(c.isNotNull() & (c.cast("DATE") <= F.lit(reference)))
            out[name] = DatedColumn(kept.count(), [r[0] for r in kept.orderBy(c.asc()).limit(k).collect()],
                                    [r[0] for r in kept.orderBy(c.desc()).limit(k).collect()])
        return out

    def persons(self, query: PopulationQuery, k: int) -> Persons:
        """Each person once: the sex codes of all their rows, their highest age at the reference date."""
        frame = self._tables[query.table].frame
        sex = F.col(query.sex).cast("STRING")
        if query.age:
            age = F.col(query.age).cast("DOUBLE")
        elif query.birth_year:
            age = F.lit(query.reference.year) - F.col(query.birth_year).cast("DOUBLE")
        else:
            age = (F.lit(query.reference.year) - F.year(F.col(query.birth_date))).cast("DOUBLE")
        persons = frame.groupBy(*query.person).agg(
            F.coalesce(F.bool_or(sex.isin(*query.male)), F.lit(False)).alias("male"),
            F.coalesce(F.bool_or(sex.isin(*query.female)), F.lit(False)).alias("female"),
            F.max(age).alias("age"))
        sex_of = F.when(F.col("male") & ~F.col("female"), "men").when(F.col("female") & ~F.col("male"), "women")
        persons = persons.select(sex_of.otherwise("other").alias("sex"), "age")
        plausible = F.col("age").between(AGE_MIN, AGE_MAX)
        band = F.when(F.col("age").isNull(), len(AGE_BANDS) + 1).when(~plausible, len(AGE_BANDS)) \
            .otherwise(F.least(F.floor(F.col("age") / BAND_YEARS), F.lit(len(AGE_BANDS) - 1)))
        grid = {(int(b), s): n for b, s, n in persons.groupBy(band.alias("band"), "sex").count().collect()}
        ages = persons.where(plausible).select("age")
        individuals, implausible, median = persons.agg(
            F.count(F.lit(1)), F.count_if(F.col("age").isNotNull() & ~plausible),
            F.percentile(F.when(plausible, F.col("age")), F.lit(0.5))).first()
        by_sex = {s: sum(n for (_, x), n in grid.items() if x == s) for s in ("men", "women", "other")}
        lowest = [r[0] for r in ages.orderBy(F.col("age").asc()).limit(k).collect()]
        highest = [r[0] for r in ages.orderBy(F.col("age").desc()).limit(k).collect()]
        plausible_count = sum(n for (b, _), n in grid.items() if b < len(AGE_BANDS))
        return Persons(individuals, by_sex, implausible, plausible_count, lowest[-1] if lowest else None, median,
                       highest[-1] if highest else None, grid)


def _lines_and_rejects(table: SparkTable) -> DataFrame:
    """One row: the table's rows and rejected lines."""
    if table.lines is None:
        return table.frame.agg(F.count(F.lit(1)).alias("rows"), F.lit(0).cast("BIGINT").alias("rejected"))
    return table.lines.agg(F.count_if(F.col(REASON).isNull()).alias("rows"),
                           F.count_if(F.col(REASON).isNotNull()).alias("rejected"))
