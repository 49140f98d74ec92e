"""The catalogue against the generator's ground truth, and its atomic publication."""
from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock

from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.catalogue.publish import KEEP, current, publish, read_published
from hdh_pipeline.engines.duckdb.load import load_source_tables
from hdh_pipeline.generator.generate import Settings, generate
from hdh_pipeline.profile.store import load_profiles, save_rows
from hdh_pipeline.schema import TABLES
from hdh_pipeline.sources.loader import load_source
from hdh_pipeline.vocabulary import AGE_MAX, AGE_MIN, DEFAULT_K
from tests.attacker import leaks
from tests.conftest import profile

K = DEFAULT_K


@pytest.fixture(scope="module")
def catalogued(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, dict, dict]:
    """(ground truth, exact rows, public rows) of a generated source with 1 % of every defect."""
    folder = tmp_path_factory.mktemp("catalogue")
    truth = generate(Settings(out=folder / "g", beneficiaries=4000, chunk_size=2000, defect_rate=0.01),
                     folder / "g" / "source.yaml")
    source = load_source(folder / "g" / "source.yaml")
    with duckdb.connect(str(folder / "w.duckdb")) as conn:
        load_source_tables(conn, source, folder / "staging")
        save_rows(conn, source.id, profile(conn, source, K).rows)
        exact = load_profiles(conn, [source.id])
    return truth, exact, public_rows(exact, {source.id: K})


def test_nothing_is_recovered_by_subtraction(catalogued) -> None:
    _, _, public = catalogued
    [database] = public["databases"]
    assert leaks(public, {database["source_id"]: K}) == []


def by(rows: list[dict], *keys: str) -> dict:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r for r in rows}


def test_row_counts_and_missing_values_are_exact(catalogued) -> None:
    truth, exact, _ = catalogued
    tables = by(exact["tables"], "table_name")
    variables = by(exact["variables"], "table_name", "variable")
    for table, facts in truth["tables"].items():
        assert tables[table]["row_count"] == facts["loaded_rows"]
        assert tables[table]["rejected_rows"] == facts["rejected_lines"]
        for column, nulls in facts["nulls"].items():
            assert variables[(table, column)]["missing_count"] == nulls, (table, column)


def test_keys_and_codes_match_the_injected_defects(catalogued) -> None:
    truth, exact, _ = catalogued
    relations = by(exact["relations"], "table_name", "columns")
    tables = by(exact["tables"], "table_name")
    for table, column in [("ER_PRS_F", "BEN_NIR_PSA"), ("T_MCOaaB", "NIR_ANO_17"), ("KI_CCI_R", "BEN_IDT_ANO")]:
        relation = relations[(table, column)]
        orphans = truth["tables"][table]["defects"][column]["orphan_key"]
        assert relation["kind"] == "table"
        assert relation["checked_rows"] - relation["matched_rows"] == orphans
        assert relation["match_pct"] == round(100 * (1 - orphans / relation["checked_rows"]), 2)
    for table, column in [("IR_BEN_R", "BEN_SEX_COD"), ("IR_BEN_R", "BEN_RES_DPT"), ("ER_PRS_F", "PRS_NAT_REF"),
                          ("ER_PRS_F", "PSE_SPE_COD"), ("T_MCOaaB", "DGN_PAL"), ("KI_CCI_R", "DCD_CIM_COD")]:
        relation = relations[(table, column)]
        wrong = truth["tables"][table]["defects"][column]["not_in_nomenclature"]
        assert relation["kind"] == "nomenclature"
        assert relation["checked_rows"] - relation["matched_rows"] == wrong, (table, column)
    assert tables["IR_BEN_R"]["duplicate_key_rows"] == truth["tables"]["IR_BEN_R"]["defects"]["BEN_NIR_PSA"]["duplicate_key"]
    assert tables["T_MCOaaB"]["duplicate_key_rows"] == truth["tables"]["T_MCOaaB"]["defects"]["RSA_NUM"]["duplicate_key"]
    assert tables["T_MCOaaB"]["primary_key_unique"] is False and tables["KI_CCI_R"]["primary_key_unique"] is True
    variables = by(exact["variables"], "table_name", "variable")
    assert variables[("KI_CCI_R", "BEN_IDT_ANO")]["is_unique"] is True  # its one-column key: exactly unique
    assert variables[("T_MCOaaB", "RSA_NUM")]["is_unique"] is False


