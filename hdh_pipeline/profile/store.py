"""The exact catalogue rows, kept private in the warehouse (schema `catalogue_internal`), whatever engine
computed them.

One table per catalogue table, with the public columns and the internal ones. A source's
rows are replaced in one transaction, so a failed profile leaves the previous one.
"""
from __future__ import annotations

import duckdb

from hdh_pipeline.engines.duckdb.warehouse import quote
from hdh_pipeline.schema import CODES, TABLES, arrow_table, column_names

INTERNAL = {  # the private columns of the profile's rows, beside the public ones: disclosure control needs them
    "variables": [("k_smallest", "VARCHAR"), ("k_largest", "VARCHAR")],
    "databases": [("raw_first_date", "DATE"), ("raw_last_date", "DATE"), ("profiling_seconds", "DOUBLE")],
    "tables": [("raw_first_date", "DATE"), ("raw_last_date", "DATE")],
    "changes": [("before", "VARCHAR"), ("after", "VARCHAR")],
    "quality_results": [("failing_values", "VARCHAR")],  # a failed check's most frequent values (quality/examples.py)
}
SCHEMA = "catalogue_internal"
HISTORY = "catalogue_history"  # every refresh's rows, with `refreshed_at`: the last `history` refreshes of a source
PROFILED = [name for name in TABLES if name != "refreshes"]  # refreshes live in the published catalogue only


def save_rows(conn: duckdb.DuckDBPyConnection, source_id: str, rows: dict[str, list[dict]],
              history: int | None = None) -> None:
    """Replace the source's rows of the given catalogue tables; with `history`, also keep them in
    `catalogue_history` beside those of the source's previous refreshes, the last `history` ones."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {HISTORY}")
    conn.execute("BEGIN TRANSACTION")
    try:
        for name, table_rows in rows.items():
            data = arrow_table(name, table_rows, INTERNAL.get(name, []))
            target = f"{SCHEMA}.{quote(name)}"
            conn.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT * FROM data LIMIT 0")
            _add_new_columns(conn, SCHEMA, name, data.schema.names)
            conn.execute(f"DELETE FROM {target} WHERE source_id = ?", [source_id])
            conn.execute(f"INSERT INTO {target} BY NAME SELECT * FROM data")
            if history and name != CODES:  # code lists are reference data, not the source's profile
                _keep(conn, source_id, name, data, history)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _keep(conn: duckdb.DuckDBPyConnection, source_id: str, name: str, data: object, history: int) -> None:
    """Add this refresh's rows to the history table, and forget the source's refreshes beyond the last `history`."""
    target = f"{HISTORY}.{quote(name)}"
    conn.execute(f"CREATE TABLE IF NOT EXISTS {target} AS SELECT now()::TIMESTAMP AS refreshed_at, * FROM data LIMIT 0")
    _add_new_columns(conn, HISTORY, name, data.schema.names)
    conn.execute(f"INSERT INTO {target} BY NAME SELECT now()::TIMESTAMP AS refreshed_at, * FROM data")
    conn.execute(f"DELETE FROM {target} WHERE source_id = ? AND refreshed_at NOT IN (SELECT DISTINCT refreshed_at "
                 f"FROM {target} WHERE source_id = ? ORDER BY refreshed_at DESC LIMIT {int(history)})",
                 [source_id, source_id])


def _add_new_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str, names: list[str]) -> None:
    """Columns added to the catalogue since the table was created (the rows of other sources stay)."""
    existing = {r[0] for r in conn.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                           "AND table_name = ?", [schema, table]).fetchall()}
    types = dict(INTERNAL.get(table, [])) | {c.name: c.type for c in TABLES[table]}
    for name in names:
        if name not in existing:
            conn.execute(f"ALTER TABLE {schema}.{quote(table)} ADD COLUMN {quote(name)} {types[name]}")


FAILURES = f"{SCHEMA}.load_failures"


def prepare_failures(conn: duckdb.DuckDBPyConnection) -> None:
    """The table of failed loads, if not there yet (before threads record loads at once: two creating it would
    conflict)."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {FAILURES} (source_id VARCHAR, table_name VARCHAR, failure VARCHAR, "
                 "detail VARCHAR, failed_at TIMESTAMP)")


def record_load(conn: duckdb.DuckDBPyConnection, source_id: str, table: str, failure: str | None = None,
                detail: str | None = None) -> None:
    """Keep a table's failed load, or a failed profile (`failure`: a short public phrase, `detail`: the internal
    message) until the table loads (or the source is profiled) again; None: it did, earlier failures are
    forgotten."""
    prepare_failures(conn)
    conn.execute(f"DELETE FROM {FAILURES} WHERE source_id = ? AND table_name = ?", [source_id, table])
    if failure is not None:
        conn.execute(f"INSERT INTO {FAILURES} VALUES (?, ?, ?, ?, now()::TIMESTAMP)",
                     [source_id, table, failure, detail])


def load_failures(conn: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """Source -> `table: failure` of every table whose last load failed."""
    if not conn.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = 'load_failures'",
                        [SCHEMA]).fetchall():
        return {}
    failures: dict[str, list[str]] = {}
    for source_id, table, failure in conn.execute(
            f"SELECT source_id, table_name, failure FROM {FAILURES} ORDER BY 1, 2").fetchall():
        failures.setdefault(source_id, []).append(f"{table}: {failure}")
    return failures


def load_profiles(conn: duckdb.DuckDBPyConnection, source_ids: list[str],
                  tables: tuple[str, ...] = tuple(PROFILED)) -> dict[str, list[dict]]:
    """The exact rows of the given sources, per catalogue table (empty before any profile); the code lists as
    an Arrow table (codes.py)."""
    rows: dict[str, list[dict]] = {name: arrow_table(name, []) if name == CODES else [] for name in tables}
    known = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ?",
                                        [SCHEMA]).fetchall()}
    for name in tables:
        if name not in known:
            continue
        if name == CODES:
            stored = {r[0] for r in conn.execute("SELECT column_name FROM duckdb_columns() WHERE schema_name = ? "
                                                 "AND table_name = ?", [SCHEMA, CODES]).fetchall()}
            columns = [c if c in stored else f"NULL::VARCHAR AS {c}" for c in column_names(CODES)]  # added since
            rows[name] = conn.sql(f"SELECT {', '.join(columns)} FROM {SCHEMA}.{CODES} WHERE "
                                  "list_contains(?, source_id) ORDER BY source_id, nomenclature, code, label",
                                  params=[source_ids]).to_arrow_table()
            continue
        cursor = conn.execute(f"SELECT * FROM {SCHEMA}.{quote(name)} WHERE list_contains(?, source_id)",
                              [source_ids])
        names = [d[0] for d in cursor.description]
        # a profile saved before a column was added to the catalogue has it as NULL until the source is profiled again
        expected = dict.fromkeys([c.name for c in TABLES[name]] + [n for n, _ in INTERNAL.get(name, [])])
        rows[name] = [expected | dict(zip(names, row)) for row in cursor.fetchall()]
    return rows
