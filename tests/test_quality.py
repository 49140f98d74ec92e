"""Quality checks: exact failing counts on generated data, status logic, hand edits, broken suites."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
from hdh_pipeline.engines.duckdb.load import load_source_tables
from hdh_pipeline.generator.defects import LINE_KINDS, SLOTS
from hdh_pipeline.generator.generate import Settings, generate
from hdh_pipeline.quality import parallel
from hdh_pipeline.quality.data_docs import EXTERNAL_ASSET
from hdh_pipeline.quality.parallel import LONG, PER_TABLE, START, WIDE, split, worker_count
from hdh_pipeline.quality.source import validate_source, write_suites
from hdh_pipeline.quality.suites import merge, write_suite
from hdh_pipeline.quality.table_checks import code_list_counts, code_list_query, compile_check, counting_query
from hdh_pipeline.quality.validate import HISTORY, RESULTS
from hdh_pipeline.sources.loader import load_source
from hdh_pipeline.vocabulary import check_status
from tests.browser import needs_chromium, offline_page
from tests.conftest import declared_reference

# Which checks find each injected defect kind (by check id, `{column}` filled in).
FOUND_BY = {
    "missing": ["not_null:{column}"],
    "not_in_nomenclature": ["nomenclature:{column}"],
    "duplicate_key": ["primary_key:{key}"],
    "orphan_key": ["foreign_key:{column}"],
    "age_over_120": ["age_at_most_120"],
    "birth_after_reference": ["birth_not_after_reference"],
    "death_before_birth": ["death_not_before_birth"],
    "end_before_start": ["end_not_before_start"],
    "discharge_before_admission": ["end_not_before_start"],
    "after_reference_date": ["no_event_after_reference:{column}"],
    "negative_amount": ["range:{column}"],
}
ALSO = {("T_MCOaaB", "AGE_ANN", "age_over_120"): ["range:AGE_ANN"]}  # its dictionary says 0..120 too
KEYS = {"IR_BEN_R": "BEN_NIR_PSA+BEN_RNG_GEM", "T_MCOaaB": "ETA_NUM+RSA_NUM"}


def ingest(folder: Path, **settings) -> tuple[dict, object]:
    truth = generate(Settings(out=folder / "g", **settings), folder / "g" / "source.yaml")
    source = load_source(folder / "g" / "source.yaml")
    with duckdb.connect(str(folder / "w.duckdb")) as conn:
        load_source_tables(conn, source, folder / "staging")
    return truth, source


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict]:
    folder = tmp_path_factory.mktemp("quality")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HDH_EXPECTATIONS_DIR", str(folder / "expectations"))  # no suite files: generated
        truth, source = ingest(folder, beneficiaries=3000, chunk_size=1000, defect_rate=0.01)
        results = validate_source(folder / "w.duckdb", source, declared_reference(source))
    return truth, {(r["table_name"], r["check_id"]): r for r in results}


def test_every_injected_defect_is_found_exactly(checked) -> None:
    truth, results = checked
    expected: dict[tuple, int] = {}
    for slot in SLOTS:
        if slot.kind in LINE_KINDS:
            continue  # these lines never reach the warehouse: ingestion rejects them
        count = truth["tables"][slot.table]["defects"][slot.column][slot.kind]
        assert count > 0
        for pattern in FOUND_BY[slot.kind] + ALSO.get((slot.table, slot.column, slot.kind), []):
            check = pattern.format(column=slot.column, key=KEYS.get(slot.table))
            expected[(slot.table, check)] = expected.get((slot.table, check), 0) + count
    for key, count in expected.items():
        assert results[key]["failing_rows"] == count, key
    for key, result in results.items():  # and nothing where nothing was injected
        assert result["status"] != "error", (key, result["reason"])
        if key not in expected:
            assert result["failing_rows"] == 0, (key, result["failing_rows"])


def test_thresholds_decide_the_status(checked) -> None:
    _, results = checked
    assert results[("IR_BEN_R", "nomenclature:BEN_SEX_COD")]["status"] == "failed"  # 0 %: any failure fails
    death = results[("IR_BEN_R", "death_not_before_birth")]
    assert (death["threshold_pct"], death["failing_pct"], death["status"]) == (1.0, 1.0, "passed")  # 1 % is within 1 %
    age = results[("IR_BEN_R", "age_at_most_120")]  # 30 of the 2,970 known birth years: just over 1 %
    assert age["failing_pct"] > 1.0 and age["status"] == "failed"
    assert results[("IR_BEN_R", "not_null:BEN_SEX_COD")]["status"] == "passed"  # completeness: 5 % by default


def test_checks_counted_together_agree_with_great_expectations_one_by_one(tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The simple expectations of a table run in one query (table_checks.py); the same suites run as plain
    Great Expectations expectations give the same evaluated and failing rows, and the same verdicts."""
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    _, source = ingest(tmp_path, beneficiaries=400, defect_rate=0.03)
    def counts(together: bool) -> dict:
        return {(r["table_name"], r["check_id"]): (r["evaluated_rows"], r["failing_rows"], r["status"])
                for r in validate_source(tmp_path / "w.duckdb", source, declared_reference(source), together=together)}
    together, alone = counts(True), counts(False)
    assert together == alone
    assert sum(failing > 0 for _, failing, _ in together.values()) >= 10  # defects were there to be found
    assert {status for *_, status in together.values()} == {"passed", "failed"}


