"""The synthetic source generator: determinism, clean keys, exact defects, end-to-end ingestion."""
from __future__ import annotations

import filecmp
import json
from pathlib import Path

import duckdb
import pytest

from hdh_pipeline.engines.duckdb.load import load_source_tables
from hdh_pipeline.engines.duckdb.warehouse import write_connection
from hdh_pipeline.generator import cli
from hdh_pipeline.generator.defects import SLOTS
from hdh_pipeline.generator.generate import Settings, generate
from hdh_pipeline.sources.loader import load_source
from tests.conftest import REPO_ROOT

SMALL = dict(beneficiaries=3000, chunk_size=1000)  # three chunks


def ingest(out: Path, warehouse: Path) -> duckdb.DuckDBPyConnection:
    """Load every table and code list of a generated source with the pipeline; return a connection."""
    with write_connection(warehouse) as conn:
        load_source_tables(conn, load_source(out / "source.yaml"), warehouse.parent / "staging")
    return duckdb.connect(str(warehouse), read_only=True)


def all_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    generate(Settings(out=tmp_path / "a", **SMALL), tmp_path / "a" / "source.yaml")
    generate(Settings(out=tmp_path / "b", **SMALL), tmp_path / "b" / "source.yaml")
    generate(Settings(out=tmp_path / "c", seed=7, **SMALL))
    files = all_files(tmp_path / "a")
    assert files == all_files(tmp_path / "b")
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "a", tmp_path / "b", files, shallow=False)
    assert mismatch == errors == []
    assert (tmp_path / "a" / "data" / "ER_PRS_F.csv").read_bytes() != (tmp_path / "c" / "data" / "ER_PRS_F.csv").read_bytes()


def test_committed_demo_is_what_the_generator_makes(tmp_path: Path) -> None:
    """The Quickstart's demo source is this generator's output, not a hand-made file."""
    generate(Settings(out=tmp_path / "demo"), tmp_path / "sources" / "demo.yaml", "demo")
    demo = REPO_ROOT / "assets" / "demo"
    files = all_files(tmp_path / "demo")
    assert files == all_files(demo)
    _, mismatch, errors = filecmp.cmpfiles(tmp_path / "demo", demo, files, shallow=False)
    assert mismatch == errors == []
    assert (tmp_path / "sources" / "demo.yaml").read_text() == (REPO_ROOT / "assets" / "sources" / "demo.yaml").read_text()


def test_clean_source_is_consistent(tmp_path: Path) -> None:
    truth = generate(Settings(out=tmp_path / "g", defect_rate=0.0, **SMALL), tmp_path / "g" / "source.yaml")
    conn = ingest(tmp_path / "g", tmp_path / "w.duckdb")
    one = lambda sql: conn.execute(sql).fetchone()[0]
    assert one("SELECT count(*) FROM synthetic._rejects") == 0
    for table, facts in truth["tables"].items():
        assert one(f"SELECT count(*) FROM synthetic.{table}") == facts["rows"]
        assert all(count == 0 for kinds in facts["defects"].values() for count in kinds.values())
    people = "SELECT BEN_NIR_PSA FROM synthetic.IR_BEN_R"
    assert one(f"SELECT count(*) FROM synthetic.ER_PRS_F WHERE BEN_NIR_PSA NOT IN ({people})") == 0
    assert one(f"SELECT count(*) FROM synthetic.T_MCOaaB WHERE NIR_ANO_17 NOT IN ({people})") == 0
    assert one(f"SELECT count(*) FROM synthetic.KI_CCI_R WHERE BEN_IDT_ANO NOT IN ({people})") == 0
    assert one("SELECT count(*) - count(DISTINCT BEN_NIR_PSA) FROM synthetic.IR_BEN_R") == 0
    assert one("SELECT count(*) - count(DISTINCT (ETA_NUM, RSA_NUM)) FROM synthetic.T_MCOaaB") == 0
    for table, column, code_list, code in [
        ("IR_BEN_R", "BEN_SEX_COD", "IR_SEX_V", "SEX_COD"), ("IR_BEN_R", "BEN_RES_DPT", "IR_DPT_V", "GEO_DPT_COD"),
        ("ER_PRS_F", "PRS_NAT_REF", "IR_NAT_V", "PRS_NAT"), ("ER_PRS_F", "PSE_SPE_COD", "IR_SPE_V", "SPE_COD"),
        ("T_MCOaaB", "DGN_PAL", "IR_CIM_V", "CIM_COD"), ("KI_CCI_R", "DCD_CIM_COD", "IR_CIM_V", "CIM_COD"),
    ]:
        assert one(f"SELECT count(*) FROM synthetic.{table} WHERE {column} NOT IN "
                   f"(SELECT {code} FROM synthetic_nomenclatures.{code_list})") == 0, column
    # Plausible everywhere: deaths after births, stays and care that end after they start, nothing past 2024.
    assert one("SELECT count(*) FROM synthetic.IR_BEN_R WHERE year(BEN_DCD_DTE) < BEN_NAI_ANN "
               "OR BEN_NAI_ANN > 2024 OR 2024 - BEN_NAI_ANN > 120") == 0
    assert one("SELECT count(*) FROM synthetic.T_MCOaaB WHERE EXE_SOI_DTF < EXE_SOI_DTD "
               "OR SEJ_NBJ <> EXE_SOI_DTF - EXE_SOI_DTD OR AGE_ANN NOT BETWEEN 0 AND 120") == 0
    assert one("SELECT count(*) FROM synthetic.ER_PRS_F WHERE EXE_SOI_DTF < EXE_SOI_DTD "
               "OR EXE_SOI_DTF > DATE '2024-12-31' OR PRS_PAI_MNT < 0 OR BSE_REM_MNT > PRS_PAI_MNT") == 0
    assert one("SELECT count(*) FROM synthetic.KI_CCI_R k JOIN synthetic.IR_BEN_R b "
               "ON k.BEN_IDT_ANO = b.BEN_NIR_PSA WHERE k.BEN_DCD_DTE <> b.BEN_DCD_DTE") == 0


