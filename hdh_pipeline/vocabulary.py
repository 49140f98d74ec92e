"""The concepts every layer shares, each defined once: check statuses and the pass rule, disclosure's k, the
`(other)` row, plausible ages, the reference date, role groups and type families.

Types are named in the catalogue's vocabulary (DuckDB's type names: `BIGINT`, `VARCHAR`, `DATE`...), whatever
engine computed them: an engine maps its own types to these (engines/*/types.py).
"""
from __future__ import annotations

import datetime as dt

from croniter import croniter

# -- disclosure control ------------------------------------------------------------------------------------------
DEFAULT_K = 11  # no published count is in 1..k-1 (a declaration's `disclosure_k` changes it)
OTHER = "(other)"  # the value_frequencies row of every value not listed

# -- plausibility -------------------------------------------------------------------------------------------------
AGE_MIN, AGE_MAX = 0, 120  # a plausible age, in years: below or above is implausible (quality and population)


MASK = "•••"  # what an identifier's value shows as, wherever values reach people


def reference_date(declared: dt.date | None, last_event: dt.date | None, today: dt.date | None = None) -> dt.date:
    """The date the data runs to, the one rule for ages and for plausibility: the declaration's `reference_date`,
    else the last event date found in the data (never after today), else today."""
    today = today or dt.date.today()
    return declared or (min(last_event, today) if last_event else today)


# -- quality checks -----------------------------------------------------------------------------------------------
PASSED, FAILED, ERROR, NOT_APPLICABLE = "passed", "failed", "error", "not applicable"
STATUSES = (PASSED, FAILED, ERROR, NOT_APPLICABLE)
UNSUCCESSFUL = (FAILED, ERROR)  # what a summary counts as failed
JUDGED = (PASSED, FAILED)  # what a pass rate is computed over
WARNING, SEVERE = "warning", "error"  # severities
CATEGORIES = ("conformance", "completeness", "plausibility")  # Kahn et al., as the OHDSI framework uses them
DEFAULT_THRESHOLDS = {"conformance": 0.0, "completeness": 5.0, "plausibility": 1.0}  # failing % still accepted


def passes(evaluated: int, failing: int, threshold_pct: float) -> bool:
    """The pass rule: no row evaluated, or a failing share at most the threshold."""
    return evaluated == 0 or 100.0 * failing / evaluated <= threshold_pct


def pass_rate(results: list[dict], digits: int) -> float | None:
    """Checks passed among those judged (passed or failed), in %; None when none was judged."""
    judged = [r for r in results if r["status"] in JUDGED]
    return round(100.0 * sum(r["status"] == PASSED for r in judged) / len(judged), digits) if judged else None


def check_status(evaluated: int | None, failing: int | None, threshold_pct: float) -> tuple[str, float | None]:
    """(status, failing %) of a check that evaluated `evaluated` rows of which `failing` failed (None: it did not
    run)."""
    if evaluated is None or failing is None:
        return ERROR, None
    if evaluated == 0:
        return NOT_APPLICABLE, None
    return (PASSED if passes(evaluated, failing, threshold_pct) else FAILED), 100.0 * failing / evaluated


# -- roles ----------------------------------------------------------------------------------------------------------
EVENT_ROLES = ("event_date", "start_date", "end_date", "death_date")  # dates of what happened: time coverage
QUASI_ROLES = ("birth_year", "birth_date", "age", *EVENT_ROLES)  # could help re-identify someone
NATURALLY_EMPTY_ROLES = ("death_date",)  # empty for the living: no completeness check

# -- types ----------------------------------------------------------------------------------------------------------
INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                 "UBIGINT")
DECIMAL_TYPES = ("FLOAT", "DOUBLE", "REAL", "DECIMAL")
DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS")
# a declared (Table Schema) type -> the type it is stored as
STORED_TYPES = {
    "string": "VARCHAR", "any": "VARCHAR", "object": "VARCHAR", "array": "VARCHAR", "yearmonth": "VARCHAR",
    "integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN", "year": "INTEGER",
    "date": "DATE", "datetime": "TIMESTAMP", "time": "TIME",
}
DECLARABLE_TYPES = ("VARCHAR", "BIGINT", "INTEGER", "SMALLINT", "DOUBLE", "DECIMAL", "BOOLEAN", "DATE", "TIMESTAMP",
                    "TIME")  # what a declaration's `types` and `type_overrides` may name


def base_type(observed_type: str | None) -> str:
    """`DECIMAL(11,2)` -> `DECIMAL`; None -> `VARCHAR`."""
    return (observed_type or "VARCHAR").split("(")[0].strip().upper()


def kind_of(observed_type: str | None) -> str:
    """`numeric`, `date`, `boolean` or `text`: what statistics a column gets."""
    base = base_type(observed_type)
    if base in INTEGER_TYPES or base in DECIMAL_TYPES:
        return "numeric"
    if base in DATE_TYPES:
        return "date"
    return "boolean" if base == "BOOLEAN" else "text"


def is_integer(observed_type: str | None) -> bool:
    return base_type(observed_type) in INTEGER_TYPES


def table_schema_type(observed_type: str | None) -> str:
    """The Table Schema type of a stored type (`BIGINT` -> `integer`, `TIMESTAMP` -> `datetime`)."""
    base = base_type(observed_type)
    if base in INTEGER_TYPES:
        return "integer"
    if base in DECIMAL_TYPES:
        return "number"
    if base in DATE_TYPES:
        return "date" if base == "DATE" else "datetime"
    return {"BOOLEAN": "boolean", "TIME": "time"}.get(base, "string")


# -- identifiers ----------------------------------------------------------------------------------------------------
IDENTIFIER_SHARE = 0.95  # text or integer columns with this share of distinct values look like identifiers


def may_identify(observed_type: str | None) -> bool:
    """Text or whole numbers: what a record or person identifier is written as."""
    return kind_of(observed_type) == "text" or is_integer(observed_type)


def looks_like_identifier(observed_type: str | None, non_null: int, distinct: int | None) -> bool:
    """Values (nearly) all different: record or person identifiers. The one rule, with the person-id role, for
    every output that could show values (catalogue, previews)."""
    return may_identify(observed_type) and non_null > 1 and distinct is not None and \
        distinct >= IDENTIFIER_SHARE * non_null


def period(cron: str) -> dt.timedelta:
    """The longest gap between consecutive ticks of a cron string over a year (a monthly cron: 31 days)."""
    ticks = croniter(cron, dt.datetime(2025, 1, 1))
    times = [ticks.get_next(dt.datetime) for _ in range(2)]
    longest = times[1] - times[0]
    while times[-1] < dt.datetime(2026, 1, 1) and len(times) < 2000:
        times.append(ticks.get_next(dt.datetime))
        longest = max(longest, times[-1] - times[-2])
    return longest
