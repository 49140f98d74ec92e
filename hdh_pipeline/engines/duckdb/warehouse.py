"""The DuckDB warehouse: one file, one schema per source, one writer at a time.

DuckDB lets a single process open a file read-write. Every write connection is taken
under a cross-process file lock (`<warehouse>.lock`) and closed in `finally`; readers
open read-only. Dagster's pool `duckdb_warehouse` (limit 1 in `dagster.yaml`) keeps
runs from queueing on the lock in the first place.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import duckdb
from filelock import FileLock

LOCK_TIMEOUT_SECONDS = 600
THREADS = 4  # at most, tables worked on at once (one per core): a small table's queries use one core
Item, Result = TypeVar("Item"), TypeVar("Result")


def quote(identifier: str) -> str:
    """A DuckDB identifier, quoted."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    """A DuckDB string literal."""
    return "'" + value.replace("'", "''") + "'"


def table_columns(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    """Column name -> DuckDB type, in order; empty when the table does not exist."""
    return dict(conn.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
                             "AND table_name = ? ORDER BY column_index", [schema, table]).fetchall())


def schema_tables(conn: duckdb.DuckDBPyConnection, schema: str) -> dict[str, dict[str, str]]:
    """Every table of a schema -> its columns (name -> DuckDB type, in order), in one query."""
    tables: dict[str, dict[str, str]] = {}
    for table, column, duck_type in conn.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE schema_name = ? "
            "ORDER BY table_name, column_index", [schema]).fetchall():
        tables.setdefault(table, {})[column] = duck_type
    return tables


@contextmanager
def unordered(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Rows stored in whatever order DuckDB's threads hand them over (faster, less memory), for tables whose order
    means nothing; not inside a transaction (a failed one refuses to set it back)."""
    before = conn.execute("SELECT current_setting('preserve_insertion_order')").fetchone()[0]
    conn.execute("SET preserve_insertion_order = false")
    try:
        yield
    finally:
        conn.execute(f"SET preserve_insertion_order = {str(before).lower()}")


def lock(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> FileLock:
    """The cross-process lock every user of the warehouse file takes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return FileLock(f"{path}.lock", timeout=timeout)


def connect(path: Path, read_only: bool = False, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection; with a `memory_limit` (e.g. "1GB") DuckDB spills to `<file>.tmp/` beyond it."""
    return duckdb.connect(str(path), read_only=read_only, config={"memory_limit": memory_limit} if memory_limit else {})


@contextmanager
def write_connection(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS,
                     memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    with lock(path, timeout):
        connection = connect(path, memory_limit=memory_limit)
        try:
            yield connection
        finally:
            connection.close()


@contextmanager
def read_connection(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS,
                    memory_limit: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection, taken under the lock: DuckDB refuses it while another process writes."""
    if not path.exists():
        raise FileNotFoundError(f"no warehouse at {path}: materialise the ingestion assets first")
    with lock(path, timeout):
        connection = connect(path, read_only=True, memory_limit=memory_limit)
        try:
            yield connection
        finally:
            connection.close()


def in_threads(conn: duckdb.DuckDBPyConnection, work: Callable[[duckdb.DuckDBPyConnection, Item], Result],
               items: Iterable[Item]) -> Iterator[Result]:
    """`work(cursor, item)` of each item, in the items' order, several at once: one thread and one cursor of `conn`
    per core (at most THREADS). DuckDB releases the GIL while it plans and runs a query, so a wide source's many
    small tables use every core, and the caller's Python (rows, Dagster events) overlaps the queries. Cursors
    have their own temporary tables and transactions; DuckDB's memory limit is shared by all. Closing the
    iterator early cancels the items not started."""
    local, cursors = threading.local(), []

    def one(item: Item) -> Result:
        if not hasattr(local, "cursor"):
            local.cursor = conn.cursor()
            cursors.append(local.cursor)
        return work(local.cursor, item)

    try:
        with ThreadPoolExecutor(min(THREADS, len(os.sched_getaffinity(0)))) as pool:
            yield from pool.map(one, items)
    finally:
        for cursor in cursors:
            cursor.close()
