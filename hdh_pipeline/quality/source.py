"""Quality of a whole source: each loaded table's suite, from `expectations/<source>/` or generated."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hdh_pipeline import settings
from hdh_pipeline.engines.base import Engine
from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
from hdh_pipeline.engines.duckdb.warehouse import connect, read_connection
from hdh_pipeline.engines.sql import DIALECTS
from hdh_pipeline.profile.store import load_profiles
from hdh_pipeline.quality import data_docs, parallel
from hdh_pipeline.quality.examples import failing_values
from hdh_pipeline.quality.suites import Table, generated_expectations, read_rules, write_suite
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import ERROR, FAILED, SEVERE


def _code_columns(engine: Engine, source: Source) -> dict[str, str]:
    """Each loaded code list and its code column (its primary key, else its first column)."""
    keys = {t.name: (t.spec.primary_key[0] if t.spec and t.spec.primary_key else None) for t in source.nomenclatures}
    out = {}
    for name, columns in engine.code_lists().items():
        if name in keys:
            out[name] = keys[name] if keys[name] in columns else next(iter(columns))
    return out


def plan(engine: Engine, source: Source, reference: dt.date) -> dict[str, tuple[dict[str, str], int, list[dict]]]:
    """For each loaded table: its columns, its rows, and the expectations the declaration implies."""
    rules = read_rules(settings.expectations_dir() / source.id)
    codes = _code_columns(engine, source)
    loaded = engine.tables()
    tables = {}
    for table in source.tables:
        if table.name in loaded:
            context = Table(source, table, loaded[table.name], codes, set(loaded), reference,
                            DIALECTS[source.declaration.engine])
            tables[table.name] = (loaded[table.name], engine.row_count(table.name),
                                  generated_expectations(context, rules))
    return tables


def write_suites(engine: Engine, source: Source, reference: dt.date) -> list[Path]:
    """(Re)generate the source's suite files, keeping hand edits."""
    written = []
    for table, (_, _, expectations) in plan(engine, source, reference).items():
        path = settings.expectations_dir() / source.id / f"{table}.json"
        write_suite(path, f"{source.id}.{table}", expectations)
        written.append(path)
    return written


def write_source_suites(source: Source) -> list[Path]:
    """`write_suites` of a source loaded into the warehouse, at its profile's reference date."""
    with read_connection(settings.warehouse_path()) as conn:
        databases = load_profiles(conn, [source.id], ("databases",))["databases"]
        if not databases:
            raise ValueError(f"source {source.id} has no profile yet: run `hdh-pipeline run --source {source.id}`")
        return write_suites(DuckDBEngine.for_source(conn, source), source, databases[0]["reference_date"])


def _suite(path: Path, generated: list[dict]) -> tuple[list[dict], str | None]:
    """The suite file's expectations, else the generated ones; or the reason the file cannot be read."""
    if not path.exists():
        return generated, None
    try:
        expectations = json.loads(path.read_text())["expectations"]
        if not isinstance(expectations, list):
            raise TypeError("'expectations' is not a list")
        return expectations, None
    except (OSError, ValueError, KeyError, TypeError) as error:
        return [], f"suite file {path} cannot be read: {error}"


def _validate_here(warehouse: Path, schema: str, docs: Path | None, together: bool, memory_limit: str | None,
                   jobs: list[tuple]) -> dict[str, list[dict]]:
    from hdh_pipeline.quality.validate import Validator  # Great Expectations: seconds to import

    validator = Validator(warehouse, schema, docs, together, memory_limit)
    try:
        rows = {table: validator.add(table, expectations, columns, count)
                for table, expectations, columns, count in jobs}
        validator.run()
        validator.write_pages()
        validator.write_index()
    finally:
        validator.close()
    return rows


def validate_source(warehouse: Path, source: Source, reference: dt.date, docs: Path | None = None,
                    together: bool = True, memory_limit: str | None = None) -> list[dict]:
    """Quality result rows for every loaded table of the source, and GX Data Docs in `docs` if given (see
    data_docs.available). The caller holds the warehouse lock; GX opens the file through its own engine, so our
    planning connection is closed first. `together=False` runs every expectation on its own (slow; for checks).
    Helper processes validate a wide source, or any source when they were started ahead (see parallel.py)."""
    with connect(warehouse, read_only=True, memory_limit=memory_limit) as conn:
        planned, rows_of, jobs = _jobs(DuckDBEngine.for_source(conn, source), source, reference)
    workers = parallel.worker_count(len(jobs), sum(job[3] for job in jobs), memory_limit)
    if jobs and (workers > 1 or parallel.warm()):
        task = {"warehouse": str(warehouse), "schema": source.id, "docs": docs and str(docs), "together": together,
                "memory_limit": memory_limit}
        rows_of.update(parallel.validate(task, jobs, workers))
    elif jobs:  # a source with no table loaded has nothing to validate (and maybe no schema yet)
        rows_of.update(_validate_here(warehouse, source.id, docs, together, memory_limit, jobs))
    if docs is not None and docs.is_dir():
        data_docs.make_offline(docs)
    rows = _rows(source, planned, rows_of)
    if any(r["status"] == FAILED for r in rows):
        with connect(warehouse, read_only=True, memory_limit=memory_limit) as conn:
            failing_values(conn, source.id, rows, {table: expectations for table, expectations, _, _ in jobs})
    return rows


def count_on_spark(engine: Engine, source: Source, reference: dt.date) -> list[dict]:
    """Quality result rows for every table of a source read by Spark, its checks counted by Spark (no Data Docs)."""
    from hdh_pipeline.quality.on_spark import count_checks  # pyspark: only for Spark sources

    planned, rows_of, jobs = _jobs(engine, source, reference)
    rows_of.update(count_checks(engine, jobs))
    return _rows(source, planned, rows_of)


def _jobs(engine: Engine, source: Source, reference: dt.date) -> tuple[dict, dict[str, list[dict]], list[tuple]]:
    """(the plan, the rows of the tables whose suite file cannot be read, (table, expectations, columns, rows) of
    the others)."""
    planned = plan(engine, source, reference)
    rows_of: dict[str, list[dict]] = {}
    jobs = []
    for table, (columns, rows, generated) in planned.items():
        expectations, problem = _suite(settings.expectations_dir() / source.id / f"{table}.json", generated)
        if problem:
            rows_of[table] = [{"check_id": "suite", "expectation": None, "variable": None, "category": "conformance",
                               "threshold_pct": 0.0, "severity": SEVERE, "status": ERROR, "reason": problem}]
        else:
            jobs.append((table, expectations, set(columns), rows))
    return planned, rows_of, jobs


def _rows(source: Source, planned: dict, rows_of: dict[str, list[dict]]) -> list[dict]:
    base = {"source_id": source.id}
    return [base | {"table_name": table} | row for table in planned if table in rows_of for row in rows_of[table]]
