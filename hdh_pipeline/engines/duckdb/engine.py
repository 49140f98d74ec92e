"""The DuckDB engine: a source loaded into the warehouse (schema = source id, code lists in `<id>_nomenclatures`)
answers the profile's questions (engines/base.py) with SQL aggregates."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import duckdb
import pyarrow as pa

from hdh_pipeline.engines.base import (
    AGE_BANDS,
    BAND_YEARS,
    DatedColumn,
    KeyCheck,
    Persons,
    PopulationQuery,
    TableStatistics,
)
from hdh_pipeline.engines.duckdb.load import PRIVATE, REJECTS
from hdh_pipeline.engines.duckdb.statistics import LONG_FORM_MAX_ROWS, profile_table
from hdh_pipeline.engines.duckdb.warehouse import in_threads, literal, quote, schema_tables
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import AGE_MAX, AGE_MIN

KEYS = "hdh_code_keys"  # temporary table of the code lists' keys: (hdh_ref "code list.column", hdh_key)


class DuckDBEngine:
    def __init__(self, conn: duckdb.DuckDBPyConnection, schema: str, code_schema: str | None):
        self.conn, self.schema, self.code_schema = conn, schema, code_schema
        self._tables = schema_tables(conn, schema)
        self._code_lists = schema_tables(conn, code_schema) if code_schema else {}
        for private in PRIVATE:
            self._tables.pop(private, None)
            self._code_lists.pop(private, None)
        self._rows: dict[str, int] = {}
        self._keys: set[str] = set()  # "code list.column" in KEYS

    @classmethod
    def for_source(cls, conn: duckdb.DuckDBPyConnection, source: Source) -> DuckDBEngine:
        codes = source.declaration.nomenclature_schema if source.nomenclatures else None
        return cls(conn, source.id, codes)

    def _target(self, table: str) -> str:
        return f"{quote(self.schema)}.{quote(table)}"

    def tables(self) -> dict[str, dict[str, str]]:
        return self._tables

    def code_lists(self) -> dict[str, dict[str, str]]:
        return self._code_lists

    def row_count(self, table: str) -> int:
        if table not in self._rows:
            self._rows[table] = self.conn.execute(f"SELECT count(*) FROM {self._target(table)}").fetchone()[0]
        return self._rows[table]

    def labels(self, table: str, key: str, label: str, values: list[str]) -> dict[str, str]:
        with self.conn.cursor() as cursor:
            return dict(cursor.execute(
                f"SELECT CAST({quote(key)} AS VARCHAR), CAST(first({quote(label)}) AS VARCHAR) FROM "
                f"{self._target(table)} WHERE CAST({quote(key)} AS VARCHAR) IN (SELECT unnest(?)) GROUP BY 1",
                [values]).fetchall()) if values else {}

    def code_list(self, name: str) -> pa.Table:
        columns = ", ".join(f"CAST({quote(c)} AS VARCHAR) AS {quote(c)}" for c in self._code_lists[name])
        with self.conn.cursor() as cursor:  # its own: the connection may hold a result still
            return cursor.sql(f"SELECT {columns} FROM {quote(self.code_schema)}.{quote(name)}").to_arrow_table()

    def statistics(self, tables: list[tuple[str, set[str], tuple[str, ...]]], k: int) -> Iterator[TableStatistics]:
        """Several tables at once: a wide source's profile is mostly DuckDB planning and running a small table's
        wide aggregates, on one core (in_threads)."""
        def one(cursor: duckdb.DuckDBPyConnection, request: tuple) -> TableStatistics:
            table, no_values, key = request
            rows, columns = profile_table(cursor, self.schema, table, k, no_values, self._tables[table])
            target = self._target(table)
            duplicates = None
            if key:
                listed = ", ".join(quote(c) for c in key)
                duplicates = cursor.execute(f"SELECT count(*) - count(DISTINCT ({listed})) FROM {target}").fetchone()[0]
            rejected = cursor.execute(f"SELECT count(DISTINCT (file, line)) FROM {quote(self.schema)}.{REJECTS} "
                                      "WHERE table_name = ?", [table]).fetchone()[0]
            return TableStatistics(rows, columns, rejected, duplicates)

        for request, result in zip(tables, in_threads(self.conn, one, tables)):
            self._rows[request[0]] = result.rows
            yield result

    def matches(self, table: str, checks: list[KeyCheck]) -> list[tuple[int, int]]:
        """The code lists of a short table (statistics.LONG_FORM_MAX_ROWS rows or fewer) in one query, the rest one
        join each."""
        short = self._rows.get(table, LONG_FORM_MAX_ROWS + 1) <= LONG_FORM_MAX_ROWS
        together = [c for c in checks if short and c.code_list and len(c.columns) == 1]
        counts = dict(zip(together, self._code_matches(table, together)))
        for check in checks:
            if check not in counts:
                counts[check] = self._match(table, check)
        return [counts[check] for check in checks]

    def _referenced(self, check: KeyCheck) -> str:
        return f"{quote(self.code_schema if check.code_list else self.schema)}.{quote(check.referenced)}"

    def _match(self, table: str, check: KeyCheck) -> tuple[int, int]:
        keys = ", ".join(f"CAST({quote(c)} AS VARCHAR) AS k{i}" for i, c in enumerate(check.referenced_columns))
        on = " AND ".join(f"CAST(t.{quote(c)} AS VARCHAR) = r.k{i}" for i, c in enumerate(check.columns))
        not_null = " AND ".join(f"t.{quote(c)} IS NOT NULL" for c in check.columns)
        return self.conn.execute(
            f"SELECT count(*) FILTER (WHERE {not_null}), count(r.found) FROM {self._target(table)} t "
            f"LEFT JOIN (SELECT DISTINCT {keys}, true AS found FROM {self._referenced(check)}) r ON {on}").fetchone()

    def _code_matches(self, table: str, checks: list[KeyCheck]) -> list[tuple[int, int]]:
        """Many one-column code-list checks of a table in one query, which unpivots the columns and joins them
        with the code lists' keys (each code list read once per source, into the temporary table KEYS)."""
        if not checks:
            return []
        refs = [f"{c.referenced}.{c.referenced_columns[0]}" for c in checks]
        if not self._keys:
            self.conn.execute(f"CREATE OR REPLACE TEMP TABLE {KEYS} (hdh_ref VARCHAR, hdh_key VARCHAR)")
        for check, ref in zip(checks, refs):
            if ref not in self._keys:
                column = quote(check.referenced_columns[0])
                self.conn.execute(f"INSERT INTO {KEYS} SELECT DISTINCT ?, CAST({column} AS VARCHAR) FROM "
                                  f"{self._referenced(check)} WHERE {column} IS NOT NULL", [ref])
                self._keys.add(ref)
        casts = ", ".join(f"CAST({quote(c.columns[0])} AS VARCHAR) AS c{i}" for i, c in enumerate(checks))
        wanted = ", ".join(f"('c{i}', {literal(ref)})" for i, ref in enumerate(refs))
        found = dict.fromkeys(range(len(checks)), (0, 0)) | {
            int(check[1:]): (checked, matched) for check, checked, matched in self.conn.execute(
                f"SELECT u.hdh_check, count(*), count(k.hdh_key) FROM (SELECT {casts} FROM {self._target(table)}) "
                f"UNPIVOT (hdh_value FOR hdh_check IN ({', '.join(f'c{i}' for i in range(len(checks)))})) u "
                f"JOIN (VALUES {wanted}) w(hdh_check, hdh_ref) USING (hdh_check) "
                f"LEFT JOIN {KEYS} k ON k.hdh_ref = w.hdh_ref AND k.hdh_key = u.hdh_value "
                "GROUP BY u.hdh_check").fetchall()}
        return [found[i] for i in range(len(checks))]

    def dates_up_to(self, table: str, columns: list[str], reference: dt.date, k: int) -> dict[str, DatedColumn]:
        if not columns:
            return {}
        parts = []
        for name in columns:
            column, until = quote(name), f"CAST({quote(name)} AS DATE) <= DATE '{reference.isoformat()}'"
            parts += [f"count({column}) FILTER (WHERE {until})", f"min({column}, {k}) FILTER (WHERE {until})",
                      f"max({column}, {k}) FILTER (WHERE {until})"]
        values = self.conn.execute(f"SELECT {', '.join(parts)} FROM {self._target(table)}").fetchone()
        return {name: DatedColumn(values[3 * i], values[3 * i + 1] or [], values[3 * i + 2] or [])
                for i, name in enumerate(columns)}

    def persons(self, query: PopulationQuery, k: int) -> Persons:
        """Each person once: the sex codes of all their rows, their highest age at the reference date."""
        person = ", ".join(quote(c) for c in query.person)
        sex = f"CAST({quote(query.sex)} AS VARCHAR)"
        male = ", ".join(literal(v) for v in query.male)
        female = ", ".join(literal(v) for v in query.female)
        if query.age:
            age = f"CAST({quote(query.age)} AS DOUBLE)"
        elif query.birth_year:
            age = f"({query.reference.year} - CAST({quote(query.birth_year)} AS DOUBLE))"
        else:
            age = f"({query.reference.year} - year({quote(query.birth_date)}))"
        plausible = f"age BETWEEN {AGE_MIN} AND {AGE_MAX}"
        conn = self.conn
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE hdh_persons AS SELECT CASE WHEN male AND NOT female THEN 'men' "
            f"WHEN female AND NOT male THEN 'women' ELSE 'other' END AS sex, age "
            f"FROM (SELECT coalesce(bool_or({sex} IN ({male})), false) AS male, "
            f"coalesce(bool_or({sex} IN ({female})), false) AS female, max({age}) AS age "
            f"FROM {self._target(query.table)} GROUP BY {person})")
        individuals, men, women, other, implausible, ages, low, median, high = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE sex = 'men'), count(*) FILTER (WHERE sex = 'women'), "
            f"count(*) FILTER (WHERE sex = 'other'), count(*) FILTER (WHERE age IS NOT NULL AND NOT ({plausible})), "
            f"count(*) FILTER (WHERE {plausible}), min(age, {k}) FILTER (WHERE {plausible}), "
            f"median(age) FILTER (WHERE {plausible}), max(age, {k}) FILTER (WHERE {plausible}) "
            f"FROM hdh_persons").fetchone()
        implausible_band, unknown_band = len(AGE_BANDS), len(AGE_BANDS) + 1
        grid = {(band, sex): n for band, sex, n in conn.execute(
            f"SELECT CASE WHEN age IS NULL THEN {unknown_band} WHEN NOT ({plausible}) THEN {implausible_band} "
            f"ELSE least(floor(age / {BAND_YEARS}), {len(AGE_BANDS) - 1}) END AS band, sex, count(*) "
            f"FROM hdh_persons GROUP BY ALL").fetchall()}
        conn.execute("DROP TABLE hdh_persons")
        return Persons(individuals, {"men": men, "women": women, "other": other}, implausible, ages,
                       low[-1] if low else None, median, high[-1] if high else None, grid)
