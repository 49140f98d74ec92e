"""Acceptance on data nobody here wrote: the synthetic SNDS and the OMOP Synthea database.

Every table materialises, and its row count plus its rejected lines equals the records
of its file, counted independently with Python's csv module.
"""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from hdh_pipeline.definitions import build_definitions
from hdh_pipeline.defs.keys import DATABASE_LAYER
from hdh_pipeline.vocabulary import DEFAULT_K
from tests import attacker
from tests.conftest import EXAMPLES, SHARED_DATA, needs_shared
from tests.test_dico_snds import APP_COLUMNS, broken_links, check_export, read_app_data


def materialise(example: str, group: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> duckdb.DuckDBPyConnection:
    monkeypatch.setenv("HDH_SOURCES", str(EXAMPLES / example))
    monkeypatch.setenv("HDH_SHARED_DATA", str(SHARED_DATA))
    monkeypatch.setenv("HDH_DATA_DIR", str(tmp_path))
    defs = build_definitions()
    result = dg.materialize([*defs.assets, *defs.asset_checks], resources=defs.resources,
                            selection=dg.AssetSelection.key_prefixes([group], ["catalogue"]) | dg.AssetSelection.tag(
                                *DATABASE_LAYER), raise_on_error=False)
    failures = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures == []
    return duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)