def test_database_level(catalogued) -> None:
    truth, exact, public = catalogued
    [database], [published] = exact["databases"], public["databases"]
    duplicates = truth["tables"]["IR_BEN_R"]["defects"]["BEN_NIR_PSA"]["duplicate_key"]
    assert database["individuals"] == 4000 - duplicates  # duplicated ids share one person
    assert database["table_count"] == 4 and database["variable_count"] == 33
    assert database["total_rows"] == sum(t["loaded_rows"] for t in truth["tables"].values())
    assert database["population_table"] == "IR_BEN_R"
    assert 0.45 < database["men"] / database["individuals"] < 0.52  # INSEE sex ratio
    assert 40 <= database["age_median"] <= 45
    # 1 % of birth years are 121-130 years back, 1 % after the reference date: counted apart, not in the ages
    assert database["age_low"] >= 0 and database["age_high"] <= AGE_MAX and database["implausible_ages"] > K
    tables = by(exact["tables"], "table_name")
    assert database["first_date"] == min(t["first_date"] for t in tables.values() if t["first_date"])
    starts = by(public["variables"], "table_name", "variable")[("ER_PRS_F", "EXE_SOI_DTD")]
    assert "2022-01-01" <= starts["min"] < "2022-02-01"  # care starts with the period
    assert published["individuals"] == database["individuals"] and published["disclosure_k"] == K


def test_public_variables(catalogued) -> None:
    truth, exact, public = catalogued
    exact_variables = by(exact["variables"], "table_name", "variable")
    variables = by(public["variables"], "table_name", "variable")
    pid = variables[("IR_BEN_R", "BEN_NIR_PSA")]
    assert pid["is_identifier"] and pid["min"] is None and pid["max"] is None and pid["count"] == 4000
    birth = variables[("IR_BEN_R", "BEN_NAI_ANN")]
    raw = exact_variables[("IR_BEN_R", "BEN_NAI_ANN")]
    assert birth["is_quasi_identifier"] and birth["bounds_coarsened"]
    assert float(raw["min"]) < float(birth["min"]) and float(birth["max"]) <= float(raw["max"])
    assert birth["min"] == raw["k_smallest"] and birth["max"] == raw["k_largest"]
    amount = variables[("ER_PRS_F", "PRS_PAI_MNT")]
    assert amount["mean"] == pytest.approx(exact_variables[("ER_PRS_F", "PRS_PAI_MNT")]["mean"])
    assert variables[("ER_PRS_F", "PRS_NAT_REF")]["nomenclature"] == "IR_NAT_V"
    assert 98 < variables[("ER_PRS_F", "PRS_NAT_REF")]["nomenclature_conformance_pct"] < 100
    sex = [r for r in public["value_frequencies"] if (r["table_name"], r["variable"]) == ("IR_BEN_R", "BEN_SEX_COD")]
    assert {r["label"] for r in sex} >= {"MASCULIN", "FEMININ", "missing"}
    invalid = by(sex, "value")["7"]  # 1 % of 4000: more than k, so listed, with no label
    assert invalid["frequency"] == truth["tables"]["IR_BEN_R"]["defects"]["BEN_SEX_COD"]["not_in_nomenclature"]
    assert invalid["label"] is None
    tables = by(public["tables"], "table_name")
    assert 90 < tables["ER_PRS_F"]["completeness_pct"] <= 100


