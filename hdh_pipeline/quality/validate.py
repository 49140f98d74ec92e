"""Run a table's suite with Great Expectations, pushed down into DuckDB, and turn results into rows.

Each expectation is checked on its own before the run: one that GX does not know, with bad
arguments, or naming a column the table lacks, gets status `error` with the reason, and the
rest of the suite still runs. Status: `not applicable` when no row was evaluated, `passed`
when the failing share is at most the threshold, else `failed`.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import shutil
from pathlib import Path

import great_expectations as gx
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.base import DataContextConfig, InMemoryStoreBackendDefaults
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

from hdh_pipeline.quality.dialect import URL_SCHEME, close_all, register
from hdh_pipeline.quality.expectation import ExpectTableChecks
from hdh_pipeline.quality.table_checks import compile_check, missing_columns, result_row
from hdh_pipeline.vocabulary import ERROR, NOT_APPLICABLE, check_status

TOGETHER = "hdh:table_checks"  # meta.check of the expectation that runs a table's simple checks in one query
RESULTS = "validations"  # beside the Data Docs: every table's validation results, the last HISTORY runs
HISTORY = 30
NOTHING = ExpectationSuiteIdentifier("hdh: no page")  # no page to write (only the Data Docs index)
APART = " (one by one)"  # suffix of the suite that validates again, one expectation at a time, a table whose
                         # checks counted together failed as a whole


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


def _config(docs: Path | None) -> DataContextConfig:
    """GX's in-memory stores, but validation results kept on disk beside the Data Docs (their history)."""
    defaults = InMemoryStoreBackendDefaults()
    if docs is not None:
        defaults.stores[defaults.validation_results_store_name] = {
            "class_name": "ValidationResultsStore",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(docs.parent / RESULTS)}}
    return DataContextConfig(store_backend_defaults=defaults)


def _prune(docs: Path, keep: int) -> None:
    """Keep the last `keep` runs of each suite: their stored results and their Data Docs pages.
    (Results are stored as <suite, dots as folders>/<run name>/<run time>/<batch>.json.)"""
    results = docs.parent / RESULTS
    runs: dict[Path, set[Path]] = {}
    for result in results.rglob("*.json") if results.is_dir() else []:
        runs.setdefault(result.parent.parent.parent, set()).add(result.parent)
    for suite_runs in runs.values():
        for run in sorted(suite_runs, key=lambda run: run.name)[:-keep]:
            shutil.rmtree(run, ignore_errors=True)
            shutil.rmtree(docs / "validations" / run.relative_to(results), ignore_errors=True)


