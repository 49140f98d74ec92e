"""Load one source table into the warehouse with DuckDB's own readers.

A load is atomic and idempotent: the table and its rejects are replaced in one
transaction, so a failed load leaves the previous version intact. CSV lines that do
not parse (field count, encoding, a value that does not fit its declared type) are not
loaded; each is kept in `<source>._rejects` with its file, line number and reason.
"""
from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from hdh_pipeline.engines.duckdb.database import load_database_table
from hdh_pipeline.engines.duckdb.statistical import LABELS, load_labels, load_statistical
from hdh_pipeline.engines.duckdb.warehouse import literal, quote, table_columns, unordered
from hdh_pipeline.engines.plan import ColumnType, IngestionError, RefusedLoad, local_files, plan_csv, read_header
from hdh_pipeline.sources.database import DatabaseError
from hdh_pipeline.sources.declaration import STATISTICAL, CsvOptions, SourceDeclaration
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.statistical import StatisticalFileError

if TYPE_CHECKING:
    from hdh_pipeline.sources.loader import Source

REJECTS = "_rejects"
REJECTS_COLUMNS = (
    "table_name VARCHAR, file VARCHAR, line BIGINT, column_name VARCHAR, "
    "error_type VARCHAR, reason VARCHAR, raw_line VARCHAR, loaded_at TIMESTAMPTZ"
)
MISSING = "_missing"  # SAS, Stata and SPSS missing values loaded as nulls, counted by reason (`.A`, user-missing 99)
MISSING_COLUMNS = "table_name VARCHAR, column_name VARCHAR, reason VARCHAR, rows BIGINT, loaded_at TIMESTAMPTZ"
PRIVATE = (REJECTS, MISSING)  # tables of a source schema that are not the source's


@dataclass(frozen=True)
class LoadResult:
    schema: str
    table: str
    files: tuple[str, ...]
    row_count: int
    rejected_rows: int
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type)
    warnings: tuple[str, ...] = field(default_factory=tuple)
    missing: tuple[tuple[str, str, int], ...] = ()  # SAS/Stata/SPSS missing values: (column, reason, rows)


def _convert(ctype: ColumnType, column_sql: str) -> str:
    """SQL turning the read value into the stored one (NULL where it does not parse)."""
    if ctype.strptime_format is None:
        return column_sql
    return f"CAST(try_strptime({column_sql}, '{ctype.strptime_format}') AS {ctype.stored})"


def _read_csv_sql(paths: list[Path], options: CsvOptions, names: tuple[str, ...], read_types: dict[str, str] | None,
                  null_values: list[str], rejects: str, extra: str = "") -> str:
    """A `read_csv(...)` call; with `read_types` None, DuckDB infers the types."""
    files = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
    args = [
        f"delim={literal(options.delimiter)}", f"quote={literal(options.quote)}",
        f"escape={literal(options.escape)}", f"header={str(options.header).lower()}",
        f"encoding={literal(options.encoding)}", f"decimal_separator={literal(options.decimal)}",
        "nullstr=[" + ", ".join(literal(v) for v in null_values) + "]",
        f"store_rejects=true, rejects_table={literal(rejects)}, rejects_scan={literal(rejects + '_scan')}",
    ]
    if read_types is not None:
        args.append("auto_detect=false")
        args.append("columns={" + ", ".join(f"{literal(n)}: {literal(t)}" for n, t in read_types.items()) + "}")
    else:
        args.append("names=[" + ", ".join(literal(n) for n in names) + "]")
    if extra:
        args.append(extra)
    return f"read_csv({files}, {', '.join(args)})"


