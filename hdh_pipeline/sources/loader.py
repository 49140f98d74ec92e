"""Read source declarations: YAML -> `${VAR}` expansion -> validation -> resolved `Source`.

Errors name the declaration file and the key at fault. Loading touches only the
file system (declarations, dictionaries, folder or archive listings, the headers of SAS, Stata and SPSS files)
and, for a database source, the database's catalogue (tables, comments, keys); never DuckDB.
"""
from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import ValidationError

from hdh_pipeline import settings
from hdh_pipeline.sources import database as database_catalogue
from hdh_pipeline.sources import statistical
from hdh_pipeline.sources.declaration import STATISTICAL, SourceDeclaration
from hdh_pipeline.sources.dictionary import ColumnSpec, DictionaryError, TableSpec, read_dictionary
from hdh_pipeline.sources.discovery import (
    SourceTable,
    discover_nomenclatures,
    discover_tables,
    expand_files,
    table_name,
)
from hdh_pipeline.sources.omop import omop_dictionary

log = logging.getLogger(__name__)


class DeclarationError(ValueError):
    """A source declaration that cannot be used; the message says which file and key, and what to do."""


@dataclass(frozen=True)
class Source:
    declaration: SourceDeclaration
    file: Path
    location: Path | str  # a local path, or (engine spark) a URI Spark reads: s3a://, hdfs://, abfss://...
    tables: tuple[SourceTable, ...]
    nomenclatures: tuple[SourceTable, ...]
    dictionary: dict[str, TableSpec] = field(default_factory=dict)  # every table described, with data or not

    @property
    def without_data(self) -> list[TableSpec]:
        """Tables the dictionary describes but no file holds."""
        found = {t.spec.name for t in self.tables if t.spec} | {t.name for t in self.tables}
        return [spec for name, spec in self.dictionary.items() if name not in found]

    @property
    def id(self) -> str:
        return self.declaration.id

    @property
    def remote(self) -> bool:
        """Its files are not on this machine: only Spark reads them, and no sensor looks at them."""
        return isinstance(self.location, str)


