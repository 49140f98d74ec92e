"""The Spark engine against the DuckDB engine: the same declaration, read and aggregated where it lives by Spark (a
session started here, and a Spark Connect server), publishes the same public catalogue as when DuckDB copies it;
nothing of the source is copied; a Spark that cannot be reached fails its source alone, in one line, and its token
never reaches an output."""
from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import yaml

from tests.catalogues import declared, differences, published, run_cli
from tests.conftest import EXAMPLES, REPO_ROOT, needs_shared

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("pyspark") is None or shutil.which("java") is None,
    reason="the Spark engine needs pyspark (pip install 'hdh-pipeline[spark]') and Java 17+")

TOKEN = "hdh-test-token-5f1c9a"
def warehouse_tables(root: Path, schema: str) -> set[str]:
    with duckdb.connect(str(root / "out" / "warehouse.duckdb"), read_only=True) as conn:
        return {name for (name,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = ?",
                                                 [schema]).fetchall()}


def test_the_demo_on_spark_publishes_what_duckdb_publishes(published_demo, tmp_path: Path) -> None:
    """Every public table equal (floats to 1e-9), quality counted by Spark SQL included; nothing copied."""
    _, duck = published_demo
    file = declared(REPO_ROOT / "assets" / "sources" / "demo.yaml", tmp_path / "sources", engine="spark")
    result = run_cli(tmp_path, [file])
    assert result.returncode == 3, result.stderr[-3000:]  # the demo's injected defects fail error checks
    assert differences(duck, published(tmp_path)) == []
    assert "ER_PRS_F" not in warehouse_tables(tmp_path, "demo")  # read where it lives: only its rejected lines here
    with duckdb.connect(str(tmp_path / "out" / "warehouse.duckdb"), read_only=True) as conn:
        reasons = dict(conn.execute("SELECT reason, count(*) FROM demo._rejects WHERE table_name = 'ER_PRS_F' "
                                    "GROUP BY ALL").fetchall())
    assert sum(reasons.values()) == 138 and all(reasons)  # the generator's 138 broken lines, each with its reason


@needs_shared("synthetic-snds")
def test_the_synthetic_snds_on_spark_publishes_what_duckdb_publishes(tmp_path: Path) -> None:
    """191 tables, ~350 code lists, foreign keys and quality suites: the same catalogue from both engines."""
    source = EXAMPLES / "synthetic-snds.yaml"
    duck = run_cli(tmp_path / "duckdb", [declared(source, tmp_path / "duckdb" / "sources")])
    spark = run_cli(tmp_path / "spark", [declared(source, tmp_path / "spark" / "sources", engine="spark")])
    assert (duck.returncode, spark.returncode) == (3, 3), spark.stderr[-3000:]
    assert differences(published(tmp_path / "duckdb"), published(tmp_path / "spark")) == []


def test_a_long_source_on_spark_publishes_what_duckdb_publishes(tmp_path: Path) -> None:
    """A generated Parquet source whose claims table is longer than LONG_FORM_MAX_ROWS: Spark's aggregations of a
    long table (exact distinct counts, top-k, exact percentiles, bins), not its value counts, against DuckDB."""
    from hdh_pipeline.engines.spark.statistics import LONG_FORM_MAX_ROWS
    from hdh_pipeline.generator.generate import Settings, generate

    folder = tmp_path / "data"
    generate(Settings(out=folder, beneficiaries=4_000, file_format="parquet"), folder / "source.yaml",
             source_id="long")
    claims = pq.ParquetFile(folder / "data" / "ER_PRS_F.parquet").metadata.num_rows
    assert claims > LONG_FORM_MAX_ROWS
    duck = run_cli(tmp_path / "duckdb", [declared(folder / "source.yaml", tmp_path / "duckdb" / "sources")])
    spark = run_cli(tmp_path / "spark", [declared(folder / "source.yaml", tmp_path / "spark" / "sources",
                                                  engine="spark")])
    assert duck.returncode == spark.returncode, spark.stderr[-3000:]
    assert differences(published(tmp_path / "duckdb"), published(tmp_path / "spark")) == []


