"""Profile a whole source: the catalogue's rows for it, exact and private.

The rows have the public columns of `catalogue/schema.py` (with raw, unsuppressed values)
plus the internal columns of INTERNAL, which disclosure control needs and never publishes.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from hdh_pipeline.catalogue.codes import NAME as CODES
from hdh_pipeline.catalogue.publish import arrow_table
from hdh_pipeline.ingest.load import REJECTS
from hdh_pipeline.ingest.warehouse import in_threads, literal, quote, schema_tables
from hdh_pipeline.profile.schedule import schedule_in_words
from hdh_pipeline.profile.statistics import LONG_FORM_MAX_ROWS, VariableProfile, profile_table
from hdh_pipeline.sources.dictionary import TableSpec
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source

TOP_VALUES = 20
OTHER = "(other)"  # the value_frequencies row of every value beyond the top ones
INTERNAL = {
    "variables": [("k_smallest", "VARCHAR"), ("k_largest", "VARCHAR")],
    "databases": [("raw_first_date", "DATE"), ("raw_last_date", "DATE"), ("profiling_seconds", "DOUBLE")],
    "tables": [("raw_first_date", "DATE"), ("raw_last_date", "DATE")],
    "changes": [("before", "VARCHAR"), ("after", "VARCHAR")],
}
BAND_YEARS = 5
AGE_BANDS = [f"{a}-{a + BAND_YEARS - 1}" for a in range(0, 100, BAND_YEARS)] + ["100+"]
IMPLAUSIBLE_BAND, UNKNOWN_BAND = len(AGE_BANDS), len(AGE_BANDS) + 1  # band_order of the two last bands
SEXES = ("men", "women", "other")
QUASI_ROLES = ("birth_year", "birth_date", "age", "death_date", "event_date", "start_date", "end_date")
EVENT_ROLES = ("event_date", "start_date", "end_date", "death_date")


@dataclass
class SourceProfile:
    """Rows per catalogue table, for one source (the code lists: an Arrow table, catalogue/codes.py)."""

    rows: dict[str, list[dict]] = field(default_factory=lambda: {
        "databases": [], "tables": [], "variables": [], "value_frequencies": [], "histograms": [], "relations": [],
        "population": [], CODES: arrow_table(CODES, [])})


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _as_date(value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


@dataclass
class _Loaded:
    """What the warehouse holds of a source, read once: its tables' and code lists' columns, and labels."""

    tables: dict[str, dict[str, str]]
    code_lists: dict[str, dict[str, str]]
    code_schema: str | None
    labels: dict[tuple, dict[str, str]] = field(default_factory=dict)
    keys: set[tuple[str, str]] = field(default_factory=set)  # code list keys in the temporary table
    codes: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, conn: duckdb.DuckDBPyConnection, source: Source) -> _Loaded:
        codes = source.declaration.nomenclature_schema if source.declaration.nomenclatures else None
        return cls(schema_tables(conn, source.id), schema_tables(conn, codes) if codes else {}, codes)

    def code_column(self, code_list: str, column: str | None) -> tuple[str, str | None]:
        """The code column of a code list and its label column (the first text column after it)."""
        columns = list(self.code_lists[code_list])
        code = column if column in columns else columns[0]
        label = next((c for c in columns if c != code and c.upper().endswith(("_LIB", "LIB", "_LABEL", "NAME"))),
                     None)
        return code, label or next((c for c in columns if c != code), None)

    def code_keys(self, conn: duckdb.DuckDBPyConnection, refs: set[tuple[str, str]]) -> str:
        """A temporary table (hdh_ref, hdh_key) holding the distinct codes of each (code list, column),
        each read once per source: `hdh_ref` is "code list.column"."""
        if not self.keys:
            conn.execute("CREATE OR REPLACE TEMP TABLE hdh_code_keys (hdh_ref VARCHAR, hdh_key VARCHAR)")
        for code_list, column in sorted(refs - self.keys):
            conn.execute("INSERT INTO hdh_code_keys SELECT ?, unnest(?)",
                         [f"{code_list}.{column}", sorted(self.code_set(conn, code_list, column))])
            self.keys.add((code_list, column))
        return "hdh_code_keys"

    def code_set(self, conn: duckdb.DuckDBPyConnection, code_list: str, column: str) -> set[str]:
        """The codes of a code list column, as text (read once per source)."""
        if (code_list, column) not in self.codes:
            self.codes[(code_list, column)] = {code for (code,) in conn.execute(
                f"SELECT DISTINCT CAST({quote(column)} AS VARCHAR) FROM {quote(self.code_schema)}.{quote(code_list)} "
                f"WHERE {quote(column)} IS NOT NULL").fetchall()}
        return self.codes[(code_list, column)]

    def labels_of(self, conn: duckdb.DuckDBPyConnection, code_list: str, column: str | None) -> dict[str, str]:
        """Code -> label of a loaded code list (read once per code list)."""
        if (code_list, column) not in self.labels:
            code, label = self.code_column(code_list, column)
            target = f"{quote(self.code_schema)}.{quote(code_list)}"
            self.labels[(code_list, column)] = {} if label is None else {
                str(c): str(lbl) for c, lbl in conn.execute(f"SELECT {quote(code)}, {quote(label)} FROM {target}").fetchall()}
        return self.labels[(code_list, column)]


def _match(conn: duckdb.DuckDBPyConnection, target: str, columns: tuple[str, ...], referenced: str,
           referenced_columns: tuple[str, ...]) -> tuple[int, int]:
    """(rows whose key is all non-null, those found in the referenced table), comparing as text."""
    keys = ", ".join(f"CAST({quote(c)} AS VARCHAR) AS k{i}" for i, c in enumerate(referenced_columns))
    on = " AND ".join(f"CAST(t.{quote(c)} AS VARCHAR) = r.k{i}" for i, c in enumerate(columns))
    not_null = " AND ".join(f"t.{quote(c)} IS NOT NULL" for c in columns)
    return conn.execute(
        f"SELECT count(*) FILTER (WHERE {not_null}), count(r.found) FROM {target} t "
        f"LEFT JOIN (SELECT DISTINCT {keys}, true AS found FROM {referenced}) r ON {on}").fetchone()


def _code_matches(conn: duckdb.DuckDBPyConnection, target: str, checks: list[tuple[str, str]],
                  keys: str) -> list[tuple[int, int]]:
    """`_match` for many (column, code list key) pairs of a table at once: one query that unpivots the
    columns and joins them with the code lists' keys, kept in the temporary table `keys`."""
    if not checks:
        return []
    casts = ", ".join(f"CAST({quote(column)} AS VARCHAR) AS c{i}" for i, (column, _) in enumerate(checks))
    wanted = ", ".join(f"('c{i}', {literal(ref)})" for i, (_, ref) in enumerate(checks))
    found = dict.fromkeys(range(len(checks)), (0, 0)) | {
        int(check[1:]): (checked, matched) for check, checked, matched in conn.execute(
            f"SELECT u.hdh_check, count(*), count(k.hdh_key) FROM (SELECT {casts} FROM {target}) "
            f"UNPIVOT (hdh_value FOR hdh_check IN ({', '.join(f'c{i}' for i in range(len(checks)))})) u "
            f"JOIN (VALUES {wanted}) w(hdh_check, hdh_ref) USING (hdh_check) "
            f"LEFT JOIN {keys} k ON k.hdh_ref = w.hdh_ref AND k.hdh_key = u.hdh_value "
            "GROUP BY u.hdh_check").fetchall()}
    return [found[i] for i in range(len(checks))]