class Validator:
    """Validates tables of one DuckDB file through one GX data source (read-only), and writes Data Docs.

    `add` each table's suite, then `run` validates them all (GX's set-up costs are paid once per source, not
    per table), `write_pages` and `write_index` write the Data Docs, `close` closes the connections."""

    def __init__(self, warehouse: Path, schema: str, docs: Path | None = None, together: bool = True,
                 memory_limit: str | None = None):
        """`together`: run the simple expectations of a table in one query (see table_checks.py);
        `memory_limit`: DuckDB's, for GX's connections."""
        register()
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        self.schema, self.docs, self.together = schema, docs, together
        self.context = gx.get_context(mode="ephemeral", project_config=_config(docs))
        self.context.variables.progress_bars = {"globally": False}
        # GX serialises an ephemeral context's whole configuration, every table asset so far, each time a table
        # is added (quadratic in tables: 8 % of a wide source's quality), to a store nothing here reads
        self.context._save_project_config = lambda: None
        self.results: list = []  # identifiers of this run's validation results, for the Data Docs
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
        self.suites: list[str] = []
        self.definitions: list[gx.ValidationDefinition] = []
        self.apart: list[str] = []  # tables validated again, one check at a time, as their combined query failed

    def write_pages(self) -> None:
        """Add the pages of this run's tables to the Data Docs, if any. They load their scripts from CDNs until
        `data_docs.make_offline` rewrites them."""
        if self.docs is not None:
            # a set: GX looks each stored result up in it (a list costs stored results x this run's); never empty
            # (GX would rebuild every page of every earlier run)
            pages = {*self.results, *(ExpectationSuiteIdentifier(name) for name in self.suites)} or {NOTHING}
            self.context.build_data_docs(site_names=["hdh"], resource_identifiers=pages, build_index=False)

    def write_index(self) -> None:
        """Write the Data Docs index of every table whose pages are written, the last HISTORY runs of each. Those
        another process validated are dropped unless their suites were added here (`add(..., validate=False)`)."""
        if self.docs is not None:
            _prune(self.docs, HISTORY)
            self.context.build_data_docs(site_names=["hdh"], resource_identifiers={NOTHING}, build_index=True)

    def close(self) -> None:
        """Close every connection."""
        self.source.get_engine().dispose()
        close_all()

    def add(self, table: str, expectations: list[dict], columns: set[str], rows: int,
            validate: bool = True, apart: bool = False) -> list[dict]:
        """One result row per expectation of the suite, filled in by `run` where GX has to run it.
        `validate=False`: only the suite (its one-by-one suite if `apart`), for the Data Docs index of a table
        another process validated."""
        run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        out, runnable = [], []
        for position, raw in enumerate(expectations):
            meta = dict(raw.get("meta") or {})
            meta.setdefault("check", f"custom:{position}")
            row = result_row(raw, position, run_at)
            out.append(row)
            try:
                expectation = ExpectationConfiguration(type=raw["type"], kwargs=raw.get("kwargs", {}),
                                                       meta=meta).to_domain_obj()
            except Exception as error:
                row["reason"] = f"not a valid expectation: {error}"
                continue
            if missing := missing_columns(raw.get("kwargs", {}), columns):
                row["reason"] = f"column {', '.join(missing)} is not in table {table}"
                continue
            if rows == 0:
                row["status"], row["evaluated_rows"], row["failing_rows"] = NOT_APPLICABLE, 0, 0
                continue
            check = compile_check(raw["type"], raw.get("kwargs", {}), meta) if self.together else None
            runnable.append((row, expectation, check and check | {"check": row["check_id"],
                                                                  "threshold_pct": row["threshold_pct"]}))
        if runnable and not validate:
            self._define(f"{self.schema}.{table}{APART if apart else ''}", None, rows, runnable, apart=apart)
        elif runnable:
            batches = self.source.add_table_asset(table, table_name=table).add_batch_definition_whole_table("all")
            self._define(f"{self.schema}.{table}", batches, rows, runnable)
        return out

    def _define(self, name: str, batches: object, rows: int, runnable: list[tuple[dict, object, dict | None]],
                apart: bool = False) -> None:
        """A suite and its validation definition (none without `batches`) for these expectations: the compiled
        ones as one ExpectTableChecks (`apart`: one each, so that a check whose SQL fails is the only one in error)."""
        expectations = [copy.copy(expectation) for _, expectation, check in runnable if check is None]
        together = [check for _, _, check in runnable if check is not None]
        groups = [[check] for check in together] if apart else [together] if together else []
        for group in groups:
            holder = f"{TOGETHER}:{group[0]['check']}" if apart else TOGETHER
            expectations.append(ExpectTableChecks(checks=json.dumps(group), meta={"check": holder}))
        suite = self.context.suites.add(gx.ExpectationSuite(name=name, expectations=expectations))
        if batches is None:
            return
        self.suites.append(name)
        self.definitions.append(self.context.validation_definitions.add(
            gx.ValidationDefinition(name=name, data=batches, suite=suite)))
        self.pending[name] = (batches, rows, runnable)

    def run(self) -> None:
        """Validate every added table and fill in their rows. A table whose checks
        counted together fail as a whole (a check's SQL does not run) is validated again one expectation
        at a time, so that only the broken check is in error."""
        if not self.definitions:
            return
        definitions, self.definitions = self.definitions, []
        run = RunIdentifier(run_name=f"{self.schema} quality")
        # each definition run on its own, as a checkpoint would, without one: a checkpoint of a wide source's
        # hundreds of definitions serialises and compares them all with the store first (a tenth of the time)
        for definition in definitions:
            validation = definition.run(result_format="SUMMARY", run_id=run)
            self.results.append(ValidationResultIdentifier(ExpectationSuiteIdentifier(name=definition.suite.name),
                                                           run, validation.batch_id))
            batches, rows, runnable = self.pending.pop(validation.suite_name)
            results = {r.expectation_config.meta["check"]: r for r in validation.results}
            if TOGETHER in results and _exception(results[TOGETHER].exception_info):
                self._define(f"{validation.suite_name}{APART}", batches, rows, runnable, apart=True)
                self.apart.append(validation.suite_name.split(".", 1)[1])
                continue
            counted, holders = {}, {}
            for holder, result in results.items():
                if holder.startswith(TOGETHER):
                    for d in ((result.result or {}).get("details") or {}).get("checks", []):
                        counted[d["check"]], holders[d["check"]] = (d["evaluated_rows"], d["failing_rows"]), holder
            for row, _, check in runnable:
                if check is None:
                    result = results[row["check_id"]]
                    evaluated, failing = _counts(row["expectation"], result.result or {}, rows)
                else:
                    holder = holders.get(row["check_id"], TOGETHER if TOGETHER in results
                                         else f"{TOGETHER}:{row['check_id']}")
                    result = results[holder]
                    evaluated, failing = counted.get(row["check_id"], (None, None))
                row["evaluated_rows"], row["failing_rows"] = evaluated, failing
                row["status"], row["failing_pct"] = check_status(evaluated, failing, row["threshold_pct"])
                if row["status"] == ERROR:
                    message = _exception(result.exception_info) or "Great Expectations returned no result"
                    row["reason"] = message.strip().split("\n")[0][:500]
        self.run()
