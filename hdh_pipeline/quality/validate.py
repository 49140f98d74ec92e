"""Run a table's suite with Great Expectations, pushed down into DuckDB, and turn results into rows.

Each expectation is checked on its own before the run: one that GX does not know, with bad
arguments, or naming a column the table lacks, gets status `error` with the reason, and the
rest of the suite still runs. Status: `not applicable` when no row was evaluated, `passed`
when the failing share is at most the threshold, else `failed`.
"""
from __future__ import annotations

import copy
import datetime as dt
import logging
import re
import shutil
from pathlib import Path

import great_expectations as gx
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from hdh_pipeline.quality.dialect import URL_SCHEME, close_all, register
from hdh_pipeline.quality.table_checks import ExpectTableChecks, compile_check

COLUMN_ARGUMENTS = ("column", "column_A", "column_B")
TOGETHER = "hdh:table_checks"  # meta.check of the expectation that runs a table's simple checks in one query


def _missing_columns(kwargs: dict, columns: set[str]) -> list[str]:
    named = [kwargs[a] for a in COLUMN_ARGUMENTS if a in kwargs] + list(kwargs.get("column_list") or [])
    return [c for c in named if c not in columns]


def _counts(kind: str, result: dict, rows: int) -> tuple[int | None, int | None]:
    """(evaluated rows, failing rows) from a GX result."""
    if kind == "unexpected_rows_expectation":
        observed = result.get("observed_value")
        return (rows, observed) if isinstance(observed, int) else (None, None)
    if "unexpected_count" not in result:
        return None, None
    evaluated = result.get("element_count", rows) - (0 if "not_be_null" in kind else result.get("missing_count", 0))
    return evaluated, result["unexpected_count"]


def _exception(info: object) -> str | None:
    """The first exception message in GX's exception_info (flat, or keyed by metric)."""
    if isinstance(info, dict):
        if info.get("raised_exception"):
            return str(info.get("exception_message"))
        for value in info.values():
            if message := _exception(value):
                return message
    return None


def status_of(evaluated: int | None, failing: int | None, threshold: float) -> tuple[str, float | None]:
    if evaluated is None or failing is None:
        return "error", None
    if evaluated == 0:
        return "not applicable", None
    pct = 100.0 * failing / evaluated
    return ("passed" if pct <= threshold else "failed"), pct


EXTERNAL_ASSET = re.compile(r'<(script|link|img)\b[^>]*(src|href)="https?://[^"]*"[^>]*>(\s*</script>)?', re.I)
OFFLINE_STYLE = ("<style>body{font-family:sans-serif;margin:1em}table{border-collapse:collapse}"
                 "td,th{border:1px solid #ccc;padding:2px 6px}</style>")


def make_offline(folder: Path) -> None:
    """Remove the CDN scripts, styles and images GX Data Docs load: nothing may be fetched from the network.
    The pages keep their content and links, with a minimal style instead."""
    for page in folder.rglob("*.html"):
        html = EXTERNAL_ASSET.sub("", page.read_text(encoding="utf-8"))
        page.write_text(html.replace("</head>", OFFLINE_STYLE + "</head>", 1), encoding="utf-8")


