"""Ingestion speed against a plain DuckDB `read_csv` of the same files, in one run.

    python benchmarks/ingest.py --rows 5000000

Writes a claims-like CSV (about 80 bytes a row) and its Table Schema under a temporary
folder, then loads it three ways into fresh warehouse files, each in its own process so
peak memory is its own:
  reference   CREATE TABLE AS SELECT * FROM read_csv(file)   (DuckDB infers the types)
  pipeline    load_table with the dictionary (typed, rejects kept)
  +format     the same with one date column in a custom format (%d%m%Y), parsed after reading
  inferred    load_table with no dictionary: DuckDB infers the types from the whole file first
Target: pipeline / reference <= 1.5.
"""
from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import yaml

FIELDS = [
    {"name": "BEN_NIR_PSA", "type": "string"},
    {"name": "EXE_SOI_DTD", "type": "date"},
    {"name": "EXE_SOI_DTF", "type": "date"},
    {"name": "PRS_NAT_REF", "type": "integer"},
    {"name": "PRS_PAI_MNT", "type": "number"},
    {"name": "BSE_REM_MNT", "type": "number"},
    {"name": "PSE_SPE_COD", "type": "integer"},
    {"name": "BEN_RES_DPT", "type": "string"},
]


def write_source(folder: Path, rows: int, date_format: str | None, dictionary: bool = True) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "schemas").mkdir()
    start = "strftime(d, '%d%m%Y')" if date_format else "d"
    with duckdb.connect() as conn:
        conn.execute(f"""
            COPY (SELECT 'P' || lpad(CAST(i % 1000003 AS VARCHAR), 16, '0') AS BEN_NIR_PSA,
                         {start} AS EXE_SOI_DTD, d + INTERVAL (i % 3) DAY AS EXE_SOI_DTF,
                         1000 + i % 400 AS PRS_NAT_REF, round(random() * 200, 2) AS PRS_PAI_MNT,
                         round(random() * 150, 2) AS BSE_REM_MNT, i % 80 AS PSE_SPE_COD,
                         lpad(CAST(i % 95 AS VARCHAR), 3, '0') AS BEN_RES_DPT
                  FROM (SELECT range AS i, DATE '2019-01-01' + CAST(range % 1500 AS INTEGER) AS d
                        FROM range({rows})))
            TO '{folder}/data/ER_PRS_F.csv' (HEADER)""")
    fields = [dict(f, format=date_format) if date_format and f["name"] == "EXE_SOI_DTD" else f for f in FIELDS]
    (folder / "schemas" / "ER_PRS_F.json").write_text(json.dumps({"name": "ER_PRS_F", "fields": fields}))
    declaration = folder / "source.yaml"
    declared = {"id": "bench", "title": "Benchmark", "producer": {"name": "bench"}, "licence": "none",
                "location": "data"}
    declaration.write_text(yaml.safe_dump(declared | ({"dictionary": {"path": "schemas"}} if dictionary else {})))
    return declaration


def reference(declaration: str, warehouse: str) -> tuple[float, int, int]:
    csv_file = Path(declaration).parent / "data" / "ER_PRS_F.csv"
    started = time.perf_counter()
    with duckdb.connect(warehouse) as conn:
        conn.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_file}')")
        rows = conn.execute("SELECT count(*) FROM t").fetchone()[0]
    return time.perf_counter() - started, rows, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def pipeline(declaration: str, warehouse: str) -> tuple[float, int, int]:
    from hdh_pipeline.engines.duckdb.load import load_table
    from hdh_pipeline.engines.duckdb.warehouse import write_connection
    from hdh_pipeline.sources.loader import load_source

    source = load_source(Path(declaration))
    started = time.perf_counter()
    with write_connection(Path(warehouse)) as conn:
        result = load_table(conn, source.declaration, source.tables[0], Path(warehouse).parent / "staging")
    return time.perf_counter() - started, result.row_count, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_alone(function, *args) -> tuple[float, int, int]:
    with ProcessPoolExecutor(1) as pool:
        return pool.submit(function, *args).result()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        iso = write_source(tmp / "iso", args.rows, None)
        custom = write_source(tmp / "custom", args.rows, "%d%m%Y")
        inferred = write_source(tmp / "inferred", args.rows, None, dictionary=False)
        size = (tmp / "iso" / "data" / "ER_PRS_F.csv").stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size:,.0f} MB of CSV, 8 columns")
        ref = run_alone(reference, str(iso), str(tmp / "ref.duckdb"))
        print(f"{'run':<12}{'seconds':>9}{'rows':>13}{'peak RSS MB':>13}{'x reference':>13}")
        for name, (seconds, rows, rss) in [
            ("reference", ref),
            ("pipeline", run_alone(pipeline, str(iso), str(tmp / "p.duckdb"))),
            ("+format", run_alone(pipeline, str(custom), str(tmp / "c.duckdb"))),
            ("inferred", run_alone(pipeline, str(inferred), str(tmp / "i.duckdb"))),
        ]:
            print(f"{name:<12}{seconds:>9.2f}{rows:>13,}{rss / 1024:>13,.0f}{seconds / ref[0]:>13.2f}")


if __name__ == "__main__":
    main()