@pytest.mark.parametrize(
    ("evaluated", "failing", "threshold", "status"),
    [(100, 0, 0.0, "passed"), (100, 1, 0.0, "failed"), (100, 1, 1.0, "passed"), (1000, 11, 1.0, "failed"),
     (0, 0, 0.0, "not applicable"), (None, None, 0.0, "error")],
)
def test_check_status(evaluated, failing, threshold, status) -> None:
    assert check_status(evaluated, failing, threshold)[0] == status


def test_empty_table_is_not_applicable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    truth, source = ingest(tmp_path, beneficiaries=300, defect_rate=0.0)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("DELETE FROM synthetic.KI_CCI_R")
    results = [r for r in validate_source(tmp_path / "w.duckdb", source, declared_reference(source)) if r["table_name"] == "KI_CCI_R"]
    assert results and {r["status"] for r in results} == {"not applicable"}


def test_regeneration_keeps_hand_edits(tmp_path: Path) -> None:
    generated = [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": c},
                  "meta": {"check": f"not_null:{c}", "category": "completeness", "generated": True}} for c in "ab"]
    path = tmp_path / "s" / "t.json"
    write_suite(path, "s.t", generated)
    suite = json.loads(path.read_text())
    suite["expectations"][0]["meta"] |= {"generated": False, "threshold_pct": 50}  # edited, kept
    suite["expectations"].append({"type": "expect_column_values_to_be_unique", "kwargs": {"column": "a"},
                                  "meta": {"check": "mine", "category": "conformance"}})  # added, kept
    path.write_text(json.dumps(suite))
    regenerated = [dict(e, kwargs=dict(e["kwargs"], mostly=0.9)) for e in generated]
    write_suite(path, "s.t", regenerated)
    after = {e["meta"]["check"]: e for e in json.loads(path.read_text())["expectations"]}
    assert set(after) == {"not_null:a", "not_null:b", "mine"}
    assert after["not_null:a"]["meta"]["threshold_pct"] == 50 and "mostly" not in after["not_null:a"]["kwargs"]
    assert after["not_null:b"]["kwargs"]["mostly"] == 0.9
    assert merge([], generated) == generated


