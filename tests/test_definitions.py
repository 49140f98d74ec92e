"""The Dagster layer: generated definitions, and the demo source materialised end to end."""
from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import dagster as dg
import pytest

from hdh_pipeline.definitions import build_definitions
from hdh_pipeline.defs.keys import DATABASE_LAYER
from tests.conftest import REPO_ROOT


@pytest.fixture
def defs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dg.Definitions:
    monkeypatch.delenv("HDH_SOURCES", raising=False)
    monkeypatch.setenv("HDH_DATA_DIR", str(tmp_path / "out"))
    return build_definitions()


def truth_of(table: str) -> dict:
    return json.loads((REPO_ROOT / "assets" / "demo" / "ground_truth.json").read_text())["tables"][table]


def own(source_id: str) -> dg.AssetSelection:
    """A source's own assets: not its database asset, which the catalogue's publication makes."""
    return dg.AssetSelection.key_prefixes([source_id]) - dg.AssetSelection.tag(*DATABASE_LAYER)


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    return {"/".join(m.asset_key.path): m.metadata for m in result.get_asset_materialization_events() for m in [m.materialization]}


def test_generated_definitions(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    keys = sorted("/".join(k.path) for k in graph.get_all_asset_keys())
    catalogue = [f"catalogue/{t}" for t in ("changes", "databases", "exports", "histograms", "nomenclatures", "population",
                                            "quality_label", "quality_protocol", "quality_results", "refreshes",
                                            "relations", "site", "tables",
                                            "value_frequencies", "variables")]
    assert keys == catalogue + ["demo/ER_PRS_F", "demo/IR_BEN_R", "demo/KI_CCI_R", "demo/T_MCOaaB",
                                "demo/database", "demo/nomenclatures", "demo/profile", "demo/quality"]
    for key in graph.get_all_asset_keys():  # the source's group is labelled with its title, its database included
        node = graph.get(key)
        assert node.group_name == ("catalogue" if key.path[0] == "catalogue" else "SNDS_synthetique_realiste_demo")
        assert node.pools == {"duckdb_warehouse"}
        if key.path[0] == "demo":
            assert node.owners == ["team:hdh-pipeline"]
    profile = graph.get(dg.AssetKey(["demo", "profile"]))
    assert {"/".join(k.path) for k in profile.parent_keys} == {
        "demo/ER_PRS_F", "demo/IR_BEN_R", "demo/KI_CCI_R", "demo/T_MCOaaB", "demo/nomenclatures"}
    assert graph.get(dg.AssetKey(["catalogue", "variables"])).parent_keys == {
        dg.AssetKey(["demo", "profile"]), dg.AssetKey(["demo", "quality"])}
    checks = sorted("/".join(c.asset_key.path) + ":" + c.name for c in graph.asset_check_keys)
    assert checks == [f"demo/{t}:{c}" for t in ("ER_PRS_F", "IR_BEN_R", "KI_CCI_R", "T_MCOaaB")
                      for c in ("loaded", "quality_suite")] + ["demo/database:documentation", "demo/profile:drift"]
    [schedule] = defs.schedules
    assert (schedule.name, schedule.cron_schedule, schedule.execution_timezone) == (
        "demo_schedule", "0 3 * * 1", "Europe/Paris")
    assert schedule.job_name == "demo_refresh"
    assert {job.name for job in defs.jobs} == {"demo_refresh", "refresh_sources", "catalogue_publish"}
    assert {s.name: s.default_status for s in defs.sensors} == dict.fromkeys(
        ["demo_files", "publish_after_refresh", "publish_after_failed_refresh", "alert_on_failure", "recover_dead_runs"],
        dg.DefaultSensorStatus.RUNNING)
    assert profile.freshness_policy.warn_window.to_timedelta() == dt.timedelta(days=7)  # weekly: "0 3 * * 1"
    assert "a warning when not refreshed for 7 days, a failure after 7 days 12 hours" in profile.description
    for key in graph.get_all_asset_keys():  # the policies applied to every asset, the catalogue's included
        assert graph.get(key).owners == ["team:hdh-pipeline"] and "hdh/source" in graph.get(key).tags
    assert graph.get(dg.AssetKey(["catalogue", "site"])).owners == ["team:hdh-pipeline"]
    selected = defs.resolve_job_def("demo_refresh").asset_layer.asset_graph.get_all_asset_keys()  # source and downstream
    assert {dg.AssetKey(["catalogue", "variables"]), dg.AssetKey(["catalogue", "site"]),
            dg.AssetKey(["demo", "database"]), dg.AssetKey(["demo", "IR_BEN_R"])} <= set(selected)
    database = graph.get(dg.AssetKey(["demo", "database"]))  # the declaration's facts, in its description
    assert "- licence: Apache-2.0" in database.description and "À 03:00, uniquement le lundi" in database.description
    sources_job = defs.resolve_job_def("refresh_sources").asset_layer.asset_graph.get_all_asset_keys()
    assert dg.AssetKey(["demo", "database"]) not in sources_job and dg.AssetKey(["demo", "profile"]) in sources_job
    ben = graph.get(dg.AssetKey(["demo", "IR_BEN_R"]))
    assert ben.description.startswith("Référentiel des bénéficiaires")
    declared = ben.metadata["dagster/column_schema"]
    assert [c.name for c in declared.columns][:2] == ["BEN_NIR_PSA", "BEN_RNG_GEM"]
    assert declared.columns[0].tags == {"role": "person_id"}


def test_demo_materialises(defs: dg.Definitions, tmp_path: Path) -> None:
    result = dg.materialize([*defs.assets, *defs.asset_checks], resources=defs.resources)
    assert result.success
    metadata = materializations(result)
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations() if e.check_name == "quality_suite"}
    assert set(checks) == {"ER_PRS_F", "IR_BEN_R", "KI_CCI_R", "T_MCOaaB"}
    assert checks["KI_CCI_R"].passed and not checks["IR_BEN_R"].passed  # the demo has duplicate keys
    assert checks["IR_BEN_R"].severity == dg.AssetCheckSeverity.ERROR
    # every check, passed ones included, with its counts: the injected defects, exactly
    lines = [[c.strip() for c in line.strip("|").split("|")]
             for line in checks["IR_BEN_R"].metadata["every_check"].value.splitlines()[2:]]
    by_check = {line[0]: line for line in lines}
    assert len(lines) == checks["IR_BEN_R"].metadata["checks"].value and {line[-2] for line in lines} >= {
        "passed", "failed"}
    ben_defects = truth_of("IR_BEN_R")["defects"]
    assert by_check["nomenclature:BEN_SEX_COD"][3] == str(ben_defects["BEN_SEX_COD"]["not_in_nomenclature"])
    assert by_check["primary_key:BEN_NIR_PSA+BEN_RNG_GEM"][-2] == "failed"
    assert by_check["primary_key:BEN_NIR_PSA+BEN_RNG_GEM"][3] == str(ben_defects["BEN_NIR_PSA"]["duplicate_key"])
    # a failed check's most frequent failing values, with their rows: the injected codes (not in IR_SEX_V)
    values = by_check["nomenclature:BEN_SEX_COD"][-1]
    assert values and sum(int(v.rsplit("(", 1)[1].rstrip(")")) for v in values.split("; ")) == \
        ben_defects["BEN_SEX_COD"]["not_in_nomenclature"]
    assert by_check["primary_key:BEN_NIR_PSA+BEN_RNG_GEM"][-1] and "P0" not in checks["IR_BEN_R"].metadata[
        "every_check"].value  # the person id is masked: only the other key column's values show
    # each check result names the materialization of this run it judged (looked up in one batch: defs/events.py)
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} >= {"loaded", "quality_suite"}
    assert all(e.target_materialization_data and e.target_materialization_data.run_id == result.run_id
               for e in evaluations)
    truth = json.loads((REPO_ROOT / "assets" / "demo" / "ground_truth.json").read_text())["tables"]
    for table, facts in truth.items():
        assert metadata[f"demo/{table}"]["dagster/row_count"].value == facts["loaded_rows"]
        assert metadata[f"demo/{table}"]["rejected_rows"].value == facts["rejected_lines"]
    # the rejected lines by reason and column, as the generator injected them; their examples show no identifier
    loaded = {e.asset_key.path[-1]: e for e in evaluations if e.check_name == "loaded"}
    prs = loaded["ER_PRS_F"]
    reasons = [[c.strip() for c in line.strip("|").split("|")] for line in
               prs.metadata["rejected_lines_by_reason"].value.splitlines()[2:]]
    by_reason = {(reason, column): int(n.replace(",", "")) for reason, column, n in reasons}
    defects = truth["ER_PRS_F"]["defects"]
    assert by_reason[("value of the wrong type", "PRS_PAI_MNT")] == defects["PRS_PAI_MNT"]["unparseable_number"]
    assert sum(n for (reason, _), n in by_reason.items() if reason.endswith("columns")) == \
        defects["*"]["wrong_field_count"]
    assert sum(by_reason.values()) == truth["ER_PRS_F"]["rejected_lines"]
    examples = prs.metadata["rejected_line_examples"].value
    assert examples.count("ER_PRS_F.csv") == 5 and "P0" not in examples and "•••" in examples
    # 0.2 % of its lines rejected, over the default 0.1 %: a warning naming the main reason, not a blocking error
    assert not prs.passed and prs.severity == dg.AssetCheckSeverity.WARN and "PRS_PAI_MNT" in prs.description
    assert loaded["KI_CCI_R"].passed and "rejected_line_examples" not in loaded["KI_CCI_R"].metadata
    ben = metadata["demo/IR_BEN_R"]
    columns = {c.name: c for c in ben["dagster/column_schema"].schema.columns}
    assert columns["BEN_NAI_ANN"].type == "INTEGER"
    assert columns["BEN_SEX_COD"].description == "Code sexe du bénéficiaire"
    assert "nomenclature IR_SEX_V" in columns["BEN_SEX_COD"].constraints.other
    preview = ben["preview"].value
    assert preview.count("\n") == 11  # header, rule, 10 rows
    assert "P0000" not in preview and "•••" in preview  # identifiers show no values
    stays = metadata["demo/T_MCOaaB"]["preview"].value.splitlines()
    header = [c.strip() for c in stays[0].strip("|").split("|")]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in stays[2:]]
    # RSA_NUM has no role but nearly all its values differ (detected, as in the catalogue): masked too
    assert {row[header.index("RSA_NUM")] for row in rows} == {"•••"}
    assert {row[header.index("SEJ_NBJ")] for row in rows} != {"•••"}
    assert metadata["demo/nomenclatures"]["dagster/row_count"].value == sum(
        len(p.read_text().splitlines()) - 1 for p in (REPO_ROOT / "assets" / "demo" / "nomenclatures").glob("*.csv"))
    assert (tmp_path / "out" / "warehouse.duckdb").exists()


