"""Exact (internal) catalogue rows -> public rows, under disclosure control.

Rules, per table (k is the source's `disclosure_k`):
- variables: `count` and `missing_count` are one partition (they add up to the rows);
  identifiers publish counts and completeness only; min and max are the k-th smallest and
  largest values (no extreme value is published; quasi-identifiers are flagged), quantiles
  are clamped inside them; a variable with fewer than k values publishes no statistic of
  its values, one with fewer than 2k no bounds and no quantiles;
- value_frequencies: values seen fewer than k times are folded into `(other)` (and more,
  until `(other)` is not in 1..k-1), so no rare value is named; the missing row repeats
  the variable's controlled missing_count;
- histograms: the bins of a variable are one partition;
- tables: the row counts of a source's tables are one partition (with the total);
  completeness is the mean over the variables whose completeness is published;
- databases: men, women and other are one partition; totals are controlled counts;
- relations: matched and unmatched rows are one partition;
- quality_results: failing and evaluated rows are controlled counts, failing_pct a controlled
  share; the per-variable conformance and plausibility shares and the per-table and
  per-database summaries are computed from these published values only.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from hdh_pipeline.catalogue.disclosure import controlled_partition, is_small, publishable, safe_share
from hdh_pipeline.catalogue.schema import column_names

VALUE_STATISTICS = ("mean", "std", "min", "p01", "q1", "median", "q3", "p99", "max", "zeros", "negatives",
                    "min_length", "max_length", "mean_length")
QUANTILES = ("p01", "q1", "median", "q3", "p99")


def _keep_public(row: dict, table: str) -> dict:
    return {name: row.get(name) for name in column_names(table)}


def _number(text: str | None) -> float | str | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return text  # ISO dates compare as text


def _clamp(value: str | None, low: str | None, high: str | None) -> str | None:
    if value is None or low is None or high is None:
        return value
    if _number(value) < _number(low):
        return low
    return high if _number(value) > _number(high) else value


def _variable(row: dict, k: int, relation: dict | None) -> dict:
    out = dict(row)
    count, missing = controlled_partition([row["count"], row["missing_count"]], k)
    out["count"], out["missing_count"] = count, missing
    out["completeness_pct"] = safe_share(row["count"], row["count"] + row["missing_count"], k)
    # a count of values, not of people (2 sexes, 1 constant value), unless the values are people or records
    out["distinct_count"] = (None if count is None else publishable(row["distinct_count"], k)
                             if row["is_identifier"] else row["distinct_count"])
    out["zeros"], out["negatives"] = publishable(row["zeros"], k), publishable(row["negatives"], k)
    if relation and relation.get("checked_rows") is not None:
        out["nomenclature_conformance_pct"] = safe_share(relation["matched_rows"], relation["checked_rows"], k)
    if row["is_identifier"] or row["count"] < k:
        for name in VALUE_STATISTICS:
            out[name] = None
        out["bounds_coarsened"] = False
    elif row["count"] < 2 * k:  # the k-th smallest value would lie above the k-th largest: no bounds, no quantiles
        for name in ("min", "max", *QUANTILES):
            out[name] = None
        out["bounds_coarsened"] = False
    else:  # no extreme value is published: fewer than k rows lie beyond min and max
        low, high = row["k_smallest"], row["k_largest"]
        out["min"], out["max"], out["bounds_coarsened"] = low, high, True
        for name in QUANTILES:
            out[name] = _clamp(row[name], low, high)
    return _keep_public(out, "variables")


def _frequencies(rows: list[dict], k: int, missing: int | None) -> list[dict]:
    """One variable's top values and `(other)` (they add up to its count), and its missing row.

    Values seen fewer than k times are folded into `(other)`; while `(other)` is itself in
    1..k-1, the least frequent listed value joins it. No value is published with a small count."""
    listed = sorted((r for r in rows if r["value"] not in (None, "(other)")), key=lambda r: -r["frequency"])
    other = next(r for r in rows if r["value"] == "(other)")
    total_other = other["frequency"] + sum(r["frequency"] for r in listed if r["frequency"] < k)
    listed = [r for r in listed if r["frequency"] >= k]
    while listed and is_small(total_other, k):
        total_other += listed.pop()["frequency"]
    missing_row = next(r for r in rows if r["value"] is None)
    rows_total = sum(r["frequency"] for r in rows)
    out = []
    ordered = [*listed, other | {"frequency": total_other}]
    for rank, row in enumerate(ordered, start=1):
        frequency = publishable(row["frequency"], k)
        share = safe_share(row["frequency"], rows_total, k) if frequency is not None else None
        out.append(_keep_public(row | {"rank": rank, "frequency": frequency, "share_pct": share}, "value_frequencies"))
    share = safe_share(missing_row["frequency"], rows_total, k) if missing is not None else None
    out.append(_keep_public(missing_row | {"rank": len(ordered) + 1, "frequency": missing, "share_pct": share},
                            "value_frequencies"))
    return out


def _partitioned(rows: Iterable[dict], key: tuple[str, ...], k: int) -> list[dict]:
    """Histogram bins: every variable's bins form one partition."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[name] for name in key)].append(row)
    out = []
    for group in groups.values():
        for row, frequency in zip(group, controlled_partition([r["frequency"] for r in group], k)):
            out.append(_keep_public(row | {"frequency": frequency}, "histograms"))
    return out


