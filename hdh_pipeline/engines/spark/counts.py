"""A source's short tables (statistics.LONG_FORM_MAX_ROWS rows or fewer) counted together: one Spark job gives each
table's rows, rejected lines, and the count of every value of every column and of the key tuples the profile
compares (a multi-column primary key, the columns of a foreign key, the columns it references). Every statistic of
these tables then comes from the counts, on the driver; a wide source of small tables costs a few Spark jobs, not a
few per table (Spark's fixed cost of a job, a tenth of a second or more, would otherwise dominate).

Values travel as Spark writes them as text (what keys are compared as) and are read back in their type."""
from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass, field
from functools import reduce

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from hdh_pipeline.engines.spark.read import REASON, SparkTable

ROWS, REJECTED = -1, -2  # pseudo-columns: the table's rows, its rejected lines
COLUMNS_PER_JOB = 500


@dataclass
class Counted:
    rows: int = 0
    rejected: int = 0
    texts: dict[str, dict[str, int]] = field(default_factory=dict)  # column -> value as text -> rows
    tuples: dict[tuple[tuple[str, ...], bool], dict[str, int]] = field(default_factory=dict)  # (columns, complete)
    # -> the tuple as JSON text -> rows

    def values(self, column: str, spark_type: str) -> list[tuple[object, int]]:
        """The column's (value, rows), in their type, sorted by value."""
        return sorted(((typed(text, spark_type), n) for text, n in self.texts.get(column, {}).items()),
                      key=lambda pair: pair[0])


def tuple_text(columns: tuple[str, ...], complete: bool) -> Column:
    """A key tuple as JSON text of its parts as text; `complete`: NULL when a part is NULL (not a key to check)."""
    text = F.to_json(F.array(*[F.col(c).cast("STRING") for c in columns]))
    return F.when(reduce(lambda a, b: a & b, [F.col(c).isNotNull() for c in columns]), text) if complete else text


def count_tables(tables: dict[str, SparkTable], tuples: dict[str, list[tuple[tuple[str, ...], bool]]]
                 ) -> dict[str, Counted]:
    """`tables` counted in a few jobs (COLUMNS_PER_JOB columns each: Spark plans a job of many tables on the
    driver, in its memory); `tuples`: per table, the key tuples to count (columns, complete)."""
    out: dict[str, Counted] = {}
    batch: dict[str, SparkTable] = {}
    for name, table in tables.items():
        batch[name] = table
        if sum(len(t.columns) for t in batch.values()) >= COLUMNS_PER_JOB:
            out |= _count_batch(batch, tuples)
            batch = {}
    return out | (_count_batch(batch, tuples) if batch else {})


def _count_batch(tables: dict[str, SparkTable], tuples: dict[str, list[tuple[tuple[str, ...], bool]]]
                 ) -> dict[str, Counted]:
    parts = []
    for t, (name, table) in enumerate(tables.items()):
        lines = table.lines if table.lines is not None else table.frame.withColumn(REASON, F.lit(None).cast("STRING"))
        accepted = F.col(REASON).isNull()
        pairs = [F.struct(F.lit(ROWS).alias("i"), F.lit("").alias("v"))]
        pairs += [F.struct(F.lit(i).alias("i"), F.col(c).cast("STRING").alias("v"))
                  for i, c in enumerate(table.columns)]
        pairs += [F.struct(F.lit(1000 + j).alias("i"), tuple_text(columns, complete).alias("v"))
                  for j, (columns, complete) in enumerate(tuples.get(name, []))]
        counted = F.when(accepted, F.array(*pairs)).otherwise(
            F.array(F.struct(F.lit(REJECTED).alias("i"), F.lit("").alias("v"))))
        parts.append(lines.select(F.explode(counted).alias("p")).select(F.lit(t).alias("t"), "p.i", "p.v")
                     .where(F.col("v").isNotNull()).groupBy("t", "i", "v").count())
    out = {name: Counted() for name in tables}
    if not parts:
        return out
    names = list(tables)
    for t, i, v, n in reduce(DataFrame.unionAll, parts).collect():
        name = names[t]
        counted = out[name]
        if i == ROWS:
            counted.rows = n
        elif i == REJECTED:
            counted.rejected = n
        elif i >= 1000:
            counted.tuples.setdefault(tuples[name][i - 1000], {})[v] = n
        else:
            counted.texts.setdefault(list(tables[name].columns)[i], {})[v] = n
    return out


def typed(text: str, spark_type: str) -> object:
    """A value written as Spark casts it to text, back in its Python type."""
    if spark_type in ("bigint", "int", "smallint", "tinyint"):
        return int(text)
    if spark_type in ("double", "float"):
        return float(text)
    if spark_type.startswith("decimal"):
        return decimal.Decimal(text)
    if spark_type == "date":
        return dt.date.fromisoformat(text)
    if spark_type.startswith("timestamp"):
        return dt.datetime.fromisoformat(text)
    if spark_type == "boolean":
        return text == "true"
    return text


def collect_union(frames: list[DataFrame], per_job: int = 40) -> list:
    """The rows of frames of one schema, `per_job` frames a job (one job a frame costs Spark's fixed cost each time;
    all in one, a plan too large for the driver)."""
    rows = []
    for start in range(0, len(frames), per_job):
        rows += reduce(DataFrame.unionAll, frames[start:start + per_job]).collect()
    return rows