def test_publication_is_atomic_for_readers(tmp_path: Path) -> None:
    """A reader looping during ten publications always sees one complete version."""
    root = tmp_path / "catalogue"
    errors: list[str] = []
    seen: set[str] = set()
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            version = current(root)
            if version is None:
                continue
            try:
                with duckdb.connect(str(version / "catalogue.duckdb"), read_only=True) as conn:
                    names = {r[0] for r in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
                    marker = conn.execute("SELECT title FROM databases").fetchone()[0]
                    count = conn.execute("SELECT count(*) FROM variables WHERE table_name = ?", [marker]).fetchone()[0]
                if names != set(TABLES) or count != int(marker[1:]):
                    errors.append(f"{version.name}: {names}, {marker}, {count}")
                seen.add(marker)
            except duckdb.Error as error:
                errors.append(str(error))

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(1, 11):
        marker = f"v{i}"
        publish({"databases": [{"source_id": "s", "title": marker}],
                 "variables": [{"source_id": "s", "table_name": marker, "variable": f"x{j}"} for j in range(i)]}, root)
    done.set()
    reader.join()
    assert errors == []
    assert len(seen) >= 2
    assert len(list((root / "versions").iterdir())) == KEEP
    assert read_published(root, "databases")[0]["title"] == "v10"


def test_readers_do_not_wait_for_the_warehouse_lock(tmp_path: Path) -> None:
    publish({"databases": [{"source_id": "s", "title": "t"}]}, tmp_path / "catalogue")
    with FileLock(str(tmp_path / "warehouse.duckdb.lock")):  # a refresh holds the warehouse
        assert read_published(tmp_path / "catalogue", "databases")[0]["title"] == "t"


def test_code_lists_are_published_in_full(catalogued) -> None:
    """Reference data, not personal data: every code of every code list, as in its file (the generator
    writes the demo's code lists)."""
    _, _, public = catalogued
    published = Counter(public["nomenclatures"]["nomenclature"].to_pylist())  # an Arrow table (catalogue/codes.py)
    files = Path(__file__).parent.parent / "assets" / "demo" / "nomenclatures"
    assert published == {p.stem: len(p.read_text().splitlines()) - 1 for p in files.glob("*.csv")}
    codes = {(r["code"], r["label"]) for r in public["nomenclatures"].to_pylist() if r["nomenclature"] == "IR_SEX_V"}
    assert {("1", "MASCULIN"), ("2", "FEMININ")} <= codes


def test_events_after_the_reference_date_are_counted_apart(catalogued) -> None:
    """The generator moves some care episodes past its reference date (2024-12-31): they are counted,
    per event column and in all, and left out of the time coverage."""
    truth, exact, public = catalogued
    variables = by(exact["variables"], "table_name", "variable")
    moved = truth["tables"]["ER_PRS_F"]["defects"]["EXE_SOI_DTD"]["after_reference_date"]
    assert moved > K and variables[("ER_PRS_F", "EXE_SOI_DTD")]["after_reference"] == moved
    [database] = exact["databases"]
    assert str(database["reference_date"]) == "2024-12-31"
    assert database["events_after_reference"] == sum(v["after_reference"] or 0 for v in exact["variables"])
    assert all(t["last_date"] is None or str(t["last_date"]) <= "2024-12-31" for t in exact["tables"])
    assert str(database["raw_last_date"]) > "2024-12-31" >= str(database["last_date"])
    assert by(public["variables"], "table_name", "variable")[("ER_PRS_F", "EXE_SOI_DTD")]["after_reference"] == moved


def test_column_dictionary_is_current() -> None:
    """docs/catalogue.md is generated from schema.py: regenerate it when a column changes."""
    from hdh_pipeline.schema import markdown
    from tests.conftest import REPO_ROOT

    assert (REPO_ROOT / "docs" / "catalogue.md").read_text() == markdown(), \
        "run: python -m hdh_pipeline.schema > docs/catalogue.md"


def test_population_counts_each_person_once_at_the_reference_date(write_source, load, tmp_path: Path) -> None:
    """Men + women + other = individuals (two codes: other); ages at the reference date; implausible apart."""
    lines, born = ["ID,SEX,BIRTH"], {}
    for i in range(1, 31):
        sex = "1" if i <= 12 or i in (28, 30) else "2" if i <= 24 or i == 29 else {25: "1", 26: "9", 27: ""}[i]
        born[i] = {28: 2030, 29: 1890, 30: 2000}.get(i, 1950 + i if i <= 12 else 1980 + i if i <= 24 else 1970)
        lines.append(f"{i},{sex},{born[i]}")
    lines.append("25,2,1970")  # person 25 recorded with both codes
    source = write_source({"p.csv": "\n".join(lines) + "\n"}, reference_date="2024-12-31",
                          tables={"p": {"roles": {"person_id": ["ID"], "sex": "SEX", "birth_year": "BIRTH"}}})
    load(source, "p")
    k = 3
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        rows = profile(conn, source, k).rows
    [database] = rows["databases"]
    ages = sorted(2024 - year for year in born.values() if AGE_MIN <= 2024 - year <= AGE_MAX)
    # the grid, by hand: person 25 (two codes) and 26, 27 are "other"; 28 (born 2030), 29 (134) implausible
    sexes = {i: "men" if i <= 12 or i == 28 or i == 30 else "women" if i <= 24 or i == 29 else "other"
             for i in born}
    expected = {}
    for i, year in born.items():
        age = 2024 - year
        band = "implausible" if not AGE_MIN <= age <= AGE_MAX else "100+" if age >= 100 else f"{age // 5 * 5}-{age // 5 * 5 + 4}"
        expected[(band, sexes[i])] = expected.get((band, sexes[i]), 0) + 1
    grid = {(r["band"], r["sex"]): r["individuals"] for r in rows["population"]}
    assert {key: n for key, n in grid.items() if n} == expected
    assert len(grid) == 23 * 3 and sum(n for (band, _), n in grid.items() if band == "implausible") == 2
    assert (database["individuals"], database["men"], database["women"], database["sex_other"]) == (30, 14, 13, 3)
    assert database["implausible_ages"] == 2 and str(database["reference_date"]) == "2024-12-31"
    assert (database["age_low"], database["age_high"]) == (ages[k - 1], ages[-k])


def test_tables_without_rows_are_named(write_source, load, tmp_path: Path) -> None:
    """A table with no row, and one the dictionary describes but no file holds, are listed with their status."""
    schemas = {"a": [{"name": "id", "type": "integer"}], "b": [{"name": "id", "type": "integer"}],
               "ghost": [{"name": "id", "type": "integer"}, {"name": "x", "type": "string"}]}
    source = write_source({"a.csv": "id\n1\n2\n", "b.csv": "id\n"}, schemas=schemas)
    assert [spec.name for spec in source.without_data] == ["ghost"]
    for table in ("a", "b"):
        load(source, table)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        rows = profile(conn, source, K).rows
    tables = by(rows["tables"], "table_name")
    assert {t: tables[t]["status"] for t in tables} == {"a": "loaded", "b": "empty", "ghost": "no data"}
    assert (tables["ghost"]["row_count"], tables["ghost"]["column_count"]) == (None, 2)
    assert rows["databases"][0]["table_count"] == 3 and rows["databases"][0]["total_rows"] == 2
    public = public_rows(rows | {"quality_results": []}, {source.id: K})
    assert by(public["tables"], "table_name")["ghost"]["status"] == "no data"
    assert leaks(public, {source.id: K}) == []


def test_foreign_key_to_a_table_not_loaded_is_named_so(write_source, load, tmp_path: Path) -> None:
    schemas = {"a": [{"name": "id", "type": "integer"}, {"name": "b_id", "type": "integer"}],
               "b": [{"name": "id", "type": "integer"}]}
    source = write_source({"a.csv": "id,b_id\n1,1\n"}, schemas=schemas)
    spec = json.loads((tmp_path / "schemas" / "a.json").read_text())
    spec["foreignKeys"] = [{"fields": ["b_id"], "reference": {"resource": "b", "fields": ["id"]}}]
    (tmp_path / "schemas" / "a.json").write_text(json.dumps(spec))
    source = load_source(source.file)
    load(source, "a")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        [relation] = profile(conn, source, K).rows["relations"]
    assert (relation["kind"], relation["status"]) == ("table", "referenced table not loaded")
