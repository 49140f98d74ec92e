"""Refreshes run from the command line: the runs (one source's refresh job, or every source then the publication),
a progress bar over their steps, and what happened, as a structured report the CLI prints."""
from __future__ import annotations

import contextlib
import datetime as dt
import functools
import io
import logging
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import dagster as dg
from tqdm import tqdm

from hdh_pipeline import settings
from hdh_pipeline.catalogue.publish import read_published
from hdh_pipeline.charts.write import vega_bundle
from hdh_pipeline.defs.assemble import PUBLISH_JOB, SOURCES_JOB, build_definitions
from hdh_pipeline.defs.catalogue import REFRESH_SOURCES, REFRESH_STARTED
from hdh_pipeline.defs.ingestion import ACCEPT_TAG
from hdh_pipeline.defs.keys import of_source
from hdh_pipeline.defs.quality import FAILED_CHECKS
from hdh_pipeline.defs.recovery import free_dead_runs, process_tags
from hdh_pipeline.quality import parallel
from hdh_pipeline.sources.loader import Source

LOCATION = "hdh_pipeline.definitions"  # workspace.yaml's code location, whose jobs the CLI's runs belong to
DONE = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the report says what failed, once


@dataclass(frozen=True)
class FailedCheck:
    asset: str
    check: str
    severity: str  # `error` or `warning`
    failed: tuple[str, ...]  # the quality checks that failed, for a suite's summary


@dataclass(frozen=True)
class Loaded:
    source: str
    tables: int
    rows: int
    rejected: int


@dataclass
class Report:
    """What a refresh did, from its runs' events."""

    loaded: list[Loaded] = field(default_factory=list)
    failed_steps: dict[str, str] = field(default_factory=dict)  # step -> why, in one line
    failed_checks: list[FailedCheck] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the steps warned of
    recovered: list[str] = field(default_factory=list)  # dead runs of earlier processes, freed
    published: bool = False
    stale: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 all succeeded, 1 a step failed, 3 every step succeeded but an error-severity check failed."""
        if self.failed_steps:
            return 1
        return 3 if any(c.severity == "error" for c in self.failed_checks) else 0


def prepare(sources: list[Source]) -> None:
    """Start what the run's steps will wait for, on the core Dagster's start leaves idle (seconds of imports and
    set-up, one core): the first source's quality helpers (their Great Expectations import, quality/parallel.py;
    its steps would start them when its loading starts; none for a source on Spark), and the charts' Vega bundle
    (built once per data folder)."""
    if sources and sources[0].declaration.engine == "duckdb":
        parallel.warm_up(parallel.worker_count(len(sources[0].tables), 0, settings.memory_limit()))
    vega_bundle(wait=False)


def _terminal() -> io.TextIOBase:
    """A copy of standard error: Dagster captures file descriptor 2 while steps run."""
    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w")
    except (OSError, ValueError, io.UnsupportedOperation):  # no real file behind it (tests)
        return io.StringIO()


@contextlib.contextmanager
def _from_the_code_location(instance: dg.DagsterInstance, job_name: str) -> Iterator[None]:
    """Runs created meanwhile belong to the workspace's code location, as if launched from the UI: they show in its
    timeline and under their job (a run executed in process has no origin otherwise)."""
    from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
    from dagster._core.remote_origin import RemoteJobOrigin, RemoteRepositoryOrigin
    from dagster._core.workspace.load import location_origin_from_module_name

    location = location_origin_from_module_name(LOCATION, None, os.getcwd(), executable_path=sys.executable)
    origin = RemoteJobOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job_name)
    instance.create_run_for_job = functools.partial(type(instance).create_run_for_job, instance,
                                                    remote_job_origin=origin)
    try:
        yield
    finally:
        del instance.create_run_for_job


def _run(defs: dg.Definitions, instance: dg.DagsterInstance, job_name: str | None,
         selection: dg.AssetSelection | None = None, tags: dict | None = None) -> dg.ExecuteInProcessResult:
    """Run a named job (or, with `selection`, an unnamed run of those assets), with a progress bar over its steps
    (polled from the run's events)."""
    tags = {**(tags or {}), **process_tags()}
    earlier = set(instance.get_run_ids())
    outcome: dict = {}
    if job_name is not None:
        job = defs.resolve_job_def(job_name)
        steps = len(job.all_node_defs)
        execute = lambda: outcome.update(result=job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=QUIET, tags=tags))
    else:
        job = defs.resolve_implicit_global_asset_job_def()
        steps = len(job.get_subset(asset_selection=selection.resolve(job.asset_layer.asset_graph)).all_node_defs)
        execute = lambda: outcome.update(result=dg.materialize(
            [*defs.assets, *defs.asset_checks], resources=defs.resources, instance=instance, raise_on_error=False,
            selection=selection, run_config=QUIET, tags=tags))

    def start() -> None:
        with _from_the_code_location(instance, job.name):
            execute()

    worker = threading.Thread(target=start)
    worker.start()
    cursor, run_id = None, None
    with _terminal() as terminal, tqdm(total=steps, unit=" steps", desc="starting", disable=None, file=terminal) as bar:
        while worker.is_alive():
            worker.join(1.0)
            run_id = run_id or next((r for r in instance.get_run_ids(limit=5) if r not in earlier), None)
            if run_id is None:
                continue
            records = instance.get_records_for_run(run_id, cursor=cursor, of_type={
                dg.DagsterEventType.STEP_START, *DONE})  # only the events since the last poll
            cursor = records.cursor
            for record in records.records:
                event = record.event_log_entry.dagster_event
                if event.event_type == dg.DagsterEventType.STEP_START:
                    bar.set_description(event.step_key)
                else:
                    bar.update(1)
    return outcome["result"]


