"""Every word the catalogue shows people, in English. `fr.py` has the same keys (a test checks it)."""

WORDS = {
    "language": "en",
    # the site's frame
    "site": "Health databases catalogue", "home": "Home", "skip": "Skip to content", "breadcrumb": "Breadcrumb",
    "search": "Search", "search_placeholder": "Search a table, a variable, a label…",
    "no_result": "No result for [SEARCH_TERM]",
    "search_needs_server": "Search works when the site is served over HTTP: hdh-pipeline serve.",
    "search_label": "Search the catalogue", "filter_source": "Database", "filter_kind": "Kind of page",
    "kind_database": "database", "kind_table": "table", "kind_variable": "variable", "kind_code_list": "code list",
    "intro": "What each database holds, how good its data are and its population, under disclosure control: no "
             "published count is below the threshold k, nor can one be recovered by subtraction.",
    "footer": "Counts under disclosure control (k = {k}): \"hidden\" marks a count left out, below k or hidden to "
              "protect another.",
    # disclosure control
    "hidden": "hidden",
    "hidden_title": "hidden count (disclosure control, k = {k}): below k, or hidden to protect another",
    "hidden_note": "grey: hidden count (disclosure control, k = {k}), conventional length",
    "hidden_cell": "grey: hidden count (disclosure control, k = {k})",
    "withheld": "withheld (disclosure control, k = {k})",
    "statistics_note": "Statistics under disclosure control (k = {k}): \"hidden\" marks a count left out, below k or "
                       "hidden to protect another; the bounds are the k-th smallest and largest values.",
    # a database
    "producer": "Producer", "contact": "Contact", "licence": "Licence or access conditions", "access": "Access",
    "refresh": "Refresh", "size": "Size", "tables": "tables", "variables": "Variables", "rows": "Rows",
    "population": "Population", "individuals": "individuals", "men": "men", "women": "women",
    "other": "other or unknown", "population_table": "population table:", "ages": "Ages", "age": "age (years)",
    "age_range": "from {low} to {high} years (median {median}), at {date}", "implausible": "implausible ages:",
    "implausible_n": "implausible age: {n}", "unknown_age_n": "unknown age: {n}",
    "ages_at": "{n} individuals, ages at {date}",
    "coverage": "Time coverage", "years": "years", "year": "year",
    "after_reference": "dates after the reference date:",
    "quality": "Quality", "checks_passed": "of checks passed", "exports": "Exports", "charts": "Charts",
    "join_graph": "Join graph", "tables_by_product": "Tables by product", "no_product": "No product",
    "code_lists": "Code lists",
    # the charts
    "chart_pyramid": "Age pyramid", "chart_sex": "Sex distribution", "chart_coverage": "Coverage over time",
    "chart_completeness": "Completeness of the variables", "chart_quality": "Quality checks",
    "tables_failing": "Tables with failed checks", "position": "variable position", "share": "share (%)",
    "complete": "completeness: {pct} %", "complete_hidden": "completeness hidden", "codes": "codes: {codes}",
    "missing_value": "missing", "pyramid_alt": "Age pyramid of {title}",
    # a table
    "table": "Table", "title": "Title", "database": "Database", "name": "Name", "status": "Status",
    "completeness": "Completeness",
    "loaded": "loaded", "empty": "empty", "no data": "no data", "not loaded": "not loaded",
    "product": "Product", "rejected": "rejected lines:", "primary_key": "Primary key",
    "unique": "unique", "not_unique": "not unique", "duplicates": "duplicates:", "checks": "checks",
    "failed_or_error": "failed or in error", "history": "History", "created": "created:", "deleted": "deleted:",
    "missing_dates": "missing periods:", "join_keys": "Join keys", "direction": "Direction",
    "columns": "Columns", "match": "Match", "none": "none",
    "table_summary": "Table {name}{product}: {n} variables, {rows} rows.", "of_product": " of product {product}",
    # changes between refreshes
    "changes": "Changes since the previous refresh", "change": "Change", "measure": "Measure",
    "breaks_dictionary": "no longer matches the dictionary", "table added": "table added",
    "table removed": "table removed", "column added": "column added", "column removed": "column removed",
    "type changed": "type changed", "row count changed": "row count changed",
    "completeness changed": "completeness changed", "distribution shifted": "distribution shifted",
    "measure_row_count_changed": "relative change in rows > {limit}",
    "measure_completeness_changed": "absolute change in completeness > {limit}",
    "measure_distribution_shifted": "total variation distance between the two distributions > {limit}",
    # a variable
    "variable": "Variable", "description": "Description", "type": "Type", "distinct": "Distinct values",
    "length": "length", "observed": "observed:", "role": "Role", "code_list": "Code list",
    "management_rule": "Management rule", "flags": "Flags", "statistics": "Statistics",
    "non_null": "Values", "missing": "Missing", "approximate": "approximate", "mean": "Mean",
    "std": "Standard deviation", "min": "Lower bound (k-th smallest value)", "p01": "1st percentile",
    "q1": "1st quartile", "median": "Median", "q3": "3rd quartile", "p99": "99th percentile",
    "max": "Upper bound (k-th largest value)", "min_length": "Shortest", "max_length": "Longest",
    "mean_length": "Mean length", "zeros": "Zeros", "negatives": "Negatives",
    "after_reference_var": "After the reference date", "distribution": "Distribution",
    "chart_numbers": "The chart's numbers", "value": "Value",
    "is_identifier": "identifier", "is_quasi_identifier": "quasi-identifier", "is_unique": "unique values",
    "is_constant": "constant", "is_mostly_missing": "mostly missing",
    # quality checks
    "quality_checks": "Quality checks", "check": "Check", "category": "Category (Kahn)",
    "threshold": "Threshold", "severity": "Severity", "failing": "Failing", "passed": "passed", "failed": "failed",
    "error": "in error", "not applicable": "not applicable", "conformance": "conformance",
    "completeness_cat": "completeness", "plausibility": "plausibility", "severity_warning": "warning",
    "severity_error": "error", "failed_checks": "{n} failed", "all_passed": "passed",
    "downloads": "Downloads", "catalogue_table": "Catalogue table", "this_database": "This database",
    "every_database": "Every database", "documentation": "Documentation (Markdown)",
    "variables_csv": "This table's variables (CSV)", "variables_csv_all": "the whole database's (CSV)",
    # the glossary (site/glossary.html): a term's definition, by its anchor
    "glossary": "Glossary", "glossary_intro": "The terms of the catalogue's pages.", "why": "Why?",
    "small_source": "This database's counts are hidden: below the threshold k = {k}, or hidden to protect another "
                    "(disclosure control).",
    "no_access_conditions": "conditions not stated by the producer", "access_request": "request access",
    "access_delay": "usual delay:", "access_contact": "contact:",
    "def_masked": "A \"hidden\" count is not published: it is below the database's threshold k (disclosure "
                  "control), or it would give another back by subtraction.",
    "def_k": "Disclosure threshold: no published count lies between 1 and k - 1, nor can be derived from the other "
             "published numbers.",
    "def_bounds": "Lower and upper bounds: the k-th smallest and the k-th largest value of a variable, so that no "
                  "extreme value, held by fewer than k people, is published.",
    "def_completeness": "Completeness: the share of rows where the variable has a value.",
    "def_conformance": "Conformance: the share of values that follow the expected format, type or code list.",
    "def_plausibility": "Plausibility: the share of believable values (ages from 0 to 120, dates not after the "
                        "reference date, ends after starts...).",
    "def_kahn": "Category (Kahn): the family of a quality check in the framework of Kahn et al. (2016) used by "
                "OHDSI: conformance, completeness or plausibility.",
    "def_match": "Match: the share of rows whose join key is found in the referenced table (or code list).",
    "def_direction": "Direction of a join key: → the table points to another, ← another points to it.",
    "def_code_list": "Code list: the codes allowed for a variable, with their labels.",
    "def_primary_key": "Primary key: the columns that identify a row; duplicates are rows whose key already "
                       "appeared.",
    "def_identifier": "Identifier: a variable whose values name people or records; none of its values is "
                      "published. Quasi-identifier: a variable (date, sex, place...) that, crossed with others, "
                      "could single out a person.",
    "def_other": "(other): the values seen fewer than k times, grouped so that no rare value is named.",
    "def_coverage": "Time coverage: from the k-th earliest to the k-th latest event date, up to the reference "
                    "date.",
    "def_severity": "Severity of a check: a warning flags, an error fails the database's validation; the "
                    "threshold is the failing share still accepted.",
    "graph_help": "Wheel: zoom; drag: move; click: a table and its neighbours; double click: its page. The boxes "
                  "show or hide a product.", "products": "Products",
    # roles of columns (declarations' `roles`)
    "role_person_id": "person identifier", "role_sex": "sex", "role_birth_year": "year of birth",
    "role_birth_date": "date of birth", "role_age": "age", "role_death_date": "date of death",
    "role_event_date": "event date", "role_start_date": "start date", "role_end_date": "end date",
    # a code list
    "code": "Code", "label": "Label", "codes_count": "{n} codes.",
    "download_csv": "Download the list (CSV)", "filter_codes": "Find a code or a label:",
    "codes_shown": "{n} codes shown",
    "used_by": "Used by",
    # the exports
    "population_coverage": "population table: {table}; reference date: {date}",
    "catalogue_title": "Health databases catalogue",
    "catalogue_description": "Public metadata of health databases, under disclosure control.",
    "no_title": "Missing title", "no_description": "Missing description", "no_linked_variable": "No linked variable",
    "data_model": "Data model", "example": "Example", "properties": "Properties",
    "documentation_index": "Tables of {title}, by product.",
    # Table Schema types
    "type_string": "string", "type_integer": "integer", "type_number": "number", "type_date": "date",
    "type_datetime": "date and time", "type_time": "time", "type_boolean": "boolean", "type_year": "year",
    "type_yearmonth": "year and month", "type_duration": "duration", "type_any": "any",
    # the quality protocol and the EHDS label (database page)
    "documentation_present": "Documentation", "documentation_pct": "present",
    "quality_protocol": "Quality protocol",
    "protocol_intro": "The checks run at each refresh ({schedule}), by Kahn category and rule, their thresholds and "
                      "severities, and their pass rate over the last refreshes. An error fails the check in the "
                      "Dagster UI and ends the refresh with exit code 3; a warning is reported; either way the "
                      "catalogue is published with the result.",
    "rule": "Rule", "checks_n": "Checks", "thresholds": "Thresholds (%)", "pass_rate": "Passed (%)",
    "pass_rate_history": "Earlier refreshes",
    "quality_label": "Data quality and utility label (EHDS)",
    "label_intro": "The elements of the data quality and utility label the European Health Data Space regulation "
                   "asks for (Article 78): computed by the catalogue, declared by the producer, or not covered.",
    "dimension": "Dimension", "element": "Element", "evidence": "Evidence", "basis": "Basis",
    "computed": "computed", "declared": "declared", "not covered": "not covered",
    # days
    "Monday": "Monday", "Tuesday": "Tuesday", "Wednesday": "Wednesday", "Thursday": "Thursday", "Friday": "Friday",
    "Saturday": "Saturday", "Sunday": "Sunday",
}