def test_a_table_with_every_line_rejected_blocks_its_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "files"
    data.mkdir()
    (data / "good.csv").write_text("x\n1\n")
    (data / "bad.csv").write_text("n\nabc\ndef\n")
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "bad.json").write_text('{"name": "bad", "fields": [{"name": "n", "type": "integer"}]}')
    (tmp_path / "s.yaml").write_text("id: s\ntitle: S\nproducer: {name: P}\nlicence: CC0\nlocation: files\n"
                                     "dictionary: {path: schemas}\n")
    monkeypatch.setenv("HDH_SOURCES", str(tmp_path / "s.yaml"))
    monkeypatch.setenv("HDH_DATA_DIR", str(tmp_path / "out"))
    defs = build_definitions()
    result = dg.materialize([*defs.assets, *defs.asset_checks], resources=defs.resources,
                            selection=own("s"), raise_on_error=False)
    checks = {e.asset_key.path[-1]: e for e in result.get_asset_check_evaluations() if e.check_name == "loaded"}
    assert checks["good"].passed and not checks["bad"].passed
    assert "s/profile" not in materializations(result)  # blocked: the catalogue would be wrong


def test_missing_file_fails_only_its_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "files"
    data.mkdir()
    (data / "a.csv").write_text("x\n1\n")
    (tmp_path / "s.yaml").write_text(
        "id: s\ntitle: S\nproducer: {name: P}\nlicence: CC0\nlocation: files\n"
        "tables: {b: {}}\n"  # declared, but its file is absent
    )
    monkeypatch.setenv("HDH_SOURCES", str(tmp_path / "s.yaml"))
    monkeypatch.setenv("HDH_DATA_DIR", str(tmp_path / "out"))
    defs = build_definitions()
    selection = own("s")
    result = dg.materialize(list(defs.assets), resources=defs.resources, selection=selection, raise_on_error=False)
    assert "s/a" in materializations(result) and "s/b" not in materializations(result)
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "s_tables"  # every table of a source is loaded by one step
    assert "b.csv not found" in failure.event_specific_data.error.message


