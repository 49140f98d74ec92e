"""A DuckDB SQLAlchemy dialect whose cursors hold their results: what Great Expectations needs.

Why it exists: duckdb_engine's "cursor" is the DuckDB connection itself, which keeps a
query's result until the next statement or transaction end. Great Expectations 1.x runs a
metric query, lets SQLAlchemy return the connection to the pool (which rolls back), and only
then fetches the rows, which are gone: every expectation fails with "list index out of range"
(great_expectations issues 10738 and 11579). This dialect fetches each result when the
statement runs, so rolling back later loses nothing. Results of GX metric queries are small
(aggregates, or a bounded sample of unexpected rows), so buffering them is cheap.

Use it as `duckdb+buffered:///path/to/file.duckdb?access_mode=read_only&search_path=schema` once
`register()` has run.
"""
from __future__ import annotations

from typing import Any

from duckdb_engine import ConnectionWrapper, CursorWrapper, Dialect
from sqlalchemy.dialects import registry

URL_SCHEME = "duckdb+buffered"


class BufferedCursor(CursorWrapper):
    """Runs a statement, then fetches its whole result at once."""

    def __init__(self, connection: Any, wrapper: ConnectionWrapper) -> None:
        super().__init__(connection, wrapper)
        self._duckdb = connection
        self._rows: list = []
        self._description = None

    def execute(self, statement: str, parameters: Any = None, context: Any = None) -> None:
        super().execute(statement, parameters, context)
        self._description = self._duckdb.description
        self._rows = self._duckdb.fetchall() if self._description else []

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return len(self._rows) if self._description else -1

    def fetchone(self) -> tuple | None:
        return self._rows.pop(0) if self._rows else None

    def fetchmany(self, size: int | None = None) -> list:
        size = size or 1
        taken, self._rows = self._rows[:size], self._rows[size:]
        return taken

    def fetchall(self) -> list:
        taken, self._rows = self._rows, []
        return taken


class BufferedConnection(ConnectionWrapper):
    def __init__(self, connection: Any) -> None:
        super().__init__(connection)
        self._duckdb = connection

    def cursor(self) -> BufferedCursor:
        return BufferedCursor(self._duckdb, self)


OPEN: list = []  # every DuckDB connection this dialect opened and has not closed yet


def close_all() -> None:
    """Close every connection this dialect opened. GX keeps engines (and their pools) of its own, and
    DuckDB refuses a connection with another configuration to a file while one is open in the process."""
    while OPEN:
        OPEN.pop().close()


class BufferedDuckDBDialect(Dialect):
    driver = "buffered"
    supports_statement_cache = False  # as duckdb_engine's; said again so SQLAlchemy does not warn

    def connect(self, *args: Any, **kwargs: Any) -> BufferedConnection:
        """Connect; a `search_path` URL parameter (not a DuckDB start-up option) is set on the connection."""
        search_path = dict(kwargs.get("url_config") or {}).get("search_path")
        if search_path:
            kwargs["url_config"] = {k: v for k, v in kwargs["url_config"].items() if k != "search_path"}
        duckdb_connection = super().connect(*args, **kwargs)._ConnectionWrapper__c
        if search_path:
            duckdb_connection.execute(f"SET search_path = '{search_path}'")
        OPEN.append(duckdb_connection)
        return BufferedConnection(duckdb_connection)


def register() -> None:
    """Make `duckdb+buffered://` known to SQLAlchemy (idempotent)."""
    registry.register("duckdb.buffered", __name__, "BufferedDuckDBDialect")
