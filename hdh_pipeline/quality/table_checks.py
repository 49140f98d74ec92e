"""Many simple expectations of one table, run by Great Expectations in one query.

Great Expectations spends about 25 ms of Python per expectation (metric graph, validation,
results) whatever the table's size: 10,000 checks of a 191-table source take minutes while
DuckDB answers them all in a second. The suites keep one standard expectation per check
(reviewable, editable one by one); when a table is validated, the expectations of the kinds
below are compiled into one `ExpectTableChecks` (a Great Expectations expectation backed by
the metric `hdh.table_checks`, in expectation.py), which counts, for every check at once, the rows it evaluates
and the rows that fail, with Great Expectations' semantics:

| expectation | evaluated rows | failing rows |
|---|---|---|
| expect_column_values_to_not_be_null | all | null |
| expect_column_values_to_be_between, _to_be_in_set, expect_column_value_lengths_to_be_between | non-null | outside |
| expect_column_pair_values_a_to_be_greater_than_b (either value missing: ignored) | both non-null | A < B (A <= B) |
| unexpected_rows_expectation | all | rows the query returns |

A table's code-list checks (unexpected_rows_expectation whose query is `code_list_query`'s, named in
`meta.code_list`) are counted together in a second query: each coded column's values, tagged with
its check and code list, unioned, then one anti-join with the union of the code lists. One plan,
not one subquery per column (those cost 5 ms each to plan, even on 10 rows).

Anything else (other kinds, `row_condition`, strict bounds, suite parameters) runs as a
plain Great Expectations expectation. `tests/test_quality.py` checks that both ways give
the same counts. This module is SQL only: planning suites does not import Great Expectations
(seconds), so that helper processes can start importing it first (parallel.py).
"""
from __future__ import annotations

from hdh_pipeline.engines.sql import DUCKDB, Dialect
from hdh_pipeline.vocabulary import ERROR, WARNING

COLUMN_ARGUMENTS = ("column", "column_A", "column_B")
PLAIN_KWARGS = {"column", "mostly", "result_format", "catch_exceptions", "meta", "description"}


def _value(value: object, sql: Dialect) -> str | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return repr(value)
    return sql.literal(value) if isinstance(value, str) else None


def _outside(expression: str, kwargs: dict, sql: Dialect) -> str | None:
    """SQL true where the expression lies outside [min_value, max_value]; None when the bounds are not plain."""
    bounds = {k: _value(kwargs[k], sql) for k in ("min_value", "max_value") if kwargs.get(k) is not None}
    if not bounds or None in bounds.values():
        return None
    parts = ([f"{expression} < {bounds['min_value']}"] if "min_value" in bounds else []) + (
        [f"{expression} > {bounds['max_value']}"] if "max_value" in bounds else [])
    return " OR ".join(parts)


def rows_query(sql: str) -> str:
    """`sql`, a query of `{batch}`, as GX wants it: GX fills `{batch}` with str.format, so every other brace
    (in a name) is doubled."""
    return sql.replace("{", "{{").replace("}", "}}").replace("{{batch}}", "{batch}")


def code_list_query(column: str, schema: str, code_list: str, code: str, sql: Dialect = DUCKDB) -> str:
    """The rows of `{batch}` whose `column` is not a code of the code list `schema.code_list` (column `code`)."""
    table, column, code, text = sql.table(schema, code_list), sql.quote(column), sql.quote(code), sql.text
    return rows_query(f"SELECT * FROM {{batch}} WHERE {column} IS NOT NULL AND CAST({column} AS {text}) "
                      f"NOT IN (SELECT CAST({code} AS {text}) FROM {table} WHERE {code} IS NOT NULL)")


def compile_check(kind: str, kwargs: dict, meta: dict | None = None, sql: Dialect = DUCKDB) -> dict | None:
    """{"evaluated": SQL aggregate, "failing": SQL aggregate} over `{batch}` (braces of our own SQL doubled,
    a query's `{batch}` kept), {"evaluated": "count(*)", "failing": None, "code_list": [column, schema, code list,
    code]} for a code-list check, or None when the expectation must run on its own."""
    if kind == "unexpected_rows_expectation":
        query = kwargs.get("unexpected_rows_query")
        rest = set(kwargs) - {"unexpected_rows_query", "description", "result_format", "catch_exceptions"}
        if not isinstance(query, str) or rest:
            return None
        named = (meta or {}).get("code_list")
        if isinstance(named, list) and len(named) == 4 and query == code_list_query(*map(str, named), sql=sql):
            return {"evaluated": "count(*)", "failing": None, "code_list": named}
        return {"evaluated": "count(*)", "failing": f"(SELECT count(*) FROM ({query}) AS hdh_unexpected)"}
    if kind == "expect_column_pair_values_a_to_be_greater_than_b":
        if set(kwargs) - {"column_A", "column_B", "or_equal", "ignore_row_if", "mostly", "result_format"} or \
                kwargs.get("ignore_row_if") != "either_value_is_missing":
            return None
        a, b = sql.quote(kwargs["column_A"]), sql.quote(kwargs["column_B"])
        both = f"{a} IS NOT NULL AND {b} IS NOT NULL"
        wrong = f"{a} < {b}" if kwargs.get("or_equal") else f"{a} <= {b}"
        return _escaped(f"count(*) FILTER (WHERE {both})", f"count(*) FILTER (WHERE {both} AND {wrong})")
    if "column" not in kwargs or not isinstance(kwargs["column"], str):
        return None
    column, rest = sql.quote(kwargs["column"]), set(kwargs) - PLAIN_KWARGS
    if kind == "expect_column_values_to_not_be_null" and not rest:
        return _escaped("count(*)", f"count(*) - count({column})")
    outside = None
    if kind == "expect_column_values_to_be_between" and rest <= {"min_value", "max_value"}:
        outside = _outside(column, kwargs, sql)
    elif kind == "expect_column_value_lengths_to_be_between" and rest <= {"min_value", "max_value"}:
        outside = _outside(f"length({column})", kwargs, sql)
    elif kind == "expect_column_values_to_be_in_set" and rest == {"value_set"}:
        values = [_value(v, sql) for v in kwargs["value_set"] or []]
        if values and None not in values:
            outside = f"{column} NOT IN ({', '.join(values)})"
    # nulls are neither evaluated nor failing, as in Great Expectations
    return _escaped(f"count({column})", f"count({column}) FILTER (WHERE {outside})") if outside else None


