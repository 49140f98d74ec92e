"""Exact (internal) catalogue rows -> public rows, under disclosure control.

Every count of a source goes into one `Ledger` with the sums that tie it to others (listed in
`docs/catalogue.md`, "Relations between published numbers"); the ledger decides which counts
are hidden, and a share is published only when its part and its whole are. Besides counts:
- identifiers publish counts only; min and max are the k-th smallest and largest values (no
  extreme value is published), quantiles are clamped inside them; a variable with fewer than
  k values publishes no statistic of its values, one with fewer than 2k no bounds and no quantiles;
- mean and std are hidden where they would weigh hidden counts (`_weighs_hidden_counts`);
- value_frequencies: values seen k times or more are listed by name (their count hidden if need
  be, and then listed after the published ones, by value: no rank places it between two counts), the
  others are folded into `(other)`, so no rare value is named;
- the distinct values of a primary key's columns are hidden with the table's duplicate key rows (rows minus
  a key column's distinct values bound them); a one-column key's distinct values are the table's distinct
  keys, a count tied to its rows and duplicates;
- population: the age-band x sex grid, its cells summing to men, women and sex_other;
- the per-variable conformance and plausibility shares and the per-table and per-database
  summaries are computed from published values only.
"""
from __future__ import annotations

from collections import defaultdict

from hdh_pipeline.catalogue.codes import of_sources
from hdh_pipeline.catalogue.disclosure import Ledger
from hdh_pipeline.schema import CODES, arrow_table, column_names
from hdh_pipeline.vocabulary import JUDGED, OTHER, UNSUCCESSFUL, is_integer, pass_rate

VALUE_STATISTICS = ("mean", "std", "min", "p01", "q1", "median", "q3", "p99", "max",
                    "min_length", "max_length", "mean_length")
QUANTILES = ("p01", "q1", "median", "q3", "p99")
SEX_COUNTS = {"men": "men", "women": "women", "other": "sex_other"}  # population.sex -> databases column


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


def _group(rows: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in keys)].append(row)
    return groups


def _folded(rows: list[dict], k: int) -> list[dict]:
    """A variable's listed values (seen k times or more), `(other)` (all the rest) and the missing row."""
    listed = [r for r in rows if r["value"] not in (None, OTHER) and r["frequency"] >= k]
    other = sum(r["frequency"] for r in rows if r["value"] is not None and r not in listed)
    [other_row] = [r for r in rows if r["value"] == OTHER]
    [missing_row] = [r for r in rows if r["value"] is None]
    listed.sort(key=lambda r: (-r["frequency"], r["value"]))
    return [*listed, other_row | {"frequency": other}, missing_row]


def _zero_edge(bins: list[dict]) -> bool:
    return any(_number(b[edge]) == 0 for b in bins for edge in ("lower", "upper"))


