"""Sources as producers deliver them: SAS (with format catalogues), SAS transport, Stata and SPSS files. Real SAS
files against the values expected beside them, Stata and SPSS files written here, and the generated demo as SAS
transport files publishing what its CSV twin publishes."""
from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pyreadstat
import pytest
import yaml

from hdh_pipeline.engines.duckdb.load import load_source_tables, load_table
from hdh_pipeline.engines.plan import IngestionError
from hdh_pipeline.generator.defects import LINE_KINDS, SLOTS
from hdh_pipeline.generator.generate import Settings, generate
from hdh_pipeline.sources.loader import load_source
from tests.catalogues import declared, differences, published, run_cli
from tests.conftest import SHARED_DATA, needs_shared

SAS = SHARED_DATA / "sas-samples"
SAS_EPOCH = dt.date(1960, 1, 1)


def _source(folder: Path, **keys) -> Path:
    declaration = {"id": "s", "title": "S", "producer": {"name": "P"}, "licence": "x", "location": "."} | keys
    (folder / "s.yaml").write_text(yaml.safe_dump(declaration), encoding="utf-8")
    return folder / "s.yaml"


def _load(folder: Path) -> tuple[duckdb.DuckDBPyConnection, object]:
    source = load_source(folder / "s.yaml")
    conn = duckdb.connect()
    load_source_tables(conn, source, folder / "staging")
    return conn, source


@needs_shared("sas-samples")
def test_real_sas_files_load_as_their_expected_values(tmp_path: Path) -> None:
    """sample.sas7bdat, its binary-compressed copy and its transport file hold what sample_nodate_sas_stata.csv
    says (dates as days since 1960, datetimes and times as seconds), typed DATE, TIMESTAMP and TIME."""
    for name in ("sample.sas7bdat", "sample_bincompressed.sas7bdat", "sample.xpt"):
        shutil.copy(SAS / name, tmp_path)
    _source(tmp_path, format="sas7bdat", tables={"sample_xpt": {"files": "sample.xpt", "format": "xpt"}})
    conn, _ = _load(tmp_path)
    cut = tmp_path / "cut" / "sample.sas7bdat"
    cut.parent.mkdir()
    cut.write_bytes((SAS / "sample.sas7bdat").read_bytes()[:100_000])
    _source(cut.parent, format="sas7bdat")
    with pytest.raises(IngestionError, match=r"^table sample: .*cut/sample\.sas7bdat.*not a readable sas7bdat file"):
        load_source_tables(duckdb.connect(), load_source(cut.parent / "s.yaml"), tmp_path / "staging")
    with open(SAS / "sample_nodate_sas_stata.csv", encoding="utf-8-sig") as handle:
        expected = list(csv.DictReader(handle))

    def number(text: str) -> float | None:
        return None if text in ("", "nan", "NaN") else float(text)

    for table in ("sample", "sample_bincompressed", "sample_xpt"):
        types = dict(conn.execute(f"SELECT lower(column_name), data_type FROM duckdb_columns() WHERE schema_name = 's' "
                                  f"AND table_name = '{table}'").fetchall())
        assert (types["mydate"], types["dtime"], types["mytime"]) == ("DATE", "TIMESTAMP", "TIME"), table
        rows = conn.execute(f"SELECT * FROM s.{table}").fetchall()
        assert len(rows) == len(expected)
        for row, want in zip(rows, expected):
            mychar, mynum, mydate, dtime, mylabl, myord, mytime = row
            assert mychar == (want["mychar"] or None) and mynum == number(want["mynum"])
            assert (None if mydate is None else (mydate - SAS_EPOCH).days) == number(want["mydate"])
            seconds = None if dtime is None else (dtime - dt.datetime(1960, 1, 1)).total_seconds()
            assert seconds == number(want["dtime"])
            assert (None if mytime is None else mytime.hour * 3600 + mytime.minute * 60 + mytime.second) == \
                number(want["mytime"])
            assert (mylabl, myord) == (number(want["mylabl"]), number(want["myord"]))


@needs_shared("sas-samples")
def test_a_sas_format_catalogue_gives_code_lists_linked_to_their_variables(tmp_path: Path) -> None:
    """test_data_linux read with test_formats_linux.sas7bcat: its coded variables read through their code lists
    give sas_formatted.csv; the file label is the table's title."""
    shutil.copy(SAS / "test_data_linux.sas7bdat", tmp_path)
    shutil.copy(SAS / "test_formats_linux.sas7bcat", tmp_path)
    _source(tmp_path, format="sas7bdat", formats="test_formats_linux.sas7bcat")
    conn, source = _load(tmp_path)
    [table] = source.tables
    assert table.title == "mytest label"
    links = {c.name: c.nomenclature.table for c in table.spec.columns if c.nomenclature}
    assert links == {"SEXA": "A", "SEXB": "B"}
    formatted = conn.execute("SELECT d.ID, a.label, b.label FROM s.test_data_linux d "
                             "LEFT JOIN s_nomenclatures.A a ON a.code = d.SEXA "
                             "LEFT JOIN s_nomenclatures.B b ON b.code = d.SEXB ORDER BY d.ID").fetchall()
    with open(SAS / "sas_formatted.csv", encoding="utf-8-sig") as handle:
        assert formatted == [(r["ID"], r["SEXA"], r["SEXB"]) for r in csv.DictReader(handle)]


