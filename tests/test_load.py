"""Loading one table: types from the dictionary, every kind of bad input, idempotence and atomicity."""
from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import duckdb
import pytest

from hdh_pipeline.engines.duckdb import load as load_module
from hdh_pipeline.engines.plan import IngestionError

PEOPLE = [
    {"name": "pid", "type": "string", "description": "Identifiant"},
    {"name": "birth_year", "type": "year"},
    {"name": "weight", "type": "number"},
    {"name": "admitted", "type": "date", "format": "%d%m%Y"},
    {"name": "birth_month", "type": "date", "format": "%m"},
]


def rejects(query, table: str) -> list[tuple]:
    return query("SELECT file, line, column_name, error_type, reason FROM src._rejects "
                 "WHERE table_name = ? ORDER BY line", [table])


def test_types_follow_the_dictionary(write_source, load, query) -> None:
    source = write_source({"people.csv": "pid,birth_year,weight,admitted,birth_month\n"
                                         "A1,1950,70.5,12021939,06\nA2,,80,,\n"},
                          schemas={"people": PEOPLE})
    result = load(source, "people")
    assert dict(result.columns) == {"pid": "VARCHAR", "birth_year": "INTEGER", "weight": "DOUBLE",
                                    "admitted": "DATE", "birth_month": "SMALLINT"}
    assert query("SELECT * FROM src.people ORDER BY pid") == [
        ("A1", 1950, 70.5, dt.date(1939, 2, 12), 6), ("A2", None, 80.0, None, None)]
    assert result.rejected_rows == 0


def test_no_dictionary_infers_types(write_source, load) -> None:
    source = write_source({"t.csv": "n,d,s\n1,2020-01-02,x\n2,2021-03-04,y\n"})
    assert dict(load(source, "t").columns) == {"n": "BIGINT", "d": "DATE", "s": "VARCHAR"}


def test_inference_reads_the_whole_file(write_source, load) -> None:
    """A text value after thousands of numbers widens the type instead of rejecting the row."""
    lines = "".join(f"{i}\n" for i in range(30_000)) + "not a number\n"
    result = load(write_source({"t.csv": "n\n" + lines}), "t")
    assert result.row_count == 30_001 and result.rejected_rows == 0


def test_wrong_field_count_is_rejected_with_line(write_source, load, query, tmp_path: Path) -> None:
    source = write_source({"t.csv": "a,b\n1,x\n2\n3,y,extra\n4,z\n"},
                          schemas={"t": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]})
    result = load(source, "t")
    assert result.row_count == 2 and result.rejected_rows == 2
    found = rejects(query, "t")
    assert [(r[1], r[3]) for r in found] == [(3, "MISSING COLUMNS"), (4, "TOO MANY COLUMNS")]
    assert found[0][0] == str(tmp_path / "data" / "t.csv")


def test_value_that_does_not_fit_its_type(write_source, load, query) -> None:
    source = write_source({"t.csv": "a,b\n1,x\nabc,y\n3,z\n"},
                          schemas={"t": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]})
    result = load(source, "t")
    assert result.row_count == 2 and result.rejected_rows == 1
    [(_, line, column, kind, reason)] = rejects(query, "t")
    assert (line, column, kind) == (3, "a", "CAST")
    assert '"abc"' in reason


def test_custom_date_format_failures_get_their_line(write_source, load, query) -> None:
    source = write_source({"people.csv": "pid,birth_year,weight,admitted,birth_month\n"
                                         "A1,1950,70,12021939,06\nA2,1960,71,1939-02-12,07\nA3,1970,72,31122000,08\n"},
                          schemas={"people": PEOPLE})
    result = load(source, "people")
    assert result.row_count == 2 and result.rejected_rows == 1
    [(_, line, column, kind, _)] = rejects(query, "people")
    assert (line, column, kind) == (3, "admitted", "CAST")
    assert query("SELECT pid FROM src.people ORDER BY pid") == [("A1",), ("A3",)]


def test_bad_encoding_is_rejected(write_source, load, query) -> None:
    source = write_source({"t.csv": b"a,b\n1,ok\n2,\xe9t\xe9\n3,fine\n"})
    result = load(source, "t")
    assert result.row_count == 2 and result.rejected_rows == 1
    assert [(r[1], r[3]) for r in rejects(query, "t")] == [(3, "INVALID ENCODING")]


def test_declared_latin1(write_source, load, query) -> None:
    source = write_source({"t.csv": "a;libellé\n1;été\n2;naïf\n".encode("latin-1")},
                          csv={"delimiter": ";", "encoding": "latin-1"})
    load(source, "t")
    assert query('SELECT "libellé" FROM src.t ORDER BY a') == [("été",), ("naïf",)]


