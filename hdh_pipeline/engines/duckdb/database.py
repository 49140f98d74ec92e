"""A PostgreSQL table into the warehouse: ADBC's Arrow batches (sources/database.py) streamed into DuckDB, numeric
columns (handed over as text) cast to DECIMAL(precision, scale), or DOUBLE when unbounded."""
from __future__ import annotations

import duckdb
import pyarrow as pa

from hdh_pipeline.engines.duckdb.warehouse import quote
from hdh_pipeline.sources import database
from hdh_pipeline.sources.declaration import SourceDeclaration
from hdh_pipeline.sources.discovery import SourceTable


def load_database_table(conn: duckdb.DuckDBPyConnection, declaration: SourceDeclaration, table: SourceTable) -> None:
    """Replace `<source>.<table>` with the rows of the database table (inside the caller's transaction)."""
    schema, _, name = table.files[0].partition(".")
    arrow_schema, batches = database.batches(declaration.database.url.get_secret_value(), schema, name)
    columns = ", ".join(f"CAST({quote(f.name)} AS {cast}) AS {quote(f.name)}" if (cast := database.duckdb_type(f))
                        else quote(f.name) for f in arrow_schema)
    conn.register("hdh_rows", pa.RecordBatchReader.from_batches(arrow_schema, batches))
    conn.execute(f"CREATE OR REPLACE TABLE {quote(declaration.id)}.{quote(table.name)} AS SELECT {columns} "
                 "FROM hdh_rows")
    conn.unregister("hdh_rows")
