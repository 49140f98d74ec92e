"""Expectation suites: generated from the declaration, dictionary and rules; hand edits kept.

One suite per table, `expectations/<source>/<table>.json`, in Great Expectations 1.x format.
Every expectation carries in `meta`: `check` (a stable id), `category` (conformance,
completeness or plausibility, as in the OHDSI data quality framework), `threshold_pct`
(the failing share still accepted; 0: any failure fails), `severity` (warning or error),
`variable`, `generated: true` when this module wrote it, and for a code-list check `code_list`
([column, schema, code list, code column]: such checks of a table are counted in one query while
their query is the one it names). Regenerating replaces the generated expectations and keeps every
other one: to keep an edit to a generated expectation, set its `generated` to false.

The checks come from rules, one small function each: COLUMN_RULES look at one column and what the
dictionary says of it, TABLE_RULES at the table's keys and roles. Plausibility uses the source's reference
date (vocabulary.reference_date, the profile's).

Rules come from `expectations/<source>/rules.yaml` (all optional):
    thresholds: {conformance: 0, completeness: 5, plausibility: 1}   # default threshold_pct
    checks: {age_at_most_120: {threshold_pct: 0.5, severity: error}, no_event_after_reference: {enabled: false}}
"""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hdh_pipeline.engines.sql import Dialect
from hdh_pipeline.quality.table_checks import code_list_query, rows_query
from hdh_pipeline.sources.dictionary import ColumnSpec
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import AGE_MAX, AGE_MIN, DEFAULT_THRESHOLDS, NATURALLY_EMPTY_ROLES, SEVERE, WARNING


@dataclass(frozen=True)
class Check:
    """A check a rule asks for, before `rules.yaml` has its say."""

    id: str
    kind: str  # the Great Expectations expectation type
    kwargs: dict
    category: str
    variable: str
    severity: str = WARNING
    required: bool = False  # the dictionary requires a value: no failure accepted
    meta: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Table:
    """What the rules look at: a loaded table of the source."""

    source: Source
    table: SourceTable
    columns: dict[str, str]  # loaded column -> type
    code_columns: dict[str, str]  # loaded code list -> its code column
    loaded: set[str]  # the source's loaded tables
    reference: dt.date
    sql: Dialect  # the source's engine's SQL

    def present(self, column: str | None) -> bool:
        return column is not None and column in self.columns


def read_rules(folder: Path) -> dict:
    path = folder / "rules.yaml"
    if not path.exists():
        return {}
    rules = yaml.safe_load(path.read_text()) or {}
    if not isinstance(rules, dict) or not set(rules) <= {"thresholds", "checks"}:
        raise ValueError(f"{path}: expected the keys 'thresholds' and 'checks'")
    return rules


# -- column rules: (table, column, its type, its dictionary entry or None) -> a check or None -----------------------

def _not_null(t: Table, name: str, _: str, spec: ColumnSpec | None) -> Check | None:
    if t.table.roles.by_column().get(name) in NATURALLY_EMPTY_ROLES:
        return None
    required = bool(spec and spec.constraints.get("required"))
    return Check(f"not_null:{name}", "expect_column_values_to_not_be_null", {"column": name}, "completeness", name,
                 SEVERE if required else WARNING, required)


def _length(_: Table, name: str, type_: str, spec: ColumnSpec | None) -> Check | None:
    if spec and spec.length and type_ == "VARCHAR":
        return Check(f"length:{name}", "expect_column_value_lengths_to_be_between",
                     {"column": name, "max_value": spec.length}, "conformance", name)
    return None


def _boolean(_: Table, name: str, type_: str, spec: ColumnSpec | None) -> Check | None:
    """A declared boolean kept as text (SNDS flags 0/1/9): its declared true and false values."""
    if spec and spec.type == "boolean" and type_ == "VARCHAR":
        values = list(spec.true_values + spec.false_values) or ["0", "1"]
        return Check(f"boolean:{name}", "expect_column_values_to_be_in_set", {"column": name, "value_set": values},
                     "conformance", name)
    return None


