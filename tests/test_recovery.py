"""Crash recovery: a CLI run killed with SIGKILL mid-ingest or mid-profile leaves the last good warehouse and
catalogue, and the next run frees what the dead one held and succeeds within a bounded time."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]


def _write(folder: Path, rows: int) -> None:
    with open(folder / "t.csv", "w") as out:
        out.write("n,d,label\n")
        for start in range(0, rows, 100_000):
            out.write("".join(f"{i},2020-01-{1 + i % 28:02d},v{i % 97}\n" for i in range(start, min(rows, start + 100_000))))


def _rows(data: Path) -> int:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM big.t").fetchone()[0]


def _start(env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hdh_pipeline.cli", "run", "--source", "big"], env=env, cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_at(process: subprocess.Popen, instance: dg.DagsterInstance, step: str) -> str:
    """SIGKILL the CLI once `step` has started in its run; the step must not have finished by then."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            started = instance.get_records_for_run(record.dagster_run.run_id,
                                                   of_type=dg.DagsterEventType.STEP_START).records
            if any(r.event_log_entry.step_key == step for r in started):
                process.send_signal(signal.SIGKILL)
                process.wait()
                done = instance.get_records_for_run(record.dagster_run.run_id,
                                                    of_type=dg.DagsterEventType.STEP_SUCCESS).records
                assert step not in {r.event_log_entry.step_key for r in done}, "the step ended before the kill"
                return record.dagster_run.run_id
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"step {step} never started: {process.communicate()}")


@pytest.mark.parametrize("step", ["big_tables", "big__profile"])
def test_a_killed_run_blocks_nothing(step: str, tmp_path: Path) -> None:
    home, data, folder = tmp_path / "dagster", tmp_path / "out", tmp_path / "big"
    home.mkdir()
    folder.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    (tmp_path / "big.yaml").write_text("id: big\ntitle: Big\nproducer: {name: P}\nlicence: CC0\nlocation: big\n"
                                       "tables: {t: {types: {n: BIGINT, d: DATE}}}\n")
    env = {**os.environ, "DAGSTER_HOME": str(home), "HDH_DATA_DIR": str(data),
           "HDH_SOURCES": str(tmp_path / "big.yaml"), "HDH_EXPECTATIONS_DIR": str(tmp_path / "expectations")}
    _write(folder, 100_000)
    first = _start(env)
    assert first.wait(timeout=300) in (0, 3), first.communicate()
    published = (data / "catalogue" / "current").resolve()

    _write(folder, 2_000_000)  # a new delivery, bigger: killed while it is loaded, or once it is profiled
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        instance = dg.DagsterInstance.get()
        killed = _kill_at(_start(env), instance, step)
        assert killed in instance.event_log_storage.get_concurrency_run_ids()  # the dead run holds the writer slot
        assert (data / "catalogue" / "current").resolve() == published  # the last good catalogue
        if step == "big_tables":
            assert _rows(data) == 100_000  # the interrupted load left the last good table

        began = time.monotonic()
        again = _start(env)
        out, err = again.communicate(timeout=300)
        assert again.returncode in (0, 3), err
        assert time.monotonic() - began < 120
        assert f"recovered: run {killed[:8]}" in err and "freed the DuckDB writer slot" in err
        assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
        assert _rows(data) == 2_000_000 and (data / "catalogue" / "current").resolve() != published
    finally:
        del os.environ["DAGSTER_HOME"]