class Validator:
    """Validates tables of one DuckDB file through one GX data source (read-only), and writes Data Docs.

    `add` each table's suite, then `run` validates them all through one checkpoint (GX's set-up
    costs are paid once per source, not per table) and `close` writes the Data Docs."""

    def __init__(self, warehouse: Path, schema: str, docs: Path | None = None, together: bool = True,
                 memory_limit: str | None = None):
        """`together`: run the simple expectations of a table in one query (see table_checks.py);
        `memory_limit`: DuckDB's, for GX's connections."""
        register()
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.schema, self.docs, self.together = schema, docs, together
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = {"globally": False}
        if docs is not None:
            self.context.add_data_docs_site(site_name="hdh", site_config={
                "class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs)}})
        # GX names the table without its schema in some metric queries: make the source's schema the default
        limit = f"&memory_limit={memory_limit}" if memory_limit else ""
        self.source = self.context.data_sources.add_sql(
            "warehouse", connection_string=f"{URL_SCHEME}:///{warehouse}?access_mode=read_only&search_path={schema}"
                                           f"{limit}")
        # suite name -> its batch definition, the table's rows, and (result row, expectation, compiled check or None)
        self.pending: dict[str, tuple[object, int, list[tuple[dict, object, dict | None]]]] = {}
        self.definitions: list[gx.ValidationDefinition] = []
        self.checkpoints = 0  # a second one validates again, one by one, the tables whose combined query failed

    def close(self) -> None:
        """Build the Data Docs (if asked) and close every connection."""
        try:
            if self.docs is not None:
                shutil.rmtree(self.docs, ignore_errors=True)
                self.context.build_data_docs(site_names=["hdh"])
                make_offline(self.docs)
        finally:
            self.source.get_engine().dispose()
            close_all()

    def add(self, table: str, expectations: list[dict], columns: set[str], rows: int) -> list[dict]:
        """One result row per expectation of the suite, filled in by `run` where GX has to run it."""
        run_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        out, runnable = [], []
        for position, raw in enumerate(expectations):
            meta = dict(raw.get("meta") or {})
            meta.setdefault("check", f"custom:{position}")
            row = {"check_id": meta["check"], "expectation": raw.get("type"), "variable": meta.get("variable"),
                   "category": meta.get("category", "conformance"), "threshold_pct": float(meta.get("threshold_pct", 0)),
                   "severity": meta.get("severity", "warning"), "evaluated_rows": None, "failing_rows": None,
                   "failing_pct": None, "status": "error", "reason": None, "run_at": run_at}
            out.append(row)
            try:
                expectation = ExpectationConfiguration(type=raw["type"], kwargs=raw.get("kwargs", {}),
                                                       meta=meta).to_domain_obj()
            except Exception as error:  # noqa: BLE001 - any broken expectation is reported, not raised
                row["reason"] = f"not a valid expectation: {error}"
                continue
            if missing := _missing_columns(raw.get("kwargs", {}), columns):
                row["reason"] = f"column {', '.join(missing)} is not in table {table}"
                continue
            if rows == 0:
                row["status"], row["evaluated_rows"], row["failing_rows"] = "not applicable", 0, 0
                continue
            check = compile_check(raw["type"], raw.get("kwargs", {})) if self.together else None
            runnable.append((row, expectation, check and check | {"check": row["check_id"],
                                                                  "threshold_pct": row["threshold_pct"]}))
        if runnable:
            batches = self.source.add_table_asset(table, table_name=table).add_batch_definition_whole_table("all")
            self._define(f"{self.schema}.{table}", batches, rows, runnable)
        return out

    def _define(self, name: str, batches: object, rows: int, runnable: list[tuple[dict, object, dict | None]]) -> None:
        """A validation definition for these expectations: the compiled ones as one ExpectTableChecks."""
        expectations = [copy.copy(expectation) for _, expectation, check in runnable if check is None]
        if together := [check for _, _, check in runnable if check is not None]:
            expectations.append(ExpectTableChecks(checks=together, meta={"check": TOGETHER}))
        suite = self.context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        self.definitions.append(self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batches, suite=suite)))
        self.pending[name] = (batches, rows, runnable)

    def run(self) -> None:
        """Validate every added table through one checkpoint and fill in their rows. A table whose checks
        counted together fail as a whole (a check's SQL does not run) is validated again one expectation
        at a time, so that only the broken check is in error."""
        if not self.definitions:
            return
        definitions, self.definitions = self.definitions, []
        self.checkpoints += 1
        checkpoint = self.context.checkpoints.add(gx.Checkpoint(
            name=f"{self.schema} #{self.checkpoints}", validation_definitions=definitions,
            result_format="SUMMARY"))
        for validation in checkpoint.run().run_results.values():
            batches, rows, runnable = self.pending.pop(validation.suite_name)
            results = {r.expectation_config.meta["check"]: r for r in validation.results}
            if TOGETHER in results and _exception(results[TOGETHER].exception_info):
                self._define(f"{validation.suite_name} (one by one)", batches, rows,
                             [(row, expectation, None) for row, expectation, _ in runnable])
                continue
            counted = {}
            if TOGETHER in results:
                details = (results[TOGETHER].result or {}).get("details") or {}
                counted = {d["check"]: (d["evaluated_rows"], d["failing_rows"]) for d in details.get("checks", [])}
            for row, _, check in runnable:
                if check is None:
                    result = results[row["check_id"]]
                    evaluated, failing = _counts(row["expectation"], result.result or {}, rows)
                else:
                    result = results[TOGETHER]
                    evaluated, failing = counted.get(row["check_id"], (None, None))
                row["evaluated_rows"], row["failing_rows"] = evaluated, failing
                row["status"], row["failing_pct"] = status_of(evaluated, failing, row["threshold_pct"])
                if row["status"] == "error":
                    message = _exception(result.exception_info) or "Great Expectations returned no result"
                    row["reason"] = message.strip().split("\n")[0][:500]
        self.run()
