"""What a table's rejected lines look like, for the people who own its files: how many by reason and column, and a
few of them, read back from `<source>._rejects` (engines/duckdb/load.py keeps every one with its reason)."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from hdh_pipeline.engines.duckdb.load import REJECTS
from hdh_pipeline.engines.duckdb.warehouse import quote
from hdh_pipeline.vocabulary import MASK

EXAMPLES = 5
REASONS = {"CAST": "value of the wrong type", "MISSING COLUMNS": "missing columns",
           "TOO MANY COLUMNS": "extra columns", "UNQUOTED VALUE": "badly quoted value",
           "LINE SIZE OVER MAXIMUM": "line too long", "INVALID UNICODE": "invalid characters (encoding)",
           "SPARK": "did not parse (Spark)"}


@dataclass(frozen=True)
class Rejections:
    by_reason: list[tuple[str, str, int]]  # (reason in words, column or '', lines), most frequent first
    examples: list[tuple[str, int | None, str, str]]  # (file, line, error message, the line, identifiers masked)


def reason_of(error_type: str) -> str:
    return REASONS.get(error_type, error_type.lower())


def _masked(line: str, delimiter: str, columns: list[str], masked: set[str]) -> str:
    """The line with its identifier fields masked, by position, and every field past the table's last column (a line
    with extra fields may carry anything there)."""
    fields = line.split(delimiter)
    hidden = [i >= len(columns) or columns[i] in masked for i in range(len(fields))]
    return delimiter.join(MASK if hide and f else f for hide, f in zip(hidden, fields))[:200]


def rejections(conn: duckdb.DuckDBPyConnection, schema: str, table: str, columns: list[str], masked: set[str],
               delimiter: str) -> Rejections:
    """The table's rejected lines by reason and column, and the first few with identifier columns masked (the error
    message too where it is about one: it quotes the value)."""
    rejects = f"{quote(schema)}.{REJECTS}"
    counts = conn.execute(f"SELECT error_type, coalesce(column_name, ''), count(*) AS n FROM {rejects} "
                          "WHERE table_name = ? GROUP BY ALL ORDER BY n DESC, 1, 2", [table]).fetchall()
    first = conn.execute(f"SELECT file, line, error_type, column_name, reason, raw_line FROM {rejects} "
                         f"WHERE table_name = ? ORDER BY file, line LIMIT {EXAMPLES}", [table]).fetchall()
    return Rejections([(reason_of(kind), column, n) for kind, column, n in counts], [
        (file, line, f"{reason_of(kind)} ({column})" if column in masked else message,
         _masked(raw or "", delimiter, columns, masked)) for file, line, kind, column, message, raw in first])