def test_csv_options_per_table(write_source, load, query, tmp_path: Path) -> None:
    """One source, two ways of writing CSV: a latin-1, `;`, decimal-comma table beside the source's
    utf-8 defaults, so that the key between them is checked."""
    source = write_source(
        {"people.csv": "pid,nom\nA1,Émile\nA2,Zoé\n",
         "visits.csv": "pid;coût\nA1;12,5\nA2;3,25\nA3;1\n".encode("latin-1")},
        schemas={"people": [{"name": "pid", "type": "string"}, {"name": "nom", "type": "string"}],
                 "visits": [{"name": "pid", "type": "string"}, {"name": "coût", "type": "number"}]},
        tables={"visits": {"csv": {"encoding": "latin-1", "delimiter": ";", "decimal": ","}}})
    assert source.declaration.csv_for("people").encoding == "utf-8"
    assert (load(source, "people").rejected_rows, load(source, "visits").rejected_rows) == (0, 0)
    assert query('SELECT pid, "coût" FROM src.visits ORDER BY pid') == [("A1", 12.5), ("A2", 3.25), ("A3", 1.0)]
    assert query("SELECT nom FROM src.people ORDER BY pid") == [("Émile",), ("Zoé",)]
    assert query("SELECT count(*) FROM src.visits WHERE pid NOT IN (SELECT pid FROM src.people)") == [(1,)]


def test_table_csv_options_are_checked(write_source) -> None:
    with pytest.raises(Exception, match="delimiter"):
        write_source({"t.csv": "a\n1\n"}, tables={"t": {"csv": {"delimiter": ";;"}}})


def test_decimal_comma_and_null_markers(write_source, load, query) -> None:
    source = write_source({"t.csv": "a;b\n1,5;NA\n2,25;x\n.;y\n"},
                          schemas={"t": [{"name": "a", "type": "number"}, {"name": "b", "type": "string"}]},
                          csv={"delimiter": ";", "decimal": ",", "null_values": ["", "NA", "."]})
    load(source, "t")
    assert query("SELECT a, b FROM src.t ORDER BY b NULLS FIRST") == [(1.5, None), (2.25, "x"), (None, "y")]


def test_no_header(write_source, load, query) -> None:
    source = write_source({"t.csv": "1,x\n2,y\n"},
                          schemas={"t": [{"name": "a", "type": "integer"}, {"name": "b", "type": "string"}]},
                          csv={"header": False})
    assert load(source, "t").row_count == 2
    assert query("SELECT sum(a) FROM src.t") == [(3,)]


def test_header_only(write_source, load) -> None:
    result = load(write_source({"t.csv": "a,b\n"}), "t")
    assert result.row_count == 0 and [c for c, _ in result.columns] == ["a", "b"]


def test_empty_file_with_dictionary(write_source, load) -> None:
    source = write_source({"t.csv": ""}, schemas={"t": [{"name": "a", "type": "integer"}]})
    result = load(source, "t")
    assert result.row_count == 0 and result.columns == (("a", "BIGINT"),)
    assert any("empty" in w for w in result.warnings)


def test_empty_file_without_dictionary_says_what_to_do(write_source, load) -> None:
    with pytest.raises(IngestionError, match=r"t\.csv is empty and no dictionary describes the table"):
        load(write_source({"t.csv": ""}), "t")


def test_all_null_column(write_source, load, query) -> None:
    result = load(write_source({"t.csv": "a,b\n1,\n2,\n"}), "t")
    assert result.row_count == 2
    assert query("SELECT count(b) FROM src.t") == [(0,)]


def test_duplicate_column_names(write_source, load, query) -> None:
    result = load(write_source({"t.csv": "a,b,a\n1,2,3\n"}), "t")
    assert [c for c, _ in result.columns] == ["a", "b", "a_2"]
    assert query("SELECT a, a_2 FROM src.t") == [(1, 3)]
    assert any("duplicate column name 'a'" in w for w in result.warnings)


def test_header_and_dictionary_disagree(write_source, load) -> None:
    source = write_source({"t.csv": "a,extra\n1,x\n"},
                          schemas={"t": [{"name": "a", "type": "integer"}, {"name": "gone", "type": "string"}]})
    result = load(source, "t")
    assert dict(result.columns) == {"a": "BIGINT", "extra": "VARCHAR"}
    assert any("'extra'" in w and "not in the dictionary" in w for w in result.warnings)
    assert any("absent" in w and "gone" in w for w in result.warnings)


def test_missing_file_fails_naming_it(write_source, load, tmp_path: Path) -> None:
    source = write_source({"t.csv": "a\n1\n"})
    (tmp_path / "data" / "t.csv").unlink()
    with pytest.raises(IngestionError, match=r"table t: file .*t\.csv not found"):
        load(source, "t")