@needs_shared("sas-samples")
def test_sas_special_missing_values_are_missing_with_their_reason(tmp_path: Path) -> None:
    """missing_test holds .A (labelled `missing` by its catalogue), .B, .C, .X, .Y, .Z, ._ and a system missing:
    each is a null, and the special ones are counted by reason in the private `_missing` table."""
    shutil.copy(SAS / "missing_test.sas7bdat", tmp_path)
    shutil.copy(SAS / "missing_formats.sas7bcat", tmp_path)
    _source(tmp_path, format="sas7bdat", formats="missing_formats.sas7bcat")
    conn, _ = _load(tmp_path)
    with open(SAS / "missing_sas_formatted.csv", encoding="utf-8-sig") as handle:
        [formatted] = list(csv.DictReader(handle))
    [row] = conn.execute("SELECT * FROM s.missing_test").fetchall()
    assert row[:8] == (None,) * 8 and row[8] == float(formatted["var9"])
    reasons = conn.execute("SELECT column_name, reason, rows FROM s._missing ORDER BY column_name").fetchall()
    assert reasons == [(f"var{i}", f".{formatted[f'var{i}']}", 1) for i in range(1, 8)]
    assert conn.execute("SELECT code, label FROM s_nomenclatures.A").fetchall() == [("A", "missing")]


def test_stata_and_spss_files_with_labels_and_missing_values(tmp_path: Path) -> None:
    """Value labels become code lists (SPSS's, named after their first variable), variable labels descriptions,
    file labels titles; Stata's %td dates are dates; Stata's .a and SPSS's user-missing values and ranges are
    missing, with their reason."""
    stata = pd.DataFrame({"sexe": pd.Series([1, 2, 1, "a", 2], dtype=object), "age": [30.0, 41, 99, 25, 98],
                          "nom": ["x", "y", "", "z", "w"],
                          "naiss": [dt.date(1990, 1, 2), dt.date(1980, 5, 6), None, dt.date(2000, 1, 1),
                                    dt.date(1950, 1, 1)]})
    pyreadstat.write_dta(stata, tmp_path / "enquete.dta", file_label="Enquête santé",
                         column_labels=["Sexe", "Âge en années", "Nom", "Date de naissance"],
                         variable_value_labels={"sexe": {1: "Homme", 2: "Femme"}}, missing_user_values={"sexe": ["a"]})
    spss = pd.DataFrame({"statut": [1.0, 2, 1, 2, 9], "age": [30.0, 41.5, 99, 25, 98]})
    pyreadstat.write_sav(spss, tmp_path / "cohorte.sav", file_label="Cohorte", column_labels=["Statut", "Âge"],
                         variable_value_labels={"statut": {1: "Vivant", 2: "Décédé", 9: "Inconnu"}},
                         missing_ranges={"age": [{"lo": 98, "hi": 99}], "statut": [9]})
    _source(tmp_path, format="dta", tables={"cohorte": {"format": "sav"}})
    conn, source = _load(tmp_path)
    tables = {t.name: t for t in source.tables}
    assert (tables["enquete"].title, tables["cohorte"].title) == ("Enquête santé", "Cohorte")
    assert [c.description for c in tables["enquete"].spec.columns] == ["Sexe", "Âge en années", "Nom",
                                                                        "Date de naissance"]
    links = {(t, c.name): c.nomenclature.table for t in tables for c in tables[t].spec.columns if c.nomenclature}
    assert set(links) == {("enquete", "sexe"), ("cohorte", "statut")} and links[("cohorte", "statut")] == "statut"
    assert conn.execute(f"SELECT * FROM s_nomenclatures.{links[('enquete', 'sexe')]} ORDER BY 1").fetchall() == [
        ("1", "Homme"), ("2", "Femme")]
    assert conn.execute("SELECT * FROM s_nomenclatures.statut ORDER BY 1").fetchall() == [
        ("1", "Vivant"), ("2", "Décédé"), ("9", "Inconnu")]
    assert conn.execute("SELECT sexe, nom, naiss FROM s.enquete").fetchall() == [
        (1, "x", dt.date(1990, 1, 2)), (2, "y", dt.date(1980, 5, 6)), (1, None, None), (None, "z", dt.date(2000, 1, 1)),
        (2, "w", dt.date(1950, 1, 1))]
    assert conn.execute("SELECT statut, age FROM s.cohorte").fetchall() == [
        (1, 30.0), (2, 41.5), (1, None), (2, 25.0), (None, None)]
    assert conn.execute("SELECT table_name, column_name, reason, rows FROM s._missing ORDER BY ALL").fetchall() == [
        ("cohorte", "age", "user-missing 98..99", 2), ("cohorte", "statut", "user-missing 9", 1),
        ("enquete", "sexe", ".a", 1)]