def test_hive_partitions_read_by_both_engines(tmp_path: Path) -> None:
    """A Parquet table in `year=...` folders: the partition column is a variable on both engines."""
    data = tmp_path / "data" / "EVENTS"
    data.mkdir(parents=True)
    with duckdb.connect() as conn:
        conn.execute(f"COPY (SELECT i AS id, 2020 + i % 3 AS year, round(i * 0.37, 2) AS amount, "
                     f"CASE WHEN i % 7 = 0 THEN NULL ELSE chr(CAST(65 + i % 5 AS INTEGER)) END AS code FROM range(5000) t(i)) "
                     f"TO '{data}' (FORMAT parquet, PARTITION_BY (year))")
    base = {"id": "lake", "title": "Lake", "producer": {"name": "Tests"}, "licence": "CC0",
            "location": str(tmp_path / "data"), "format": "parquet",
            "tables": {"EVENTS": {"files": "EVENTS/*/*.parquet"}}}
    runs = {}
    for engine in ("duckdb", "spark"):
        file = tmp_path / engine / "lake.yaml"
        file.parent.mkdir()
        file.write_text(yaml.safe_dump(base | {"engine": engine}))
        result = run_cli(tmp_path / engine, [file])
        assert result.returncode in (0, 3), result.stderr[-3000:]
        runs[engine] = published(tmp_path / engine)
    assert differences(runs["duckdb"], runs["spark"]) == []
    variables = {row["variable"]: row for row in runs["spark"]["variables"]}
    assert set(variables) == {"id", "year", "amount", "code"} and variables["id"]["distinct_count"] == 5000


@pytest.fixture(scope="module")
def connect_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A Spark Connect server on local[2] that asks for a token: its `sc://` URL, token included."""
    import pyspark

    home = Path(pyspark.__file__).parent
    logs = tmp_path_factory.mktemp("spark-connect")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = os.environ | {"SPARK_HOME": str(home), "SPARK_LOG_DIR": str(logs), "SPARK_PID_DIR": str(logs),
                        "SPARK_IDENT_STRING": f"hdh{port}"}
    command = [str(home / "sbin" / "start-connect-server.sh"), "--master", "local[2]",
               "--conf", f"spark.connect.grpc.binding.port={port}",
               "--conf", f"spark.connect.authenticate.token={TOKEN}", "--conf", "spark.ui.enabled=false"]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=120)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"the Spark Connect server did not listen on {port}: {list(logs.iterdir())}")
        yield f"sc://localhost:{port}/;token={TOKEN}"
    finally:
        subprocess.run([str(home / "sbin" / "stop-connect-server.sh")], env=env, capture_output=True, timeout=120)


def files_holding(folder: Path, text: str) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and text.encode() in path.read_bytes()]


def test_spark_connect_publishes_the_same_and_never_shows_its_token(published_demo, connect_server: str,
                                                                    tmp_path: Path) -> None:
    """Through a Spark Connect server (the cluster's way in), with Dagster's own instance and event log."""
    _, duck = published_demo
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO_ROOT / "dagster.yaml", home / "dagster.yaml")
    file = declared(REPO_ROOT / "assets" / "sources" / "demo.yaml", tmp_path / "sources", engine="spark")
    result = run_cli(tmp_path, [file], HDH_SPARK_REMOTE=connect_server, DAGSTER_HOME=str(home))
    assert result.returncode == 3, result.stderr[-3000:]
    assert differences(duck, published(tmp_path)) == []
    assert TOKEN not in result.stdout + result.stderr
    assert files_holding(tmp_path, TOKEN) == []  # outputs, warehouse, site, exports, Dagster's runs and events


def test_an_unreachable_spark_fails_its_source_alone(tmp_path: Path) -> None:
    """One line naming the source and the host, no token; the DuckDB source beside it publishes."""
    demo = REPO_ROOT / "assets" / "sources" / "demo.yaml"
    on_spark = declared(demo, tmp_path / "sources", engine="spark", id="demo_lake")
    result = run_cli(tmp_path, [declared(demo, tmp_path / "sources"), on_spark],
                     HDH_SPARK_REMOTE=f"sc://127.0.0.1:1/;token={TOKEN}")
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if "127.0.0.1:1" in line]
    assert lines and all("demo_lake" in line and "cannot be reached" in line for line in lines), result.stderr
    assert TOKEN not in result.stdout + result.stderr and files_holding(tmp_path, TOKEN) == []
    catalogue = published(tmp_path)
    assert {row["source_id"] for row in catalogue["databases"]} == {"demo"}