def _expand(value: object, file: Path, key: str) -> object:
    """Replace `${VAR}` and `${VAR:-default}` in every string of the YAML tree."""
    if isinstance(value, dict):
        return {k: _expand(v, file, f"{key}.{k}" if key else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, file, f"{key}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    try:
        return settings.expand(value)
    except KeyError as missing:
        name = missing.args[0]
        raise DeclarationError(f"{file}: key '{key}' uses ${{{name}}}, which is not set; set it or write "
                               f"${{{name}:-default}}") from None


def _format_validation(error: ValidationError, file: Path) -> str:
    lines = [f"{file}: invalid source declaration"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = "unknown key (check its spelling)" if item["type"] == "extra_forbidden" else item["msg"]
        lines.append(f"  - key '{key}': {message}")
    return "\n".join(lines)


def read_declaration(file: Path) -> SourceDeclaration:
    """Validate one YAML declaration (no path resolution)."""
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as error:
        raise DeclarationError(f"{file}: cannot read the declaration ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise DeclarationError(f"{file}: not valid YAML ({error})") from None
    if not isinstance(raw, dict):
        raise DeclarationError(f"{file}: a declaration is a mapping of keys (id, title, location...)")
    try:
        return SourceDeclaration.model_validate(_expand(raw, file, ""))
    except ValidationError as error:
        raise DeclarationError(_format_validation(error, file)) from None


def _resolve(base: Path, path: str) -> Path:
    return (base / os.path.expanduser(path)).resolve() if not Path(path).is_absolute() else Path(path)


def load_source(file: Path) -> Source:
    """Read, validate and resolve one declaration into the tables it yields."""
    declaration = read_declaration(file)
    if declaration.database is not None:
        return _database_source(declaration, file)
    base = file.resolve().parent
    remote = "://" in declaration.location and not declaration.location.startswith("file://")
    if remote and declaration.engine != "spark":
        raise DeclarationError(f"{file}: key 'location': {declaration.location.split('://')[0]}:// locations are "
                               "read by Spark only: add `engine: spark`")
    location = declaration.location.rstrip("/") if remote else _resolve(base, declaration.location.removeprefix(
        "file://"))
    try:
        dictionary: dict[str, TableSpec] = {}
        if declaration.dictionary and declaration.dictionary.path:
            schema_files = expand_files(_resolve(base, declaration.dictionary.path), ".json")
            if not schema_files:
                raise DeclarationError(f"{file}: key 'dictionary.path' matches no .json file "
                                       f"({declaration.dictionary.path})")
            dictionary = read_dictionary(schema_files)
        tables = discover_tables(declaration, location, dictionary)
        if declaration.dictionary and declaration.dictionary.omop:  # the CDM's description of the tables found
            dictionary = omop_dictionary(declaration.dictionary.omop, [t.name for t in tables])
            tables = discover_tables(declaration, location, dictionary)
        nomenclatures = (
            discover_nomenclatures(_resolve(base, declaration.nomenclatures.path))
            if declaration.nomenclatures else ()
        )
        formats = _resolve(base, declaration.formats) if declaration.formats else None
        tables, labelled = _statistical(declaration, tables, formats, {t.name for t in nomenclatures})
        nomenclatures += labelled
    except (DictionaryError, FileNotFoundError, ValueError) as error:
        if isinstance(error, DeclarationError):
            raise
        raise DeclarationError(f"{file}: {error}") from None
    return Source(declaration, file.resolve(), location, tables, nomenclatures, dictionary)


def _database_source(declaration: SourceDeclaration, file: Path) -> Source:
    """A PostgreSQL schema's tables, documented by its comments and keys. Unreachable now, the declared tables are
    defined undocumented (their load will say why), or none when the declaration lists none."""
    database = declaration.database
    url = database.url.get_secret_value()
    try:
        found = database_catalogue.describe(url, database.db_schema, database.tables)
    except database_catalogue.DatabaseError as error:
        log.warning("source %s: %s", declaration.id, error)
        # its declared tables, undocumented; none declared: one standing for the schema, whose load says why
        found = dict.fromkeys(database.tables or [database_catalogue.UNLISTED])
    tables = tuple(SourceTable(table_name(name.replace("*", database.db_schema)), (f"{database.db_schema}.{name}",),
                               "postgres", spec=spec,
                               title=name, description=spec.description if spec else "",
                               roles=declaration.roles_for(name))
                   for name, spec in found.items())
    return Source(declaration, file.resolve(), database_catalogue.redacted(url), tables, ())


def _statistical(declaration: SourceDeclaration, tables: tuple[SourceTable, ...], formats: Path | None,
                 taken: set[str]) -> tuple[tuple[SourceTable, ...], tuple[SourceTable, ...]]:
    """SAS, Stata and SPSS tables documented by their own labels where the dictionary is silent, and their code
    lists: the SAS formats of the `formats` catalogue, the value labels of Stata and SPSS files. A file that cannot
    be read is left undocumented here (its load says why, and only that table fails)."""
    found = [t for t in tables if t.format in STATISTICAL and not t.archive and Path(t.files[0]).is_file()]
    if not found and formats is None:
        return tables, ()
    code_lists: list[SourceTable] = []
    contents: dict[str, dict[str, str]] = {}  # code list -> its codes, for files sharing a label set
    shared: dict[str, str] = {}  # SAS format -> code list, for every table
    if formats is not None:
        try:
            sets = statistical.read_formats(formats, declaration.encoding)
        except (statistical.StatisticalFileError, OSError) as error:
            log.warning("source %s: key 'formats': %s; its tables load without their code lists", declaration.id,
                        error)
            code_lists.append(SourceTable("formats", (str(formats),), "sas-formats"))  # its load says why
            sets = {}
        for name in sorted(sets, key=lambda n: n.startswith("$")):  # numeric formats keep the bare name
            shared[name] = statistical.code_list_name(name, taken)
            taken.add(shared[name])
            code_lists.append(SourceTable(shared[name], (str(formats),), "sas-formats", title=shared[name],
                                          label_set=name))
    described = {}
    for table in found:
        encoding = declaration.encoding_of(table.name)
        try:
            meta = statistical.read_metadata(Path(table.files[0]), table.format, encoding)
        except statistical.StatisticalFileError as error:
            log.warning("source %s: table %s: %s", declaration.id, table.name, error)
            continue
        own = dict(shared)
        for label_set, labels in meta.value_labels.items():
            if label_set in shared:
                continue
            users = [v.name for v in meta.variables if v.label_set == label_set]
            # SPSS names its label sets labels0, labels1...: such a code list is named after its first variable
            name = statistical.code_list_name(users[0] if table.format == "sav" and users else label_set, taken)
            if contents.get(name) != labels:  # the same codes in another file: one code list
                name = name if name not in taken else f"{name}_{table.name}"
                taken.add(name)
                contents[name] = labels
                code_lists.append(SourceTable(name, (table.files[0],), "value-labels", title=name,
                                              label_set=label_set))
            own[label_set] = name
        spec = statistical.describe(table.name, Path(table.files[0]), meta, table.spec, own)
        described[table.name] = dataclasses.replace(table, spec=spec, title=table.title if table.title != table.name
                                                    or not spec.title else spec.title,
                                                    description=table.description or spec.description)
    tables = tuple(described.get(t.name, t) for t in tables)
    return tables, tuple(_columns_named(code_list, tables) for code_list in code_lists)


def _columns_named(code_list: SourceTable, tables: tuple[SourceTable, ...]) -> SourceTable:
    """A code list read from labels has columns `code` and `label`, unless the dictionary's keys name its code
    column (`nomenclature: IR_SEX_V:SEX_COD`): then that name, as a CSV code list would have it."""
    named = {ref.column for t in tables if t.spec for c in t.spec.columns
             if (ref := c.nomenclature) and ref.table == code_list.name and ref.column}
    named |= {fk.referenced_columns[0] for t in tables if t.spec for fk in t.spec.foreign_keys
              if fk.table == code_list.name and len(fk.referenced_columns) == 1}
    code = named.pop() if len(named) == 1 else "code"
    spec = TableSpec(code_list.name, Path(code_list.files[0]), title=code_list.title, primary_key=(code,),
                     columns=(ColumnSpec(code), ColumnSpec("label")), typed=False)
    return dataclasses.replace(code_list, spec=spec)


def load_sources(files: list[Path]) -> list[Source]:
    """Every declared source; two declarations with one id is an error."""
    sources: dict[str, Source] = {}
    for file in files:
        source = load_source(file)
        if source.id in sources:
            raise DeclarationError(f"{file}: key 'id': {source.id!r} is already declared in {sources[source.id].file}")
        sources[source.id] = source
    return list(sources.values())
