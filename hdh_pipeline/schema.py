"""The catalogue's tables, their columns and the relations between their numbers: a public interface,
documented here and nowhere else. The private profile fills these tables with exact values (plus internal
columns of its own); the public catalogue publishes them under disclosure control.

`count=True` marks counts of rows or individuals: disclosure control applies to them
(none is published in 1..k-1, nor recoverable through RELATIONS). `share=True` marks
percentages derived from such counts: published only when their part and whole are.
`docs/catalogue.md` is generated from this module (`python -m hdh_pipeline.schema`).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import pyarrow as pa

from hdh_pipeline.vocabulary import DEFAULT_K


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    count: bool = False
    share: bool = False


def _c(name: str, type_: str, description: str, **flags: bool) -> Column:
    return Column(name, type_, description, **flags)


KEYS = [_c("source_id", "VARCHAR", "Source database id (its declaration's `id`)")]
TABLE_KEYS = KEYS + [_c("table_name", "VARCHAR", "Table name in the source")]
VARIABLE_KEYS = TABLE_KEYS + [_c("variable", "VARCHAR", "Column name")]

TABLES: dict[str, list[Column]] = {
    "databases": KEYS + [
        _c("title", "VARCHAR", "Title of the database"),
        _c("description", "VARCHAR", "What the database holds"),
        _c("producer", "VARCHAR", "Organisation that produces the data"),
        _c("producer_url", "VARCHAR", "Producer's web site"),
        _c("contact", "VARCHAR", "Contact name and email"),
        _c("licence", "VARCHAR", "Licence, or access conditions"),
        _c("access", "VARCHAR", "Who may access the data, and on what conditions"),
        _c("access_procedure_url", "VARCHAR", "Where access is requested"),
        _c("access_delay", "VARCHAR", "How long a request usually takes, in words"),
        _c("access_contact", "VARCHAR", "Whom to ask about access"),
        _c("update_frequency", "VARCHAR", "Refresh schedule (cron)"),
        _c("update_frequency_text", "VARCHAR", "The refresh schedule in words, in the database's language"),
        _c("table_count", "INTEGER", "Number of tables"),
        _c("variable_count", "INTEGER", "Number of variables over all tables"),
        _c("total_rows", "BIGINT", "Rows over all tables", count=True),
        _c("individuals", "BIGINT", "Distinct individuals (person-id role of the population table)", count=True),
        _c("population_table", "VARCHAR", "Table the population figures come from"),
        _c("men", "BIGINT", "Individuals coded male", count=True),
        _c("women", "BIGINT", "Individuals coded female", count=True),
        _c("sex_other", "BIGINT", "Individuals with another, unknown or missing sex code, or with both a male and "
                                  "a female code (each individual counts once: men + women + sex_other = individuals)",
           count=True),
        _c("reference_date", "DATE", "Date the ages are computed at: the declaration's reference_date, else the "
                                     "last event date (raw, never after the refresh), else the refresh date"),
        _c("age_low", "DOUBLE", "Age at reference_date below which fewer than k individuals are (k-th smallest "
                                "plausible age; none with fewer than 2k plausible ages)"),
        _c("age_median", "DOUBLE", "Median plausible age at reference_date"),
        _c("age_high", "DOUBLE", "Age at reference_date above which fewer than k individuals are (k-th largest "
                                 "plausible age; none with fewer than 2k plausible ages)"),
        _c("implausible_ages", "BIGINT", "Individuals whose age at reference_date is below 0 or above 120 "
                                         "(left out of the ages above)", count=True),
        _c("first_date", "DATE", "Start of the time coverage (k-th earliest event date up to reference_date)"),
        _c("last_date", "DATE", "End of the time coverage (k-th latest event date up to reference_date)"),
        _c("events_after_reference", "BIGINT", "Event dates after reference_date, over all tables (implausible: "
                                               "left out of the time coverage)", count=True),
        _c("time_depth_years", "DOUBLE", "Years between first_date and last_date"),
        _c("quality_checks_passed_pct", "DOUBLE", "Share of quality checks passed (with the quality indicators)"),
        _c("documentation_pct", "DOUBLE", "Share of the documentation present: the declaration's description, "
                                          "producer's web site, contact email, licence, access conditions and "
                                          "procedure, owners; each table's and variable's description; each code "
                                          "list's labels (profile/documentation.py)"),
        _c("disclosure_k", "INTEGER", "Threshold k: no published count is in 1..k-1"),
        _c("language", "VARCHAR", "Language of the dictionary (`fr` or `en`): the charts' labels follow it"),
        _c("last_refresh", "TIMESTAMP", "When this source was last profiled"),
    ],
    "tables": TABLE_KEYS + [
        _c("title", "VARCHAR", "Title from the dictionary or declaration"),
        _c("description", "VARCHAR", "Description from the dictionary or declaration"),
        _c("product", "VARCHAR", "Product or domain (SNDS `produit`)"),
        _c("status", "VARCHAR", "`loaded`, `empty` (its files hold no row), `no data` (described by the dictionary, "
                                "no file) or `not loaded` (its files could not be loaded)"),
        _c("row_count", "BIGINT", "Rows loaded", count=True),
        _c("rejected_rows", "BIGINT", "Lines of the source files that did not parse", count=True),
        _c("column_count", "INTEGER", "Number of columns"),
        _c("primary_key", "VARCHAR", "Declared primary key columns, comma-separated"),
        _c("primary_key_unique", "BOOLEAN", "Whether the declared primary key is unique in the data"),
        _c("duplicate_key_rows", "BIGINT", "Rows whose primary key already appeared", count=True),
        _c("join_keys", "VARCHAR", "Declared foreign keys: `col -> TABLE(col)`, semicolon-separated"),
        _c("first_date", "DATE", "k-th earliest of the table's event dates up to the database's reference_date "
                                 "(over event columns with 2k such dates or more)"),
        _c("last_date", "DATE", "k-th latest of the table's event dates up to the database's reference_date"),
        _c("completeness_pct", "DOUBLE", "Mean completeness of the variables whose completeness is published"),
        _c("created", "VARCHAR", "When the table appeared, from the dictionary's history"),
        _c("deleted", "VARCHAR", "When the table was removed, from the dictionary's history"),
        _c("missing_dates", "VARCHAR", "Periods the table misses, from the dictionary's history, `; `-separated"),
        _c("quality_checks", "INTEGER", "Quality checks run on the table"),
        _c("quality_checks_failed", "INTEGER", "Quality checks failed or in error"),
    ],
    "variables": VARIABLE_KEYS + [
        _c("position", "INTEGER", "Column position, from 1"),
        _c("description", "VARCHAR", "Description from the dictionary"),
        _c("declared_type", "VARCHAR", "Type in the dictionary (Table Schema), with its format"),
        _c("declared_length", "INTEGER", "Length in the dictionary"),
        _c("observed_type", "VARCHAR", "DuckDB type of the loaded column"),
        _c("role", "VARCHAR", "Semantic role from the declaration (person_id, sex, birth_year...)"),
        _c("dictionary_format", "VARCHAR", "Type and length as the SNDS documentation writes them "
                                            "(`number (11,2)`, `string (17)`, `date`)"),
        _c("management_rule", "VARCHAR", "Management rule from the dictionary (SNDS `regle_gestion`)"),
        _c("created", "VARCHAR", "When the variable appeared, from the dictionary's history"),
        _c("deleted", "VARCHAR", "When the variable was removed, from the dictionary's history"),
        _c("missing_dates", "VARCHAR", "Periods the variable misses, from the dictionary's history, `; `-separated"),
        _c("nomenclature", "VARCHAR", "Code list the values should belong to"),
        _c("nomenclature_conformance_pct", "DOUBLE", "Share of non-null values that are codes of the nomenclature",
           share=True),
        _c("count", "BIGINT", "Non-null values", count=True),
        _c("missing_count", "BIGINT", "Null values", count=True),
        _c("completeness_pct", "DOUBLE", "Non-null values / rows", share=True),
        _c("distinct_count", "BIGINT", "Distinct values (exact). Not a count of people, so published below "
                                       "k too, except for identifiers (whose values are people or records: "
                                       "controlled like counts) and unique columns whose count is hidden"),
        _c("distinct_exact", "BOOLEAN", "Whether distinct_count is exact"),
        _c("mean", "DOUBLE", "Mean (numeric). Not published when every value is known (listed values and an empty "
                             "`(other)`, or width-1 bins and empty open bins) and one of their counts is hidden: "
                             "mean x count would be one more equation between them"),
        _c("std", "DOUBLE", "Sample standard deviation (numeric; published with the mean)"),
        _c("min", "VARCHAR", "Lower bound: the k-th smallest value (fewer than k values lie below)"),
        _c("p01", "VARCHAR", "1st percentile: the value at position floor(0.01 (n - 1)) of the n sorted values "
                             "(exact up to 1,000,000 values, approximate beyond); clamped inside min and max"),
        _c("q1", "VARCHAR", "First quartile, as p01 (q = 0.25)"),
        _c("median", "VARCHAR", "Median, as p01 (q = 0.5)"),
        _c("q3", "VARCHAR", "Third quartile, as p01 (q = 0.75)"),
        _c("p99", "VARCHAR", "99th percentile, as p01 (q = 0.99)"),
        _c("max", "VARCHAR", "Upper bound: the k-th largest value (fewer than k values lie above)"),
        _c("bounds_coarsened", "BOOLEAN",
           "min and max are the k-th smallest and largest values (true whenever published)"),
        _c("zeros", "BIGINT", "Values equal to 0 (numeric)", count=True),
        _c("negatives", "BIGINT", "Values below 0 (numeric)", count=True),
        _c("min_length", "INTEGER", "Shortest text"),
        _c("max_length", "INTEGER", "Longest text"),
        _c("mean_length", "DOUBLE", "Mean text length"),
        _c("is_constant", "BOOLEAN", "One distinct non-null value"),
        _c("is_unique", "BOOLEAN", "Every non-null value distinct (exact)"),
        _c("is_mostly_missing", "BOOLEAN", "More than half the values are null"),
        _c("is_identifier", "BOOLEAN", "Identifier (role or detected): no value is published"),
        _c("is_quasi_identifier", "BOOLEAN", "Birth, age or event date: could help re-identify someone"),
        _c("after_reference", "BIGINT", "Event dates after the database's reference_date (event date "
                                        "variables only): implausible, left out of the time coverage", count=True),
        _c("conformance_pct", "DOUBLE", "Worst share of conforming rows over the variable's conformance checks",
           share=True),
        _c("plausibility_pct", "DOUBLE", "Worst share of plausible rows over the variable's plausibility checks",
           share=True),
    ],
    "value_frequencies": VARIABLE_KEYS + [
        _c("rank", "INTEGER", "1 for the most frequent value; the `other` and `missing` rows come last"),
        _c("value", "VARCHAR", "The value; `(other)` for all values not listed (every value seen fewer than k "
           "times, and those beyond the 20 most frequent), NULL for missing. Every value seen k times or more "
           "among the 20 most frequent is listed, its count hidden if need be"),
        _c("label", "VARCHAR", "Label of the value in its nomenclature"),
        _c("frequency", "BIGINT", "Rows with this value", count=True),
        _c("share_pct", "DOUBLE", "frequency / rows of the table", share=True),
    ],
    "histograms": VARIABLE_KEYS + [
        _c("bin", "INTEGER", "Bin number, from 0 (the open bin below the bounds)"),
        _c("label", "VARCHAR", "Readable bin: `[a, b)`, a year, `< a` or `>= b`"),
        _c("lower", "VARCHAR", "Lower bound, inclusive (NULL: open)"),
        _c("upper", "VARCHAR", "Upper bound, exclusive (NULL: open)"),
        _c("frequency", "BIGINT", "Rows in the bin", count=True),
    ],
    "population": KEYS + [
        _c("band_order", "INTEGER", "Order of the band: 0 for 0-4 years, ..., 20 for 100+, then 21 and 22"),
        _c("band", "VARCHAR", "Five-year age band at the database's reference_date (`0-4` ... `95-99`, `100+`), "
                              "`implausible` (age below 0 or above 120, born after the reference date included) "
                              "or `unknown` (no age)"),
        _c("age_low", "INTEGER", "First age of the band, in years (NULL for `implausible` and `unknown`)"),
        _c("sex", "VARCHAR", "`men`, `women` or `other`, as in databases.men, women and sex_other"),
        _c("individuals", "BIGINT", "Individuals of this band and sex (population table of the database)",
           count=True),
    ],
    "relations": TABLE_KEYS + [
        _c("columns", "VARCHAR", "Referencing columns, comma-separated"),
        _c("referenced_table", "VARCHAR", "Referenced table or nomenclature"),
        _c("referenced_columns", "VARCHAR", "Referenced columns, comma-separated"),
        _c("kind", "VARCHAR", "`table` (join key) or `nomenclature` (code list)"),
        _c("description", "VARCHAR", "The dictionary's note on the key (SNDS: `Bidirectionnel`)"),
        _c("checked_rows", "BIGINT", "Rows whose key is not null", count=True),
        _c("matched_rows", "BIGINT", "Rows whose key is found in the referenced table", count=True),
        _c("match_pct", "DOUBLE", "matched_rows / checked_rows", share=True),
        _c("status", "VARCHAR", "`checked`, or why not (referenced table not loaded...)"),
    ],
    "quality_results": TABLE_KEYS + [
        _c("variable", "VARCHAR", "Column(s) the check is about, comma-separated"),
        _c("check_id", "VARCHAR", "Stable id of the check (`rule:column`)"),
        _c("expectation", "VARCHAR", "Great Expectations expectation type"),
        _c("category", "VARCHAR", "`conformance`, `completeness` or `plausibility` (OHDSI data quality framework)"),
        _c("threshold_pct", "DOUBLE", "Failing share still accepted, in %"),
        _c("severity", "VARCHAR", "`warning` or `error`"),
        _c("evaluated_rows", "BIGINT", "Rows the check looked at", count=True),
        _c("failing_rows", "BIGINT", "Rows that fail the check", count=True),
        _c("failing_pct", "DOUBLE", "failing_rows / evaluated_rows, in %", share=True),
        _c("status", "VARCHAR", "`passed`, `failed`, `not applicable` (no row) or `error`"),
        _c("reason", "VARCHAR", "Why the check is in error"),
        _c("run_at", "TIMESTAMP", "When the check ran"),
    ],
    "quality_protocol": KEYS + [
        _c("category", "VARCHAR", "`conformance`, `completeness` or `plausibility` (Kahn et al.)"),
        _c("rule", "VARCHAR", "The kind of check (`not_null`, `range`, `nomenclature`, `primary_key`...): the "
                              "part of quality_results.check_id before `:`"),
        _c("severity", "VARCHAR", "`warning` or `error`"),
        _c("checks", "INTEGER", "Checks of this rule and severity run on the database (checks, not people)"),
        _c("threshold_pct_min", "DOUBLE", "Smallest failing share accepted, in %"),
        _c("threshold_pct_max", "DOUBLE", "Largest failing share accepted, in %"),
        _c("passed", "INTEGER", "Checks that passed at the last refresh"),
        _c("failed", "INTEGER", "Checks that failed or were in error at the last refresh"),
        _c("pass_rate_pct", "DOUBLE", "passed / (passed + failed), in % (checks without rows left out)"),
        _c("runs", "VARCHAR", "When the checks run: the database's refresh schedule"),
        _c("on_failure", "VARCHAR", "What a failure does"),
        _c("pass_rate_history", "VARCHAR", "Earlier refreshes' pass rates, latest first: `date pct`, `; `-separated"),
        _c("refreshed_at", "TIMESTAMP", "When the database was profiled"),
    ],
    "quality_label": KEYS + [
        _c("dimension", "VARCHAR", "Dimension of the EHDS data quality and utility label (Article 78; QUANTUM): "
                                   "documentation, technical quality, quality management, coverage, access and "
                                   "provision, timeliness, stability, utility"),
        _c("element", "VARCHAR", "What is measured or stated"),
        _c("value", "VARCHAR", "Its value, in words (NULL: unknown, not declared or hidden)"),
        _c("evidence", "VARCHAR", "Where in the catalogue it comes from"),
        _c("basis", "VARCHAR", "`computed` by the catalogue, `declared` by the source's declaration, or `not "
                               "covered`"),
        _c("measure", "DOUBLE", "The value as a number (a percentage), where it is one: the HealthDCAT-AP export's "
                                "DQV quality measurement"),
    ],
    "nomenclatures": KEYS + [
        _c("nomenclature", "VARCHAR", "Code list (reference data, not personal data: published in full)"),
        _c("title", "VARCHAR", "Title of the code list, from its Table Schema"),
        _c("code", "VARCHAR", "A code"),
        _c("label", "VARCHAR", "Its label"),
        _c("code_field", "VARCHAR", "Name of the code list's code column"),
        _c("label_field", "VARCHAR", "Name of the code list's label column"),
    ],
    "changes": VARIABLE_KEYS + [
        _c("change", "VARCHAR", "What moved since the source's previous refresh: `table added`, `table removed`, "
                                "`column added`, `column removed`, `type changed`, `row count changed`, "
                                "`completeness changed`, `distribution shifted` (no values: they are internal)"),
        _c("measure", "VARCHAR", "What was measured and the tolerance it passed (the source's `tolerances`)"),
        _c("breaks_dictionary", "BOOLEAN", "The data no longer matches its dictionary: a declared table or column "
                                           "is gone, or an undeclared column appeared in a described table"),
        _c("detected_at", "TIMESTAMP", "When the refresh that found it profiled the source"),
    ],
    "refreshes": [
        _c("refresh_id", "VARCHAR", "Identifier of the catalogue refresh"),
        _c("started_at", "TIMESTAMP", "When the refresh started"),
        _c("finished_at", "TIMESTAMP", "When the catalogue was published"),
        _c("duration_seconds", "DOUBLE", "Publication time"),
        _c("sources", "VARCHAR", "Source ids published, comma-separated"),
        _c("profiling_seconds", "VARCHAR", "Profiling time per source: `id=seconds`, comma-separated"),
        _c("outcome", "VARCHAR", "`success`, or `partial` when a source is stale or has no profile yet"),
        _c("stale_sources", "VARCHAR", "Sources whose previous profile is published: a table's last load failed "
                                       "(its files could not be read, or the publication guard refused it), or this "
                                       "refresh meant to profile the source and did not. `id (why; last profiled at "
                                       "...)`, ` | `-separated"),
    ],
}


# Every linear relation between published numbers (per source). Disclosure control treats each as
# one partition: no sum may leave a single hidden cell unknown; `tests/attacker.py` uses them all.
RELATIONS = [
    ("databases.total_rows", "= the sum of the source's tables.row_count"),
    ("databases.individuals", "= men + women + sex_other"),
    ("databases.individuals", "= implausible_ages + individuals with a plausible or unknown age (not published)"),
    ("databases.events_after_reference", "= the sum of its variables' after_reference"),
    ("databases.men, women, sex_other", "= the sum of the source's population rows of that sex (every band)"),
    ("databases.implausible_ages", "= the sum of the source's population rows of band `implausible`"),
    ("tables.row_count", "= duplicate_key_rows + distinct primary keys, where a key is declared: for a one-column "
                         "key, its variable's distinct_count (hidden with the duplicates if need be); for a "
                         "composite key, not published, and at least any key column's distinct_count (hidden "
                         "with the duplicates)"),
    ("tables.row_count", "= count + missing_count, for each of its variables"),
    ("variables.count", "= the sum of its value_frequencies rows but the missing one; that one = missing_count"),
    ("variables.count", "= the sum of its histograms bins"),
    ("variables.count", "= distinct_count, where is_unique"),
    ("variables.count", "= after_reference + dates up to the reference date (not published), for event dates"),
    ("variables.negatives", "= the sum of the bins below 0, where 0 is a bin edge"),
    ("variables.zeros", "= the bin [0, 1) of an integer variable"),
    ("relations.checked_rows", "= matched_rows + unmatched rows (not published); = the column's count for a "
                               "one-column key"),
    ("quality_results.evaluated_rows", "= failing_rows + passing rows (not published); = the table's row_count "
                                       "for not-null and unexpected-rows checks, the column's count for range, "
                                       "set and length checks"),
    ("quality_results.failing_rows", "= the column's missing_count for not-null checks"),
    ("every share", "= part / whole: completeness_pct, share_pct (of the table's rows), match_pct, "
                    "nomenclature_conformance_pct, failing_pct; conformance_pct and plausibility_pct come from "
                    "failing_pct"),
]

# What a reader knows of counts beyond the relations: `tests/attacker.py` bounds hidden counts with them.
BOUNDS = [
    ("a hidden count", "at least 1: a zero is never hidden"),
    ("`value_frequencies.frequency` of a listed value", "at least k (values seen fewer times are folded into "
     "`(other)`); listed values are ranked by published count, largest first, then those whose count is hidden, "
     "by value: no rank places a hidden count between two published ones"),
    ("the total of a relation", "at least the sum of what is known of its parts"),
]


CODES = "nomenclatures"  # the code lists: reference data, carried as one Arrow table (catalogue/codes.py)
ARROW_TYPES = {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
               "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us")}


def column_names(table: str) -> list[str]:
    return [c.name for c in TABLES[table]]


def arrow_table(table: str, rows: list[dict] | pa.Table, extra: list[tuple[str, str]] = ()) -> pa.Table:
    """Rows (or an Arrow table: the code lists) as an Arrow table with the catalogue's column types (plus `extra`
    columns)."""
    columns = [(c.name, c.type) for c in TABLES[table]] + list(extra)
    schema = pa.schema([(name, ARROW_TYPES[kind]) for name, kind in columns])
    if isinstance(rows, pa.Table):
        return rows.select([name for name, _ in columns]).cast(schema)
    return pa.Table.from_pylist([{name: row.get(name) for name, _ in columns} for row in rows], schema=schema)


def markdown() -> str:
    """The catalogue's own data dictionary."""
    lines = ["# Catalogue tables", "", "Generated from `hdh_pipeline/schema.py`; do not edit by hand.",
             f"Counts marked *controlled* are never published in 1..k-1 (k = {DEFAULT_K} unless a source says "
             "otherwise),",
             "nor can they be recovered by combining published numbers through the relations below;",
             "percentages marked *controlled* are published only when their part and their whole are.", ""]
    for table, columns in TABLES.items():
        lines += [f"## {table}", "", "| column | type | description |", "|---|---|---|"]
        for column in columns:
            note = " *(controlled)*" if column.count or column.share else ""
            lines.append(f"| `{column.name}` | {column.type} | {column.description}{note} |")
        lines.append("")
    lines += ["## Relations between published numbers", "",
              "Within a source, these hold exactly. A reader holding every published file can combine them;",
              "disclosure control makes sure that no hidden count, and no unpublished count in 1..k-1, follows.", "",
              "| number | relation |", "|---|---|"]
    lines += [f"| `{number}` | {relation} |" for number, relation in RELATIONS]
    lines += ["", "Beyond these equations, a reader knows bounds; disclosure control keeps each hidden count of "
              "1..k-1 among", "at least half of those values (5 for k = 11) for a reader combining them all:", "",
              "| number | what a reader knows |", "|---|---|"]
    lines += [f"| {number} | {bound} |" for number, bound in BOUNDS]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