def _as_duckdb_text(value: object) -> str:
    """A value as DuckDB's CAST(... AS VARCHAR) writes it (what `_match` compares)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)


def _relations(conn: duckdb.DuckDBPyConnection, source: Source, table: SourceTable,
               profiles: dict[str, VariableProfile], loaded: _Loaded, short: bool) -> list[dict]:
    """Declared foreign keys and field nomenclatures, each checked once. A code list of a column whose
    exact frequencies are known is checked against them (no query); the other code lists of a `short`
    table (see statistics.LONG_FORM_MAX_ROWS) in one query; the rest one join each."""
    names = set(profiles)
    spec = table.spec
    if spec is None:
        return []
    codes = loaded.code_schema
    wanted: dict[tuple, str] = {}
    for fk in spec.foreign_keys:
        wanted[(fk.columns, fk.table, fk.referenced_columns)] = "fk"
    for column in spec.columns:
        if column.nomenclature:
            ref = column.nomenclature
            already = any(cols == (column.name,) and t == ref.table for cols, t, _ in wanted)
            if not already:
                wanted[((column.name,), ref.table, (ref.column,) if ref.column else ())] = "field"
    target = f"{quote(source.id)}.{quote(table.name)}"
    rows, coded, joined = [], [], []
    declared = {t.name for t in source.tables}
    code_lists = {t.name for t in source.nomenclatures} | set(loaded.code_lists)
    for (columns, referenced, referenced_columns), origin in wanted.items():
        is_table = referenced in loaded.tables
        is_code_list = referenced in loaded.code_lists
        # a foreign key names a table of the source, loaded or not, unless it names a code list
        kind = "table" if referenced in declared or (origin == "fk" and referenced not in code_lists) \
            else "nomenclature"
        row = {"source_id": source.id, "table_name": table.name, "columns": ", ".join(columns),
               "referenced_table": referenced, "referenced_columns": ", ".join(referenced_columns),
               "kind": kind, "checked_rows": None, "matched_rows": None,
               "match_pct": None}
        rows.append(row)
        if not set(columns) <= names:
            row["status"] = "column not in the data"
        elif not (is_table or is_code_list):
            row["status"] = "referenced table not loaded"
        else:
            schema = source.id if is_table else codes
            ref_columns = referenced_columns
            if not is_table and len(columns) == 1:
                ref_columns = (loaded.code_column(referenced, referenced_columns[0] if referenced_columns
                                                  else None)[0],)
            row["referenced_columns"] = ", ".join(ref_columns)
            frequencies = profiles[columns[0]].frequencies if len(columns) == 1 else None
            if not is_table and len(columns) == 1 and frequencies is not None:
                known = loaded.code_set(conn, referenced, ref_columns[0])
                matched = sum(n for value, n in frequencies.items() if _as_duckdb_text(value) in known)
                _checked(row, sum(frequencies.values()), matched)
                continue
            check = (row, columns, f"{quote(schema)}.{quote(referenced)}", ref_columns)
            (coded if short and not is_table and len(columns) == 1 else joined).append(check)
    counts = []
    if coded:
        keys = loaded.code_keys(conn, {(row["referenced_table"], ref_columns[0]) for row, _, _, ref_columns in coded})
        counts = _code_matches(conn, target, [(columns[0], f"{row['referenced_table']}.{ref_columns[0]}")
                                              for row, columns, _, ref_columns in coded], keys)
    counts += [_match(conn, target, columns, ref, ref_columns) for _, columns, ref, ref_columns in joined]
    for (row, *_), (checked, matched) in zip(coded + joined, counts):
        _checked(row, checked, matched)
    return rows


def _checked(row: dict, checked: int, matched: int) -> None:
    row.update(checked_rows=checked, matched_rows=matched, status="checked",
               match_pct=round(100.0 * matched / checked, 2) if checked else None)


def _labels(conn: duckdb.DuckDBPyConnection, table: SourceTable, variable: str, loaded: _Loaded) -> dict[str, str]:
    column = table.spec.column(variable) if table.spec else None
    if column is None or column.nomenclature is None or column.nomenclature.table not in loaded.code_lists:
        return {}
    return loaded.labels_of(conn, column.nomenclature.table, column.nomenclature.column)


def _variable_row(source: Source, table: SourceTable, p: VariableProfile, role: str | None,
                  relations: list[dict]) -> dict:
    spec = table.spec.column(p.name) if table.spec else None
    nomenclature = next((r for r in relations if r["columns"] == p.name and r["kind"] == "nomenclature"), None)
    identifier = role == "person_id" or p.looks_like_identifier
    quasi = (role in QUASI_ROLES or p.kind == "date") and not identifier
    q = p.quantiles
    return {
        "source_id": source.id, "table_name": table.name, "variable": p.name, "position": p.position,
        "description": spec.description if spec else None,
        "declared_type": (spec.type + ("" if spec.format == "default" else f" ({spec.format})")) if spec else None,
        "declared_length": spec.length if spec else None,
        "management_rule": (spec.management_rule or None) if spec else None,
        "dictionary_format": spec.snds_format if spec else None,
        "created": (spec.history.created or None) if spec else None,
        "deleted": (spec.history.deleted or None) if spec else None,
        "missing_dates": "; ".join(spec.history.missing) or None if spec else None,
        "observed_type": p.duckdb_type, "role": role,
        "nomenclature": spec.nomenclature.table if spec and spec.nomenclature else None,
        "nomenclature_conformance_pct": nomenclature["match_pct"] if nomenclature else None,
        "count": p.non_null, "missing_count": p.missing,
        "completeness_pct": round(100.0 * p.non_null / p.rows, 2) if p.rows else None,
        "distinct_count": p.distinct, "distinct_exact": p.distinct_exact,
        "mean": p.mean, "std": p.std,
        "min": _text(p.min), "p01": _text(q.get(0.01)), "q1": _text(q.get(0.25)), "median": _text(q.get(0.5)),
        "q3": _text(q.get(0.75)), "p99": _text(q.get(0.99)), "max": _text(p.max),
        "bounds_coarsened": False, "zeros": p.zeros, "negatives": p.negatives,
        "min_length": p.min_length, "max_length": p.max_length,
        "mean_length": round(p.mean_length, 2) if p.mean_length is not None else None,
        "is_constant": p.distinct == 1, "is_unique": p.non_null > 0 and p.distinct_exact and p.distinct == p.non_null,
        "is_mostly_missing": p.rows > 0 and p.missing > p.rows / 2,
        "is_identifier": identifier, "is_quasi_identifier": quasi, "after_reference": None,
        "k_smallest": _text(p.smallest[-1]) if p.smallest else None,
        "k_largest": _text(p.largest[-1]) if p.largest else None,
    }


def _frequency_rows(source: Source, table: SourceTable, p: VariableProfile, labels: dict[str, str]) -> list[dict]:
    """Top values, then one `(other)` row and one missing row: together they add up to the rows."""
    ranked = sorted(p.frequencies.items(), key=lambda item: (-item[1], str(item[0])))
    top, rest = ranked[:TOP_VALUES], ranked[TOP_VALUES:]
    base = {"source_id": source.id, "table_name": table.name, "variable": p.name}
    rows = [base | {"rank": i, "value": _text(v), "label": labels.get(_text(v)), "frequency": n}
            for i, (v, n) in enumerate(top, start=1)]
    rows.append(base | {"rank": len(top) + 1, "value": OTHER, "label": None, "frequency": sum(n for _, n in rest)})
    rows.append(base | {"rank": len(top) + 2, "value": None, "label": "missing", "frequency": p.missing})
    for row in rows:
        row["share_pct"] = round(100.0 * row["frequency"] / p.rows, 2) if p.rows else None
    return rows


def _histogram_rows(source: Source, table: SourceTable, p: VariableProfile) -> list[dict]:
    base = {"source_id": source.id, "table_name": table.name, "variable": p.name}
    return [base | {"bin": i, "label": b.label, "lower": b.lower, "upper": b.upper, "frequency": b.count}
            for i, b in enumerate(p.bins)]


def _table_row(conn: duckdb.DuckDBPyConnection, source: Source, table: SourceTable, rows: int,
               profiles: list[VariableProfile], roles: dict[str, str], k: int) -> dict:
    target = f"{quote(source.id)}.{quote(table.name)}"
    spec = table.spec
    names = {p.name for p in profiles}
    key = [c for c in (spec.primary_key if spec else ()) if c in names]
    duplicates = None
    if key and len(key) == len(spec.primary_key):
        columns = ", ".join(quote(c) for c in key)
        duplicates = conn.execute(f"SELECT count(*) - count(DISTINCT ({columns})) FROM {target}").fetchone()[0]
    rejected = conn.execute(f"SELECT count(DISTINCT (file, line)) FROM {quote(source.id)}.{REJECTS} "
                            "WHERE table_name = ?", [table.name]).fetchone()[0]
    dated = [p for p in profiles if roles.get(p.name) in EVENT_ROLES and p.kind == "date"]
    join_keys = _join_keys(spec)
    return {
        "source_id": source.id, "table_name": table.name, "title": table.title, "description": table.description,
        "product": spec.product if spec else None, "status": "loaded" if rows else "empty",
        "row_count": rows, "rejected_rows": rejected,
        "column_count": len(profiles), "primary_key": ", ".join(spec.primary_key) if spec and spec.primary_key else None,
        "primary_key_unique": None if duplicates is None else duplicates == 0, "duplicate_key_rows": duplicates,
        "join_keys": join_keys or None,
        "first_date": None, "last_date": None,  # set by _coverage, once the reference date is known
        **_history(spec),
        "completeness_pct": None,  # computed from the published variables
        "raw_first_date": min((_as_date(p.min) for p in dated if p.min is not None), default=None),
        "raw_last_date": max((_as_date(p.max) for p in dated if p.max is not None), default=None),
    }


def _unloaded_row(source: Source, spec: TableSpec | None, name: str, status: str, title: str,
                  description: str) -> dict:
    """A table without rows in the warehouse: described (from the dictionary), its status says why."""
    return {"source_id": source.id, "table_name": name, "title": title or None, "description": description or None,
            "product": spec.product if spec else None, "status": status, "row_count": None, "rejected_rows": None,
            "column_count": len(spec.columns) if spec else None,
            "primary_key": ", ".join(spec.primary_key) if spec and spec.primary_key else None,
            "primary_key_unique": None, "duplicate_key_rows": None, "join_keys": _join_keys(spec) or None,
            "first_date": None, "last_date": None, "completeness_pct": None, "raw_first_date": None,
            "raw_last_date": None, **_history(spec)}


def _history(spec: TableSpec | None) -> dict:
    history = spec.history if spec else None
    return {"created": history.created or None if history else None,
            "deleted": history.deleted or None if history else None,
            "missing_dates": "; ".join(history.missing) or None if history else None}


def _code_lists(conn: duckdb.DuckDBPyConnection, source: Source, loaded: _Loaded) -> pa.Table:
    """Every code of every code list of the source, with its label: reference data, published in full, kept as
    Arrow (catalogue/codes.py)."""
    titles = {t.name: t.title or (t.spec.title if t.spec else "") for t in source.nomenclatures}
    parts = []  # one query: a list is a few rows, a query plan costs more
    for name in sorted(loaded.code_lists):
        code, label = loaded.code_column(name, None)
        title = literal(titles[name]) if titles.get(name) else "NULL"
        text = f"CAST({quote(label)} AS VARCHAR)" if label else "NULL::VARCHAR"
        parts.append(f"SELECT {literal(source.id)} AS source_id, {literal(name)} AS nomenclature, {title}::VARCHAR AS "
                     f"title, CAST({quote(code)} AS VARCHAR) AS code, {text} AS label "
                     f"FROM {quote(loaded.code_schema)}.{quote(name)}")
    if not parts:
        return arrow_table(CODES, [])
    return conn.sql(" UNION ALL ".join(parts) + " ORDER BY nomenclature, code, label").to_arrow_table()


def _join_keys(spec: TableSpec | None) -> str:
    return "; ".join(f"{', '.join(fk.columns)} -> {fk.table}({', '.join(fk.referenced_columns)})"
                     for fk in (spec.foreign_keys if spec else ()))


def _coverage(conn: duckdb.DuckDBPyConnection, target: str, profiles: list[VariableProfile],
              roles: dict[str, str], reference: dt.date, k: int) -> tuple[dt.date | None, dt.date | None, dict]:
    """A table's time coverage: the k-th earliest and latest event dates up to `reference`, over event
    columns with at least 2k such dates (with fewer, the k-th earliest would come after the k-th latest);
    and, per event column, its values after `reference` (implausible, left out)."""
    dated = [p for p in profiles if roles.get(p.name) in EVENT_ROLES and p.kind == "date"]
    # column -> (values up to the reference, k smallest, k largest, values after the reference)
    bounds = {p.name: (p.non_null, p.smallest, p.largest, 0) for p in dated}
    late = [p for p in dated if p.max is not None and _as_date(p.max) > reference]
    if late:
        parts = []
        for p in late:
            column, until = quote(p.name), f"CAST({quote(p.name)} AS DATE) <= DATE '{reference.isoformat()}'"
            parts += [f"count({column}) FILTER (WHERE {until})", f"min({column}, {k}) FILTER (WHERE {until})",
                      f"max({column}, {k}) FILTER (WHERE {until})"]
        values = conn.execute(f"SELECT {', '.join(parts)} FROM {target}").fetchone()
        for i, p in enumerate(late):
            plausible, smallest, largest = values[3 * i:3 * i + 3]
            bounds[p.name] = (plausible, smallest or [], largest or [], p.non_null - plausible)
    events = [b for b in bounds.values() if b[0] >= 2 * k]
    return (min((_as_date(b[1][-1]) for b in events), default=None),
            max((_as_date(b[2][-1]) for b in events), default=None),
            {name: b[3] for name, b in bounds.items()})


def reference_date(source: Source, raw_last: dt.date | None) -> dt.date:
    """The date ages are computed at: the declaration's `reference_date`, else the last event date found
    (never after today), else today."""
    today = dt.date.today()
    return source.declaration.reference_date or (min(raw_last, today) if raw_last else today)


def _population(conn: duckdb.DuckDBPyConnection, source: Source, k: int, reference: dt.date,
                loaded: _Loaded) -> tuple[dict, list[dict]]:
    """Individuals, sex and age, from the first table with person-id, sex and birth or age roles:
    the database's figures, and the population grid (individuals per age band and sex).

    Each person counts once: as a man when all their sex codes are male codes, a woman when all are
    female codes, else (both, another code, none) in `sex_other`, so men + women + other = individuals.
    Ages are at `reference` (a person's highest age where an age role has several); ages below 0 or
    above 120 are implausible: counted in `implausible_ages` (and the grid's `implausible` band), left
    out of the typical ages. The k-th smallest and largest ages need 2k plausible ages (with fewer,
    they would cross)."""
    empty = {"individuals": None, "population_table": None, "men": None, "women": None, "sex_other": None,
             "age_low": None, "age_median": None, "age_high": None, "implausible_ages": None}
    declaration = source.declaration
    for table in source.tables:
        roles = table.roles
        age_role = roles.age or roles.birth_year or roles.birth_date
        if not (roles.person_id and roles.sex and age_role):
            continue
        if not {*roles.person_id, roles.sex, age_role} <= set(loaded.tables.get(table.name, ())):
            continue
        person = ", ".join(quote(c) for c in roles.person_id)
        sex = f"CAST({quote(roles.sex)} AS VARCHAR)"
        male = ", ".join(literal(v) for v in declaration.sex_codes.male)
        female = ", ".join(literal(v) for v in declaration.sex_codes.female)
        if roles.age:
            age = f"CAST({quote(roles.age)} AS DOUBLE)"
        elif roles.birth_year:
            age = f"({reference.year} - CAST({quote(roles.birth_year)} AS DOUBLE))"
        else:
            age = f"({reference.year} - year({quote(roles.birth_date)}))"
        plausible = "age BETWEEN 0 AND 120"
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE hdh_persons AS SELECT CASE WHEN male AND NOT female THEN 'men' "
            f"WHEN female AND NOT male THEN 'women' ELSE 'other' END AS sex, age "
            f"FROM (SELECT coalesce(bool_or({sex} IN ({male})), false) AS male, "
            f"coalesce(bool_or({sex} IN ({female})), false) AS female, max({age}) AS age "
            f"FROM {quote(source.id)}.{quote(table.name)} GROUP BY {person})")
        individuals, men, women, other, implausible, ages, low, median, high = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE sex = 'men'), count(*) FILTER (WHERE sex = 'women'), "
            f"count(*) FILTER (WHERE sex = 'other'), count(*) FILTER (WHERE age IS NOT NULL AND NOT ({plausible})), "
            f"count(*) FILTER (WHERE {plausible}), min(age, {k}) FILTER (WHERE {plausible}), "
            f"median(age) FILTER (WHERE {plausible}), max(age, {k}) FILTER (WHERE {plausible}) "
            f"FROM hdh_persons").fetchone()
        counted = dict(((band, sex), n) for band, sex, n in conn.execute(
            f"SELECT CASE WHEN age IS NULL THEN {UNKNOWN_BAND} WHEN NOT ({plausible}) THEN {IMPLAUSIBLE_BAND} "
            f"ELSE least(floor(age / {BAND_YEARS}), {len(AGE_BANDS) - 1}) END AS band, sex, count(*) "
            f"FROM hdh_persons GROUP BY ALL").fetchall())
        conn.execute("DROP TABLE hdh_persons")
        bounded = ages >= 2 * k
        grid = [{"source_id": source.id, "band_order": order, "band": band,
                 "age_low": order * BAND_YEARS if order < len(AGE_BANDS) else None,
                 "sex": sex, "individuals": counted.get((order, sex), 0)}
                for order, band in enumerate([*AGE_BANDS, "implausible", "unknown"]) for sex in SEXES]
        return {"individuals": individuals, "population_table": table.name, "men": men, "women": women,
                "sex_other": other, "implausible_ages": implausible, "age_median": median,
                "age_low": low[-1] if bounded else None, "age_high": high[-1] if bounded else None}, grid
    return empty, []


def _profile_rows(conn: duckdb.DuckDBPyConnection, source: Source, table: SourceTable, rows: int,
                  profiles: list[VariableProfile], loaded: _Loaded, k: int, result: SourceProfile) -> tuple:
    """Add a profiled table's rows (relations, table, variables, frequencies, histograms) to `result`; returns
    what its time coverage needs once the reference date is known: (table row, profiles, roles, variable rows)."""
    roles = table.roles.by_column()
    relations = _relations(conn, source, table, {p.name: p for p in profiles}, loaded,
                           short=rows <= LONG_FORM_MAX_ROWS)
    result.rows["relations"] += relations
    table_row = _table_row(conn, source, table, rows, profiles, roles, k)
    result.rows["tables"].append(table_row)
    variables = {}
    for p in profiles:
        variable = variables[p.name] = _variable_row(source, table, p, roles.get(p.name), relations)
        result.rows["variables"].append(variable)
        if variable["is_identifier"]:
            continue
        categorical = p.kind in ("text", "boolean") or p.distinct <= TOP_VALUES or variable["nomenclature"]
        if categorical and p.frequencies is not None:
            labels = _labels(conn, table, p.name, loaded)
            result.rows["value_frequencies"] += _frequency_rows(source, table, p, labels)
        elif p.bins is not None:
            result.rows["histograms"] += _histogram_rows(source, table, p)
    return table_row, profiles, roles, variables


def _profiled_tables(conn: duckdb.DuckDBPyConnection, source: Source, loaded: _Loaded, k: int
                     ) -> Iterator[tuple[int, list[VariableProfile]]]:
    """(rows, column profiles) of each loaded table, in the source's order, several tables at once (a wide
    source's profile is mostly DuckDB planning and running a small table's wide aggregates, on one core)."""
    return in_threads(conn, lambda cursor, table: profile_table(
        cursor, source.id, table.name, k, no_values=set(table.roles.person_id), columns=loaded.tables[table.name]),
        [table for table in source.tables if table.name in loaded.tables])


def profile_source(conn: duckdb.DuckDBPyConnection, source: Source, k: int) -> SourceProfile:
    """Every loaded table of the source: variables, frequencies, histograms, relations, tables, database."""
    started = time.perf_counter()
    result = SourceProfile()
    loaded = _Loaded.read(conn, source)
    dated = []  # (table row, profiles, roles, variable rows): time coverage once the reference date is known
    with closing(_profiled_tables(conn, source, loaded, k)) as profiled:
        for table in source.tables:
            if table.name not in loaded.tables:
                result.rows["tables"].append(_unloaded_row(source, table.spec, table.name, "not loaded", table.title,
                                                           table.description))
                continue
            rows, profiles = next(profiled)
            dated.append(_profile_rows(conn, source, table, rows, profiles, loaded, k, result))
    for spec in source.without_data:
        result.rows["tables"].append(_unloaded_row(source, spec, spec.name, "no data", spec.title, spec.description))
    tables = result.rows["tables"]
    raw_last = max((t["raw_last_date"] for t in tables if t["raw_last_date"]), default=None)
    reference = reference_date(source, raw_last)
    after_reference = 0
    for table_row, profiles, roles, variables in dated:
        target = f"{quote(source.id)}.{quote(table_row['table_name'])}"
        table_row["first_date"], table_row["last_date"], after = _coverage(conn, target, profiles, roles, reference, k)
        for name, count in after.items():
            variables[name]["after_reference"] = count
            after_reference += count
    first = min((t["first_date"] for t in tables if t["first_date"]), default=None)
    last = max((t["last_date"] for t in tables if t["last_date"]), default=None)
    d = source.declaration
    population, result.rows["population"] = _population(conn, source, k, reference, loaded)
    result.rows[CODES] = _code_lists(conn, source, loaded)
    result.rows["databases"].append({
        "source_id": source.id, "title": d.title, "description": d.description, "producer": d.producer.name,
        "producer_url": d.producer.url, "contact": " ".join(filter(None, [d.contact.name, d.contact.email])) or None,
        "licence": d.licence, "access": d.access or None, "update_frequency": d.update_frequency,
        "update_frequency_text": schedule_in_words(d.update_frequency, d.language),
        "table_count": len(tables), "variable_count": len(result.rows["variables"]),
        "total_rows": sum(t["row_count"] or 0 for t in tables),
        **population, "reference_date": reference,
        "first_date": first, "last_date": last, "events_after_reference": after_reference,
        "time_depth_years": round((last - first).days / 365.25, 1) if first and last else None,
        "quality_checks_passed_pct": None, "disclosure_k": k, "language": d.language,
        "last_refresh": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
        "raw_first_date": min((t["raw_first_date"] for t in tables if t["raw_first_date"]), default=None),
        "raw_last_date": raw_last,
        "profiling_seconds": round(time.perf_counter() - started, 3),
    })
    return result
