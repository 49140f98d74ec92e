"""Crash recovery for runs started without the daemon (the CLI): a killed run must not keep the DuckDB writer's
slot, or every later run waits forever.

Under the daemon, Dagster does it itself (dagster.yaml): the code server marks a run whose process died as failed,
and run monitoring frees the slots of finished runs (`free_slots_after_run_end_seconds`) and fails runs stuck
beyond `max_runtime_seconds` (a machine restart). A CLI run has neither, so the CLI tags its runs with its
process, and before starting frees what dead runs left.
"""
from __future__ import annotations

import socket

import dagster as dg
import psutil

PROCESS_TAG = "hdh/process"  # `host:pid:start time` of the process executing the run in-process


def process_tags() -> dict[str, str]:
    """Tags naming this process, on every run the CLI starts."""
    me = psutil.Process()
    return {PROCESS_TAG: f"{socket.gethostname()}:{me.pid}:{me.create_time():.0f}"}


def _dead(process: str) -> bool:
    """Whether the tagged process is gone (a pid reused by another process counts as gone)."""
    host, pid, started = process.rsplit(":", 2)
    if host != socket.gethostname():
        return False  # another machine's run: not ours to judge
    try:
        return f"{psutil.Process(int(pid)).create_time():.0f}" != started
    except psutil.NoSuchProcess:
        return True


def free_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark the CLI's runs whose process died as failed, free the concurrency slots of every finished run, and
    say what was done (one line each)."""
    done = []
    unfinished = instance.get_run_records(dg.RunsFilter(statuses=[
        dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]))
    for record in unfinished:
        run = record.dagster_run
        process = run.tags.get(PROCESS_TAG)
        if process and _dead(process):
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
