"""Drift between two refreshes: a generated source re-delivered with known changes; the history kept."""
from __future__ import annotations

from pathlib import Path

import duckdb

from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.engines.duckdb.load import load_source_tables
from hdh_pipeline.generator.generate import Settings, generate
from hdh_pipeline.profile.drift import COMPARED, compare, total_variation
from hdh_pipeline.profile.store import HISTORY, load_profiles, save_rows
from hdh_pipeline.schema import column_names
from hdh_pipeline.site.build import build_site
from hdh_pipeline.sources.declaration import Tolerances
from hdh_pipeline.sources.loader import load_source
from hdh_pipeline.vocabulary import DEFAULT_K
from tests.conftest import profile


def _refresh(conn: duckdb.DuckDBPyConnection, folder: Path, history: int = 20) -> list:
    source = load_source(folder / "source.yaml")
    load_source_tables(conn, source, folder / "staging")
    previous = load_profiles(conn, [source.id], COMPARED)
    rows = profile(conn, source, DEFAULT_K).rows
    changes = compare(previous, rows, source.declaration.tolerances)
    rows["changes"] = [c.row(source.id) | {"detected_at": rows["databases"][0]["last_refresh"]} for c in changes]
    save_rows(conn, source.id, rows, history=history)
    return changes


def _rewrite(conn: duckdb.DuckDBPyConnection, path: Path, query: str) -> None:
    """Rewrite a CSV file with `query`, which reads it as `src`."""
    conn.execute(f"COPY (WITH src AS (SELECT *, row_number() OVER () AS n FROM read_csv('{path}', all_varchar = true)) "
                 f"{query}) TO '{path}.new' (HEADER)")
    Path(f"{path}.new").replace(path)


def test_known_changes_are_found(tmp_path: Path) -> None:
    generate(Settings(out=tmp_path, beneficiaries=3000, chunk_size=3000, defect_rate=0.0), tmp_path / "source.yaml")
    data = tmp_path / "data"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        assert _refresh(conn, tmp_path) == []  # the first refresh: nothing to compare with
        assert _refresh(conn, tmp_path) == []  # the same files again: nothing moved
        # the next delivery: ER_PRS_F loses 40 % of its rows and a declared column; T_MCOaaB gains an undeclared
        # column; every beneficiary becomes a man; half the departments of residence go missing
        _rewrite(conn, data / "ER_PRS_F.csv", "SELECT * EXCLUDE (n, PSE_SPE_COD) FROM src WHERE n % 5 < 3")
        _rewrite(conn, data / "T_MCOaaB.csv", "SELECT * EXCLUDE (n), 'x' AS NEW_COL FROM src")
        conn.execute(f"COPY (SELECT BEN_SEX_COD FROM read_csv('{data / 'IR_BEN_R.csv'}', all_varchar = true)) "
                     f"TO '{tmp_path / 'before_sex.csv'}' (HEADER)")
        _rewrite(conn, data / "IR_BEN_R.csv", "SELECT * EXCLUDE (n) REPLACE ('1' AS BEN_SEX_COD, CASE WHEN n % 2 = 0 "
                                              "THEN BEN_RES_DPT END AS BEN_RES_DPT) FROM src")
        changes = _refresh(conn, tmp_path)
        catalogue = public_rows(load_profiles(conn, ["synthetic"]), {"synthetic": DEFAULT_K})
        public = catalogue["changes"]
        assert len(public) == 5 and all(set(r) == set(column_names("changes")) for r in public)  # no values
        page = (build_site(catalogue, tmp_path / "version") / "synthetic" / "index.html").read_text()
        assert "variable disparue <strong>(ne correspond plus au dictionnaire)</strong>" in page
        assert "variation relative du nombre de lignes &gt; 0,2" in page and "relative change" not in page
        found = {(c.table_name, c.variable, c.change, c.breaks_dictionary) for c in changes}
        assert found == {
            ("ER_PRS_F", None, "row count changed", False),
            ("ER_PRS_F", "PSE_SPE_COD", "column removed", True),
            ("T_MCOaaB", "NEW_COL", "column added", True),
            ("IR_BEN_R", "BEN_SEX_COD", "distribution shifted", False),
            ("IR_BEN_R", "BEN_RES_DPT", "completeness changed", False),
        }
        measured = {(c.variable, c.change): c for c in changes}
        rows = measured[(None, "row count changed")]
        assert abs(rows.after / rows.before - 0.6) < 0.001  # 3 lines in 5 kept
        assert measured[("BEN_RES_DPT", "completeness changed")].after == 50.0
        sex = measured[("BEN_SEX_COD", "distribution shifted")]
        women = conn.execute("SELECT avg((BEN_SEX_COD <> '1')::INT) FROM read_csv(?, all_varchar = true)",
                             [str(tmp_path / "before_sex.csv")]).fetchone()[0]
        assert abs(sex.after - women) < 1e-3  # the distance is the share that moved: every woman became a man

        # the history keeps every refresh, up to the declared number
        assert conn.execute(f"SELECT count(DISTINCT refreshed_at) FROM {HISTORY}.variables").fetchone()[0] == 3
        _refresh(conn, tmp_path, history=2)
        assert conn.execute(f"SELECT count(DISTINCT refreshed_at) FROM {HISTORY}.tables").fetchone()[0] == 2

        public = public_rows(load_profiles(conn, ["synthetic"]), {"synthetic": DEFAULT_K})
    assert public["changes"] == []  # the last refresh changed nothing


def test_the_changes_are_public_without_their_values(tmp_path: Path) -> None:
    before = {"tables": [{"table_name": "t", "status": "loaded", "row_count": 100}],
              "variables": [{"table_name": "t", "variable": "a", "observed_type": "BIGINT", "declared_type": None,
                             "completeness_pct": 100.0, "count": 100}]}
    after = {"tables": [{"table_name": "t", "status": "loaded", "row_count": 100}],
             "variables": [{"table_name": "t", "variable": "a", "observed_type": "VARCHAR", "declared_type": None,
                            "completeness_pct": 90.0, "count": 90}]}
    changes = compare(before, after, Tolerances())
    assert {(c.change, c.before, c.after) for c in changes} == {
        ("type changed", "BIGINT", "VARCHAR"), ("completeness changed", 100.0, 90.0)}
    assert compare(before, after, Tolerances(completeness_change=0.2)) == changes[:1]
    rows = [c.row("s") | {"detected_at": None} for c in changes]
    assert {"before", "after"} <= set(rows[0])
    assert {"before", "after"}.isdisjoint(column_names("changes"))
    assert total_variation({"x": 0.5, "y": 0.5}, {"x": 1.0}) == 0.5
