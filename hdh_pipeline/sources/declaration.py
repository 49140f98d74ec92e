"""The source declaration: one YAML file per source database, validated by pydantic.

Every key has a default a user would expect; unknown keys are errors, so a typo is
reported instead of silently ignored. Paths are resolved by `loader.py`.
"""
from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from typing import Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hdh_pipeline.vocabulary import DECLARABLE_TYPES, DEFAULT_K

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
OWNER = re.compile(r"^(team:[A-Za-z0-9_-]+|[^@\s]+@[^@\s]+\.[^@\s]+)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(Strict):
    name: str
    url: str | None = None


class Contact(Strict):
    name: str | None = None
    email: str | None = None
    url: str | None = None


class Access(Strict):
    """How a researcher obtains the data: what a catalogue reader needs before a request."""

    conditions: str = Field("", description="who may access the data, and on what conditions")
    procedure_url: str | None = Field(None, description="where the request is made (a form, a portal page)")
    delay: str = Field("", description="how long a request usually takes, in words (e.g. 3 to 6 months)")
    contact: str = Field("", description="whom to ask about access: an email or a service")


class CsvOptions(Strict):
    """How the CSV files of a source are written."""

    delimiter: str = ","
    encoding: Literal["utf-8", "latin-1", "utf-16"] = "utf-8"
    decimal: Literal[".", ","] = "."
    header: bool = True
    quote: str = '"'
    escape: str = '"'
    null_values: list[str] = Field(default_factory=lambda: [""])

    @field_validator("delimiter", "quote", "escape")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1:
            raise ValueError(f"must be a single character, got {value!r}")
        return value


class Roles(Strict):
    """Which columns play the parts later steps need (population, time depth, plausibility)."""

    person_id: list[str] = Field(default_factory=list)
    sex: str | None = None
    birth_year: str | None = None
    birth_date: str | None = None
    age: str | None = None
    death_date: str | None = None
    event_date: list[str] = Field(default_factory=list)
    start_date: str | None = None
    end_date: str | None = None

    @field_validator("person_id", "event_date", mode="before")
    @classmethod
    def _as_list(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    def by_column(self) -> dict[str, str]:
        """Column -> its role (the first declared one, person_id first, when a column has several)."""
        roles: dict[str, str] = {}
        for role, value in self.model_dump().items():
            for column in [value] if isinstance(value, str) else value or []:
                roles.setdefault(column, role)
        return roles

    def merged_over(self, defaults: Roles) -> Roles:
        """These roles, falling back to `defaults` for every role left unset."""
        return Roles(**{**defaults.model_dump(exclude_defaults=True), **self.model_dump(exclude_defaults=True)})


class Dictionary(Strict):
    """Frictionless Table Schema files (plain or SNDS flavour), one per table; or the OMOP CDM's specification."""

    path: str | None = Field(None, description="folder or glob of *.json Table Schemas, relative to the declaration")
    omop: Literal["5.3", "5.4"] | None = Field(None, description="an OMOP CDM source: its version, whose published "
                                                                "specification documents the tables")

    @model_validator(mode="after")
    def _one(self) -> Dictionary:
        if (self.path is None) == (self.omop is None):
            raise ValueError("a dictionary is either `path` (Table Schema files) or `omop` (a CDM version)")
        return self


class Database(Strict):
    """A PostgreSQL schema read through ADBC: every table of the schema, or the listed ones."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    url: SecretStr = Field(description="postgresql://user:${PASSWORD_VARIABLE}@host:5432/database: write the "
                                       "password as ${VAR}, set in the environment")
    db_schema: str = Field("public", alias="schema", description="the schema whose tables are the source's")
    tables: list[str] = Field(default_factory=list, description="tables to read (default: every table)")


class Nomenclatures(Strict):
    """Code lists: CSV files with an optional Table Schema beside each (`X.csv` + `X.json`)."""

    path: str = Field(description="folder or glob of code-list CSV files")
    csv: CsvOptions = Field(default_factory=lambda: CsvOptions(delimiter=";"))


class SexCodes(Strict):
    """Codes of the sex role, compared as text (defaults: SNDS, OMOP and common conventions)."""

    male: list[str] = Field(default_factory=lambda: ["1", "M", "H", "8507"])
    female: list[str] = Field(default_factory=lambda: ["2", "F", "8532"])


def _duckdb_types(value: dict[str, str]) -> dict[str, str]:
    for name, duck in value.items():
        if duck.upper() not in DECLARABLE_TYPES:
            raise ValueError(f"{name}: {duck!r} is not one of {sorted(DECLARABLE_TYPES)}")
    return {k: v.upper() for k, v in value.items()}


class Tolerances(Strict):
    """How far a refresh may move from the previous one. Beyond the guard's limits a table's new load is refused
    (the previous version stays); beyond the drift limits a warning check fails."""

    rejected_share: float = Field(0.05, ge=0, le=1, description="guard: lines rejected / lines read")
    rejected_warning: float = Field(0.001, ge=0, le=1, description="the `loaded` check warns beyond this share of "
                                                                   "lines rejected (0.1 %)")
    row_drop: float = Field(0.2, ge=0, le=1, description="guard: rows lost against the previous load, as a share")
    row_change: float = Field(0.2, ge=0, description="drift: rows gained or lost, as a share of the previous count")
    completeness_change: float = Field(0.05, ge=0, le=1, description="drift: completeness moved by more than this")
    distribution_shift: float = Field(0.1, ge=0, le=1, description="drift: total variation distance between the "
                                                                   "two refreshes' frequency tables or histograms")


FileFormat = Literal["csv", "parquet", "sas7bdat", "xpt", "dta", "sav"]
STATISTICAL = ("sas7bdat", "xpt", "dta", "sav")  # read with pyreadstat (sources/statistical.py)


class TableDeclaration(Strict):
    files: str | None = Field(None, description="glob of this table's files, relative to the location")
    format: FileFormat | None = Field(None, description="this table's file format, over the source's")
    encoding: str | None = Field(None, description="SAS, Stata or SPSS files: their encoding, over the source's")
    title: str | None = None
    description: str | None = None
    roles: Roles = Field(default_factory=Roles)
    types: dict[str, str] = Field(default_factory=dict, description="column -> DuckDB type, over the dictionary")
    csv: dict[str, object] = Field(default_factory=dict, description="CSV options of this table's files, over "
                                                                     "the source's (e.g. encoding: latin-1)")

    @field_validator("types")
    @classmethod
    def _types(cls, value: dict[str, str]) -> dict[str, str]:
        return _duckdb_types(value)

    @field_validator("csv")
    @classmethod
    def _csv(cls, value: dict[str, object]) -> dict[str, object]:
        CsvOptions(**value)  # the same keys and checks as the source's options
        return value


class SourceDeclaration(Strict):
    id: str
    title: str
    description: str = ""
    producer: Organisation
    contact: Contact = Field(default_factory=Contact)
    licence: str = Field(description="licence of the data, or its access conditions")
    access: Access = Field(default_factory=Access, description="how to obtain the data: conditions, procedure_url, "
                                                                "delay, contact (a text: the conditions)")
    update_frequency: str = Field("0 3 * * 1", description="cron string: when the source is refreshed")
    owners: list[str] = Field(default_factory=list, description="Dagster owners: emails or team:name")
    location: str | None = Field(None, description="a folder, a glob, or a .zip of the source files; with `engine: "
                                                   "spark`, also any location Spark reads (s3a://, hdfs://...)")
    database: Database | None = Field(None, description="a PostgreSQL schema, instead of files at a location")
    engine: Literal["duckdb", "spark"] = Field("duckdb", description="what reads and aggregates the source: duckdb "
                                               "copies it into the local warehouse, spark reads it where it lives")
    format: FileFormat = Field("csv", description="csv, parquet, or as statistical software writes them: sas7bdat, "
                                                  "xpt (SAS transport), dta (Stata), sav (SPSS)")
    encoding: str | None = Field(None, description="SAS, Stata or SPSS files: their encoding (e.g. latin1, "
                                                   "windows-1252) when not the one the file says")
    formats: str | None = Field(None, description="SAS formats of the tables' variables: a format catalogue "
                                                  "(.sas7bcat) or a PROC FORMAT CNTLOUT data set, relative to the "
                                                  "declaration; they become code lists")
    csv: CsvOptions = Field(default_factory=CsvOptions)
    exclude: list[str] = Field(default_factory=lambda: ["__MACOSX/*", ".*", "*/.*"])
    sample_size: int = Field(
        -1, description="rows DuckDB reads to infer types where no dictionary says them; -1 reads all"
    )
    dictionary: Dictionary | None = None
    nomenclatures: Nomenclatures | None = None
    type_overrides: dict[str, str] = Field(
        default_factory=dict, description="Table Schema type -> DuckDB type, e.g. boolean: VARCHAR"
    )
    roles: Roles = Field(default_factory=Roles, description="default roles for every table that has the columns")
    sex_codes: SexCodes = Field(default_factory=SexCodes)
    language: Literal["fr", "en"] = Field("fr", description="language of the dictionary: the source's pages, charts "
                                                            "and exports speak it (words/)")
    timezone: str = Field("Europe/Paris", description="time zone of update_frequency's schedule")
    disclosure_k: int = Field(DEFAULT_K, ge=2, description="no published count is in 1..k-1")
    reference_date: dt.date | None = Field(
        None, description="date the data runs to: later event dates are implausible (default: the last event date "
                          "found, never after today; vocabulary.reference_date)")
    tolerances: Tolerances = Field(default_factory=Tolerances)
    history: int = Field(20, ge=2, description="refreshes whose profile is kept in the warehouse (drift, history)")
    tables: dict[str, TableDeclaration] = Field(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(
                f"{value!r} is not a valid source id: use lower-case letters, digits and _, starting with a letter"
            )
        return value

    @field_validator("access", mode="before")
    @classmethod
    def _access(cls, value: object) -> object:
        return {"conditions": value} if isinstance(value, str) else value

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: list[str]) -> list[str]:
        for owner in value:
            if not OWNER.match(owner):
                raise ValueError(f"{owner!r} is neither an email nor 'team:name'")
        return value

    @field_validator("update_frequency")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a valid cron string (e.g. '0 3 * * 1' for Mondays at 03:00)")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Paris)") from None
        return value

    @field_validator("type_overrides")
    @classmethod
    def _type_overrides(cls, value: dict[str, str]) -> dict[str, str]:
        return _duckdb_types(value)

    @model_validator(mode="after")
    def _parquet_has_no_csv_options(self) -> SourceDeclaration:
        tables = [name for name, table in self.tables.items() if table.csv]
        if self.format == "parquet" and ("csv" in self.model_fields_set or tables):
            raise ValueError(f"csv options are given{' for ' + ', '.join(tables) if tables else ''} "
                             "but format is parquet")
        return self

    @model_validator(mode="after")
    def _files_or_a_database(self) -> SourceDeclaration:
        if (self.location is None) == (self.database is None):
            raise ValueError("give either `location` (files) or `database` (a PostgreSQL schema)")
        if self.database is not None and self.engine != "duckdb":
            raise ValueError("a `database` source is read by the duckdb engine: remove `engine: spark`")
        return self

    @model_validator(mode="after")
    def _spark_reads_no_statistical_files(self) -> SourceDeclaration:
        formats = {self.format, *(t.format for t in self.tables.values() if t.format)}
        if self.engine == "spark" and formats & set(STATISTICAL):
            raise ValueError(f"format {sorted(formats & set(STATISTICAL))[0]} is read by the duckdb engine "
                             "(pyreadstat reads local files): remove `engine: spark`")
        return self

    def format_of(self, table: str) -> str:
        declared = self.tables.get(table)
        return (declared and declared.format) or self.format

    def encoding_of(self, table: str) -> str | None:
        declared = self.tables.get(table)
        return (declared and declared.encoding) or self.encoding

    def csv_for(self, table: str) -> CsvOptions:
        """How a table's files are read: its own CSV options over the source's."""
        declared = self.tables.get(table)
        return CsvOptions(**(self.csv.model_dump() | declared.csv)) if declared and declared.csv else self.csv

    @property
    def nomenclature_schema(self) -> str:
        return f"{self.id}_nomenclatures"

    def for_nomenclatures(self) -> SourceDeclaration:
        """How code lists are read: CSV with their own options, into schema `<id>_nomenclatures`."""
        options = self.nomenclatures.csv if self.nomenclatures else CsvOptions(delimiter=";")
        return self.model_copy(update={"id": self.nomenclature_schema, "format": "csv", "csv": options,
                                       "type_overrides": {}})

    def roles_for(self, table: str) -> Roles:
        declared = self.tables.get(table)
        return declared.roles.merged_over(self.roles) if declared else self.roles