def _collect_rejects(conn: duckdb.DuckDBPyConnection, schema: str, table: SourceTable, rejects: str,
                     staging: Path, only_column: str | None = None) -> None:
    """Move DuckDB's rejects of the last scan into `<schema>._rejects`, naming archive members `x.zip!member`."""
    file = "s.file_path"
    if table.archive is not None:
        file = f"replace(s.file_path, {literal(str(staging) + '/')}, {literal(str(table.archive) + '!')})"
    where = " WHERE e.column_name = ? AND e.error_type = 'CAST'" if only_column else ""
    conn.execute(
        f"INSERT INTO {quote(schema)}.{REJECTS} "
        f"SELECT ?, {file}, e.line, e.column_name, CAST(e.error_type AS VARCHAR), "
        f"split_part(e.error_message, chr(10), 1), e.csv_line, now() "
        f"FROM {rejects} e JOIN {rejects}_scan s USING (scan_id, file_id){where}",
        [table.name, only_column] if only_column else [table.name],
    )
    conn.execute(f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {rejects}_scan")


def _load_csv(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable,
              paths: list[Path], staging: Path) -> tuple[str, ...]:
    options = declaration.csv_for(table.name)
    header = next((h for h in (read_header(p, options) for p in paths) if h is not None), None)
    plan = plan_csv(table, declaration, header, paths[0])
    target = f"{quote(declaration.id)}.{quote(table.name)}"
    declared_missing = (table.spec.missing_values or ()) if table.spec else ()
    null_values = sorted(set(options.null_values) | set(declared_missing))
    readable = [p for p in paths if p.stat().st_size > 0]
    if not readable:
        columns = ", ".join(f"{quote(n)} {t.stored}" for n, t in plan.types.items())
        conn.execute(f"CREATE OR REPLACE TABLE {target} ({columns})")
        return (*plan.warnings, f"table {table.name}: every file is empty; the table is loaded with no rows")

    rejects = "hdh_rejects"
    read_types = {n: t.read_as for n, t in plan.types.items()} if plan.types else None
    inferred = f"sample_size={declaration.sample_size}" + (", types={" + ", ".join(
        f"{literal(n)}: {literal(t)}" for n, t in plan.forced.items()) + "}" if plan.forced else "")
    source_sql = _read_csv_sql(readable, options, plan.names, read_types, null_values, rejects,
                               "" if plan.types else inferred)
    converted = {n: t for n, t in (plan.types or {}).items() if t.strptime_format}
    if not converted:
        conn.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {source_sql}")
        _collect_rejects(conn, declaration.id, table, rejects, staging)
        return plan.warnings

    # Columns with a custom date format are read as text, then parsed; rows where one does not parse are rejected.
    conn.execute(f"CREATE OR REPLACE TEMP TABLE hdh_raw AS SELECT * FROM {source_sql}")
    _collect_rejects(conn, declaration.id, table, rejects, staging)
    unparsed = " OR ".join(f"({quote(n)} IS NOT NULL AND {_convert(t, quote(n))} IS NULL)"
                           for n, t in converted.items())
    select = ", ".join(f"{_convert(t, quote(n))} AS {quote(n)}" for n, t in plan.types.items())
    conn.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {select} FROM hdh_raw WHERE NOT ({unparsed})")
    for name, ctype in converted.items():
        failures = conn.execute(
            f"SELECT count(*) FROM hdh_raw WHERE {quote(name)} IS NOT NULL AND {_convert(ctype, quote(name))} IS NULL"
        ).fetchone()[0]
        if failures:  # a second, text-only read with this format finds the line numbers of the failures
            read_types = {n: "VARCHAR" for n in plan.names} | {name: ctype.stored}
            option = "dateformat" if ctype.stored == "DATE" else "timestampformat"
            sql = _read_csv_sql(readable, options, plan.names, read_types, null_values, rejects,
                                f"{option}={literal(ctype.strptime_format)}")
            conn.execute(f"SELECT count({quote(name)}) FROM {sql}")  # projecting the column makes DuckDB parse it
            located = conn.execute(
                f"SELECT count(*) FROM {rejects} WHERE column_name = ? AND error_type = 'CAST'", [name]).fetchone()[0]
            if located != failures:  # never drop a row without saying where it was
                raise IngestionError(f"table {table.name}: {failures} values of column {name} do not match the "
                                     f"format {ctype.strptime_format}, but only {located} could be located")
            _collect_rejects(conn, declaration.id, table, rejects, staging, only_column=name)
    conn.execute("DROP TABLE hdh_raw")
    return plan.warnings


def _rejected_share(rows: int, rejected: int) -> float:
    return rejected / (rows + rejected) if rows + rejected else 0.0


def _guard(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: str,
           previous: tuple[int, int], rows: int, rejected: int) -> None:
    """Raise RefusedLoad when the new load is beyond the source's tolerances against the `previous` one (rows,
    rejected lines): more lines rejected than the tolerance and than before, or too many rows lost."""
    limits = declaration.tolerances
    share, drop = _rejected_share(rows, rejected), (previous[0] - rows) / previous[0] if previous[0] else 0.0
    reasons = []
    if share > limits.rejected_share and share > _rejected_share(*previous):
        reasons.append(f"{share:.1%} of its lines were rejected (tolerance {limits.rejected_share:.1%}, "
                       f"previous load {_rejected_share(*previous):.1%})")
    if drop > limits.row_drop:
        reasons.append(f"it lost {drop:.1%} of its rows against the previous load (tolerance {limits.row_drop:.1%})")
    if not reasons:
        return
    causes = conn.execute(
        f"SELECT error_type, count(DISTINCT (file, line)) AS lines, min(line) AS first_line, any_value(reason) "
        f"FROM {quote(declaration.id)}.{REJECTS} WHERE table_name = ? GROUP BY 1 ORDER BY 2 DESC LIMIT 5",
        [table]).fetchall()
    raise RefusedLoad(
        f"table {table}: new load refused, {' and '.join(reasons)}; the previous version is kept. Check the files "
        f"(encoding, truncation), or accept the new version deliberately (`hdh-pipeline run --accept "
        f"{declaration.id}.{table}`, or the run tag hdh/accept={declaration.id}.{table})",
        {"previous_rows": previous[0], "previous_rejected_lines": previous[1], "rows": rows,
         "rejected_lines": rejected, "rejected_share": round(share, 4),
         "row_drop": round(drop, 4), "rejection_causes": [
             {"error_type": e, "lines": n, "first_line": first, "example": str(why)[:200]}
             for e, n, first, why in causes]})


def prepare_schema(conn: duckdb.DuckDBPyConnection, schema: str) -> None:
    """The source's schema and its table of rejected lines, if not there yet."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {quote(schema)}.{REJECTS} ({REJECTS_COLUMNS})")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {quote(schema)}.{MISSING} ({MISSING_COLUMNS})")


def load_table(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable,
               staging: Path, guard: bool = False) -> LoadResult:
    """Replace `<source>.<table>` and its rejects with the content of the table's files. With `guard`, a load
    that would replace a previous version while beyond the source's tolerances is rolled back and raises
    RefusedLoad."""
    schema = declaration.id
    paths = [] if table.format == "postgres" else local_files(table, staging)
    prepare_schema(conn, schema)
    exists = conn.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                          [schema, table.name]).fetchall()
    previous = _counts(conn, schema, table.name) if exists else None
    # a database table's rows have no order: DuckDB stores them as its threads hand them over (set outside the
    # transaction: a failed one refuses any statement but its ROLLBACK)
    with unordered(conn) if table.format == "postgres" else nullcontext():
        warnings, row_count, rejected = _replace(conn, declaration, table, paths, staging,
                                                 previous if guard else None)
    columns = tuple(table_columns(conn, schema, table.name).items())
    missing = tuple(conn.execute(f"SELECT column_name, reason, rows FROM {quote(schema)}.{MISSING} "
                                 "WHERE table_name = ? ORDER BY ALL", [table.name]).fetchall())
    return LoadResult(schema, table.name, tuple(map(str, paths)), row_count, rejected, columns, warnings, missing)


def _replace(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable,
             paths: list[Path], staging: Path, guarded: tuple[int, int] | None) -> tuple[tuple[str, ...], int, int]:
    """The table and its private rows replaced in one transaction, rolled back on any failure (with `guarded`, the
    previous version's counts: also when the new one is beyond the source's tolerances); (warnings, rows,
    rejected)."""
    schema = declaration.id
    conn.execute("BEGIN TRANSACTION")
    try:
        for private in PRIVATE:
            conn.execute(f"DELETE FROM {quote(schema)}.{private} WHERE table_name = ?", [table.name])
        warnings: tuple[str, ...] = ()
        if table.format == "parquet":
            files = "[" + ", ".join(literal(str(p)) for p in paths) + "]"
            conn.execute(f"CREATE OR REPLACE TABLE {quote(schema)}.{quote(table.name)} AS "
                         f"SELECT * FROM read_parquet({files})")
        elif table.format in STATISTICAL:
            load_statistical(conn, declaration, table, paths)
        elif table.format in LABELS:
            load_labels(conn, declaration, table)
        elif table.format == "postgres":
            load_database_table(conn, declaration, table)
        else:
            warnings = _load_csv(conn, declaration, table, paths, staging)
        row_count, rejected = _counts(conn, schema, table.name)
        if guarded is not None:  # a first load has no previous version to keep
            _guard(conn, declaration, table.name, guarded, row_count, rejected)
        conn.execute("COMMIT")
    except (duckdb.Error, StatisticalFileError, DatabaseError) as error:
        conn.execute("ROLLBACK")
        reason = str(error).split("\n")[0]
        raise IngestionError(
            f"table {table.name}: loading {', '.join(map(str, paths)) or table.files[0]} failed: {reason}. "
            "The previously loaded version is unchanged."
        ) from error
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return warnings, row_count, rejected


def _counts(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> tuple[int, int]:
    """Rows loaded and lines rejected."""
    rows = conn.execute(f"SELECT count(*) FROM {quote(schema)}.{quote(table)}").fetchone()[0]
    rejected = conn.execute(f"SELECT count(DISTINCT (file, line)) FROM {quote(schema)}.{REJECTS} "
                            "WHERE table_name = ?", [table]).fetchone()[0]
    return rows, rejected


def load_source_tables(conn: duckdb.DuckDBPyConnection, source: Source, staging: Path) -> list[LoadResult]:
    """Every table and code list of a source, in one go (outside Dagster: tests, benchmarks)."""
    results = [load_table(conn, source.declaration, table, staging / source.id) for table in source.tables]
    if source.nomenclatures:
        codes = source.declaration.for_nomenclatures()
        results += [load_table(conn, codes, table, staging / codes.id) for table in source.nomenclatures]
    return results
