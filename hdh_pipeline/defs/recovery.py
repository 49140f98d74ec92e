"""Crash recovery for runs started without the daemon (the CLI): a killed run must not keep the DuckDB writer's
slot, or every later run waits forever.

Under the daemon, Dagster does it itself (dagster.yaml): the code server marks a run whose process died as failed,
and run monitoring frees the slots of finished runs (`free_slots_after_run_end_seconds`) and fails runs stuck
beyond `max_runtime_seconds` (a machine restart). A CLI run has neither, so the CLI tags its runs with its
process, and before starting frees what dead runs left. A daemon killed with its code server (systemd kills the
unit's processes) takes its run workers along and nobody marks their runs: the warehouse resource tags a run with
its worker when its first step starts, and before that the worker's own "Started process for run" event names it.
"""
from __future__ import annotations

import socket

import dagster as dg
import psutil
from dagster._core.launcher import DefaultRunLauncher

PROCESS_TAG = "hdh/process"  # `host:pid:start time` of the process executing the run in-process


def process_tags() -> dict[str, str]:
    """Tags naming this process, on every run the CLI starts."""
    me = psutil.Process()
    return {PROCESS_TAG: f"{socket.gethostname()}:{me.pid}:{me.create_time():.0f}"}


def _created(pid: int) -> float:
    """When process `pid` started (infinity when there is none): a pid reused by a later process is not the one."""
    try:
        return psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        return float("inf")


def _dead(instance: dg.DagsterInstance, run: dg.DagsterRun) -> str | None:
    """The process that ran `run`, if it is gone; None while it lives or when it is not this machine's to judge."""
    if process := run.tags.get(PROCESS_TAG):
        host, pid, started = process.rsplit(":", 2)
        mine = host == socket.gethostname()  # another machine's run is not ours to judge
        return process if mine and f"{_created(int(pid)):.0f}" != started else None
    if not isinstance(instance.run_launcher, DefaultRunLauncher):
        return None  # a worker in a container or pod of its own: its launcher watches it
    for record in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records:
        event = record.event_log_entry
        pid = event.dagster_event.event_specific_data.metadata.get("pid")
        if pid is not None and (event.dagster_event.message or "").startswith("Started process for run"):
            # this machine's code server started it (DefaultRunLauncher): alive if it started before it said so
            worker = int(pid.value)
            return f"worker {worker}" if _created(worker) > event.timestamp + 1 else None
    return None  # no worker yet: run monitoring's start_timeout_seconds covers a run that never starts


def free_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark the CLI's runs whose process died as failed, free the concurrency slots of every finished run, and
    say what was done (one line each)."""
    done = []
    unfinished = instance.get_run_records(dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]))
    for record in unfinished:
        run = record.dagster_run
        if process := _dead(instance, run):
            instance.report_run_failed(run, f"the process running it ({process}) is gone: killed or the machine "
                                            "restarted")
            done.append(f"run {run.run_id[:8]} ({run.job_name}) died with its process: marked failed")
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
                done.append(f"freed the DuckDB writer slot held by finished run {run_id[:8]}")
    return done
