"""Crash recovery: a CLI run killed with SIGKILL at any step (loading, profiling, in the middle of a validation,
in the middle of the publication) leaves no process behind, the last good warehouse and catalogue, and the next
run frees what the dead one held, finishes and publishes."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import dagster as dg
import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
MARK = "HDH_TEST_RUN_MARK"  # in the environment of the CLI, so of every process it starts


def _write(folder: Path, rows: int) -> None:
    with open(folder / "t.csv", "w") as out:
        out.write("n,d,label\n")
        for start in range(0, rows, 100_000):
            out.write("".join(f"{i},2020-01-{1 + i % 28:02d},v{i % 97}\n" for i in range(start, min(rows, start + 100_000))))


def _rows(data: Path) -> int:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute("SELECT count(*) FROM big.t").fetchone()[0]


def _start(env: dict, mark: str = "") -> subprocess.Popen:
    """The CLI with `mark` in its environment; its output piped (a reader waits for end of file)."""
    return subprocess.Popen([sys.executable, "-m", "hdh_pipeline.cli", "run", "--source", "big"],
                            env={**env, MARK: mark}, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _marked(mark: str) -> list[int]:
    """The live processes whose environment holds the mark."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes()
            except OSError:
                continue
            if f"{MARK}={mark}".encode() in environ.split(b"\0"):
                found.append(int(entry.name))
    return found


def _kill_at(process: subprocess.Popen, instance: dg.DagsterInstance, step: str) -> str:
    """SIGKILL the CLI a moment after `step` has started in its run; the step must not have finished by then."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
            run_id = record.dagster_run.run_id
            started = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
            if any(r.event_log_entry.step_key == step for r in started):
                time.sleep(0.5)  # in the middle of it
                process.send_signal(signal.SIGKILL)
                process.wait()
                done = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_SUCCESS).records
                assert step not in {r.event_log_entry.step_key for r in done}, "the step ended before the kill"
                return run_id
        time.sleep(0.05)
    process.kill()
    raise AssertionError(f"step {step} never started: {process.communicate()}")


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A first delivery, refreshed and published: its Dagster home, data folder and declaration."""
    root = tmp_path_factory.mktemp("recovery")
    home, folder = root / "dagster", root / "big"
    home.mkdir()
    folder.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    (root / "big.yaml").write_text("id: big\ntitle: Big\nproducer: {name: P}\nlicence: CC0\nlocation: big\n"
                                   "tables: {t: {types: {n: BIGINT, d: DATE}}}\n")
    _write(folder, 100_000)
    first = _start(_env(root))
    out, err = first.communicate(timeout=300)
    assert first.returncode in (0, 3), err
    return root


def _env(root: Path) -> dict:
    return {**os.environ, "DAGSTER_HOME": str(root / "dagster"), "HDH_DATA_DIR": str(root / "out"),
            "HDH_SOURCES": str(root / "big.yaml"), "HDH_EXPECTATIONS_DIR": str(root / "expectations")}


@pytest.mark.parametrize("step", ["big_tables", "big__profile", "big__quality", "publish_catalogue"])
def test_a_killed_run_leaves_nothing_behind(step: str, published: Path, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "copy"
    shutil.copytree(published, root, symlinks=True)
    env, data = _env(root), root / "out"
    before = (data / "catalogue" / "current").resolve()
    _write(root / "big", 2_000_000)  # a new delivery, bigger
    monkeypatch.setenv("DAGSTER_HOME", env["DAGSTER_HOME"])
    instance = dg.DagsterInstance.get()
    mark = uuid.uuid4().hex
    run = _start(env, mark)
    killed = _kill_at(run, instance, step)
    assert killed in instance.event_log_storage.get_concurrency_run_ids()  # the dead run holds the writer slot
    time.sleep(1)  # the issue asks for 5 s: a second is stricter, and long enough to see a survivor
    assert _marked(mark) == [], "processes of the killed run are still alive"
    run.communicate(timeout=10)  # nothing holds its output open
    assert (data / "catalogue" / "current").resolve() == before  # the last good catalogue
    assert _rows(data) in (100_000, 2_000_000)  # a load is one transaction: never a part of the new delivery

    again = _start(env)
    out, err = again.communicate(timeout=300)  # waits for the end of both outputs
    assert again.returncode in (0, 3), err
    assert f"recovered: run {killed[:8]}" in err and "freed the DuckDB writer slot" in err
    assert instance.get_run_by_id(killed).status == dg.DagsterRunStatus.FAILURE
    assert _rows(data) == 2_000_000 and (data / "catalogue" / "current").resolve() != before
    assert not (data / "tmp").exists() or not list((data / "tmp").iterdir())  # no scratch folder left