def _range(_: Table, name: str, type_: str, spec: ColumnSpec | None) -> Check | None:
    constraints = spec.constraints if spec else {}
    bounds = {k: constraints[key] for k, key in (("min_value", "minimum"), ("max_value", "maximum"))
              if isinstance(constraints.get(key), (int, float))}
    if bounds and type_ not in ("VARCHAR", "DATE", "TIMESTAMP"):
        return Check(f"range:{name}", "expect_column_values_to_be_between", {"column": name, **bounds},
                     "conformance", name)
    return None


def _enum(_: Table, name: str, __: str, spec: ColumnSpec | None) -> Check | None:
    if spec and isinstance(spec.constraints.get("enum"), list):
        return Check(f"enum:{name}", "expect_column_values_to_be_in_set",
                     {"column": name, "value_set": spec.constraints["enum"]}, "conformance", name)
    return None


def _nomenclature(t: Table, name: str, _: str, spec: ColumnSpec | None) -> Check | None:
    ref = spec.nomenclature if spec else None
    if ref is None or ref.table not in t.code_columns:
        return None
    named = [name, t.source.declaration.nomenclature_schema, ref.table, ref.column or t.code_columns[ref.table]]
    return Check(f"nomenclature:{name}", "unexpected_rows_expectation",
                 {"unexpected_rows_query": code_list_query(*named, sql=t.sql),
                  "description": f"{name} is a code of {ref.table}"},
                 "conformance", name, meta={"code_list": named})


COLUMN_RULES: tuple[Callable[[Table, str, str, ColumnSpec | None], Check | None], ...] = (
    _not_null, _length, _boolean, _range, _enum, _nomenclature)


# -- table rules: table -> checks -------------------------------------------------------------------------------

def _primary_key(t: Table) -> list[Check]:
    key = t.table.spec.primary_key if t.table.spec else ()
    if not key or not set(key) <= set(t.columns):
        return []
    columns = ", ".join(t.sql.quote(c) for c in key)
    return [Check(f"primary_key:{'+'.join(key)}", "unexpected_rows_expectation", {
        "unexpected_rows_query": rows_query(f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {columns} "
                                            f"ORDER BY {columns}) AS hdh_seen FROM {{batch}}) WHERE hdh_seen > 1"),
        "description": f"rows whose key ({', '.join(key)}) already appeared"}, "conformance", ", ".join(key), SEVERE)]


def _key(columns: tuple[str, ...], sql: Dialect) -> str:
    return " || chr(31) || ".join(f"CAST({sql.quote(c)} AS {sql.text})" for c in columns)


def _foreign_keys(t: Table) -> list[Check]:
    """Keys to another loaded table of the source."""
    out = []
    for fk in t.table.spec.foreign_keys if t.table.spec else ():
        if fk.table not in t.loaded or fk.table == t.table.name or not set(fk.columns) <= set(t.columns):
            continue
        present = " AND ".join(f"{t.sql.quote(c)} IS NOT NULL" for c in fk.columns)
        out.append(Check(f"foreign_key:{'+'.join(fk.columns)}", "unexpected_rows_expectation", {
            "unexpected_rows_query": rows_query(
                f"SELECT * FROM {{batch}} WHERE {present} AND {_key(fk.columns, t.sql)} NOT IN (SELECT "
                f"{_key(fk.referenced_columns, t.sql)} FROM {t.sql.table(t.source.id, fk.table)})"),
            "description": f"{', '.join(fk.columns)} found in {fk.table}"}, "conformance", ", ".join(fk.columns)))
    return out


def _age(t: Table) -> list[Check]:
    age = t.table.roles.age
    return [Check("age_at_most_120", "expect_column_values_to_be_between",
                  {"column": age, "min_value": AGE_MIN, "max_value": AGE_MAX}, "plausibility", age)] \
        if t.present(age) else []