@pytest.mark.parametrize("workers", [1, 3])
def test_broken_expectations_error_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int) -> None:
    """The same in helper processes (workers=3)."""
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    monkeypatch.setenv("HDH_QUALITY_WORKERS", str(workers))
    _, source = ingest(tmp_path, beneficiaries=300, defect_rate=0.0)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        [people, *_] = write_suites(DuckDBEngine.for_source(conn, source), source, declared_reference(source))  # ER_PRS_F first
    suite = json.loads(people.read_text())
    suite["expectations"] += [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "NO_SUCH_COLUMN"}, "meta": {"check": "ghost"}},
        {"type": "expect_the_moon", "kwargs": {}, "meta": {"check": "moon"}},
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "BEN_NIR_PSA", "min_value": 0},
         "meta": {"check": "mean_of_text"}},
        {"type": "expect_column_values_to_be_between", "kwargs": {"column": "BEN_NIR_PSA", "min_value": 0},
         "meta": {"check": "text_above_zero"}},  # counted with the others, its SQL fails: run alone again
    ]
    people.write_text(json.dumps(suite))
    (people.parent / "KI_CCI_R.json").write_text("{ not json")
    docs, helped = tmp_path / "docs", []
    validate = parallel.validate
    monkeypatch.setattr(parallel, "validate", lambda task, jobs, count: helped.extend(jobs) or validate(task, jobs, count))
    results = {(r["table_name"], r["check_id"]): r for r in validate_source(tmp_path / "w.duckdb", source, declared_reference(source), docs)}
    assert ("ER_PRS_F" in [job[0] for job in helped]) == (workers > 1)
    suites = {page.name for page in (docs / "expectations").rglob("*.html")}
    assert "ER_PRS_F (one by one).html" in suites and "T_MCOaaB.html" in suites
    assert results[("ER_PRS_F", "ghost")]["reason"] == "column NO_SUCH_COLUMN is not in table ER_PRS_F"
    assert "not a valid expectation" in results[("ER_PRS_F", "moon")]["reason"]
    assert results[("ER_PRS_F", "mean_of_text")]["status"] == "error"
    assert results[("ER_PRS_F", "text_above_zero")]["status"] == "error"
    assert "cannot be read" in results[("KI_CCI_R", "suite")]["reason"]
    others = [r for (t, c), r in results.items()
              if t == "ER_PRS_F" and c not in ("ghost", "moon", "mean_of_text", "text_above_zero")]
    assert others and all(r["status"] == "passed" for r in others)
    assert any(t == "T_MCOaaB" and r["status"] == "passed" for (t, _), r in results.items())


