"""The service as a platform team runs it: Dagster's storage in a real PostgreSQL server, the daemon and the
webserver on localhost; a file change triggers the source's sensor, whose run and checks are read through the
webserver's GraphQL API (docs/operations.md, "Running it as a service")."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import free_port, server

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


@pytest.fixture
def postgres() -> Iterator[dict[str, str]]:
    """A PostgreSQL server of its own (tests/postgres.py) with a database `dagster`; its DAGSTER_PG_* variables."""
    with server() as running:
        yield {"DAGSTER_PG_HOST": "127.0.0.1", "DAGSTER_PG_PORT": str(running.port), "DAGSTER_PG_DB": "dagster",
               "DAGSTER_PG_USER": "postgres", "DAGSTER_PG_PASSWORD": "unused"}


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    assert "errors" not in answer, answer
    return answer["data"]


def _wait(what: str, probe, seconds: float = 240):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if found := probe():
                return found
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


RUNS = """query Runs($job: String!) { runsOrError(filter: {pipelineName: $job}) {
  ... on Runs { results { runId status tags { key value } } } } }"""
CHECKS = """query Checks($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name executionForLatestMaterialization {
    runId status evaluation { success severity } } } } } } } }"""
FRESHNESS = """query Fresh($path: [String!]!) { assetNodeOrError(assetKey: {path: $path}) { ... on AssetNode {
  internalFreshnessPolicy { ... on TimeWindowFreshnessPolicy { failWindowSeconds warnWindowSeconds } }
  freshnessStatusInfo { freshnessStatus } } } }"""
TICKS = """query Ticks($name: String!) { sensorOrError(sensorSelector: {repositoryName: "__repository__",
  repositoryLocationName: "hdh_pipeline.definitions", sensorName: $name}) { __typename ... on Sensor { sensorState { status
  ticks(limit: 5) { status } } } ... on Error { message } } }"""


def test_a_sensor_triggers_a_run_under_the_daemon_with_postgres(postgres: dict, tmp_path: Path) -> None:
    home, data, folder = tmp_path / "dagster", tmp_path / "out", tmp_path / "files"
    home.mkdir()
    folder.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text() +
                                       (REPO / "assets" / "deploy" / "postgres-storage.yaml").read_text())
    (folder / "t.csv").write_text("n,label\n" + "".join(f"{i},v{i % 7}\n" for i in range(300)))
    (tmp_path / "small.yaml").write_text("id: small\ntitle: Small\nproducer: {name: P}\nlicence: CC0\n"
                                         "location: files\nowners: [team:data]\ntables: {t: {types: {n: INTEGER}}}\n")
    env = {**os.environ, **postgres, "DAGSTER_HOME": str(home), "HDH_DATA_DIR": str(data),
           "HDH_SOURCES": str(tmp_path / "small.yaml"), "HDH_EXPECTATIONS_DIR": str(tmp_path / "expectations"),
           "HDH_SENSOR_INTERVAL": "3"}
    port = free_port()
    daemon = subprocess.Popen([str(VENV_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(tmp_path / "daemon.log", "w"))
    web = subprocess.Popen([str(VENV_BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p",
                            str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=open(tmp_path / "webserver.log", "w"))
    try:
        _wait("the webserver", lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5))
        # the sensor's first tick only records the files; then a re-delivery must trigger the source's job
        def ticks() -> list:
            sensor = _graphql(port, TICKS, {"name": "small_files"})["sensorOrError"]
            assert sensor["__typename"] == "Sensor", sensor
            return sensor["sensorState"]["ticks"]

        _wait("the file sensor's first tick", ticks)
        (folder / "t.csv").write_text("n,label\n" + "".join(f"{i},v{i % 7}\n" for i in range(320)))

        def finished() -> dict | None:
            runs = _graphql(port, RUNS, {"job": "small_refresh"})["runsOrError"]["results"]
            return runs[0] if runs and runs[0]["status"] in ("SUCCESS", "FAILURE", "CANCELED") else None

        run = _wait("the triggered run", finished)
        assert run["status"] == "SUCCESS", (tmp_path / "daemon.log").read_text()[-3000:]
        assert {"key": "dagster/sensor_name", "value": "small_files"} in run["tags"]
        checks = {c["name"]: c["executionForLatestMaterialization"] for c in _graphql(port, CHECKS, {
            "path": ["small", "t"]})["assetNodeOrError"]["assetChecksOrError"]["checks"]}
        assert checks["loaded"]["runId"] == run["runId"] and checks["loaded"]["evaluation"]["success"]
        assert checks["quality_suite"]["status"] in ("SUCCEEDED", "FAILED")
        [drift] = [c for c in _graphql(port, CHECKS, {"path": ["small", "profile"]})["assetNodeOrError"][
            "assetChecksOrError"]["checks"] if c["name"] == "drift"]
        assert drift["executionForLatestMaterialization"]["runId"] == run["runId"]
        assert (data / "catalogue" / "current" / "catalogue.duckdb").exists()  # the job published the catalogue

        def fresh() -> dict | None:  # the daemon's freshness evaluation, as the asset page shows it
            node = _graphql(port, FRESHNESS, {"path": ["small", "profile"]})["assetNodeOrError"]
            return node if node["freshnessStatusInfo"]["freshnessStatus"] == "HEALTHY" else None

        policy = _wait("the profile to be seen fresh", fresh, 120)["internalFreshnessPolicy"]
        assert policy == {"warnWindowSeconds": 7 * 86400, "failWindowSeconds": 7 * 86400 + 12 * 3600}
    finally:
        for process in (web, daemon):
            process.terminate()
        for process in (web, daemon):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


START_SCHEDULE = """mutation Start($selector: ScheduleSelector!) { startSchedule(scheduleSelector: $selector) {
  __typename ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }"""


def test_a_killed_daemon_fails_its_run_and_the_next_tick_publishes(postgres: dict, tmp_path: Path) -> None:
    """The daemon SIGKILLed while a scheduled run works, then restarted (as systemd does): that run ends failed,
    and the schedule's next run refreshes and publishes."""
    home, data, folder = tmp_path / "dagster", tmp_path / "out", tmp_path / "files"
    home.mkdir()
    folder.mkdir()
    (home / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text() +
                                       (REPO / "assets" / "deploy" / "postgres-storage.yaml").read_text())
    (folder / "t.csv").write_text("n,label\n" + "".join(f"{i},v{i % 7}\n" for i in range(1_500_000)))
    (tmp_path / "small.yaml").write_text("id: small\ntitle: Small\nproducer: {name: P}\nlicence: CC0\n"
                                         "location: files\nupdate_frequency: '* * * * *'\ntimezone: UTC\n"
                                         "tables: {t: {types: {n: INTEGER}}}\n")
    env = {**os.environ, **postgres, "DAGSTER_HOME": str(home), "HDH_DATA_DIR": str(data),
           "HDH_SOURCES": str(tmp_path / "small.yaml"), "HDH_EXPECTATIONS_DIR": str(tmp_path / "expectations")}
    port = free_port()

    def daemon() -> subprocess.Popen:
        """The daemon in a process group of its own: SIGKILLing it kills what it started, as systemd kills a unit's
        processes (KillMode=control-group, the default) when the daemon dies."""
        return subprocess.Popen([str(VENV_BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "daemon.log", "a"),
                                process_group=0)

    first = daemon()
    web = subprocess.Popen([str(VENV_BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p",
                            str(port)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                           stderr=open(tmp_path / "webserver.log", "w"))
    second = None
    try:
        _wait("the webserver", lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5))
        started = _graphql(port, START_SCHEDULE, {"selector": {
            "repositoryName": "__repository__", "repositoryLocationName": "hdh_pipeline.definitions",
            "scheduleName": "small_schedule"}})["startSchedule"]
        assert started["__typename"] == "ScheduleStateResult", started

        def runs() -> list[dict]:
            return _graphql(port, RUNS, {"job": "small_refresh"})["runsOrError"]["results"]

        def working() -> dict | None:
            return next((r for r in runs() if r["status"] == "STARTED"), None)

        killed = _wait("a scheduled run", working, 150)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        second = daemon()

        def ended(run_id: str) -> dict | None:
            return next((r for r in runs() if r["runId"] == run_id and r["status"] in ("SUCCESS", "FAILURE")), None)

        log = lambda: (tmp_path / "daemon.log").read_text()[-3000:]
        assert _wait("the killed run to end", lambda: ended(killed["runId"]), 300)["status"] == "FAILURE", log()
        later = _wait("a later scheduled run", lambda: next((r for r in runs() if r["runId"] != killed["runId"]
                                                            and r["status"] == "SUCCESS"), None), 300)
        assert {"key": "dagster/schedule_name", "value": "small_schedule"} in later["tags"]
        assert (data / "catalogue" / "current" / "catalogue.duckdb").exists()  # it published
    finally:
        for process in (web, first, second):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (web, first, second):
            if process is None:
                continue
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
