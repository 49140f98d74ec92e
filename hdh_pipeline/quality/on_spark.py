"""A source's quality suites counted by Spark: each table's checks compiled to Spark SQL (table_checks.py, the same
compilation and the same semantics as the DuckDB engine's single-query counting), a job per table; a short table's
code-list checks from its value counts. An expectation that does not compile (another kind, a `row_condition`) is
in error on this engine, with the reason."""
from __future__ import annotations

import datetime as dt
import json

from pyspark.sql import functions as F

from hdh_pipeline.engines.spark.counts import collect_union
from hdh_pipeline.engines.spark.engine import SparkEngine
from hdh_pipeline.engines.sql import SPARK
from hdh_pipeline.quality.table_checks import (
    code_list_counts,
    compile_check,
    counting_query,
    missing_columns,
    result_row,
)
from hdh_pipeline.vocabulary import NOT_APPLICABLE, check_status


def register_views(engine: SparkEngine) -> None:
    """Every table and code list of the source as a temporary view `<schema>__<name>` (sql.SPARK.table)."""
    source = engine.source
    for name in engine.tables():
        engine.table(name).frame.createOrReplaceTempView(f"{source.id}__{name}")
    for name in engine.code_lists():
        engine.code_table(name).frame.createOrReplaceTempView(f"{source.declaration.nomenclature_schema}__{name}")


def count_checks(engine: SparkEngine, jobs: list[tuple[str, list[dict], set[str], int]]) -> dict[str, list[dict]]:
    """The result rows of each (table, expectations, columns, rows) job."""
    register_views(engine)
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows_of, compiled = {}, {}
    for table, expectations, columns, rows in jobs:
        rows_of[table], compiled[table] = [], []
        for position, raw in enumerate(expectations):
            row = result_row(raw, position, run_at)
            rows_of[table].append(row)
            kwargs = raw.get("kwargs", {})
            if missing := missing_columns(kwargs, columns):
                row["reason"] = f"column {', '.join(missing)} is not in table {table}"
            elif rows == 0:
                row["status"], row["evaluated_rows"], row["failing_rows"] = NOT_APPLICABLE, 0, 0
            elif (check := compile_check(raw.get("type"), kwargs, raw.get("meta") or {}, SPARK)) is None:
                row["reason"] = "not counted on the Spark engine: write it as an unexpected_rows_expectation"
            else:
                compiled[table].append((row, check))
    counts = _counts(engine, {t: [c for _, c in checks] for t, checks in compiled.items() if checks})
    for table, checks in compiled.items():
        for position, (row, _) in enumerate(checks):
            evaluated, failing = counts[table][position]
            row["evaluated_rows"], row["failing_rows"] = evaluated, failing
            row["status"], row["failing_pct"] = check_status(evaluated, failing, row["threshold_pct"])
    return rows_of


def _counts(engine: SparkEngine, checks_of: dict[str, list[dict]]) -> dict[str, list[list[int]]]:
    """[evaluated, failing] of each compiled check of each table: a job for each table's counting query (a job of
    several tables' queries plans all their subqueries at once: a driver out of memory on a wide source); a
    code-list check from the value counts of a short table, else from the table's code-list query."""
    spark, source = engine.spark, engine.source
    view = {table: SPARK.table(source.id, table) for table in checks_of}
    counting = []
    for table, checks in checks_of.items():
        frame = spark.sql(counting_query(checks).format(batch=view[table]))
        counting.append(frame.select(F.lit(table).alias("t"),
                                     F.to_json(F.array(*[F.col(c).cast("BIGINT") for c in frame.columns])).alias("c")))
    out = {}
    for table, text in collect_union(counting, per_job=1):
        values = json.loads(text)
        out[table] = [[values[i], values[i + 1]] for i in range(0, len(values), 2)]
    remaining = {}
    for table, checks in checks_of.items():
        for position, check in enumerate(checks):
            if check.get("code_list"):
                column, schema, code_list, code = check["code_list"]
                failing = engine.outside_code_list(table, column, code_list, code) \
                    if schema == source.declaration.nomenclature_schema else None
                if failing is None:
                    remaining.setdefault(table, []).append(check)
                else:
                    out[table][position][1] = failing
    coded = [spark.sql(code_list_counts(checks_of[table], SPARK).format(batch=view[table]))
             .select(F.lit(table).alias("t"), "*") for table in remaining]
    for table, position, failing in collect_union(coded, per_job=1):
        out[table][position][1] = failing
    return out