def published(tmp_path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(tmp_path / "catalogue" / "current" / "catalogue.duckdb"), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def records(text: str, delimiter: str = ",") -> int:
    return sum(1 for _ in csv.reader(io.StringIO(text), delimiter=delimiter)) - 1


def loaded(conn: duckdb.DuckDBPyConnection, schema: str) -> dict[str, int]:
    """Rows plus rejected lines, per table."""
    counts = {}
    for (table,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ? "
                                 "AND table_name NOT IN ('_rejects', '_missing')", [schema]).fetchall():
        rows = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        rejected = conn.execute(f'SELECT count(DISTINCT (file, line)) FROM "{schema}"._rejects '
                                "WHERE table_name = ?", [table]).fetchone()[0]
        counts[table] = rows + rejected
    return counts


@needs_shared("synthetic-snds")
def test_synthetic_snds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = materialise("synthetic-snds.yaml", "synthetic_snds", tmp_path, monkeypatch)
    root = SHARED_DATA / "synthetic-snds"
    expected = {p.stem: records(p.read_text(encoding="utf-8")) for p in (root / "schemas").rglob("*.csv")}
    assert len(expected) == 191
    assert loaded(conn, "synthetic_snds") == expected
    codes = {p.stem: records(p.read_text(encoding="utf-8", errors="replace"), ";")
             for p in (root / "nomenclatures").rglob("*.csv")}
    assert loaded(conn, "synthetic_snds_nomenclatures") == codes
    # Random strings in a column the dictionary declares integer are rejected, with their line
    # (the example declaration keeps three such columns as text instead: `types` in its tables).
    assert conn.execute("SELECT count(DISTINCT line) FROM synthetic_snds._rejects WHERE table_name = 'OPEN_MEDIC' "
                        "AND column_name = 'TOP_GEN' AND error_type = 'CAST' AND line BETWEEN 2 AND 11").fetchone()[0] == 8
    assert conn.execute("SELECT count(*) FROM synthetic_snds.T_MCOaaB").fetchone() == (10,)
    assert conn.execute("SELECT data_type FROM duckdb_columns() WHERE schema_name = 'synthetic_snds' "
                        "AND table_name = 'IR_BEN_R' AND column_name = 'BEN_NAI_ANN'").fetchone() == ("INTEGER",)
    # Catalogued: 10-row tables publish no row count (10 < k = 11).
    assert published(tmp_path, "SELECT count(*), count(row_count) FROM tables") == [(191, 0)]
    assert published(tmp_path, "SELECT count(*) FROM variables") == [(4853,)]
    assert published(tmp_path, "SELECT description FROM variables WHERE table_name = 'IR_BEN_R' "
                               "AND variable = 'BEN_SEX_COD'") == [("Code sexe du bénéficiaire",)]
    assert published(tmp_path, "SELECT table_count, individuals FROM databases") == [(191, None)]
    # Validated: the random birth years of the synthetic SNDS (up to 2028) are implausible.
    [(failing, status)] = conn.execute(
        "SELECT failing_rows, status FROM catalogue_internal.quality_results WHERE table_name = 'IR_BEN_R' "
        "AND check_id = 'birth_not_after_reference'").fetchall()
    assert failing > 0 and status == "failed"
    errors = conn.execute("SELECT count(*) FROM catalogue_internal.quality_results WHERE status = 'error'").fetchone()
    assert errors == (0,)
    assert attacker.leaks(attacker.read(tmp_path / "catalogue" / "current" / "catalogue.duckdb"),
                          {"synthetic_snds": DEFAULT_K}) == []
    site = tmp_path / "catalogue" / "current" / "site" / "synthetic_snds"
    assert len(list((site / "variables").rglob("*.html"))) == 4853 and len(list((site / "tables").glob("*.html"))) == 191
    assert (tmp_path / "catalogue" / "current" / "exports" / "synthetic_snds" / "datapackage.json").exists()
    # The interactive dictionary's own data (indsante/dico-snds, app/app_data/, commit 0b64c08 for snds_vars.csv and
    # snds_nomenclatures.csv, 14895ab for snds_tables.csv), for tables the synthetic SNDS's schemas describe alike:
    data = read_app_data(tmp_path / "catalogue" / "current" / "exports" / "synthetic_snds" / "dico-snds")
    tables = {t["Table"]: t for t in data["snds_tables.csv"]}
    assert [tables["IR_BEN_R"][c] for c in APP_COLUMNS["snds_tables.csv"]] == [  # snds_tables.csv line 2
        "BENEFICIAIRE", "IR_BEN_R", "Référentiel des bénéficiaires du SNIIRAM-SNDS", "", "", ""]
    assert [tables["KI_CCI_R"][c] for c in APP_COLUMNS["snds_tables.csv"]] == [  # snds_tables.csv line 7
        "Causes de décès", "KI_CCI_R", "Table des circonstances et de la cause initiale de décès", "2013", "", ""]
    variables = {(v["table"], v["var"]): [v[c] for c in APP_COLUMNS["snds_vars.csv"]] for v in data["snds_vars.csv"]}
    assert variables[("NS_PRS_F", "PRS_NAT_REF")] == [  # snds_vars.csv, NS_PRS_F rows
        "NS_PRS_F", "PRS_NAT_REF", "number (4)", "Code de la Prestations de référence", "IR_NAT_V", "", "", ""]
    assert variables[("NS_PRS_F", "PRS_PAI_MNT")] == [
        "NS_PRS_F", "PRS_PAI_MNT", "number (11,2)", "Montant global de la dépense", "-", "", "", ""]
    assert variables[("NS_PRS_F", "EXE_SOI_DTD")] == [
        "NS_PRS_F", "EXE_SOI_DTD", "date (8)", "Date de début d'exécution des soins", "IR_DTE_V", "", "", ""]
    titles = {n["nomenclature"]: n["titre"] for n in data["snds_nomenclatures.csv"]}
    assert titles["IR_SEX_V"] == "Sexe"  # snds_nomenclatures.csv: IR_SEX_V,Sexe,...
    exports = tmp_path / "catalogue" / "current" / "exports" / "synthetic_snds"
    assert "0 failed" in check_export(exports / "dico-snds")  # the app's own tests and checks, in R
    assert broken_links(exports / "documentation") == []


@needs_shared("omop-synthea27nj")
def test_omop_synthea(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = materialise("omop-synthea27nj.yaml", "omop_synthea27nj", tmp_path, monkeypatch)
    with zipfile.ZipFile(SHARED_DATA / "omop-synthea27nj" / "Synthea27Nj_5.4.zip") as archive:
        expected = {Path(m).stem: records(archive.read(m).decode()) for m in archive.namelist()
                    if m.endswith(".csv") and not m.startswith("__MACOSX")}
    assert len(expected) == 39
    assert loaded(conn, "omop_synthea27nj") == expected
    assert conn.execute("SELECT count(*) FROM omop_synthea27nj.PERSON").fetchone() == (28,)
    assert conn.execute("SELECT count(*) FROM omop_synthea27nj.CARE_SITE").fetchone() == (0,)  # header only
    [(individuals, men, women, table)] = published(
        tmp_path, "SELECT individuals, men, women, population_table FROM databases")
    assert (individuals, table) == (28, "PERSON")
    assert men is None or men + women == 28  # 28 people: either both shown (>= k each) or both hidden
    assert published(tmp_path, "SELECT count(*) FROM tables") == [(39,)]
    statuses = dict(conn.execute("SELECT status, count(*) FROM catalogue_internal.quality_results "
                                 "GROUP BY ALL").fetchall())
    assert statuses.get("error", 0) == 0 and statuses["passed"] > 100
    assert attacker.leaks(attacker.read(tmp_path / "catalogue" / "current" / "catalogue.duckdb"),
                          {"omop_synthea27nj": 11}) == []
    person = (tmp_path / "catalogue" / "current" / "site" / "omop_synthea27nj" / "tables" / "PERSON.html").read_text()
    assert "year_of_birth" in person
    # Documented by the CDM 5.4 specification: descriptions, keys, concept ids as codes named by its CONCEPT table
    assert published(tmp_path, "SELECT primary_key, starts_with(description, 'This table serves as the central') "
                               "FROM tables WHERE table_name = 'PERSON'") == [("person_id", True)]
    assert published(tmp_path, "SELECT match_pct FROM relations WHERE table_name = 'VISIT_OCCURRENCE' AND columns = "
                               "'person_id' AND referenced_table = 'PERSON'") == [(100.0,)]
    assert published(tmp_path, "SELECT observed_type, mean FROM variables WHERE table_name = 'MEASUREMENT' AND "
                               "variable = 'measurement_concept_id'") == [("VARCHAR", None)]
    assert ("38003564", "Not Hispanic or Latino") in published(
        tmp_path, "SELECT value, label FROM value_frequencies WHERE table_name = 'PERSON' AND "
                  "variable = 'ethnicity_concept_id'")
    exports = tmp_path / "catalogue" / "current" / "exports" / "omop_synthea27nj"
    assert "0 failed" in check_export(exports / "dico-snds")
    assert broken_links(exports / "documentation") == []
