"""Expectation suites: generated from the declaration, dictionary and rules; hand edits kept.

One suite per table, `expectations/<source>/<table>.json`, in Great Expectations 1.x format.
Every expectation carries in `meta`: `check` (a stable id), `category` (conformance,
completeness or plausibility, as in the OHDSI data quality framework), `threshold_pct`
(the failing share still accepted; 0: any failure fails), `severity` (warning or error),
`variable`, `generated: true` when this module wrote it, and for a code-list check `code_list`
([column, schema, code list, code column]: such checks of a table are counted in one query while
their query is the one it names). Regenerating replaces the
generated expectations and keeps every other one: to keep an edit to a generated
expectation, set its `generated` to false.

Rules come from `expectations/<source>/rules.yaml` (all optional):
    thresholds: {conformance: 0, completeness: 5, plausibility: 1}   # default threshold_pct
    checks: {age_at_most_120: {threshold_pct: 0.5, severity: error}, no_event_after_reference: {enabled: false}}
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import yaml

from hdh_pipeline.ingest.warehouse import literal, quote
from hdh_pipeline.quality.table_checks import code_list_query, rows_query
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source

DEFAULT_THRESHOLDS = {"conformance": 0.0, "completeness": 5.0, "plausibility": 1.0}
NATURALLY_EMPTY_ROLES = ("death_date",)  # empty for the living


def read_rules(folder: Path) -> dict:
    path = folder / "rules.yaml"
    if not path.exists():
        return {}
    rules = yaml.safe_load(path.read_text()) or {}
    if not isinstance(rules, dict) or not set(rules) <= {"thresholds", "checks"}:
        raise ValueError(f"{path}: expected the keys 'thresholds' and 'checks'")
    return rules


def _expectation(check: str, kind: str, kwargs: dict, category: str, variable: str, severity: str,
                 rules: dict, required: bool = False, **meta: object) -> dict | None:
    override = (rules.get("checks") or {}).get(check.split(":")[0], {})
    if override.get("enabled", True) is False:
        return None
    threshold = 0.0 if required else (rules.get("thresholds") or {}).get(category, DEFAULT_THRESHOLDS[category])
    threshold = float(override.get("threshold_pct", threshold))
    if threshold and kind != "unexpected_rows_expectation":  # so GX's own verdict (Data Docs) agrees with ours
        kwargs = kwargs | {"mostly": round(1 - threshold / 100, 6)}
    return {"type": kind, "kwargs": kwargs, "meta": {
        "check": check, "category": category, "variable": variable,
        "threshold_pct": threshold,
        "severity": override.get("severity", severity), "generated": True, **meta,
    }}


def generated_expectations(source: Source, table: SourceTable, columns: dict[str, str],
                           code_columns: dict[str, str], loaded: set[str], rules: dict) -> list[dict]:
    """The expectations the declaration, dictionary and rules imply for a loaded table.

    `columns` maps each loaded column to its DuckDB type; `code_columns` maps each loaded
    code list to its code column; `loaded` names the source's loaded tables (keys to others
    are checked only when the referenced table is there)."""
    spec, roles = table.spec, table.roles
    out: list[dict | None] = []
    add = out.append
    role_of = roles.by_column()

    for name, duck_type in columns.items():
        field = spec.column(name) if spec else None
        constraints = field.constraints if field else {}
        if role_of.get(name) not in NATURALLY_EMPTY_ROLES:
            add(_expectation(f"not_null:{name}", "expect_column_values_to_not_be_null", {"column": name},
                             "completeness", name, "error" if constraints.get("required") else "warning", rules,
                             required=bool(constraints.get("required"))))
        if field is None:
            continue
        if field.length and duck_type == "VARCHAR":
            add(_expectation(f"length:{name}", "expect_column_value_lengths_to_be_between",
                             {"column": name, "max_value": field.length}, "conformance", name, "warning", rules))
        if field.type == "boolean" and duck_type == "VARCHAR":
            values = list(field.true_values + field.false_values) or ["0", "1"]
            add(_expectation(f"boolean:{name}", "expect_column_values_to_be_in_set",
                             {"column": name, "value_set": values}, "conformance", name, "warning", rules))
        bounds = {k: constraints[key] for k, key in (("min_value", "minimum"), ("max_value", "maximum"))
                  if isinstance(constraints.get(key), (int, float))}
        if bounds and duck_type not in ("VARCHAR", "DATE", "TIMESTAMP"):
            add(_expectation(f"range:{name}", "expect_column_values_to_be_between", {"column": name, **bounds},
                             "conformance", name, "warning", rules))
        if isinstance(constraints.get("enum"), list):
            add(_expectation(f"enum:{name}", "expect_column_values_to_be_in_set",
                             {"column": name, "value_set": constraints["enum"]}, "conformance", name, "warning",
                             rules))
        ref = field.nomenclature
        if ref and ref.table in code_columns:
            named = [name, source.declaration.nomenclature_schema, ref.table, ref.column or code_columns[ref.table]]
            add(_expectation(f"nomenclature:{name}", "unexpected_rows_expectation",
                             {"unexpected_rows_query": code_list_query(*named),
                              "description": f"{name} is a code of {ref.table}"},
                             "conformance", name, "warning", rules, code_list=named))

    key = [c for c in (spec.primary_key if spec else ()) if c in columns]
    if key and len(key) == len(spec.primary_key):
        cols = ", ".join(quote(c) for c in key)
        add(_expectation(f"primary_key:{'+'.join(key)}", "unexpected_rows_expectation", {
            "unexpected_rows_query": rows_query(f"SELECT * FROM (SELECT *, row_number() OVER (PARTITION BY {cols}) "
                                                f"AS hdh_seen FROM {{batch}}) WHERE hdh_seen > 1"),
            "description": f"rows whose key ({', '.join(key)}) already appeared"},
            "conformance", ", ".join(key), "error", rules))
    for fk in spec.foreign_keys if spec else ():
        if fk.table not in loaded or fk.table == table.name or not set(fk.columns) <= set(columns):
            continue
        key_of = lambda cols, table_alias="": " || chr(31) || ".join(  # noqa: E731
            f"CAST({table_alias}{quote(c)} AS VARCHAR)" for c in cols)
        present = " AND ".join(f"{quote(c)} IS NOT NULL" for c in fk.columns)
        add(_expectation(f"foreign_key:{'+'.join(fk.columns)}", "unexpected_rows_expectation", {
            "unexpected_rows_query": rows_query(f"SELECT * FROM {{batch}} WHERE {present} AND {key_of(fk.columns)} "
                                                f"NOT IN (SELECT {key_of(fk.referenced_columns)} FROM "
                                                f"{quote(source.id)}.{quote(fk.table)})"),
            "description": f"{', '.join(fk.columns)} found in {fk.table}"},
            "conformance", ", ".join(fk.columns), "warning", rules))
    out += _plausibility(source, roles, columns, rules)
    return [e for e in out if e is not None]


def _plausibility(source: Source, roles, columns: dict[str, str], rules: dict) -> list[dict | None]:
    reference = source.declaration.reference_date or dt.date.today()
    year = reference.year
    present = lambda name: name is not None and name in columns  # noqa: E731
    out = []
    if present(roles.age):
        out.append(_expectation("age_at_most_120", "expect_column_values_to_be_between",
                                {"column": roles.age, "min_value": 0, "max_value": 120}, "plausibility",
                                roles.age, "warning", rules))
    if present(roles.birth_year):
        out.append(_expectation("birth_not_after_reference", "expect_column_values_to_be_between",
                                {"column": roles.birth_year, "max_value": year}, "plausibility", roles.birth_year,
                                "warning", rules))
        out.append(_expectation("age_at_most_120", "expect_column_values_to_be_between",
                                {"column": roles.birth_year, "min_value": year - 120}, "plausibility",
                                roles.birth_year, "warning", rules))
        if present(roles.death_date):
            out.append(_expectation("death_not_before_birth", "unexpected_rows_expectation", {
                "unexpected_rows_query": rows_query(f"SELECT * FROM {{batch}} WHERE year({quote(roles.death_date)}) "
                                                    f"< {quote(roles.birth_year)}"),
                "description": "death date before the birth year"},
                "plausibility", f"{roles.death_date}, {roles.birth_year}", "warning", rules))
    if present(roles.start_date) and present(roles.end_date):
        out.append(_expectation("end_not_before_start", "expect_column_pair_values_a_to_be_greater_than_b", {
            "column_A": roles.end_date, "column_B": roles.start_date, "or_equal": True,
            "ignore_row_if": "either_value_is_missing"},
            "plausibility", f"{roles.end_date}, {roles.start_date}", "warning", rules))
    for column in roles.event_date:
        if present(column) and columns[column] in ("DATE", "TIMESTAMP"):
            out.append(_expectation(f"no_event_after_reference:{column}", "unexpected_rows_expectation", {
                "unexpected_rows_query": rows_query(f"SELECT * FROM {{batch}} WHERE {quote(column)} > "
                                                    f"DATE {literal(reference.isoformat())}"),
                "description": f"{column} after the reference date {reference.isoformat()}"},
                "plausibility", column, "warning", rules))
    return out


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
