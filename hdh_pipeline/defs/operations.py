"""What keeps the pipeline running unattended: a sensor on each source's files, a freshness policy from each
source's declared frequency, publication after a refresh of every source, and an alert when a run fails."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import urllib.request

import dagster as dg

from hdh_pipeline import settings
from hdh_pipeline.defs.recovery import PROCESS_TAG, free_dead_runs
from hdh_pipeline.sources.discovery import EXTENSIONS, expand_files
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import period

log = logging.getLogger(__name__)


def fingerprint(source: Source) -> dict[str, list[int]]:
    """Every data file of the source's location -> [size, modification time in ns]: a stat per file, nothing read."""
    location = source.location
    extensions = tuple(e for f in {source.declaration.format, *(t.format for t in source.tables)} if f in EXTENSIONS
                       for e in EXTENSIONS[f])
    files = [location] if location.is_file() else expand_files(location, extensions)
    return {str(f): [(s := f.stat()).st_size, s.st_mtime_ns] for f in files}


def changes(before: dict[str, list[int]], after: dict[str, list[int]]) -> list[str]:
    """Files added, changed or removed, each as `added|changed|removed path`."""
    return ([f"added {f}" for f in after if f not in before] +
            [f"changed {f}" for f in after if f in before and after[f] != before[f]] +
            [f"removed {f}" for f in before if f not in after])


def build_file_sensor(source: Source, job_name: str) -> dg.SensorDefinition:
    """Requests the source's refresh job when a file of its location is added, changed or removed. The cursor
    keeps the last listing; the first look only records it. Never opens the warehouse."""

    @dg.sensor(name=f"{source.id}_files", job_name=job_name, minimum_interval_seconds=settings.sensor_interval(),
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Refreshes {source.declaration.title} when a file under {source.location} is added, "
                           "changed (size or modification time) or removed.")
    def _files(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
        now = fingerprint(source)
        cursor = json.dumps(now, sort_keys=True)
        if context.cursor is None:
            return dg.SensorResult(skip_reason=f"first look: {len(now)} files recorded", cursor=cursor)
        found = changes(json.loads(context.cursor), now)
        if not found:
            return dg.SkipReason(f"no change in {len(now)} files")
        context.log.info(f"{len(found)} file changes: {'; '.join(found[:10])}")
        return dg.SensorResult(run_requests=[dg.RunRequest(
            run_key=hashlib.sha1(cursor.encode()).hexdigest(),
            tags={"hdh/trigger": "files", "hdh/changed": "; ".join(found)[:1000]})],
            cursor=cursor)

    return _files


def freshness_policy(source: Source) -> dg.FreshnessPolicy:
    """Overdue (failing) when not refreshed within one period of the declared frequency plus a quarter of it (at
    most 12 hours) for the refresh to run; a warning once a period has passed. Evaluated by the daemon
    (dagster.yaml `freshness`), shown on the asset in the UI."""
    every = period(source.declaration.update_frequency)
    return dg.FreshnessPolicy.time_window(fail_window=every + min(every / 4, dt.timedelta(hours=12)),
                                          warn_window=every)


def overdue(source: Source) -> str:
    """The freshness policy in words, exactly: the UI rounds its windows to days (7.5 days shows as "7 days")."""
    def words(window) -> str:  # a policy window
        days, hours = divmod(round(window.to_timedelta().total_seconds() / 3600), 24)
        return " ".join(f"{n} {unit}{'s' if n > 1 else ''}" for n, unit in ((days, "day"), (hours, "hour")) if n)

    policy = freshness_policy(source)
    return (f"Freshness: a warning when not refreshed for {words(policy.warn_window)}, a failure after "
            f"{words(policy.fail_window)} ({source.declaration.update_frequency}).")


def build_publish_sensors(sources_job: dg.UnresolvedAssetJobDefinition, publish_job: dg.UnresolvedAssetJobDefinition,
                          started_tag: str, sources_tag: str) -> list[dg.SensorDefinition]:
    """After the job refreshing every source ends, whether it succeeded or not, publish the catalogue: the sources
    that failed keep their previous entry, the others publish (one run of everything would publish nothing when
    one source fails: its failure skips what depends on it)."""

    def request(context: dg.RunStatusSensorContext) -> dg.RunRequest | dg.SkipReason:
        run = context.dagster_run
        if PROCESS_TAG in run.tags:
            return dg.SkipReason(f"run {run.run_id[:8]} was started by the CLI, which publishes itself")
        record = context.instance.get_run_record_by_id(run.run_id)
        started = dt.datetime.fromtimestamp(record.start_time or record.create_timestamp.timestamp(), dt.UTC)
        return dg.RunRequest(run_key=run.run_id, tags={
            started_tag: run.tags.get(started_tag) or started.replace(tzinfo=None).isoformat(),
            sources_tag: run.tags.get(sources_tag, "*"), "hdh/after_run": run.run_id})

    common = dict(monitored_jobs=[sources_job], request_job=publish_job, default_status=dg.DefaultSensorStatus.RUNNING)
    return [
        dg.run_status_sensor(name="publish_after_refresh", run_status=dg.DagsterRunStatus.SUCCESS, **common,
                             description=f"Runs {publish_job.name} when {sources_job.name} succeeds.")(request),
        dg.run_failure_sensor(name="publish_after_failed_refresh", **common,
                              description=f"Runs {publish_job.name} when {sources_job.name} fails: the sources that "
                                          "failed keep their previous entry, the others publish.")(request),
    ]


@dg.sensor(name="recover_dead_runs", minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING,
           description="Marks failed the runs whose process is gone (a daemon or machine killed mid-run: systemd "
                       "kills a unit's run workers with it) and frees the DuckDB writer slot they held, so that the "
                       "next scheduled run goes on.")
def recover_dead_runs(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    done = free_dead_runs(context.instance)
    for line in done:
        context.log.warning(line)
    return dg.SkipReason("; ".join(done) or "no run died with its process")


def notify(message: str, run: dg.DagsterRun, webhook: str | None) -> None:
    """POST the alert as JSON to `webhook` when one is configured (a failing webhook is logged, not raised)."""
    if webhook is None:
        return
    body = json.dumps({"text": message, "run_id": run.run_id, "job": run.job_name}).encode()
    request = urllib.request.Request(webhook, data=body, headers={"Content-Type": "application/json"})
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except OSError as error:
        log.error("alert webhook %s failed: %s", webhook, error)


@dg.run_failure_sensor(name="alert_on_failure", default_status=dg.DefaultSensorStatus.RUNNING,
                       description="Logs every failed run, and POSTs it to HDH_ALERT_WEBHOOK when set.")
def alert_on_failure(context: dg.RunFailureSensorContext) -> None:
    run = context.dagster_run
    failed = [e.step_key for e in context.get_step_failure_events()]
    message = (f"hdh-pipeline: run {run.run_id[:8]} of {run.job_name} failed"
               f"{' at ' + ', '.join(failed) if failed else ''}: {context.failure_event.message or 'see its logs'}")
    context.log.error(message)
    notify(message, run, settings.alert_webhook())