def test_rerun_is_idempotent(write_source, load, query) -> None:
    source = write_source({"t.csv": "a,b\n1,x\n2\n3,z\n"})
    first, second = load(source, "t"), load(source, "t")
    assert first.row_count == second.row_count == 2
    assert query("SELECT count(*) FROM src._rejects") == [(1,)]


def test_failed_load_keeps_previous_version(write_source, load, query, tmp_path: Path, monkeypatch) -> None:
    source = write_source({"t.csv": "a,b\n1,x\n2\n"})
    load(source, "t")
    (tmp_path / "data" / "t.csv").write_text("a,b\n7,new\n8,new\n9,new\n")

    def crash(*args, **kwargs):
        raise duckdb.IOException("disk full")

    monkeypatch.setattr(load_module, "_collect_rejects", crash)  # fails after the table was replaced
    with pytest.raises(IngestionError, match="disk full.*previously loaded version is unchanged"):
        load(source, "t")
    assert query("SELECT a FROM src.t") == [(1,)]
    assert query("SELECT line FROM src._rejects") == [(3,)]


def test_zip_members_and_macos_entries(tmp_path: Path, write_source, load, query) -> None:
    archive = tmp_path / "db.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("PERSON.csv", "person_id,year\n1,1980\n2,1990\noops\n")
        zf.writestr("__MACOSX/._PERSON.csv", "\x00\x05binary")
        zf.writestr("notes/.hidden.csv", "x\n1\n")
    source = write_source({}, location=str(archive))
    assert [t.name for t in source.tables] == ["PERSON"]
    assert load(source, "PERSON").row_count == 2
    assert query("SELECT DISTINCT file, line FROM src._rejects") == [(f"{archive}!PERSON.csv", 4)]


def test_parquet_source(tmp_path: Path, write_source, load) -> None:
    (tmp_path / "data").mkdir()
    with duckdb.connect() as conn:
        conn.execute(f"COPY (SELECT range AS n FROM range(5)) TO '{tmp_path}/data/p.parquet'")
    source = write_source({}, format="parquet")
    assert load(source, "p").row_count == 5


def test_files_glob_makes_one_table_of_several_files(write_source, load) -> None:
    source = write_source({"claims_2020.csv": "a\n1\n2\n", "claims_2021.csv": "a\n3\n"},
                          tables={"claims": {"files": "claims_*.csv"}})
    assert [t.name for t in source.tables] == ["claims"]
    assert load(source, "claims").row_count == 3


def test_the_guard_compares_with_the_previous_load(write_source, tmp_path: Path, query) -> None:
    """A first load is kept with its rejects; the same delivery again passes; more rejects than the tolerance and
    than before, or too many rows lost, are refused and roll back."""
    from hdh_pipeline.engines.duckdb.load import load_table
    from hdh_pipeline.engines.duckdb.warehouse import write_connection
    from hdh_pipeline.engines.plan import RefusedLoad

    def deliver(good: int, bad: int):
        return write_source({"t.csv": "n\n" + "".join(f"{i}\n" for i in range(good)) + "x\n" * bad},
                            {"t": [{"name": "n", "type": "integer"}]})

    def load(source) -> int:
        with write_connection(tmp_path / "warehouse.duckdb") as conn:
            return load_table(conn, source.declaration, source.tables[0], tmp_path / "staging", guard=True).row_count

    assert load(deliver(90, 10)) == 90  # 10 % rejected, above the 5 % tolerance, but nothing to keep
    assert load(deliver(90, 10)) == 90  # no worse than before
    with pytest.raises(RefusedLoad, match=r"20.0% of its lines were rejected \(tolerance 5.0%, previous load 10.0%\)"):
        load(deliver(80, 20))
    with pytest.raises(RefusedLoad, match=r"it lost 22.2% of its rows"):
        load(deliver(70, 0))
    assert query("SELECT count(*) FROM src.t") == [(90,)]  # the refused loads left the previous version
    assert query("SELECT count(*) FROM src._rejects") == [(10,)]  # and its rejects
    assert load(deliver(75, 0)) == 75  # 16.7 % fewer rows: within the tolerance


def test_declared_types_apply_without_a_dictionary(write_source, load, query) -> None:
    source = write_source({"t.csv": "n,b\n1,x\n2,y\nthree,z\n"}, tables={"t": {"types": {"n": "BIGINT"}}})
    assert load(source, "t").row_count == 2
    assert query("SELECT data_type FROM duckdb_columns() WHERE table_name = 't' AND column_name = 'n'") == [("BIGINT",)]
    assert query("SELECT line, column_name FROM src._rejects") == [(4, "n")]
