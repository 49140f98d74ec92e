"""A PostgreSQL schema as a source, through ADBC's PostgreSQL driver: its tables, their comments as descriptions,
their primary and foreign keys as join keys (`describe`), and each table's rows as Arrow batches (`batches`).

The connection URL carries the password (`${VAR}` in the declaration): it is held as a secret, and every message
names the server by `redacted(url)`; an error text that would quote the password has it masked.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import adbc_driver_postgresql.dbapi as adbc
import pyarrow as pa

from hdh_pipeline.sources.dictionary import ColumnSpec, ForeignKey, TableSpec

CONNECT_TIMEOUT_SECONDS = 10
UNLISTED = "*"  # the tables of a schema that could not be listed when the definitions were loaded
_TYPES = {"integer": "integer", "smallint": "integer", "bigint": "integer", "numeric": "number", "real": "number",
          "double precision": "number", "date": "date", "timestamp": "datetime", "boolean": "boolean",
          "time": "time"}


class DatabaseError(RuntimeError):
    """The database cannot be reached or read; the message names the server (never its password) and the table."""


def redacted(url: str) -> str:
    """The URL without its password: how the server is named in every message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    return urlunsplit(parts._replace(netloc=netloc + (f":{parts.port}" if parts.port else ""), query=""))


def _masked(text: str, url: str) -> str:
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _first_line(error: Exception, url: str) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return _masked(lines[0] if lines else type(error).__name__, url)


@contextmanager
def connect(url: str) -> Iterator[adbc.Connection]:
    """An ADBC connection (autocommit, read only in intent), or DatabaseError naming the server."""
    separator = "&" if "?" in url else "?"
    try:
        connection = adbc.connect(f"{url}{separator}connect_timeout={CONNECT_TIMEOUT_SECONDS}", autocommit=True)
    except Exception as error:  # adbc's errors (a host, a password, a database name)
        raise DatabaseError(f"database {redacted(url)} cannot be reached: {_first_line(error, url)}") from None
    try:
        yield connection
    finally:
        connection.close()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _rows(connection: adbc.Connection, sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


def describe(url: str, schema: str, wanted: list[str]) -> dict[str, TableSpec]:
    """Each table of the schema (the `wanted` ones, or all), described by its comments and keys. Raises
    DatabaseError."""
    with connect(url) as connection:
        try:
            return _describe(connection, schema, wanted)
        except Exception as error:
            raise DatabaseError(f"database {redacted(url)}: reading the catalogue of schema {schema} failed: "
                                f"{_first_line(error, url)}") from None


def _describe(connection: adbc.Connection, schema: str, wanted: list[str]) -> dict[str, TableSpec]:
    where = f"n.nspname = {_literal(schema)}"
    tables = {name: comment or "" for name, comment in _rows(connection, (
        "SELECT c.relname, obj_description(c.oid, 'pg_class') FROM pg_class c JOIN pg_namespace n ON n.oid = "
        f"c.relnamespace WHERE {where} AND c.relkind IN ('r', 'p', 'v', 'm', 'f') ORDER BY 1"))}
    missing = [name for name in wanted if name not in tables]
    if missing:
        raise ValueError(f"no table {', '.join(missing)} in schema {schema}")
    columns: dict[str, list[tuple[str, str, str]]] = {}
    for table, name, comment, kind in _rows(connection, (
            "SELECT c.relname, a.attname, col_description(c.oid, a.attnum), format_type(a.atttypid, a.atttypmod) "
            "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
            f"c.relnamespace WHERE {where} AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum")):
        columns.setdefault(table, []).append((name, comment or "", kind))
    keys = _rows(connection, (
        "SELECT con.contype, c.relname, f.relname, "
        "array_to_string(ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.conrelid AND attnum = ANY("
        "con.conkey) ORDER BY array_position(con.conkey, attnum)), ','), "
        "array_to_string(ARRAY(SELECT attname FROM pg_attribute WHERE attrelid = con.confrelid AND attnum = ANY("
        "con.confkey) ORDER BY array_position(con.confkey, attnum)), ',') "
        "FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = "
        f"c.relnamespace LEFT JOIN pg_class f ON f.oid = con.confrelid WHERE {where} AND con.contype IN ('p', 'f') "
        "ORDER BY 1, 2, 4"))
    out = {}
    for table in wanted or list(tables):
        primary = next((tuple(cols.split(",")) for kind, t, _, cols, _ in keys if kind == "p" and t == table), ())
        foreign = tuple(ForeignKey(tuple(cols.split(",")), referenced, tuple(theirs.split(",")))
                        for kind, t, referenced, cols, theirs in keys if kind == "f" and t == table)
        found = columns.get(table, [])
        spec = TableSpec(table, Path(f"{schema}.{table}"), description=tables[table], primary_key=primary,
                         foreign_keys=foreign, typed=False, columns=tuple(
                             ColumnSpec(name, type=_TYPES.get(re.sub(r"\(.*|\s+with.*|\s+without.*", "", kind),
                                                              "string"), description=comment)
                             for name, comment, kind in found))
        out[table] = spec
    return out


def duckdb_type(field: pa.Field) -> str | None:
    """The DuckDB type a column's text is cast to, for the types ADBC hands over as text (numeric, from its type
    modifier: precision and scale); None: kept as read."""
    metadata = field.metadata or {}
    if metadata.get(b"POSTGRESQL:type") != b"numeric":
        return None
    modifier = int(metadata.get(b"POSTGRESQL:typmod", b"-1")) - 4
    precision, scale = modifier >> 16, modifier & 0xFFFF
    return f"DECIMAL({precision},{scale})" if 0 < precision <= 38 else "DOUBLE"


def batches(url: str, schema: str, table: str) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The table's rows as Arrow batches (ADBC's own stream: memory holds a batch at a time); types PostgreSQL
    hands over as opaque extensions (numeric) come as their text."""
    stack = ExitStack()
    if table == UNLISTED:  # the database did not answer when the definitions were loaded
        with connect(url):
            raise DatabaseError(f"database {redacted(url)} answers now: reload the definitions to list the tables "
                                f"of schema {schema}")
    quoted = '"' + schema.replace('"', '""') + '"."' + table.replace('"', '""') + '"'
    try:
        cursor = stack.enter_context(closing(stack.enter_context(connect(url)).cursor()))
        cursor.execute(f"SELECT * FROM {quoted}")
        reader = cursor.fetch_record_batch()
    except DatabaseError:
        stack.close()
        raise
    except Exception as error:
        stack.close()
        raise DatabaseError(f"database {redacted(url)}: reading {schema}.{table} failed: "
                            f"{_first_line(error, url)}") from None
    plain = pa.schema([f.with_type(f.type.storage_type) if isinstance(f.type, pa.ExtensionType) else f
                       for f in reader.schema])

    def stream() -> Iterator[pa.RecordBatch]:
        try:
            for batch in reader:
                yield pa.RecordBatch.from_arrays([c.storage if isinstance(c, pa.ExtensionArray) else c
                                                  for c in batch.columns], schema=plain)
        except Exception as error:
            raise DatabaseError(f"database {redacted(url)}: reading {schema}.{table} failed: "
                                f"{_first_line(error, url)}") from None
        finally:
            stack.close()

    return plain, stream()