def _relation(row: dict, k: int) -> dict:
    out = dict(row)
    if row["checked_rows"] is not None:
        matched, _ = controlled_partition([row["matched_rows"], row["checked_rows"] - row["matched_rows"]], k)
        out["checked_rows"] = publishable(row["checked_rows"], k)
        out["matched_rows"] = matched
        out["match_pct"] = safe_share(row["matched_rows"], row["checked_rows"], k)
    return _keep_public(out, "relations")


def _quality_result(row: dict, k: int) -> dict:
    return _keep_public(row | {
        "evaluated_rows": publishable(row["evaluated_rows"], k), "failing_rows": publishable(row["failing_rows"], k),
        "failing_pct": safe_share(row["failing_rows"], row["evaluated_rows"], k),
    }, "quality_results")


def _worst_pct(results: list[dict], category: str) -> float | None:
    """100 - the largest published failing share among the checks of a category (None if one is hidden)."""
    shares = [r["failing_pct"] for r in results if r["category"] == category and r["status"] in ("passed", "failed")]
    if not shares or any(s is None for s in shares):
        return None
    return round(100.0 - max(shares), 2)


def public_rows(internal: dict[str, list[dict]], k_by_source: dict[str, int]) -> dict[str, list[dict]]:
    """The public catalogue from the exact one."""
    k_of = lambda row: k_by_source[row["source_id"]]  # noqa: E731
    quality = [_quality_result(r, k_of(r)) for r in internal.get("quality_results", [])]
    by_variable: dict[tuple, list[dict]] = defaultdict(list)
    by_table: dict[tuple, list[dict]] = defaultdict(list)
    for r in quality:
        by_variable[(r["source_id"], r["table_name"], r["variable"])].append(r)
        by_table[(r["source_id"], r["table_name"])].append(r)
    relations = {(r["source_id"], r["table_name"], r["columns"]): r for r in internal["relations"]
                 if r["kind"] == "nomenclature"}
    variables = []
    for v in internal["variables"]:
        key = (v["source_id"], v["table_name"], v["variable"])
        public = _variable(v, k_of(v), relations.get(key))
        public["conformance_pct"] = _worst_pct(by_variable[key], "conformance")
        public["plausibility_pct"] = _worst_pct(by_variable[key], "plausibility")
        variables.append(public)

    frequencies: dict[tuple, list[dict]] = defaultdict(list)
    for row in internal["value_frequencies"]:
        frequencies[(row["source_id"], row["table_name"], row["variable"])].append(row)
    missing = {(v["source_id"], v["table_name"], v["variable"]): v["missing_count"] for v in variables}
    value_frequencies = [r for key, rows in frequencies.items()
                         for r in _frequencies(rows, k_by_source[key[0]], missing[key])]
    histograms = []
    for source, k in k_by_source.items():
        histograms += _partitioned((h for h in internal["histograms"] if h["source_id"] == source),
                                   ("source_id", "table_name", "variable"), k)

    completeness: dict[tuple, list[float]] = defaultdict(list)
    for v in variables:
        if v["completeness_pct"] is not None:
            completeness[(v["source_id"], v["table_name"])].append(v["completeness_pct"])
    tables = []
    for source, k in k_by_source.items():
        rows = [t for t in internal["tables"] if t["source_id"] == source]
        counts = controlled_partition([t["row_count"] for t in rows], k)
        for row, count in zip(rows, counts):
            shares = completeness[(source, row["table_name"])]
            checks = by_table[(source, row["table_name"])]
            tables.append(_keep_public(row | {
                "row_count": count, "rejected_rows": publishable(row["rejected_rows"], k),
                "duplicate_key_rows": publishable(row["duplicate_key_rows"], k),
                "completeness_pct": round(sum(shares) / len(shares), 2) if shares else None,
                "quality_checks": len(checks) if checks else None,
                "quality_checks_failed": sum(c["status"] in ("failed", "error") for c in checks) if checks else None,
            }, "tables"))

    databases = []
    for row in internal["databases"]:
        k = k_of(row)
        men, women, other = (controlled_partition([row["men"], row["women"], row["sex_other"]], k)
                             if row["individuals"] is not None else (None, None, None))
        few = row["individuals"] is None or row["individuals"] < k
        judged = [r for r in quality if r["source_id"] == row["source_id"] and r["status"] in ("passed", "failed")]
        databases.append(_keep_public(row | {
            "quality_checks_passed_pct": round(100.0 * sum(r["status"] == "passed" for r in judged) / len(judged), 2)
            if judged else None,
            "total_rows": publishable(row["total_rows"], k), "individuals": publishable(row["individuals"], k),
            "implausible_ages": publishable(row["implausible_ages"], k),
            "men": men, "women": women, "sex_other": other,
            "age_low": None if few else row["age_low"], "age_median": None if few else row["age_median"],
            "age_high": None if few else row["age_high"],
        }, "databases"))
    return {
        "databases": databases, "tables": tables, "variables": variables, "value_frequencies": value_frequencies,
        "histograms": histograms, "relations": [_relation(r, k_of(r)) for r in internal["relations"]],
        "quality_results": quality,
    }