def test_one_table_without_its_check(defs: dg.Definitions) -> None:
    """The tables of a source are one step that any subset of tables and checks can be selected from."""
    result = dg.materialize(list(defs.assets), resources=defs.resources,
                            selection=dg.AssetSelection.assets(["demo", "KI_CCI_R"]).without_checks())
    assert result.success and set(materializations(result)) == {"demo/KI_CCI_R"}
    assert not result.get_asset_check_evaluations()


def test_quality_helpers_start_when_the_loading_does(defs: dg.Definitions, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that checks a source's quality starts its helper processes with the source's first loading step (they
    import Great Expectations meanwhile) and its quality step validates in them; a run that only loads starts none."""
    from hdh_pipeline.quality import parallel

    started, validated = [], []
    warm_up, validate = parallel.warm_up, parallel.validate
    monkeypatch.setattr(parallel, "warm_up", lambda count: started.append(parallel.warm()) or warm_up(count))
    monkeypatch.setattr(parallel, "validate", lambda *args: validated.append(parallel.warm()) or validate(*args))
    assert dg.materialize(list(defs.assets), resources=defs.resources,
                          selection=dg.AssetSelection.assets(["demo", "KI_CCI_R"])).success
    assert started == [] and parallel.warm() == 0
    result = dg.materialize([*defs.assets, *defs.asset_checks], resources=defs.resources,
                            selection=own("demo"))
    assert result.success and started[0] == 0 and validated == [1] and parallel.warm() == 0  # one (4 tables), taken


def test_quality_without_front_end_files(defs: dg.Definitions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An install without the Data Docs' front-end files (no npm) still computes every quality indicator: Data Docs
    are left out, with one warning."""
    from hdh_pipeline.quality import data_docs

    monkeypatch.setattr(data_docs, "VENDOR", tmp_path / "no-vendor")
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize([*defs.assets, *defs.asset_checks], resources=defs.resources, instance=instance,
                            selection=own("demo"))
    assert result.success
    quality = materializations(result)["demo/quality"]
    assert quality["dagster/row_count"].value > 0 and quality["checks_in_error"].value == 0
    assert "data_docs" not in quality and not (tmp_path / "out" / "quality" / "demo" / "data_docs").exists()
    warnings = [r.user_message for r in instance.all_logs(result.run_id)
                if r.level == logging.WARNING and not r.is_dagster_event]
    assert sum("Data Docs of demo not written" in w for w in warnings) == 1
