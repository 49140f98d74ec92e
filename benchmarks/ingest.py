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

    python benchmarks/ingest.py --producers 1000000 5000000

The same claims as producers deliver them, each size against the bare library reading the same data whole:
  xpt bare        pyreadstat.read_xport of a SAS transport file (version 8)
  xpt pipeline    load_table of a `format: xpt` source (chunks into DuckDB, missing values, types)
  postgres bare   ADBC's PostgreSQL driver, fetch_arrow_table of the table (a server started here)
  postgres pipeline  load_table of a `database:` source
Target: pipeline / bare <= 1.3, and the pipeline's peak memory flat from 1M to 5M rows (DuckDB keeps what it
loads in its buffer pool up to its memory limit: `--memory-limit 512MB` shows the pipeline's own need).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import yaml
from isolated import alone, peak_mb

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


def reference(declaration: str, warehouse: str) -> tuple[float, int, float]:
    csv_file = Path(declaration).parent / "data" / "ER_PRS_F.csv"
    started = time.perf_counter()
    with duckdb.connect(warehouse) as conn:
        conn.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv_file}')")
        rows = conn.execute("SELECT count(*) FROM t").fetchone()[0]
    return time.perf_counter() - started, rows, peak_mb()


def pipeline(declaration: str, warehouse: str, memory_limit: str | None = None) -> tuple[float, int, float]:
    from hdh_pipeline.engines.duckdb.load import load_table
    from hdh_pipeline.engines.duckdb.warehouse import write_connection
    from hdh_pipeline.sources.loader import load_source

    source = load_source(Path(declaration))
    started = time.perf_counter()
    with write_connection(Path(warehouse), memory_limit=memory_limit) as conn:
        result = load_table(conn, source.declaration, source.tables[0], Path(warehouse).parent / "staging")
    return time.perf_counter() - started, result.row_count, peak_mb()


def write_producers(folder: Path, rows: int, port: int) -> tuple[Path, Path]:
    """The claims as a SAS transport file and as a PostgreSQL table; their two declarations."""
    import pyreadstat

    csv_source = write_source(folder / "csv", rows, None)
    with duckdb.connect() as conn:
        frame = conn.execute(f"SELECT * FROM read_csv('{csv_source.parent}/data/ER_PRS_F.csv')").df()
    (folder / "xpt").mkdir()
    pyreadstat.write_xport(frame, folder / "xpt" / "ER_PRS_F.xpt", table_name="ER_PRS_F", file_format_version=8)
    base = {"title": "Benchmark", "producer": {"name": "bench"}, "licence": "none"}
    xpt = folder / "xpt" / "source.yaml"
    xpt.write_text(yaml.safe_dump({"id": "bench_xpt", **base, "location": ".", "format": "xpt"}))
    database = folder / "postgres.yaml"
    database.write_text(yaml.safe_dump({"id": "bench_pg", **base, "database": {
        "url": f"postgresql://postgres@127.0.0.1:{port}/dagster", "schema": "public", "tables": ["er_prs_f"]}}))
    return xpt, database


def bare_xpt(declaration: str, _: str) -> tuple[float, int, float]:
    import pyreadstat

    started = time.perf_counter()
    frame, _ = pyreadstat.read_xport(str(Path(declaration).parent / "ER_PRS_F.xpt"))
    return time.perf_counter() - started, len(frame), peak_mb()


def bare_postgres(url: str, _: str) -> tuple[float, int, float]:
    import adbc_driver_postgresql.dbapi as adbc

    started = time.perf_counter()
    with adbc.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT * FROM public.er_prs_f")
        rows = cursor.fetch_arrow_table().num_rows
    return time.perf_counter() - started, rows, peak_mb()


def producers(sizes: list[int], memory_limit: str | None) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' PostgreSQL server
    from tests.postgres import server

    print(f"{'rows':>11}  {'run':<19}{'seconds':>9}{'peak RSS MB':>13}{'x bare':>9}")
    with server() as running, tempfile.TemporaryDirectory() as tmp:
        url = f"postgresql://postgres@127.0.0.1:{running.port}/dagster"
        Path(tmp).chmod(0o755)  # the server reads the CSV as its own user
        for rows in sizes:
            folder = Path(tmp) / str(rows)
            xpt, database = write_producers(folder, rows, running.port)
            running.sql("dagster", "DROP TABLE IF EXISTS er_prs_f; CREATE TABLE er_prs_f (ben_nir_psa text, "
                        "exe_soi_dtd date, exe_soi_dtf date, prs_nat_ref integer, prs_pai_mnt numeric(8,2), "
                        "bse_rem_mnt numeric(8,2), pse_spe_cod integer, ben_res_dpt text)")
            folder.chmod(0o755)
            (folder / "csv" / "data").chmod(0o755)
            running.sql("dagster", f"COPY er_prs_f FROM '{folder}/csv/data/ER_PRS_F.csv' (FORMAT csv, HEADER)")
            for kind, bare, declaration in (("xpt", bare_xpt, str(xpt)), ("postgres", bare_postgres, url)):
                measured = {"bare": alone(bare, declaration, ""),
                            "pipeline": alone(pipeline, str(xpt if kind == "xpt" else database),
                                                  str(folder / f"{kind}.duckdb"), memory_limit)}
                for name, (seconds, count, rss) in measured.items():
                    assert count == rows, (kind, name, count)
                    print(f"{rows:>11,}  {kind + ' ' + name:<19}{seconds:>9.2f}{rss:>13,.0f}"
                          f"{seconds / measured['bare'][0]:>9.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--producers", type=int, nargs="+", help="SAS transport and PostgreSQL at these sizes")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit of the loads (HDH_DUCKDB_MEMORY_LIMIT)")
    args = parser.parse_args()
    if args.producers:
        producers(args.producers, args.memory_limit)
        return
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        iso = write_source(tmp / "iso", args.rows, None)
        custom = write_source(tmp / "custom", args.rows, "%d%m%Y")
        inferred = write_source(tmp / "inferred", args.rows, None, dictionary=False)
        size = (tmp / "iso" / "data" / "ER_PRS_F.csv").stat().st_size / 1e6
        print(f"{args.rows:,} rows, {size:,.0f} MB of CSV, 8 columns")
        ref = alone(reference, str(iso), str(tmp / "ref.duckdb"))
        print(f"{'run':<12}{'seconds':>9}{'rows':>13}{'peak RSS MB':>13}{'x reference':>13}")
        for name, (seconds, rows, rss) in [
            ("reference", ref),
            ("pipeline", alone(pipeline, str(iso), str(tmp / "p.duckdb"))),
            ("+format", alone(pipeline, str(custom), str(tmp / "c.duckdb"))),
            ("inferred", alone(pipeline, str(inferred), str(tmp / "i.duckdb"))),
        ]:
            print(f"{name:<12}{seconds:>9.2f}{rows:>13,}{rss:>13,.0f}{seconds / ref[0]:>13.2f}")


if __name__ == "__main__":
    main()