# How to find each defect kind in the loaded tables, independently of the generator's bookkeeping.
FOUND = {
    "missing": "SELECT count(*) FROM synthetic.{table} WHERE {column} IS NULL",
    "not_in_nomenclature": "SELECT count(*) FROM synthetic.{table} WHERE {column} = {code}",
    "age_over_120": "SELECT count(*) FROM synthetic.{table} WHERE "
                    "(CASE WHEN '{column}' = 'BEN_NAI_ANN' THEN 2024 - {column} ELSE {column} END) > 120",
    "birth_after_reference": "SELECT count(*) FROM synthetic.{table} WHERE {column} > 2024",
    "death_before_birth": "SELECT count(*) FROM synthetic.{table} WHERE year({column}) < BEN_NAI_ANN",
    "duplicate_key": "SELECT count(*) - count(DISTINCT ({key})) FROM synthetic.{table}",
    "orphan_key": "SELECT count(*) FROM synthetic.{table} WHERE {column} NOT IN "
                  "(SELECT BEN_NIR_PSA FROM synthetic.IR_BEN_R)",
    "after_reference_date": "SELECT count(*) FROM synthetic.{table} WHERE {column} > DATE '2024-12-31'",
    "end_before_start": "SELECT count(*) FROM synthetic.{table} WHERE EXE_SOI_DTF < EXE_SOI_DTD",
    "discharge_before_admission": "SELECT count(*) FROM synthetic.{table} WHERE EXE_SOI_DTF < EXE_SOI_DTD",
    "negative_amount": "SELECT count(*) FROM synthetic.{table} WHERE {column} < 0",
    "wrong_field_count": "SELECT count(DISTINCT line) FROM synthetic._rejects WHERE table_name = '{table}' "
                         "AND error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')",
    "unparseable_number": "SELECT count(DISTINCT line) FROM synthetic._rejects WHERE table_name = '{table}' "
                          "AND error_type = 'CAST' AND column_name = '{column}'",
    "latin1": "SELECT count(DISTINCT line) FROM synthetic._rejects WHERE table_name = '{table}' "
              "AND error_type = 'INVALID ENCODING'",
}
KEYS = {"IR_BEN_R": "BEN_NIR_PSA, BEN_RNG_GEM", "T_MCOaaB": "ETA_NUM, RSA_NUM"}


@pytest.fixture(scope="module")
def defective(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, duckdb.DuckDBPyConnection]:
    folder = tmp_path_factory.mktemp("defective")
    truth = generate(Settings(out=folder / "g", defect_rate=0.01, **SMALL), folder / "g" / "source.yaml")
    return truth, ingest(folder / "g", folder / "w.duckdb")


@pytest.mark.parametrize("slot", SLOTS, ids=lambda s: f"{s.table}.{s.column}.{s.kind}")
def test_each_defect_is_injected_at_its_count(defective, slot) -> None:
    truth, conn = defective
    facts = truth["tables"][slot.table]
    recorded = facts["defects"][slot.column][slot.kind]
    assert recorded == int(0.01 * facts["rows"] + 0.5)  # the requested rate, exactly
    code = f"'{slot.invalid_code}'" if isinstance(slot.invalid_code, str) else slot.invalid_code
    sql = FOUND[slot.kind].format(table=slot.table, column=slot.column, code=code, key=KEYS.get(slot.table))
    assert conn.execute(sql).fetchone()[0] == recorded


def test_ingestion_matches_the_ground_truth(defective) -> None:
    truth, conn = defective
    for table, facts in truth["tables"].items():
        loaded = conn.execute(f"SELECT count(*) FROM synthetic.{table}").fetchone()[0]
        rejected = conn.execute("SELECT count(DISTINCT line) FROM synthetic._rejects WHERE table_name = ?",
                                [table]).fetchone()[0]
        assert (loaded, rejected) == (facts["loaded_rows"], facts["rejected_lines"]), table
        for column, nulls in facts["nulls"].items():
            assert conn.execute(f"SELECT count(*) - count({column}) FROM synthetic.{table}").fetchone()[0] == nulls


def test_parquet_output(tmp_path: Path) -> None:
    truth = generate(Settings(out=tmp_path / "p", file_format="parquet", **SMALL), tmp_path / "p" / "source.yaml")
    conn = ingest(tmp_path / "p", tmp_path / "w.duckdb")
    assert truth["tables"]["ER_PRS_F"]["rejected_lines"] == 0
    assert conn.execute("SELECT count(*) FROM synthetic.ER_PRS_F").fetchone()[0] == truth["tables"]["ER_PRS_F"]["rows"]


def test_rates_file_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text("IR_BEN_R: {BEN_SEX_COD: {missing: 0.1}}\n")
    assert cli.main(["--out", str(tmp_path / "g"), "--beneficiaries", "500", "--no-defects", "--rates", str(rates)]) == 0
    truth = json.loads((tmp_path / "g" / "ground_truth.json").read_text())
    assert truth["tables"]["IR_BEN_R"]["defects"]["BEN_SEX_COD"] == {"missing": 50, "not_in_nomenclature": 0}
    rates.write_text("IR_BEN_R: {BEN_SEX_COD: {typo: 0.1}}\n")
    assert cli.main(["--out", str(tmp_path / "h"), "--rates", str(rates)]) == 2
    assert "IR_BEN_R.BEN_SEX_COD has no defect 'typo'" in capsys.readouterr().err


def test_help() -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
