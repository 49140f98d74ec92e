"""SAS, Stata and SPSS files into the warehouse: pyreadstat's Arrow batches (sources/statistical.py) streamed into
DuckDB, then typed.

A column the dictionary describes is cast to the dictionary's type, and a row whose value does not fit is rejected
(kept in `<source>._rejects` with its file, row number, column and reason), as a CSV line would be. A column only
the file describes keeps the file's type; numbers are stored as BIGINT when every value is a whole number (SAS
stores every number as a double). Blank text is missing, as in SAS. Special and user-defined missing values are
nulls, counted by reason in `<source>._missing`.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa

from hdh_pipeline.engines.duckdb.warehouse import quote
from hdh_pipeline.engines.plan import column_type
from hdh_pipeline.sources import statistical
from hdh_pipeline.sources.declaration import SourceDeclaration
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.statistical import FILE, ROW, StatisticalFileError

LABELS = ("sas-formats", "value-labels")  # code lists read from a format catalogue or a file's value labels


def _raw(declaration: SourceDeclaration, table: SourceTable) -> str:
    """The table the files' rows are streamed into before they are typed: a private table of the source's schema
    (as `_rejects`), one per table (tables load at once), not a temporary one (DuckDB keeps those in memory up to
    its limit), dropped in the load's own transaction."""
    return f"{quote(declaration.id)}.{quote('_raw_' + table.name)}"


def _stream(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable,
            paths: list[Path], raw: str) -> tuple[statistical.FileMetadata, Counter]:
    """Every file of the table into table `raw`, batch by batch; (the first file's metadata, the missing
    values by (column, reason))."""
    encoding = declaration.encoding_of(table.name)
    metas = [statistical.read_metadata(p, table.format, encoding) for p in paths]
    schema = statistical.arrow_schema(metas[0])
    for path, meta in zip(paths[1:], metas[1:]):
        if statistical.arrow_schema(meta) != schema:
            raise StatisticalFileError(f"{path}: its variables or their types differ from those of {paths[0]}")
    reasons: Counter = Counter()
    reader = pa.RecordBatchReader.from_batches(schema, (
        batch for path, meta in zip(paths, metas)
        for batch in statistical.batches(path, table.format, meta, encoding, reasons)))
    conn.register("hdh_batches", reader)  # replaced by the next one: unregistering in an aborted transaction fails
    conn.execute(f"CREATE OR REPLACE TABLE {raw} AS SELECT * FROM hdh_batches")
    conn.unregister("hdh_batches")
    return metas[0], reasons


def _whole_numbers(conn: duckdb.DuckDBPyConnection, raw: str, names: list[str]) -> set[str]:
    """The columns among `names` (DOUBLE) whose every value is a whole number BIGINT holds exactly."""
    if not names:
        return set()
    tests = ", ".join(f"coalesce(bool_and({quote(n)} = trunc({quote(n)}) AND abs({quote(n)}) < 9e15), false)"
                      for n in names)
    return {n for n, whole in zip(names, conn.execute(f"SELECT {tests} FROM {raw}").fetchone()) if whole}


def _value(variable: statistical.Variable) -> str:
    """The variable as read, blank text missing."""
    return f"NULLIF({quote(variable.name)}, '')" if variable.kind == "string" else quote(variable.name)


def _expressions(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable,
                 meta: statistical.FileMetadata, raw: str) -> dict[str, tuple[str, str | None]]:
    """Column -> (its stored value as SQL, its type when the dictionary imposes one: values that do not fit it
    are rejected)."""
    typed = table.spec is not None and table.spec.typed
    out: dict[str, tuple[str, str | None]] = {}
    for variable in meta.variables:
        value = _value(variable)
        spec = table.spec.column(variable.name) if typed else None
        if spec is None:
            out[variable.name] = (value, None)
            continue
        wanted = column_type(spec, declaration.type_overrides)
        if wanted.strptime_format and variable.kind == "string":
            out[variable.name] = (f"CAST(try_strptime({value}, '{wanted.strptime_format}') AS {wanted.stored})",
                                  wanted.stored)
        else:
            out[variable.name] = (f"TRY_CAST({value} AS {wanted.stored})", wanted.stored)
    doubles = [v.name for v in meta.variables if v.kind == "number" and out[v.name][1] is None]
    for name in _whole_numbers(conn, raw, doubles):
        out[name] = (f"CAST({quote(name)} AS BIGINT)", None)
    return out


def load_statistical(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable,
                     paths: list[Path]) -> None:
    """Replace `<source>.<table>` with the rows of the table's files (inside the caller's transaction)."""
    schema, raw = declaration.id, _raw(declaration, table)
    meta, reasons = _stream(conn, declaration, table, paths, raw)
    expressions = _expressions(conn, declaration, table, meta, raw)
    values = {v.name: _value(v) for v in meta.variables}
    failing = {name: f"({values[name]} IS NOT NULL AND {sql} IS NULL)"
               for name, (sql, stored) in expressions.items() if stored is not None}
    for name, test in failing.items():
        conn.execute(f"INSERT INTO {quote(schema)}._rejects SELECT ?, {FILE}, {ROW}, ?, 'CAST', ?, "
                     f"CAST({quote(name)} AS VARCHAR), now() FROM {raw} WHERE {test}",
                     [table.name, name, f"value does not fit the dictionary's type {expressions[name][1]}"])
    select = ", ".join(f"{sql} AS {quote(name)}" for name, (sql, _) in expressions.items())
    where = f" WHERE NOT ({' OR '.join(failing.values())})" if failing else ""
    conn.execute(f"CREATE OR REPLACE TABLE {quote(schema)}.{quote(table.name)} AS SELECT {select} FROM {raw}{where}")
    conn.execute(f"DROP TABLE {raw}")
    if reasons:
        conn.executemany(f"INSERT INTO {quote(schema)}._missing VALUES (?, ?, ?, ?, now())",
                         [[table.name, column, reason, n] for (column, reason), n in sorted(reasons.items())])


def load_labels(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable) -> None:
    """A code list (columns code and label, named by its spec) from a SAS format catalogue or a file's value
    labels."""
    path = Path(table.files[0])
    encoding = declaration.encoding_of(table.name) or declaration.encoding
    if table.format == "sas-formats":
        sets = statistical.read_formats(path, encoding)
    else:
        sets = statistical.read_metadata(path, statistical.file_format_of(path), encoding).value_labels
    if table.label_set not in sets:
        raise StatisticalFileError(f"{path}: no format or value labels named {table.label_set}")
    codes = sets[table.label_set]
    code, label = (c.name for c in table.spec.columns) if table.spec else ("code", "label")
    rows = pa.table({code: pa.array(list(codes), pa.string()), label: pa.array(list(codes.values()), pa.string())})
    conn.register("hdh_labels", rows)
    conn.execute(f"CREATE OR REPLACE TABLE {quote(declaration.id)}.{quote(table.name)} AS SELECT * FROM hdh_labels")
    conn.unregister("hdh_labels")
