"""Unattended operation: the file sensor, publication after a refresh of every source, alerts, freshness."""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import dagster as dg
import pytest

from hdh_pipeline.defs.operations import (
    alert_on_failure,
    build_file_sensor,
    build_publish_sensors,
    freshness_policy,
)
from hdh_pipeline.defs.recovery import PROCESS_TAG
from hdh_pipeline.vocabulary import period


def _evaluate(sensor: dg.SensorDefinition, cursor: str | None) -> tuple[list[dg.RunRequest], str | None, str | None]:
    """(run requests, new cursor, skip message) of one tick."""
    data = sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor, sensor_name=sensor.name))
    return list(data.run_requests or []), data.cursor if data.cursor is not None else cursor, data.skip_message


def test_the_file_sensor_fires_on_new_or_changed_files_only(write_source) -> None:
    source = write_source({"a.csv": "x\n1\n", "b.csv": "y\n2\n"})
    sensor = build_file_sensor(source, "src_refresh")
    assert sensor.job_name == "src_refresh" and sensor.default_status == dg.DefaultSensorStatus.RUNNING

    requests, cursor, skipped = _evaluate(sensor, None)
    assert requests == [] and "first look: 2 files recorded" in skipped
    assert _evaluate(sensor, cursor)[0] == []  # nothing changed: quiet

    rebuilt = build_file_sensor(write_source({}), "src_refresh")  # a restart: a new process, the stored cursor
    assert _evaluate(rebuilt, cursor)[0] == []

    (source.location / "a.csv").write_text("x\n1\n3\n")  # changed
    [request], after_change, _ = _evaluate(sensor, cursor)
    assert "changed" in request.tags["hdh/changed"] and "a.csv" in request.tags["hdh/changed"]
    assert _evaluate(sensor, after_change)[0] == []  # the change is in the cursor: no second request

    (source.location / "c.csv").write_text("z\n4\n")  # new
    [request], after_new, _ = _evaluate(rebuilt, after_change)
    assert request.tags["hdh/changed"] == f"added {source.location / 'c.csv'}"
    (source.location / "b.csv").unlink()  # removed
    [request], _, _ = _evaluate(sensor, after_new)
    assert request.tags["hdh/changed"].startswith("removed ")


def _one_run(instance: dg.DagsterInstance, fail: bool, tags: dict | None = None) -> tuple[dg.DagsterRun, object]:
    @dg.op
    def step() -> None:
        if fail:
            raise dg.Failure("the files are gone")

    @dg.job(name="refresh_sources")
    def job() -> None:
        step()

    result = job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    run = instance.get_run_by_id(result.run_id)
    kind = dg.DagsterEventType.RUN_FAILURE if fail else dg.DagsterEventType.RUN_SUCCESS
    [event] = [e for e in result.all_events if e.event_type == kind]
    return run, event


def test_every_source_refreshed_then_published_whatever_happened() -> None:
    jobs = dg.define_asset_job("refresh_sources"), dg.define_asset_job("catalogue_publish")
    success, failure = build_publish_sensors(*jobs, "hdh/refresh_started", "hdh/refresh_sources")
    with dg.DagsterInstance.ephemeral() as instance:
        for sensor, fail in ((success, False), (failure, True)):
            run, event = _one_run(instance, fail)
            context = dg.build_run_status_sensor_context(sensor_name=sensor.name, dagster_event=event,
                                                         dagster_instance=instance, dagster_run=run)
            request = sensor(context.for_run_failure() if fail else context)
            assert request.run_key == run.run_id and request.tags["hdh/refresh_sources"] == "*"
            assert dt.datetime.fromisoformat(request.tags["hdh/refresh_started"]) <= dt.datetime.now()
        run, event = _one_run(instance, False, {PROCESS_TAG: "here:1:0"})  # the CLI publishes by itself
        context = dg.build_run_status_sensor_context(sensor_name=success.name, dagster_event=event,
                                                     dagster_instance=instance, dagster_run=run)
        assert isinstance(success(context), dg.SkipReason)


def test_a_failed_run_is_posted_to_the_webhook(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[dict] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    with ThreadingHTTPServer(("127.0.0.1", 0), Hook) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        monkeypatch.setenv("HDH_ALERT_WEBHOOK", f"http://127.0.0.1:{server.server_port}/hook")
        with dg.DagsterInstance.ephemeral() as instance:
            run, event = _one_run(instance, True)
            alert_on_failure(dg.build_run_status_sensor_context(
                sensor_name="alert_on_failure", dagster_event=event, dagster_instance=instance,
                dagster_run=run).for_run_failure())
        server.shutdown()
    [alert] = received
    assert alert["run_id"] == run.run_id and alert["job"] == "refresh_sources"
    assert "failed at step" in alert["text"]


@pytest.mark.parametrize(("cron", "days"), [("0 3 * * 1", 7), ("30 2 * * *", 1), ("0 4 1 * *", 31),
                                             ("0 4 1 */3 *", 92), ("0 * * * *", 1 / 24)])
def test_freshness_follows_the_declared_frequency(cron: str, days: float, write_source) -> None:
    assert period(cron) == dt.timedelta(days=days)
    policy = freshness_policy(write_source({"a.csv": "x\n1\n"}, update_frequency=cron))
    assert policy.warn_window.to_timedelta() == period(cron)
    assert policy.fail_window.to_timedelta() == period(cron) + min(period(cron) / 4, dt.timedelta(hours=12))


def test_a_run_whose_worker_died_before_naming_itself_is_marked_failed() -> None:
    """A daemon killed with its code server between a run's start and its first step: the worker's own "Started
    process" event names it, and the sensor marks the run failed once that process is gone, not while it lives."""
    from dagster._core.events import EngineEventData
    from dagster._core.test_utils import create_run_for_test, instance_for_test

    from hdh_pipeline.defs.recovery import free_dead_runs

    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    with instance_for_test() as instance:  # Dagster's default run launcher, as the daemon's
        runs = {}
        for name, pid in (("dead", exited.pid), ("alive", os.getpid())):
            run = create_run_for_test(instance, job_name=name, status=dg.DagsterRunStatus.STARTED)
            instance.report_engine_event(f"Started process for run (pid: {pid}).", run,
                                         EngineEventData.in_process(pid))
            runs[name] = run.run_id
        untold = create_run_for_test(instance, job_name="untold", status=dg.DagsterRunStatus.STARTED)

        done = free_dead_runs(instance)
        assert done == [f"run {runs['dead'][:8]} (dead) died with its process: marked failed"]
        assert instance.get_run_by_id(runs["dead"]).status == dg.DagsterRunStatus.FAILURE
        for run_id in (runs["alive"], untold.run_id):  # alive, or no worker yet: left to run monitoring
            assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.STARTED
