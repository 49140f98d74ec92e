"""The instance storage selected by dagster.yaml: Dagster's SQLite files, written through open connections."""

from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from hdh_pipeline.defs.storage import RUN_FILES_OPEN, OpenSqliteEventLogStorage

REPO = Path(__file__).resolve().parent.parent
SPECS = [dg.AssetSpec(["src", f"t{i}"]) for i in range(3)]


@dg.multi_asset(specs=SPECS, check_specs=[dg.AssetCheckSpec("loaded", asset=s.key) for s in SPECS])
def _tables():
    for i, spec in enumerate(SPECS):
        yield dg.MaterializeResult(asset_key=spec.key, metadata={"dagster/row_count": i})
    for i, spec in enumerate(SPECS):
        yield dg.AssetCheckResult(asset_key=spec.key, check_name="loaded", passed=i != 1)


JOB = dg.Definitions(assets=[_tables]).resolve_implicit_global_asset_job_def()


def _instance(home: Path, yaml: str, monkeypatch: pytest.MonkeyPatch) -> dg.DagsterInstance:
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.get()


def _stored(instance: dg.DagsterInstance, runs: int) -> list:
    """What a data owner reads back after `runs` runs: each run's events, the latest materializations and checks."""
    ids = [JOB.execute_in_process(instance=instance, raise_on_error=False).run_id for _ in range(runs)]
    events = [Counter(e.dagster_event.event_type_value for e in instance.all_logs(i) if e.dagster_event) for i in ids]
    latest = []
    for spec in SPECS:
        materialization = instance.get_latest_materialization_event(spec.key)
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(spec.key, "loaded")])[dg.AssetCheckKey(spec.key, "loaded")]
        latest.append((materialization.run_id == ids[-1],
                       materialization.asset_materialization.metadata["dagster/row_count"].value,
                       check.run_id == ids[-1], check.status.value))
    return [events, latest]


def test_the_repository_storage_stores_what_dagsters_default_does(tmp_path: Path, monkeypatch) -> None:
    ours = _instance(tmp_path / "ours", (REPO / "dagster.yaml").read_text(), monkeypatch)
    assert type(ours.event_log_storage) is OpenSqliteEventLogStorage
    runs = RUN_FILES_OPEN + 3  # more run files than are kept open
    stored = _stored(ours, runs)
    assert len(ours.event_log_storage._engines) <= RUN_FILES_OPEN + 1  # the index, and the last run files

    default = _instance(tmp_path / "default", "telemetry:\n  enabled: false\n", monkeypatch)
    assert type(default.event_log_storage) is SqliteEventLogStorage
    assert stored == _stored(default, runs)
    assert stored[1] == [(True, 0, True, "SUCCEEDED"), (True, 1, True, "FAILED"), (True, 2, True, "SUCCEEDED")]
    assert stored[0][0]["ASSET_MATERIALIZATION"] == 3 and stored[0][0]["ASSET_CHECK_EVALUATION"] == 3

    ours.event_log_storage.wipe()  # closes its connections before deleting the run files (then empties the index)
    assert list(ours.event_log_storage._engines) == ["index"] and not ours.get_latest_materialization_event(SPECS[0].key)
    assert _stored(ours, 1)[1][0] == (True, 0, True, "SUCCEEDED")


def test_the_postgres_deployment_file_replaces_the_sqlite_storage(tmp_path: Path) -> None:
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text() +
                                           (REPO / "assets" / "deploy" / "postgres-storage.yaml").read_text())
    assert InstanceRef.from_dir(str(tmp_path)).storage_data.class_name == "DagsterPostgresStorage"
    (tmp_path / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    assert InstanceRef.from_dir(str(tmp_path)).storage_data.class_name == "SqliteStorage"