def _report(results: list[dg.ExecuteInProcessResult], instance: dg.DagsterInstance, published_before: int) -> Report:
    report = Report()
    loaded: dict[str, list[int]] = {}
    for result in results:
        for event in result.all_events:
            if event.event_type_value == "STEP_FAILURE":
                data = event.step_failure_data
                why = data.user_failure_data.description if data.user_failure_data else data.error.message
                report.failed_steps[event.step_key] = why.strip().splitlines()[0] if why else "see the logs"
            elif event.event_type_value == "ASSET_MATERIALIZATION":
                materialization = event.step_materialization_data.materialization
                metadata = materialization.metadata
                if "rejected_rows" in metadata and "code_lists" not in metadata:  # a table's load
                    counts = loaded.setdefault(materialization.asset_key.path[0], [0, 0, 0])
                    counts[0] += 1
                    counts[1] += metadata["dagster/row_count"].value
                    counts[2] += metadata["rejected_rows"].value
        for check in result.get_asset_check_evaluations():
            if not check.passed:
                failed = check.metadata.get(FAILED_CHECKS)
                severity = "error" if check.severity == dg.AssetCheckSeverity.ERROR else "warning"
                report.failed_checks.append(FailedCheck("/".join(check.asset_key.path), check.check_name, severity,
                                                        tuple(failed.value) if failed is not None else ()))
        for record in instance.all_logs(result.run_id):
            if record.level == logging.WARNING and not record.is_dagster_event:
                report.warnings.append(f"{record.step_key}: {record.user_message}")
    report.loaded = [Loaded(source, *counts) for source, counts in sorted(loaded.items())]
    refreshes = read_published(settings.catalogue_dir(), "refreshes")
    report.published = len(refreshes) > published_before
    if report.published and refreshes[-1]["stale_sources"]:
        report.stale = refreshes[-1]["stale_sources"].split(" | ")
    return report


def refresh(sources: list[Source], source_ids: list[str], accept: list[str]) -> Report:
    """Refresh the sources (all by default) and publish. One source: its job `<id>_refresh` (the source, then the
    catalogue with it). Every source, or several: the sources first, then `catalogue_publish` whatever happened to
    them, so that a failing source does not stop the others from publishing (its previous profile is published,
    and the refresh record says so). `accept`: `source.table` or `source` whose new loads are kept beyond the
    guard's tolerances."""
    prepare([source for source in sources if not source_ids or source.id in source_ids])
    defs = build_definitions(sources)
    home = settings.dagster_home()
    instance = dg.DagsterInstance.get() if home else dg.DagsterInstance.ephemeral()
    recovered = free_dead_runs(instance)  # a run killed earlier must not block this one
    published_before = len(read_published(settings.catalogue_dir(), "refreshes"))
    tags = {ACCEPT_TAG: ",".join(accept)} if accept else {}
    if len(source_ids) == 1:
        results = [_run(defs, instance, f"{source_ids[0]}_refresh", tags=tags)]
    else:
        tags |= {REFRESH_STARTED: dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(),
                 REFRESH_SOURCES: ",".join(source_ids) or "*"}
        results = [_run(defs, instance, SOURCES_JOB, tags=tags) if not source_ids else
                   _run(defs, instance, None, of_source(*(s for s in sources if s.id in source_ids)), tags=tags)]
        results.append(_run(defs, instance, PUBLISH_JOB, tags=tags))
    report = _report(results, instance, published_before)
    report.recovered = recovered
    return report
