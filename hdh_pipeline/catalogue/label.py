"""A data quality and utility label per database, after the EHDS regulation (Article 78: documentation, technical
quality, quality management, coverage, access and provision, changes) and the QUANTUM project's dimensions. Each
element says what it is, its value, its evidence (where in the catalogue it comes from) and whether the catalogue
`computed` it, read it from the `declared` source declaration, or does `not cover` it. Built from the public
tables only, so it discloses nothing they do not."""
from __future__ import annotations

import datetime as dt

from hdh_pipeline.vocabulary import pass_rate, period

COMPUTED, DECLARED, NOT_COVERED = "computed", "declared", "not covered"
DIMENSIONS = ("documentation", "technical quality", "quality management", "coverage", "access and provision",
              "timeliness", "stability", "utility")


def _rate(results: list[dict], category: str) -> float | None:
    return pass_rate([r for r in results if r["category"] == category], 1)


def _pct(dimension: str, element: str, value: float | None, evidence: str) -> tuple:
    """A computed percentage: its text and, for the DQV measurements, its number."""
    return dimension, element, None if value is None else f"{value:g} %", evidence, COMPUTED, value


def label_rows(public: dict[str, list[dict]], now: dt.datetime) -> list[dict]:
    """Every element of every database's label (`now`: when the catalogue is published, for timeliness)."""
    rows = []
    for d in public["databases"]:
        source = d["source_id"]
        mine = {name: [r for r in public.get(name, []) if r["source_id"] == source]
                for name in ("tables", "variables", "quality_results", "quality_protocol", "changes")}
        results, protocol = mine["quality_results"], mine["quality_protocol"]
        shares = [v["completeness_pct"] for v in mine["variables"] if v["completeness_pct"] is not None]
        every = period(d["update_frequency"])
        late = d["last_refresh"] is not None and now - d["last_refresh"] > every
        breaking = sum(bool(c["breaks_dictionary"]) for c in mine["changes"])
        elements = [
            _pct("documentation", "documentation completeness", d["documentation_pct"],
                 "databases.documentation_pct: descriptions of the database, tables and variables, code list "
                 "labels, producer, contact, licence, access, owners"),
            _pct("technical quality", "completeness of the variables (mean)",
                 round(sum(shares) / len(shares), 1) if shares else None, "variables.completeness_pct"),
            *(_pct("technical quality", f"{category} checks passed", _rate(results, category),
                   f"quality_results, category {category}") for category in ("conformance", "completeness",
                                                                              "plausibility")),
            ("quality management", "quality protocol",
             f"{sum(p['checks'] for p in protocol)} checks in {len(protocol)} rules, run {d['update_frequency_text']}"
             if protocol else None, "quality_protocol", COMPUTED),
            ("coverage", "time coverage", f"{d['first_date']} – {d['last_date']} ({d['time_depth_years']} years)"
             if d["first_date"] and d["last_date"] else None, "databases.first_date, last_date", COMPUTED),
            ("coverage", "population", None if d["individuals"] is None else f"{d['individuals']} individuals",
             "databases.individuals (hidden under the disclosure threshold)", COMPUTED),
            ("coverage", "tables and variables", f"{d['table_count']} tables, {d['variable_count']} variables",
             "databases.table_count, variable_count", COMPUTED),
            ("access and provision", "access conditions", d["access"], "the declaration's access", DECLARED),
            ("access and provision", "access procedure", d["access_procedure_url"], "the declaration's access",
             DECLARED),
            ("access and provision", "usual delay", d["access_delay"], "the declaration's access", DECLARED),
            ("access and provision", "licence", d["licence"], "the declaration's licence", DECLARED),
            ("access and provision", "metadata formats", "CSV, Parquet, DuckDB, HealthDCAT-AP, Data Package",
             "the catalogue's exports", COMPUTED),
            ("timeliness", "refreshed within its declared frequency",
             None if d["last_refresh"] is None else f"{'no' if late else 'yes'}: last {d['last_refresh']:%Y-%m-%d}, "
             f"expected {d['update_frequency_text']}", "databases.last_refresh against update_frequency", COMPUTED),
            ("stability", "changes since the previous refresh",
             f"{len(mine['changes'])} changes, {breaking} breaking the dictionary", "changes (drift, tolerances)",
             COMPUTED),
            ("utility", "use in projects and publications", None, "not measured by the catalogue", NOT_COVERED),
        ]
        rows += [{"source_id": source, "dimension": dimension, "element": element, "value": value,
                  "evidence": evidence, "basis": basis, "measure": measure[0] if measure else None}
                 for dimension, element, value, evidence, basis, *measure in elements]
    return rows