def _no_broken_lines() -> dict:
    """Rates with no CSV-only defect: the CSV and the transport files then hold the same rows."""
    rates: dict = {}
    for slot in SLOTS:
        if slot.kind in LINE_KINDS:
            rates.setdefault(slot.table, {}).setdefault(slot.column, {})[slot.kind] = 0.0
    return rates


def test_the_demo_as_sas_transport_files_publishes_what_its_csv_publishes(tmp_path: Path) -> None:
    """`hdh-generate --format xpt` (tables as SAS transport files, code lists as SAS formats in a CNTLOUT data set):
    the same catalogue as the same data in CSV with its Table Schema code lists, cell by cell, but the code lists'
    titles and column names (a SAS format has neither). Without the dictionary, the files' own labels document it."""
    for fmt in ("csv", "xpt"):
        generate(Settings(out=tmp_path / fmt, beneficiaries=400, file_format=fmt, rates=_no_broken_lines()),
                 tmp_path / fmt / "source.yaml", source_id="gen")
    results = {fmt: run_cli(tmp_path / f"run_{fmt}", [declared(tmp_path / fmt / "source.yaml",
                                                               tmp_path / f"run_{fmt}" / "sources")])
               for fmt in ("csv", "xpt")}
    assert results["csv"].returncode == results["xpt"].returncode == 3, results["xpt"].stderr[-3000:]
    csv_catalogue, xpt_catalogue = published(tmp_path / "run_csv"), published(tmp_path / "run_xpt")
    for row in csv_catalogue["nomenclatures"] + xpt_catalogue["nomenclatures"]:
        for name in ("title", "code_field", "label_field"):  # a SAS format has no title, nor column names
            row.pop(name)
    assert differences(csv_catalogue, xpt_catalogue) == []
    assert len(xpt_catalogue["nomenclatures"]) > 100 and len(xpt_catalogue["quality_results"]) > 50

    undocumented = declared(tmp_path / "xpt" / "source.yaml", tmp_path / "bare" / "sources")
    text = yaml.safe_load(undocumented.read_text())
    text.pop("dictionary")
    undocumented.write_text(yaml.safe_dump(text, allow_unicode=True))
    assert run_cli(tmp_path / "bare", [undocumented]).returncode in (0, 3)
    bare = published(tmp_path / "bare")
    titles = {r["table_name"]: r["title"] for r in bare["tables"]}
    assert titles["IR_BEN_R"] == "Référentiel des bénéficiaires"
    described = {(r["table_name"], r["variable"]): r["description"] for r in bare["variables"]}
    assert described[("IR_BEN_R", "BEN_SEX_COD")] == "Code sexe du bénéficiaire"
    coded = {(r["table_name"], r["columns"]): r["referenced_table"] for r in bare["relations"]
             if r["kind"] == "nomenclature"}
    assert coded[("IR_BEN_R", "BEN_SEX_COD")] == "IR_SEX_V" and coded[("IR_BEN_R", "BEN_RES_DPT")] == "IR_DPT_V"
    rows = {r["table_name"]: r["row_count"] for r in bare["tables"]}
    assert rows == {r["table_name"]: r["row_count"] for r in xpt_catalogue["tables"]}


def test_a_corrupt_file_fails_its_table_alone_in_one_line(tmp_path: Path) -> None:
    """A truncated transport file (a sas7bdat one: `test_real_sas_files...`), a file that is not one, a missing
    format catalogue: each named in one line; the other tables load."""
    pyreadstat.write_xport(pd.DataFrame({"N": [1.0, 2.0]}), tmp_path / "good.xpt", table_name="GOOD")
    (tmp_path / "garbage.xpt").write_bytes(b"not a transport file at all" * 10)
    pyreadstat.write_xport(pd.DataFrame({"N": [float(i) for i in range(5000)]}), tmp_path / "cut.xpt")
    (tmp_path / "cut.xpt").write_bytes((tmp_path / "cut.xpt").read_bytes()[:1000])
    pyreadstat.write_xport(pd.DataFrame({"LIEU": ["Hôpital", "Clinique"]}), tmp_path / "accents.xpt")
    _source(tmp_path, format="xpt", formats="nowhere.sas7bcat", tables={"accents": {"encoding": "ascii"}})
    source = load_source(tmp_path / "s.yaml")
    conn = duckdb.connect()
    errors = {}
    for table in source.tables:
        try:
            load_table(conn, source.declaration, table, tmp_path / "staging")
        except IngestionError as error:
            errors[table.name] = str(error)
    assert set(errors) == {"garbage", "cut", "accents"}
    for name, message in errors.items():
        assert "\n" not in message and f"{name}.xpt" in message and message.startswith(f"table {name}:")
    assert "truncated" in errors["cut"] and "check the declared `encoding`" in errors["accents"]
    assert conn.execute("SELECT count(*) FROM s.good").fetchone()[0] == 2
    [catalogue] = source.nomenclatures  # unreadable: its code lists fail to load, saying why
    with pytest.raises(IngestionError, match=r"table formats: .*nowhere\.sas7bcat"):
        load_table(conn, source.declaration.for_nomenclatures(), catalogue, tmp_path / "staging")


