"""Quality of a whole source: each loaded table's suite, from `expectations/<source>/` or generated."""
from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb

from hdh_pipeline import web_assets
from hdh_pipeline.ingest.warehouse import connect, quote, table_columns
from hdh_pipeline.quality import parallel
from hdh_pipeline.quality.suites import generated_expectations, read_rules, write_suite
from hdh_pipeline.settings import REPO_ROOT
from hdh_pipeline.sources.loader import Source


def expectations_dir() -> Path:
    """`HDH_EXPECTATIONS_DIR` (default: the repository's `expectations/`)."""
    return Path(os.environ.get("HDH_EXPECTATIONS_DIR", REPO_ROOT / "expectations"))


def _code_columns(conn: duckdb.DuckDBPyConnection, source: Source) -> dict[str, str]:
    """Each loaded code list and its code column (its primary key, else its first column)."""
    schema = source.declaration.nomenclature_schema
    keys = {t.name: (t.spec.primary_key[0] if t.spec and t.spec.primary_key else None) for t in source.nomenclatures}
    out = {}
    for table, key in keys.items():
        columns = list(table_columns(conn, schema, table))
        if columns:
            out[table] = key if key in columns else columns[0]
    return out


def plan(conn: duckdb.DuckDBPyConnection, source: Source) -> dict[str, tuple[dict[str, str], int, list[dict]]]:
    """For each loaded table: its columns, its rows, and the expectations the declaration implies."""
    rules = read_rules(expectations_dir() / source.id)
    codes = _code_columns(conn, source)
    columns = {t.name: table_columns(conn, source.id, t.name) for t in source.tables}
    loaded = {name for name, c in columns.items() if c}
    tables = {}
    for table in source.tables:
        if table.name not in loaded:
            continue
        rows = conn.execute(f"SELECT count(*) FROM {quote(source.id)}.{quote(table.name)}").fetchone()[0]
        expectations = generated_expectations(source, table, columns[table.name], codes, loaded, rules)
        tables[table.name] = (columns[table.name], rows, expectations)
    return tables


def write_suites(conn: duckdb.DuckDBPyConnection, source: Source) -> list[Path]:
    """(Re)generate the source's suite files, keeping hand edits."""
    written = []
    for table, (_, _, expectations) in plan(conn, source).items():
        path = expectations_dir() / source.id / f"{table}.json"
        write_suite(path, f"{source.id}.{table}", expectations)
        written.append(path)
    return written


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
        rows = {table: validator.add(table, expectations, columns, count) for table, expectations, columns, count in jobs}
        validator.run()
        validator.write_pages()
        validator.write_index()
    finally:
        validator.close()
    return rows


def validate_source(warehouse: Path, source: Source, docs: Path | None = None, together: bool = True,
                    memory_limit: str | None = None) -> list[dict]:
    """Quality result rows for every loaded table of the source, and GX Data Docs in `docs` if given.
    The caller holds the warehouse lock; GX opens the file through its own engine, so our planning
    connection is closed first. `together=False` runs every expectation on its own (slow; for checks).
    Helper processes validate a wide source, or any source when they were started ahead (see parallel.py)."""
    with connect(warehouse, read_only=True, memory_limit=memory_limit) as conn:
        planned = plan(conn, source)
    rows_of: dict[str, list[dict]] = {}
    jobs = []
    for table, (columns, rows, generated) in planned.items():
        expectations, problem = _suite(expectations_dir() / source.id / f"{table}.json", generated)
        if problem:
            rows_of[table] = [{"check_id": "suite", "expectation": None, "variable": None, "category": "conformance",
                               "threshold_pct": 0.0, "severity": "error", "status": "error", "reason": problem}]
        else:
            jobs.append((table, expectations, set(columns), rows))
    workers = parallel.worker_count(len(jobs), sum(job[3] for job in jobs), memory_limit)
    if jobs and (workers > 1 or parallel.warm()):
        task = {"warehouse": str(warehouse), "schema": source.id, "docs": docs and str(docs), "together": together,
                "memory_limit": memory_limit}
        rows_of.update(parallel.validate(task, jobs, workers))
    else:
        rows_of.update(_validate_here(warehouse, source.id, docs, together, memory_limit, jobs))
    if docs is not None and docs.is_dir():
        web_assets.make_offline(docs)
    base = {"source_id": source.id}
    return [base | {"table_name": table} | row for table in planned if table in rows_of for row in rows_of[table]]
