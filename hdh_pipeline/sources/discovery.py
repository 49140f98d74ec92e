"""Which tables a source holds: files in a folder, a glob or a .zip, matched to the dictionary.

A table is the files declared for it (`tables.X.files`), else every data file whose
name (without extension) is the table's name. Discovery lists files; it never reads them.
"""
from __future__ import annotations

import fnmatch
import glob
import logging
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from hdh_pipeline.sources import statistical
from hdh_pipeline.sources.declaration import Roles, SourceDeclaration
from hdh_pipeline.sources.dictionary import TableSpec, read_table_schema

log = logging.getLogger(__name__)

EXTENSIONS = {"csv": (".csv", ".txt", ".tsv"), "parquet": (".parquet",), **statistical.EXTENSIONS}
NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class SourceTable:
    """One table to ingest: its files (paths, or members of `archive`) and what the declaration says of it."""

    name: str
    files: tuple[str, ...]
    format: str = "csv"  # csv, parquet, sas7bdat, xpt, dta, sav; `labels`: a code list read from value labels
    archive: Path | None = None
    spec: TableSpec | None = None
    title: str = ""
    description: str = ""
    roles: Roles = Roles()
    label_set: str = ""  # a code list read from value labels: its label set (or SAS format) in `files`


def table_name(stem: str) -> str:
    """A DuckDB- and Dagster-safe name for a file stem."""
    name = NOT_IDENTIFIER.sub("_", stem)
    return f"t_{name}" if name[0].isdigit() else name


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def expand_files(location: Path, extension: str | tuple[str, ...]) -> list[Path]:
    """Files under a folder (recursively) or matching a glob, with the given extension(s)."""
    if location.is_dir():
        candidates = location.rglob("*")
    else:
        candidates = (Path(p) for p in glob.glob(str(location), recursive=True))
    return sorted(p for p in candidates if p.is_file() and p.name.lower().endswith(extension))


def _formats(declaration: SourceDeclaration) -> list[str]:
    return list(dict.fromkeys([declaration.format, *(t.format for t in declaration.tables.values() if t.format)]))


def file_format(declaration: SourceDeclaration, table: str | None, path: str) -> str:
    """A table's format: declared for it, else the source's when its first file has that extension, else the one
    its extension says."""
    if table is not None and table in declaration.tables and declaration.tables[table].format:
        return declaration.tables[table].format  # type: ignore[return-value]
    name = path.lower()
    if name.endswith(EXTENSIONS[declaration.format]):
        return declaration.format
    return next((f for f in _formats(declaration) if name.endswith(EXTENSIONS[f])), declaration.format)


def _listing(declaration: SourceDeclaration, location: Path) -> tuple[Path | None, dict[str, str]]:
    """(archive, {relative path: path or member}) of the source's data files, excluded ones left out."""
    extensions = tuple(e for f in _formats(declaration) for e in EXTENSIONS[f])
    if location.suffix.lower() == ".zip" and location.is_file():
        with zipfile.ZipFile(location) as archive:
            members = [m for m in archive.namelist() if not m.endswith("/")]
        found = {m: m for m in members if m.lower().endswith(extensions)}
        archive_path: Path | None = location
    else:
        root = location if location.is_dir() else Path(glob.escape(str(location))).parent
        found = {p.relative_to(root).as_posix() if p.is_relative_to(root) else p.name: str(p)
                 for p in expand_files(location, extensions)}
        archive_path = None
    kept = {rel: target for rel, target in found.items()
            if not any(fnmatch.fnmatch(rel, pattern) for pattern in declaration.exclude)}
    return archive_path, kept


def discover_tables(
    declaration: SourceDeclaration, location: Path | str, dictionary: dict[str, TableSpec]
) -> tuple[SourceTable, ...]:
    if isinstance(location, str):
        return _remote_tables(declaration, location, dictionary)
    if not location.exists() and not glob.glob(str(location)):
        log.warning("source %s: location %s does not exist; only its declared tables are defined", declaration.id,
                    location)
        archive, listing = None, {}
    else:
        archive, listing = _listing(declaration, location)

    by_table: dict[str, list[str]] = {}
    claimed: set[str] = set()
    for name, declared in declaration.tables.items():
        pattern = declared.files
        matches = [rel for rel in listing if (fnmatch.fnmatch(rel, pattern) if pattern else _stem(rel) == name)]
        by_table[table_name(name)] = [listing[rel] for rel in sorted(matches)] or [
            pattern or f"{name}.{EXTENSIONS[declaration.format_of(name)][0].lstrip('.')}"]
        claimed.update(matches)
    for rel in sorted(set(listing) - claimed):
        name = table_name(_stem(rel))
        if name in by_table and name not in map(table_name, declaration.tables):
            raise ValueError(f"files {by_table[name][0]} and {listing[rel]} both make table {name!r}: "
                             "declare the table with a 'files' glob under 'tables'")
        by_table.setdefault(name, []).append(listing[rel])

    tables = []
    for name in sorted(by_table):
        declared_name = next((n for n in declaration.tables if table_name(n) == name), None)
        declared = declaration.tables.get(declared_name) if declared_name else None
        stem = declared_name or _stem(by_table[name][0])
        spec = dictionary.get(stem) or dictionary.get(name)
        tables.append(SourceTable(
            name=name,
            files=tuple(by_table[name]),
            format=file_format(declaration, declared_name, by_table[name][0]),
            archive=archive,
            spec=spec,
            title=(declared and declared.title) or (spec.title if spec else "") or stem,
            description=(declared and declared.description) or (spec.description if spec else ""),
            roles=declaration.roles_for(declared_name or stem),
        ))
    return tuple(tables)


def _remote_tables(declaration: SourceDeclaration, location: str,
                   dictionary: dict[str, TableSpec]) -> tuple[SourceTable, ...]:
    """The tables of a location only Spark lists: those declared (`files`: a file, folder or glob under it), and those
    the dictionary describes (`<location>/<TABLE>.<format>`, else declare their `files`)."""
    tables = []
    for name in sorted(set(declaration.tables) | set(dictionary)):
        declared = declaration.tables.get(name)
        spec = dictionary.get(name)
        path = (declared and declared.files) or f"{name}.{declaration.format_of(name)}"
        tables.append(SourceTable(
            name=table_name(name), files=(f"{location}/{path}",), format=declaration.format_of(name), spec=spec,
            title=(declared and declared.title) or (spec.title if spec else "") or name,
            description=(declared and declared.description) or (spec.description if spec else ""),
            roles=declaration.roles_for(name)))
    return tuple(tables)


def discover_nomenclatures(location: Path) -> tuple[SourceTable, ...]:
    """Code lists: each CSV, with the Table Schema of the same name beside it when there is one."""
    tables = []
    for path in expand_files(location, ".csv"):
        schema = path.with_suffix(".json")
        spec = read_table_schema(schema) if schema.is_file() else None
        tables.append(SourceTable(
            name=table_name(path.stem),
            files=(str(path),),
            spec=spec,
            title=(spec.title if spec else "") or path.stem,
        ))
    names = [t.name for t in tables]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"nomenclatures: several code lists are named {duplicates}")
    return tuple(tables)
