"""How a source's files map to typed columns, whatever engine reads them: the files of a table (archive members
extracted first), the header, the column names (duplicates renamed), and each column's stored type from the
dictionary (vocabulary.STORED_TYPES) with the format a date is written in.

| Table Schema                         | stored as | how                                  |
|--------------------------------------|-----------|--------------------------------------|
| string, any, object, array           | VARCHAR   | read as is                           |
| integer / number / boolean / year    | BIGINT / DOUBLE / BOOLEAN / INTEGER | read as is |
| yearmonth                            | VARCHAR   | kept as written (YYYY-MM or YYYYMM)  |
| date, datetime, time (ISO)           | DATE, TIMESTAMP, TIME | read as is               |
| date/datetime with a full format     | DATE/TIMESTAMP | read as text, then parsed with the format |
| date with a month-only format (`%m`) | SMALLINT  | a month number (SNDS `*_MOI`)        |

A source's `type_overrides` replace the stored type of a declared type (SNDS flags declared boolean hold codes
0/1/9, so its declaration maps boolean to VARCHAR).
"""
from __future__ import annotations

import csv
import io
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from hdh_pipeline.sources.declaration import CsvOptions, SourceDeclaration
from hdh_pipeline.sources.dictionary import ColumnSpec
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.vocabulary import STORED_TYPES


class IngestionError(RuntimeError):
    """A table that could not be loaded; the message names the table, the file and what to do."""


class RefusedLoad(IngestionError):
    """A load beyond the source's tolerances (rejected share, rows lost): rolled back, the previous version stays."""

    def __init__(self, message: str, measures: dict[str, object]) -> None:
        super().__init__(message)
        self.measures = measures


DEFAULT_FORMATS = {"default", "any", "", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S"}


@dataclass(frozen=True)
class ColumnType:
    """The type a column is stored as, the type the CSV reader reads it as, and the format in between."""

    stored: str
    read_as: str
    strptime_format: str | None = None


def column_type(spec: ColumnSpec, overrides: dict[str, str]) -> ColumnType:
    if spec.type in overrides:
        return ColumnType(overrides[spec.type], overrides[spec.type])
    stored = STORED_TYPES.get(spec.type, "VARCHAR")
    fmt = spec.format.replace("'", "")
    if spec.type in ("date", "datetime") and fmt not in DEFAULT_FORMATS:
        if "%Y" not in fmt and "%y" not in fmt and fmt.strip("%") in ("m", "d"):
            return ColumnType("SMALLINT", "SMALLINT")
        return ColumnType(stored, "VARCHAR", fmt)
    return ColumnType(stored, stored)


@dataclass(frozen=True)
class CsvPlan:
    """What the CSV reader is told, and the conversions that follow it."""

    names: tuple[str, ...]
    types: dict[str, ColumnType] | None  # None: no dictionary, DuckDB infers types
    warnings: tuple[str, ...]
    forced: dict[str, str] = field(default_factory=dict)  # no dictionary: the declaration's `types`, inferred else


def local_files(table: SourceTable, staging: Path) -> list[Path]:
    """The table's files on disk; archive members are extracted under `staging` first."""
    if table.archive is None:
        paths = [Path(f) for f in table.files]
        for path in paths:
            if not path.is_file():
                raise IngestionError(
                    f"table {table.name}: file {path} not found; restore it or fix the source's location"
                )
        return paths
    paths = []
    with zipfile.ZipFile(table.archive) as archive:
        for member in table.files:
            target = staging / member
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(member) as data, open(f"{target}.part", "wb") as out:
                    while chunk := data.read(1 << 20):
                        out.write(chunk)
            except KeyError:
                raise IngestionError(f"table {table.name}: {member} not found in {table.archive}") from None
            os.replace(f"{target}.part", target)
            paths.append(target)
    return paths


def read_header(path: Path, options: CsvOptions) -> list[str] | None:
    """The first record of a CSV file, or None when the file is empty."""
    with open(path, encoding=options.encoding, errors="replace", newline="") as handle:
        first = next(csv.reader(io.StringIO(handle.readline()), delimiter=options.delimiter,
                                quotechar=options.quote), None)
    return [name.strip() for name in first] if first else None


def _deduplicate(names: list[str], where: str) -> tuple[list[str], list[str]]:
    seen: dict[str, int] = {}
    unique, warnings = [], []
    for name in names:
        name = name or "column"
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            renamed = f"{name}_{seen[name]}"
            warnings.append(f"{where}: duplicate column name {name!r}, occurrence {seen[name]} loaded as {renamed!r}")
            name = renamed
        unique.append(name)
    return unique, warnings


def plan_csv(table: SourceTable, declaration: SourceDeclaration, header: list[str] | None, first_file: Path) -> CsvPlan:
    spec = table.spec
    if header is None or not declaration.csv_for(table.name).header:
        if spec is None and header is None:
            raise IngestionError(
                f"table {table.name}: file {first_file} is empty and no dictionary describes the table, "
                "so its columns are unknown; add its Table Schema to the source's dictionary or remove the file"
            )
        names = [c.name for c in spec.columns] if spec else [f"column{i}" for i in range(len(header or []))]
    else:
        names = header
    names, warnings = _deduplicate(names, f"file {first_file}")
    forced = declaration.tables.get(table.name).types if table.name in declaration.tables else {}
    if spec is None:
        return CsvPlan(tuple(names), None, tuple(warnings), {n: t for n, t in forced.items() if n in names})
    types = {}
    for name in names:
        column = spec.column(name)
        if name in forced:
            types[name] = ColumnType(forced[name], forced[name])
        elif column is None:
            warnings.append(f"column {name!r} of {first_file} is not in the dictionary: loaded as text")
            types[name] = ColumnType("VARCHAR", "VARCHAR")
        else:
            types[name] = column_type(column, declaration.type_overrides)
    missing = [c.name for c in spec.columns if c.name not in names]
    if missing:
        warnings.append(f"dictionary columns absent from {first_file}: {', '.join(missing)}")
    return CsvPlan(tuple(names), types, tuple(warnings))