def _birth_year(t: Table) -> list[Check]:
    roles, year = t.table.roles, t.reference.year
    if not t.present(roles.birth_year):
        return []
    checks = [Check("birth_not_after_reference", "expect_column_values_to_be_between",
                    {"column": roles.birth_year, "max_value": year}, "plausibility", roles.birth_year),
              Check("age_at_most_120", "expect_column_values_to_be_between",
                    {"column": roles.birth_year, "min_value": year - AGE_MAX}, "plausibility", roles.birth_year)]
    if t.present(roles.death_date):
        checks.append(Check("death_not_before_birth", "unexpected_rows_expectation", {
            "unexpected_rows_query": rows_query(f"SELECT * FROM {{batch}} WHERE year({t.sql.quote(roles.death_date)}) "
                                                f"< {t.sql.quote(roles.birth_year)}"),
            "description": "death date before the birth year"},
            "plausibility", f"{roles.death_date}, {roles.birth_year}"))
    return checks


def _end_after_start(t: Table) -> list[Check]:
    roles = t.table.roles
    if not (t.present(roles.start_date) and t.present(roles.end_date)):
        return []
    return [Check("end_not_before_start", "expect_column_pair_values_a_to_be_greater_than_b", {
        "column_A": roles.end_date, "column_B": roles.start_date, "or_equal": True,
        "ignore_row_if": "either_value_is_missing"}, "plausibility", f"{roles.end_date}, {roles.start_date}")]


def _events_up_to_reference(t: Table) -> list[Check]:
    reference = t.reference.isoformat()
    return [Check(f"no_event_after_reference:{column}", "unexpected_rows_expectation", {
        "unexpected_rows_query": rows_query(f"SELECT * FROM {{batch}} WHERE {t.sql.quote(column)} > "
                                            f"DATE {t.sql.literal(reference)}"),
        "description": f"{column} after the reference date {reference}"}, "plausibility", column)
        for column in t.table.roles.event_date if t.present(column) and t.columns[column] in ("DATE", "TIMESTAMP")]


TABLE_RULES: tuple[Callable[[Table], list[Check]], ...] = (
    _primary_key, _foreign_keys, _age, _birth_year, _end_after_start, _events_up_to_reference)


def _expectation(check: Check, rules: dict) -> dict | None:
    """The suite's expectation for a check, after `rules.yaml` (None: disabled there)."""
    override = (rules.get("checks") or {}).get(check.id.split(":")[0], {})
    if override.get("enabled", True) is False:
        return None
    threshold = 0.0 if check.required else (rules.get("thresholds") or {}).get(check.category,
                                                                               DEFAULT_THRESHOLDS[check.category])
    threshold = float(override.get("threshold_pct", threshold))
    kwargs = check.kwargs
    if threshold and check.kind != "unexpected_rows_expectation":  # so GX's own verdict (Data Docs) agrees with ours
        kwargs = kwargs | {"mostly": round(1 - threshold / 100, 6)}
    return {"type": check.kind, "kwargs": kwargs, "meta": {
        "check": check.id, "category": check.category, "variable": check.variable, "threshold_pct": threshold,
        "severity": override.get("severity", check.severity), "generated": True, **check.meta}}


def generated_expectations(table: Table, rules: dict) -> list[dict]:
    """The expectations the declaration, dictionary and rules imply for a loaded table."""
    spec = table.table.spec
    checks = [check for name, type_ in table.columns.items() for rule in COLUMN_RULES
              if (check := rule(table, name, type_, spec.column(name) if spec else None))]
    checks += [check for rule in TABLE_RULES for check in rule(table)]
    return [e for check in checks if (e := _expectation(check, rules)) is not None]


def merge(existing: list[dict], generated: list[dict]) -> list[dict]:
    """Generated expectations replace the previously generated ones; hand-written ones stay, first."""
    kept = [e for e in existing if not (e.get("meta") or {}).get("generated")]
    edited = {(e.get("meta") or {}).get("check") for e in kept}
    return kept + [e for e in generated if e["meta"]["check"] not in edited]


def write_suite(path: Path, name: str, expectations: list[dict]) -> None:
    """Write (or regenerate) a suite file, keeping its hand edits."""
    existing = json.loads(path.read_text()).get("expectations", []) if path.exists() else []
    suite = {"name": name, "expectations": merge(existing, expectations),
             "meta": {"generated_by": "hdh-pipeline", "note": "set meta.generated to false to keep an edit"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(suite, indent=2, ensure_ascii=False) + "\n")