class _Source:
    """One source's exact rows, its ledger, and its public rows."""

    def __init__(self, rows: dict[str, list[dict]], k: int) -> None:
        self.k, self.rows = k, rows
        self.frequencies = {key: _folded(group, k) for key, group in
                            _group(rows["value_frequencies"], "table_name", "variable").items()}
        self.histograms = _group(rows["histograms"], "table_name", "variable")
        self.code_lists = {(r["table_name"], r["columns"]): r for r in rows["relations"]
                           if r["kind"] == "nomenclature" and r["checked_rows"] is not None}
        keyed = [t for t in rows["tables"] if t["primary_key"] and t["duplicate_key_rows"] is not None]
        self.key_column = {t["table_name"]: t["primary_key"] for t in keyed if ", " not in t["primary_key"]}
        self.key_columns = {(t["table_name"], c) for t in keyed for c in t["primary_key"].split(", ")}
        self.ledger = self._ledger()

    def _ledger(self) -> Ledger:
        ledger = Ledger(self.k)
        for t in self.rows["tables"]:
            table = t["table_name"]
            ledger.cell(("rows", table), t["row_count"])
            ledger.cell(("rejected", table), t["rejected_rows"])
            ledger.cell(("duplicates", table), t["duplicate_key_rows"])
            if t["duplicate_key_rows"] is not None:
                # the distinct keys: a one-column key's distinct values, published with the variable
                single = self.key_column.get(table)
                unique = ("distinct", table, single) if single else ("unique_keys", table)
                ledger.cell(unique, t["row_count"] - t["duplicate_key_rows"], derived=not single)
                ledger.sum(("rows", table), [("duplicates", table), unique])
        for v in self.rows["variables"]:
            self._variable_cells(ledger, v)
        for r in self.rows["relations"]:
            key = (r["table_name"], r["columns"], r["referenced_table"])
            if r["checked_rows"] is None:
                continue
            single = [("count", r["table_name"], r["columns"])] if "," not in r["columns"] else []
            checked = ledger.cell(("checked", *key), r["checked_rows"], same_as=single)
            ledger.cell(("matched", *key), r["matched_rows"])
            ledger.cell(("unmatched", *key), r["checked_rows"] - r["matched_rows"], derived=True)
            ledger.sum(checked, [("matched", *key), ("unmatched", *key)])
        for q in self.rows["quality_results"]:
            self._check_cells(ledger, q)
        for d in self.rows["databases"]:
            ledger.cell(("total_rows",), d["total_rows"])
            ledger.sum(("total_rows",), [("rows", t["table_name"]) for t in self.rows["tables"]
                                         if t["row_count"] is not None])
            for name in ("individuals", "men", "women", "sex_other", "implausible_ages", "events_after_reference"):
                ledger.cell((name,), d[name])
            ledger.sum(("events_after_reference",), [
                ("after_reference", v["table_name"], v["variable"]) for v in self.rows["variables"]
                if v["after_reference"] is not None])
            ledger.sum(("individuals",), [("men",), ("women",), ("sex_other",)])
            grid = self.rows["population"]
            for row in grid:
                ledger.cell(("population", row["band"], row["sex"]), row["individuals"])
            for sex, total in SEX_COUNTS.items():
                ledger.sum((total,), [("population", r["band"], sex) for r in grid if r["sex"] == sex])
            ledger.sum(("implausible_ages",), [("population", "implausible", sex) for sex in SEX_COUNTS])
            if d["individuals"] is not None and d["implausible_ages"] is not None:
                ledger.cell(("other_ages",), d["individuals"] - d["implausible_ages"], derived=True)
                ledger.sum(("individuals",), [("implausible_ages",), ("other_ages",)])
        return ledger

    def _variable_cells(self, ledger: Ledger, v: dict) -> None:
        table, name = v["table_name"], v["variable"]
        count = ledger.cell(("count", table, name), v["count"])
        ledger.cell(("missing", table, name), v["missing_count"])
        ledger.sum(("rows", table), [count, ("missing", table, name)])
        after = ledger.cell(("after_reference", table, name), v["after_reference"])
        if v["after_reference"] is not None:
            ledger.cell(("up_to_reference", table, name), v["count"] - v["after_reference"], derived=True)
            ledger.sum(count, [after, ("up_to_reference", table, name)])
        distinct = ("distinct", table, name)
        if self.key_column.get(table) == name and distinct in ledger.values:  # the table's distinct keys
            if v["is_identifier"] and ledger.values[distinct] == v["count"]:
                ledger.sum(count, [distinct])
        elif v["is_identifier"]:  # distinct identifiers are people or records
            ledger.cell(distinct, v["distinct_count"], same_as=[count])
        frequencies = self.frequencies.get((table, name))
        if frequencies:
            ledger.sum(count, [ledger.cell(("frequency", table, name, r["value"]), r["frequency"],
                                           floor=0 if r["value"] == OTHER else self.k) for r in frequencies[:-1]])
        bins = self.histograms.get((table, name), [])
        if bins:
            ledger.sum(count, [ledger.cell(("bin", table, name, b["bin"]), b["frequency"]) for b in bins])
        units = [("bin", table, name, b["bin"]) for b in bins if _number(b["lower"]) == 0
                 and is_integer(v["observed_type"]) and b["upper"] is not None and _number(b["upper"]) <= 1]
        ledger.cell(("zeros", table, name), v["zeros"], same_as=units)
        negatives = ledger.cell(("negatives", table, name), v["negatives"])
        if bins and _zero_edge(bins):
            ledger.sum(negatives, [("bin", table, name, b["bin"]) for b in bins
                                   if b["upper"] is not None and _number(b["upper"]) <= 0])

    def _check_cells(self, ledger: Ledger, q: dict) -> None:
        table, check = q["table_name"], q["check_id"]
        if q["evaluated_rows"] is None:
            return
        variable = [("count", table, q["variable"])] if q["variable"] else []
        evaluated = ledger.cell(("evaluated", table, check), q["evaluated_rows"], same_as=[("rows", table), *variable])
        nulls = ([("missing", table, q["variable"])]
                 if q["expectation"] == "expect_column_values_to_not_be_null" and q["variable"] else [])
        failing = ledger.cell(("failing", table, check), q["failing_rows"], same_as=nulls)
        passing = ledger.cell(("passing", table, check), q["evaluated_rows"] - (q["failing_rows"] or 0), derived=True)
        ledger.sum(evaluated, [failing, passing])

    # -- public rows ------------------------------------------------------------------------------

    def public(self) -> dict[str, list[dict]]:
        quality = [self._quality_result(q) for q in self.rows["quality_results"]]
        by_variable = _group(quality, "table_name", "variable")
        variables = [self._variable(v, by_variable.get((v["table_name"], v["variable"]), []))
                     for v in self.rows["variables"]]
        variables_of, checks_of = _group(variables, "table_name"), _group(quality, "table_name")
        return {
            "databases": [self._database(d, quality) for d in self.rows["databases"]],
            "tables": [self._table(t, variables_of.get((t["table_name"],), []), checks_of.get((t["table_name"],), []))
                       for t in self.rows["tables"]],
            "variables": variables,
            "value_frequencies": [r for (table, name), rows in self.frequencies.items()
                                  for r in self._frequencies(table, name, rows)],
            "histograms": [_keep_public(h | {"frequency": self.ledger.published(
                ("bin", h["table_name"], h["variable"], h["bin"]))}, "histograms") for h in self.rows["histograms"]],
            "relations": [self._relation(r) for r in self.rows["relations"]],
            "population": [_keep_public(r | {"individuals": self.ledger.published(("population", r["band"], r["sex"]))},
                                        "population") for r in self.rows["population"]],
            "quality_results": quality,
            "changes": [_keep_public(r, "changes") for r in self.rows["changes"]],  # names and kinds, no numbers
        }

    def _variable(self, row: dict, checks: list[dict]) -> dict:
        led, k = self.ledger, self.k
        table, name = row["table_name"], row["variable"]
        count = ("count", table, name)
        out = row | {"count": led.published(count), "missing_count": led.published(("missing", table, name)),
                     "completeness_pct": led.share(count, ("rows", table)),
                     "zeros": led.published(("zeros", table, name)),
                     "after_reference": led.published(("after_reference", table, name)),
                     "negatives": led.published(("negatives", table, name))}
        keyed = (table, name) in self.key_columns
        if row["is_identifier"] or self.key_column.get(table) == name:
            out["distinct_count"] = led.published(("distinct", table, name))
        elif out["count"] is None and row["is_unique"]:
            out["distinct_count"] = None  # it would be the count
        if keyed and led.published(("duplicates", table)) is None:
            out["distinct_count"] = None  # rows - a key column's distinct values bound the hidden duplicate keys
        relation = self.code_lists.get((table, name))
        if relation:
            key = (table, name, relation["referenced_table"])
            out["nomenclature_conformance_pct"] = led.share(("matched", *key), ("checked", *key))
        if row["is_identifier"] or row["count"] < k:
            for stat in VALUE_STATISTICS:
                out[stat] = None
            out["bounds_coarsened"] = False
        elif row["count"] < 2 * k:  # the k-th smallest value would lie above the k-th largest
            for stat in ("min", "max", *QUANTILES):
                out[stat] = None
            out["bounds_coarsened"] = False
        else:  # no extreme value is published: fewer than k rows lie beyond min and max
            low, high = row["k_smallest"], row["k_largest"]
            out["min"], out["max"], out["bounds_coarsened"] = low, high, True
            for stat in QUANTILES:
                out[stat] = _clamp(row[stat], low, high)
        if self._weighs_hidden_counts(row):
            out["mean"] = out["std"] = None
        out["conformance_pct"] = _worst_pct(checks, "conformance")
        out["plausibility_pct"] = _worst_pct(checks, "plausibility")
        return _keep_public(out, "variables")

    def _weighs_hidden_counts(self, row: dict) -> bool:
        """Whether the mean (and std) would give hidden counts back: when every value of the variable is
        known (listed values and an empty `(other)`, or whole-number bins of width 1 and empty open bins),
        the mean times the count is a weighted sum of the published counts, one more equation."""
        table, name, led = row["table_name"], row["variable"], self.ledger
        if row["mean"] is None:
            return False
        frequencies = self.frequencies.get((table, name), [])[:-1]
        if frequencies and frequencies[-1]["frequency"] == 0:
            return any(led.published(("frequency", table, name, r["value"])) is None for r in frequencies)
        bins = self.histograms.get((table, name), [])
        whole = is_integer(row["observed_type"]) and all(
            b["lower"] is None or b["upper"] is None or _number(b["upper"]) - _number(b["lower"]) == 1 for b in bins)
        if bins and whole and bins[0]["frequency"] == 0 and bins[-1]["frequency"] == 0:
            return any(led.published(("bin", table, name, b["bin"])) is None for b in bins)
        return False

    def _frequencies(self, table: str, name: str, rows: list[dict]) -> list[dict]:
        """Listed values by count, largest first, then those whose count is hidden, by value (among the published
        ones, a hidden count's rank would bound it between its neighbours'), then `(other)` and the missing."""
        *listed, other, missing = rows
        hidden = [r for r in listed if self.ledger.published(("frequency", table, name, r["value"])) is None]
        rows = [*(r for r in listed if r not in hidden), *sorted(hidden, key=lambda r: r["value"]), other, missing]
        out = []
        for rank, row in enumerate(rows, start=1):
            key = ("frequency", table, name, row["value"]) if row["value"] is not None else ("missing", table, name)
            out.append(_keep_public(row | {"rank": rank, "frequency": self.ledger.published(key),
                                           "share_pct": self.ledger.share(key, ("rows", table))},
                                    "value_frequencies"))
        return out

    def _relation(self, row: dict) -> dict:
        key = (row["table_name"], row["columns"], row["referenced_table"])
        led = self.ledger
        return _keep_public(row | {"checked_rows": led.published(("checked", *key)),
                                   "matched_rows": led.published(("matched", *key)),
                                   "match_pct": led.share(("matched", *key), ("checked", *key))}, "relations")

    def _quality_result(self, row: dict) -> dict:
        key, led = (row["table_name"], row["check_id"]), self.ledger
        return _keep_public(row | {"evaluated_rows": led.published(("evaluated", *key)),
                                   "failing_rows": led.published(("failing", *key)),
                                   "failing_pct": led.share(("failing", *key), ("evaluated", *key))},
                            "quality_results")

    def _table(self, row: dict, variables: list[dict], checks: list[dict]) -> dict:
        """`variables` and `checks`: the table's, as published."""
        table, led = row["table_name"], self.ledger
        shares = [v["completeness_pct"] for v in variables if v["completeness_pct"] is not None]
        return _keep_public(row | {
            "row_count": led.published(("rows", table)), "rejected_rows": led.published(("rejected", table)),
            "duplicate_key_rows": led.published(("duplicates", table)),
            "completeness_pct": round(sum(shares) / len(shares), 2) if shares else None,
            "quality_checks": len(checks) if checks else None,
            "quality_checks_failed": sum(c["status"] in UNSUCCESSFUL for c in checks) if checks else None,
        }, "tables")

    def _database(self, row: dict, quality: list[dict]) -> dict:
        led = self.ledger
        few = row["individuals"] is None or row["individuals"] < self.k
        return _keep_public(row | {
            "quality_checks_passed_pct": pass_rate(quality, 2),
            **{name: led.published((name,)) for name in
               ("total_rows", "individuals", "men", "women", "sex_other", "implausible_ages",
                "events_after_reference")},
            "age_low": None if few else row["age_low"], "age_median": None if few else row["age_median"],
            "age_high": None if few else row["age_high"],
        }, "databases")


def _worst_pct(results: list[dict], category: str) -> float | None:
    """100 - the largest published failing share among the checks of a category (None if one is hidden)."""
    shares = [r["failing_pct"] for r in results if r["category"] == category and r["status"] in JUDGED]
    if not shares or any(s is None for s in shares):
        return None
    return round(100.0 - max(shares), 2)


def public_rows(internal: dict[str, list[dict]], k_by_source: dict[str, int]) -> dict[str, list[dict]]:
    """The public catalogue from the exact one; the code lists, reference data, as they are (an Arrow table)."""
    out: dict[str, list[dict]] = defaultdict(list)
    for source, k in k_by_source.items():
        mine = {name: [r for r in internal.get(name, []) if r["source_id"] == source]
                for name in ("databases", "tables", "variables", "value_frequencies", "histograms", "relations",
                             "quality_results", "population", "changes")}
        for name, rows in _Source(mine, k).public().items():
            out[name] += rows
    codes = internal.get(CODES)
    out[CODES] = arrow_table(CODES, [] if codes is None else of_sources(codes, list(k_by_source)))
    return dict(out)
