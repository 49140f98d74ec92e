"""Declared (Table Schema) types -> stored types (vocabulary.STORED_TYPES), and how DuckDB's CSV reader gets there.

| Table Schema                         | DuckDB    | how                                  |
|--------------------------------------|-----------|--------------------------------------|
| string, any, object, array           | VARCHAR   | read as is                           |
| integer                              | BIGINT    | read as is                           |
| number                               | DOUBLE    | read as is (the source's decimal mark)|
| boolean                              | BOOLEAN   | read as is (true/false/1/0...)       |
| year                                 | INTEGER   | read as is                           |
| yearmonth                            | VARCHAR   | kept as written (YYYY-MM or YYYYMM)  |
| date, ISO or format `default`/`any`  | DATE      | read as is                           |
| date/datetime with a full format     | DATE/TIMESTAMP | read as text, then `strptime`   |
| date with a month-only format (`%m`) | SMALLINT  | a month number (SNDS `*_MOI`)        |
| datetime, ISO                        | TIMESTAMP | read as is                           |
| time                                 | TIME      | read as is                           |

A source's `type_overrides` replace the DuckDB type of a declared type (SNDS flags
declared boolean hold codes 0/1/9, so its declaration maps boolean to VARCHAR).
"""
from __future__ import annotations

from dataclasses import dataclass

from hdh_pipeline.sources.dictionary import ColumnSpec
from hdh_pipeline.vocabulary import STORED_TYPES

DEFAULT_FORMATS = {"default", "any", "", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"}


@dataclass(frozen=True)
class ColumnType:
    """The type a column is stored as, the type the CSV reader reads it as, and the format in between."""

    duckdb: str
    read_as: str
    strptime_format: str | None = None

    def convert(self, column_sql: str) -> str:
        """SQL turning the read value into the stored one (NULL where it does not parse)."""
        if self.strptime_format is None:
            return column_sql
        return f"CAST(try_strptime({column_sql}, '{self.strptime_format}') AS {self.duckdb})"


def column_type(spec: ColumnSpec, overrides: dict[str, str]) -> ColumnType:
    if spec.type in overrides:
        return ColumnType(overrides[spec.type], overrides[spec.type])
    duckdb = STORED_TYPES.get(spec.type, "VARCHAR")
    fmt = spec.format.replace("'", "")
    if spec.type in ("date", "datetime") and fmt not in DEFAULT_FORMATS:
        if "%Y" not in fmt and "%y" not in fmt and fmt.strip("%") in ("m", "d"):
            return ColumnType("SMALLINT", "SMALLINT")
        return ColumnType(duckdb, "VARCHAR", fmt)
    return ColumnType(duckdb, duckdb)
