"""Each database's quality protocol (the "protocoles de qualité" of the database level), from what actually ran:
its checks by Kahn category and rule, their thresholds and severities, when they run, what a failure does, and
their pass rate over the last refreshes. Checks are counted, never people: nothing here needs disclosure control
beyond what `quality_results` already publishes check by check."""
from __future__ import annotations

from collections import defaultdict

from hdh_pipeline.vocabulary import CATEGORIES, PASSED, SEVERE, UNSUCCESSFUL, pass_rate

HISTORY = 10  # earlier pass rates kept in `pass_rate_history`
ON_FAILURE = {
    SEVERE: "error: the check fails in red in the Dagster UI and the refresh ends with exit code 3; the catalogue is "
            "still published, this check's result with it",
    "warning": "warning: listed as a warning in the Dagster UI and by the command line; the catalogue is published",
}


def rule_of(check_id: str) -> str:
    """`range:AGE_ANN` -> `range`."""
    return check_id.split(":", 1)[0]


def protocol_rows(results: list[dict], databases: list[dict], previous: list[dict]) -> list[dict]:
    """One row per source, category, rule and severity; `results`: the published quality_results; `previous`: the
    protocol rows published before (their pass rates make the history)."""
    by_source = {d["source_id"]: d for d in databases}
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in results:
        if r["source_id"] in by_source:
            groups[(r["source_id"], r["category"], rule_of(r["check_id"]), r["severity"])].append(r)
    before = {(p["source_id"], p["category"], p["rule"], p["severity"]): p for p in previous}
    order = {c: i for i, c in enumerate(CATEGORIES)}
    rows = []
    for key in sorted(groups, key=lambda k: (k[0], order.get(k[1], len(order)), k[1], k[2], k[3])):
        source, category, rule, severity = key
        checks, database = groups[key], by_source[source]
        earlier = before.get(key)
        history = [] if earlier is None else [f"{earlier['refreshed_at']:%Y-%m-%d} {earlier['pass_rate_pct']}"] + \
            (earlier["pass_rate_history"].split("; ") if earlier["pass_rate_history"] else [])
        rows.append({
            "source_id": source, "category": category, "rule": rule, "severity": severity, "checks": len(checks),
            "threshold_pct_min": min(c["threshold_pct"] for c in checks),
            "threshold_pct_max": max(c["threshold_pct"] for c in checks),
            "passed": sum(c["status"] == PASSED for c in checks),
            "failed": sum(c["status"] in UNSUCCESSFUL for c in checks),
            "pass_rate_pct": pass_rate(checks, 1),
            "runs": f"{database['update_frequency_text']} (`{database['update_frequency']}`), after each load and "
                    "profile",
            "on_failure": ON_FAILURE[severity],
            "pass_rate_history": "; ".join(history[:HISTORY]) or None,
            "refreshed_at": database["last_refresh"],
        })
    return rows