def test_tables_shared_among_processes_give_the_same_results(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables validated by helper processes, started ahead (warm) or not: the rows of one process, and Data Docs
    pages for every table, with an index of them all (written by the first helper), offline."""
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    _, source = ingest(tmp_path, beneficiaries=300, defect_rate=0.02)
    runs = {}
    for workers, warm in ((1, 0), (3, 0), (2, 1)):
        monkeypatch.setenv("HDH_QUALITY_WORKERS", str(workers))
        parallel.warm_up(warm)
        assert parallel.warm() == warm
        docs = tmp_path / str(workers) / "docs"
        rows = validate_source(tmp_path / "w.duckdb", source, declared_reference(source), docs=docs)
        assert parallel.warm() == 0
        runs[workers] = [{k: v for k, v in r.items() if k != "run_at"} for r in rows]
        assert any(r["status"] == "failed" for r in rows)
        tables = {r["table_name"] for r in rows}
        assert len(tables) == 4
        assert len(list((docs / "validations").rglob("*.html"))) == len(tables)
        assert len(list((docs / "expectations").rglob("*.html"))) == len(tables)
        index = (docs / "index.html").read_text()
        assert all(f"{source.id}.{table}" in index for table in tables)
        assert not any(EXTERNAL_ASSET.search(page.read_text()) for page in docs.rglob("*.html"))
    assert runs[1] == runs[3] == runs[2]


def test_only_wide_sources_are_shared(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HDH_QUALITY_WORKERS", raising=False)
    assert worker_count(WIDE - 1, 1000, None) == 1
    assert worker_count(10 * WIDE, LONG, None) == 1  # DuckDB is what it waits for: it uses every core
    assert worker_count(10 * WIDE, 1000, "1GB") == 1  # a memory budget is not multiplied
    assert worker_count(10 * WIDE, 1000, None) == min(len(os.sched_getaffinity(0)), 10)
    weights = dict(zip("abcdefg", [4000, 50, 50, 50, 50, 3900, 300]))
    cold, warm = split(list(weights), list(weights.values()), [START, 0])
    assert sorted(cold + warm) == list(weights)
    assert not {"a", "f"} <= set(cold) and not {"a", "f"} <= set(warm)  # the two heaviest apart
    loads = [sum(weights[job] + PER_TABLE for job in group) for group in (cold, warm)]
    assert abs(loads[0] + START - loads[1]) <= max(weights.values()) + PER_TABLE  # the cold helper starts later


def verdicts(results: Path) -> dict[tuple[str, str], bool]:
    """(table, check) -> passed, as Great Expectations recorded it (what its Data Docs show)."""
    out = {}
    for file in results.rglob("*.json"):
        validation = json.loads(file.read_text())
        table = validation["suite_name"].split(".")[1].split(" ")[0]
        for result in validation["results"]:
            check = result["expectation_config"]["meta"]["check"]
            if "raised_exception': True" in str(result["exception_info"]):  # flat, or keyed by metric
                continue
            if check.startswith("hdh:table_checks"):
                for detail in result["result"]["details"]["checks"]:
                    out[(table, detail["check"])] = detail["passed"]
            else:
                out[(table, check)] = result["success"]
    return out


def test_data_docs_verdicts_are_the_catalogues(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SQL check failing on a few rows under its threshold passes in both, counted together or (when a
    broken check makes the table run again one by one) apart."""
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    _, source = ingest(tmp_path, beneficiaries=300, defect_rate=0.0)
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as conn:
        [people, *_] = write_suites(DuckDBEngine.for_source(conn, source), source, declared_reference(source))
    suite = json.loads(people.read_text())
    few = {"type": "unexpected_rows_expectation", "meta": {"check": "few_large", "threshold_pct": 90.0},
           "kwargs": {"unexpected_rows_query": "SELECT * FROM {batch} WHERE PRS_PAI_MNT > 40"}}
    suite["expectations"].append(few)
    people.write_text(json.dumps(suite))
    for broken in (False, True):
        if broken:
            suite["expectations"].append({"type": "expect_column_values_to_be_between", "meta": {"check": "bad"},
                                          "kwargs": {"column": "BEN_NIR_PSA", "min_value": 0}})
            people.write_text(json.dumps(suite))
        docs = tmp_path / f"docs-{broken}"
        rows = {(r["table_name"], r["check_id"]): r for r in validate_source(tmp_path / "w.duckdb", source, declared_reference(source), docs=docs)}
        assert 0 < rows[("ER_PRS_F", "few_large")]["failing_rows"] < rows[("ER_PRS_F", "few_large")]["evaluated_rows"]
        recorded = verdicts(tmp_path / f"{RESULTS}")
        judged = {key: row["status"] == "passed" for key, row in rows.items() if row["status"] in ("passed", "failed")}
        assert judged[("ER_PRS_F", "few_large")] is True and judged.keys() <= recorded.keys()
        assert {key: recorded[key] for key in judged} == judged
        shutil.rmtree(tmp_path / RESULTS)


@needs_chromium
def test_data_docs_work_offline_and_keep_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs: the index lists both validations of every table, in Chromium with the network off,
    its scripts (from local copies) run and its filter filters."""
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    _, source = ingest(tmp_path, beneficiaries=300, defect_rate=0.0)
    for _ in range(2):
        validate_source(tmp_path / "w.duckdb", source, declared_reference(source), docs=tmp_path / "docs")
    pages = list((tmp_path / "docs").rglob("*.html"))
    fetching = re.compile(r'<(script|link|img)\b[^>]*(src|href)="https?://', re.I)
    assert not [p for p in pages if fetching.search(p.read_text())]
    assert (tmp_path / "docs" / "static" / "vendor" / "jquery" / "LICENSE.txt").exists()
    with offline_page() as browser:
        browser.page.goto((tmp_path / "docs" / "index.html").as_uri())
        rows = browser.page.locator("table.ge-index-page-validation-results-table tbody tr")
        rows.first.wait_for()
        assert rows.count() == 8  # 4 tables x 2 runs
        browser.page.screenshot(path=str(tmp_path / "index.png"))
        browser.page.locator(".bootstrap-table .search input").first.press_sequentially("KI_CCI_R")
        browser.page.wait_for_function("document.querySelectorAll("
                                       "'table.ge-index-page-validation-results-table tbody tr').length == 2")
        assert browser.refused == [] and browser.errors == []
    for _ in range(HISTORY):
        validate_source(tmp_path / "w.duckdb", source, declared_reference(source), docs=tmp_path / "docs")
    assert len(list((tmp_path / RESULTS).rglob("*.json"))) == 4 * HISTORY  # the oldest runs go, results and pages
    assert len(list((tmp_path / "docs" / "validations").rglob("*.html"))) == 4 * HISTORY


def test_checks_counted_together_keep_braces_in_names() -> None:
    checks = [compile_check("expect_column_values_to_be_between", {"column": "a{1}", "min_value": 0}),
              compile_check("expect_column_values_to_not_be_null", {"column": "a{1}"})]
    with duckdb.connect() as conn:
        conn.execute('CREATE TABLE t AS SELECT * FROM (VALUES (1), (-1), (NULL)) v("a{1}")')
        assert conn.execute(counting_query(checks).format(batch="t")).fetchone() == (2, 1, 3, 1)


def test_code_list_checks_counted_in_one_query_as_one_by_one() -> None:
    """The unpivoted anti-join counts what each check's own query returns: text comparison, nulls not
    evaluated, a code list with a null code; an edited query is counted on its own."""
    named = [["a{1}", "codes", "l1", "code"], ["b", "codes", "l2", "k"], ["c", "codes", "l1", "code"]]
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA codes")
        conn.execute("CREATE TABLE codes.l1 AS SELECT * FROM (VALUES ('01'), ('02'), (NULL)) v(code)")
        conn.execute("CREATE TABLE codes.l2 AS SELECT * FROM (VALUES (1), (2)) v(k)")
        conn.execute('CREATE TABLE t AS SELECT * FROM (VALUES (\'01\', 1, 2), (\'1\', 3, NULL), (NULL, 2, 3), '
                     '(\'09\', NULL, 1)) v("a{1}", b, c)')
        checks = [compile_check("unexpected_rows_expectation", {"unexpected_rows_query": code_list_query(*n)},
                                {"code_list": n}) for n in named]
        assert all(check["code_list"] for check in checks)
        one_by_one = [conn.execute(f"SELECT count(*) FROM ({code_list_query(*n)})".format(batch="t")).fetchone()[0]
                      for n in named]
        assert one_by_one == [2, 1, 3]
        together = dict(conn.execute(code_list_counts(checks).format(batch="t")).fetchall())
        assert [together.get(i, 0) for i in range(3)] == one_by_one
    edited = compile_check("unexpected_rows_expectation",
                           {"unexpected_rows_query": code_list_query(*named[0]) + " AND true"}, {"code_list": named[0]})
    assert "code_list" not in edited and "hdh_unexpected" in edited["failing"]


def test_generated_key_checks_keep_braces_in_names(write_source, load, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """GX formats a query with str.format: names with braces must reach DuckDB as they are."""
    monkeypatch.setenv("HDH_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    schemas = {"p": [{"name": "id{1}", "type": "integer"}], "c": [{"name": "p{ref}", "type": "integer"}]}
    source = write_source({"p.csv": "id{1}\n1\n1\n2\n", "c.csv": "p{ref}\n1\n3\n3\n"}, schemas=schemas)
    for table, key in (("p", {"primaryKey": ["id{1}"]}),
                       ("c", {"foreignKeys": [{"fields": ["p{ref}"], "reference": {"resource": "p", "fields": ["id{1}"]}}]})):
        path = tmp_path / "schemas" / f"{table}.json"
        path.write_text(json.dumps(json.loads(path.read_text()) | key))
    source = load_source(source.file)
    for table in ("p", "c"):
        load(source, table)
    results = {r["check_id"]: r for r in validate_source(tmp_path / "warehouse.duckdb", source, declared_reference(source))}
    assert (results["primary_key:id{1}"]["status"], round(results["primary_key:id{1}"]["failing_pct"], 2)) == ("failed", 33.33)
    assert (results["foreign_key:p{ref}"]["status"], round(results["foreign_key:p{ref}"]["failing_pct"], 2)) == ("failed", 66.67)
