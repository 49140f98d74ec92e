"""A PostgreSQL schema as a source, against a real server the test starts (tests/postgres.py): a million-row
table read into the warehouse, comments as descriptions, keys as join keys, exact counts; a wrong password, an
unreachable host or a missing table fails in one line naming the server; the password reaches no output."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml

from tests.catalogues import published, run_cli
from tests.conftest import REPO_ROOT
from tests.postgres import free_port, server

PASSWORD = "pg-Secret-7f3a1c"
SCHEMA = f"""
CREATE ROLE reader LOGIN PASSWORD '{PASSWORD}';
CREATE SCHEMA registre;
CREATE TABLE registre.patient (id integer PRIMARY KEY, sexe char(1), naissance date, poids numeric(5,2),
                               commune text);
COMMENT ON TABLE registre.patient IS 'Patients inclus dans le registre';
COMMENT ON COLUMN registre.patient.sexe IS 'Sexe déclaré (M ou F)';
COMMENT ON COLUMN registre.patient.poids IS 'Poids à l''inclusion, en kg';
CREATE TABLE registre.sejour (id bigint PRIMARY KEY, patient_id integer REFERENCES registre.patient (id),
                              entree date, duree integer);
INSERT INTO registre.patient SELECT i, CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END, DATE '1930-01-01' + (i % 30000),
  CASE WHEN i % 100 = 0 THEN NULL ELSE 40 + (i % 6000) / 100.0 END, 'c' || (i % 500)
  FROM generate_series(1, 1000000) i;
INSERT INTO registre.sejour SELECT i, 1 + (i * 7) % 1000000, DATE '2020-01-01' + (i % 1000), i % 30
  FROM generate_series(1, 200000) i;
GRANT USAGE ON SCHEMA registre TO reader;
GRANT SELECT ON ALL TABLES IN SCHEMA registre TO reader;
"""


def _declare(folder: Path, source_id: str, url: str, **database) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    declaration = {"id": source_id, "title": "Registre", "producer": {"name": "CHU"}, "licence": "restricted",
                   "database": {"url": url, "schema": "registre", **database},
                   "roles": {"person_id": ["patient_id"]}}
    (folder / f"{source_id}.yaml").write_text(yaml.safe_dump(declaration, allow_unicode=True))
    return folder / f"{source_id}.yaml"


def _everything_written(root: Path) -> bytes:
    return b"".join(path.read_bytes() for path in root.rglob("*") if path.is_file())


def test_a_postgresql_schema_is_published_like_files(tmp_path: Path) -> None:
    with server(password_auth=True) as running:
        running.sql("dagster", SCHEMA)
        url = f"postgresql://reader:${{REGISTRY_PASSWORD}}@127.0.0.1:{running.port}/dagster"
        declaration = _declare(tmp_path / "sources", "registre", url)
        (tmp_path / "dagster").mkdir()
        shutil.copy(REPO_ROOT / "dagster.yaml", tmp_path / "dagster" / "dagster.yaml")  # its event log is searched
        result = run_cli(tmp_path, [declaration], REGISTRY_PASSWORD=PASSWORD, DAGSTER_HOME=str(tmp_path / "dagster"))
        assert result.returncode in (0, 3), result.stderr[-3000:]
        catalogue = published(tmp_path)
        rows = {r["table_name"]: r["row_count"] for r in catalogue["tables"]}
        assert rows == {"patient": 1_000_000, "sejour": 200_000}
        tables = {r["table_name"]: r for r in catalogue["tables"]}
        assert tables["patient"]["description"] == "Patients inclus dans le registre"
        variables = {(r["table_name"], r["variable"]): r for r in catalogue["variables"]}
        assert variables[("patient", "sexe")]["description"] == "Sexe déclaré (M ou F)"
        poids = variables[("patient", "poids")]
        assert poids["completeness_pct"] == 99.0 and poids["min"] in ("40.01", "40.0", "40.01000")
        keys = {(r["table_name"], r["columns"], r["referenced_table"]): r for r in catalogue["relations"]}
        link = keys[("sejour", "patient_id", "patient")]
        assert link["kind"] == "table" and link["match_pct"] == 100.0

        secret = PASSWORD.encode()
        assert secret not in result.stdout.encode() + result.stderr.encode()
        assert secret not in _everything_written(tmp_path / "out"), "the password reached a published file"
        assert secret not in _everything_written(tmp_path / "dagster"), "the password reached Dagster's event log"

        wrong = _declare(tmp_path / "wrong", "registre_bis", url.replace("${REGISTRY_PASSWORD}", "not-it"))
        port = free_port()  # nothing listens there
        gone = _declare(tmp_path / "gone", "registre_ter", f"postgresql://reader:{PASSWORD}@127.0.0.1:{port}/x",
                        tables=["patient"])
        missing = _declare(tmp_path / "missing", "registre_quater", url, tables=["patient", "nowhere"])
        (tmp_path / "faults").mkdir()
        failed = run_cli(tmp_path / "faults", [wrong, gone, missing, declaration], REGISTRY_PASSWORD=PASSWORD)
        assert failed.returncode == 1
        said = failed.stdout + failed.stderr
        assert "password authentication failed" in said and "no table nowhere in schema registre" in said
        assert f"database postgresql://reader@127.0.0.1:{port}/x cannot be reached" in said
        assert PASSWORD not in said and "not-it" not in said
        published_ids = {r["source_id"] for r in published(tmp_path / "faults")["databases"]}
        assert published_ids == {"registre"}  # the three others failed, alone
        assert not os.environ.get("REGISTRY_PASSWORD")