@pytest.mark.parametrize("version", [5, 8])
def test_transport_files_read_chunk_by_chunk_lose_and_add_no_row(version: int, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks are cut from the file's fixed-width records: every row once, in order, whatever the chunk boundary
    and the padding that completes the last 80-byte record."""
    from collections import Counter

    from hdh_pipeline.sources import statistical

    monkeypatch.setattr(statistical, "CHUNK_ROWS", 4)
    for rows in (1, 3, 4, 7, 13):
        path = tmp_path / f"t{rows}.xpt"
        pyreadstat.write_xport(pd.DataFrame({"A": [float(i) for i in range(rows)], "S": ["x"] * rows}), path,
                               file_format_version=version)
        meta = statistical.read_metadata(path, "xpt")
        read = [row for batch in statistical.batches(path, "xpt", meta, None, Counter()) for row in batch.to_pylist()]
        assert [(r["A"], r["hdh_row"]) for r in read] == [(float(i), i + 1) for i in range(rows)]


@pytest.mark.parametrize("version", [5, 8])
def test_transport_special_missing_values_keep_their_reason(version: int, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """readstat reads a transport file's special missing values (`.A`..`.Z`, `._`) as plain nulls: their reasons
    are read from the records (the mark, then zero bytes), across chunk boundaries; a system missing `.` is no
    reason. The file is written by pyreadstat, then some numbers overwritten with SAS's missing-value bytes."""
    from hdh_pipeline.sources import statistical

    monkeypatch.setattr(statistical, "CHUNK_ROWS", 4)
    rows = 11
    path = tmp_path / "visits.xpt"
    pyreadstat.write_xport(pd.DataFrame({"S": [f"s{i}" for i in range(rows)], "N": [float(i + 1) for i in range(rows)],
                                         "M": [2.5] * rows}), path, file_format_version=version)
    data = bytearray(path.read_bytes())
    start = data.index(b"HEADER RECORD*******OBS") + 80
    widths = pyreadstat.read_xport(path, metadataonly=True)[1].variable_storage_width  # S, N, M: records' fields
    marks = {0: b"A", 3: b"A", 5: b"_", 8: b"Z", 9: b"."}  # row -> the mark written into N
    for row, mark in marks.items():
        at = start + row * sum(widths.values()) + widths["S"]
        data[at:at + 8] = mark + bytes(7)
    path.write_bytes(bytes(data))
    _source(tmp_path, format="xpt")
    conn, _ = _load(tmp_path)
    assert conn.execute("SELECT count(*) - count(N), sum(N), count(M) FROM s.visits").fetchone() == (
        len(marks), sum(i + 1 for i in range(rows) if i not in marks), rows)
    assert conn.execute("SELECT column_name, reason, rows FROM s._missing ORDER BY reason").fetchall() == [
        ("N", ".A", 2), ("N", ".Z", 1), ("N", "._", 1)]


def test_a_time_of_day_column_is_profiled_as_text() -> None:
    """SAS times (and a dictionary's `time`) are stored as TIME: profiled by their text, as the catalogue shows
    them (length 8 for HH:MM:SS), at both table lengths the engine distinguishes."""
    from hdh_pipeline.engines.duckdb.statistics import LONG_FORM_MAX_ROWS, profile_table

    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA s")
    for rows in (50, LONG_FORM_MAX_ROWS + 10):
        conn.execute(f"CREATE OR REPLACE TABLE s.t AS SELECT CAST(TIME '00:00:00' + INTERVAL (i % 86400) SECOND "
                     f"AS TIME) AS at FROM range({rows}) r(i)")
        counted, [column] = profile_table(conn, "s", "t", 11)
        assert counted == rows and column.kind == "text" and column.non_null == rows
        assert (column.min_length, column.max_length) == (8, 8) and str(column.min) == "00:00:00"