def failing_rows(kind: str, kwargs: dict, sql: Dialect = DUCKDB) -> tuple[list[str], str] | None:
    """(the columns the check is about, a query of `{batch}`'s failing rows, in Great Expectations' form: see
    rows_query), for showing a failed check's values; None where it has no values to show (a not-null check) or
    its failing rows cannot be written here."""
    columns = [kwargs[a] for a in COLUMN_ARGUMENTS if isinstance(kwargs.get(a), str)]
    if kind == "unexpected_rows_expectation" and isinstance(kwargs.get("unexpected_rows_query"), str):
        return columns, kwargs["unexpected_rows_query"]
    if kind == "expect_column_pair_values_a_to_be_greater_than_b" and len(columns) == 2:
        a, b = map(sql.quote, columns)
        wrong = f"{a} < {b}" if kwargs.get("or_equal") else f"{a} <= {b}"
        return columns, rows_query(f"SELECT * FROM {{batch}} WHERE {a} IS NOT NULL AND {b} IS NOT NULL AND {wrong}")
    if len(columns) != 1:
        return None
    column, outside = sql.quote(columns[0]), None
    if kind == "expect_column_values_to_be_between":
        outside = _outside(column, kwargs, sql)
    elif kind == "expect_column_value_lengths_to_be_between":
        outside = _outside(f"length({column})", kwargs, sql)
    elif kind == "expect_column_values_to_be_in_set":
        values = [_value(v, sql) for v in kwargs.get("value_set") or []]
        outside = f"{column} NOT IN ({', '.join(values)})" if values and None not in values else None
    return (columns, rows_query(f"SELECT * FROM {{batch}} WHERE {column} IS NOT NULL AND ({outside})")) if outside \
        else None


def _escaped(evaluated: str, failing: str) -> dict:
    """Braces of our own SQL doubled: the query goes through str.format to substitute {batch}."""
    return {"evaluated": evaluated.replace("{", "{{").replace("}", "}}"),
            "failing": failing.replace("{", "{{").replace("}", "}}")}


def counting_query(checks: list[dict]) -> str:
    """One SELECT over `{batch}`: for each check, its evaluated rows then its failing rows (0 for a code-list
    check: see `code_list_counts`)."""
    aggregates = ", ".join(f"{check['evaluated']} AS hdh_e{i}, {check['failing'] or 0} AS hdh_f{i}"
                           for i, check in enumerate(checks))
    return f"SELECT {aggregates} FROM {{batch}}"


def code_list_counts(checks: list[dict], sql: Dialect = DUCKDB) -> str:
    """One query over `{batch}`: (position of the check, failing rows) for the code-list checks among `checks`
    that have failing rows. Values are compared as text, nulls are not evaluated, as in `code_list_query`."""
    coded = [(i, check["code_list"]) for i, check in enumerate(checks) if check.get("code_list")]
    lists = list(dict.fromkeys((schema, table, code) for _, (_, schema, table, code) in coded))
    values = " UNION ALL ".join(
        f"SELECT {i} AS hdh_check, {lists.index((schema, table, code))} AS hdh_list, "
        f"CAST({sql.quote(column)} AS {sql.text}) AS hdh_value FROM {{batch}} WHERE {sql.quote(column)} IS NOT NULL"
        for i, (column, schema, table, code) in coded)
    codes = " UNION ALL ".join(f"SELECT {n} AS hdh_list, CAST({sql.quote(code)} AS {sql.text}) AS hdh_value "
                               f"FROM {sql.table(schema, table)}" for n, (schema, table, code) in enumerate(lists))
    query = (f"WITH hdh_values AS ({values}), hdh_codes AS ({codes}) SELECT hdh_check, count(*) FROM hdh_values "
             f"{sql.anti_join} hdh_codes USING (hdh_list, hdh_value) GROUP BY hdh_check")
    return rows_query(query)


def result_row(raw: dict, position: int, run_at: object) -> dict:
    """The result row of one expectation of a suite, not yet run (status `error` until counted)."""
    meta = raw.get("meta") or {}
    return {"check_id": meta.get("check", f"custom:{position}"), "expectation": raw.get("type"),
            "variable": meta.get("variable"), "category": meta.get("category", "conformance"),
            "threshold_pct": float(meta.get("threshold_pct", 0)), "severity": meta.get("severity", WARNING),
            "evaluated_rows": None, "failing_rows": None, "failing_pct": None, "status": ERROR, "reason": None,
            "run_at": run_at}


def missing_columns(kwargs: dict, columns: set[str]) -> list[str]:
    named = [kwargs[a] for a in COLUMN_ARGUMENTS if a in kwargs] + list(kwargs.get("column_list") or [])
    return [c for c in named if c not in columns]
