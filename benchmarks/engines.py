"""The two engines on the same Parquet source, each against its own reference, in one run.

    python benchmarks/engines.py                       # about 1M and 10M claim rows
    python benchmarks/engines.py --claims 1e8          # 100M (disk: about 2 GB of Parquet)

For each size the generator writes the demo's four tables as Parquet; each measure runs in its own process, so its
peak memory is its own (the Python process, and Spark's driver JVM, a child process of it in local mode,
read from /proc while it runs):
  duckdb summarize  DuckDB `SUMMARIZE` of every table, read from the Parquet files (approximate statistics)
  duckdb profile    the DuckDB engine: load into a warehouse, then the whole private profile (profile_source)
  spark summary     Spark's `summary()` of every table (count, mean, stddev, min, quartiles, max: approximate)
  spark profile     the Spark engine: the whole private profile where the files are (nothing copied)
Ratios: each engine's profile against its engine's reference. Spark runs `local[2]` unless HDH_SPARK_MASTER or
HDH_SPARK_REMOTE say otherwise.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from isolated import alone, peak_mb

CLAIMS_PER_PERSON = 34.5


def prepare(folder: Path, claims: float) -> None:
    from hdh_pipeline.generator.generate import Settings, generate

    generate(Settings(out=folder, beneficiaries=int(claims / CLAIMS_PER_PERSON), file_format="parquet"),
             folder / "source.yaml")


def peaks_mb() -> tuple[float, float]:
    """(this process's peak RSS, the largest peak RSS of its running descendants: Spark's driver JVM)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    pending, peaks = list(children.get(os.getpid(), [])), [0.0]
    while pending:
        pid = pending.pop()
        pending += children.get(pid, [])
        peaks.append(peak_mb(pid))
    return peak_mb(), max(peaks)


def measure(what: str, folder: str) -> tuple[float, int, float, float]:
    """(seconds, rows, peak MB of this process, peak MB of its children)."""
    from hdh_pipeline.sources.loader import load_source

    source = load_source(Path(folder) / "source.yaml")
    rows = 0
    if what.startswith("duckdb"):
        import duckdb

        from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
        from hdh_pipeline.engines.duckdb.load import load_source_tables
        from hdh_pipeline.engines.duckdb.warehouse import write_connection
        from hdh_pipeline.profile.source import profile_source

        started = time.perf_counter()
        if what == "duckdb summarize":
            with duckdb.connect() as conn:
                for table in source.tables:
                    files = "[" + ", ".join(f"'{f}'" for f in table.files) + "]"
                    rows += conn.execute(f"SELECT count(*) FROM read_parquet({files})").fetchone()[0]
                    conn.execute(f"SUMMARIZE SELECT * FROM read_parquet({files})").fetchall()
        else:
            with write_connection(Path(folder) / f"warehouse-{os.getpid()}.duckdb") as conn:
                loaded = load_source_tables(conn, source, Path(folder) / "staging")[:len(source.tables)]
                rows = sum(r.row_count for r in loaded)
                profile_source(DuckDBEngine.for_source(conn, source), source, 11)
        return time.perf_counter() - started, rows, *peaks_mb()
    from hdh_pipeline.engines.spark.engine import SparkEngine
    from hdh_pipeline.engines.spark.session import session, stop
    from hdh_pipeline.profile.source import profile_source

    os.environ.setdefault("HDH_SPARK_MASTER", "local[2]")
    spark = session()
    spark.range(1).collect()  # the session's start is not timed
    started = time.perf_counter()
    engine = SparkEngine(spark, source, Path(folder) / "staging")
    if what == "spark summary":
        for name in engine.tables():
            frame = engine.table(name).frame
            rows += int(frame.summary().collect()[0][1] or 0) if frame.columns else 0
    else:
        profile_source(engine, source, 11)
        rows = sum(engine.row_count(name) for name in engine.tables())
    seconds = time.perf_counter() - started
    peaks = peaks_mb()  # while the JVM runs
    stop()
    return seconds, rows, *peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=float, nargs="+", default=[1e6, 10e6])
    args = parser.parse_args()
    print(f"{'claim rows':>12}{'all rows':>13}  {'run':<18}{'seconds':>9}{'x reference':>13}"
          f"{'python MB':>11}{'JVM MB':>9}")
    for claims in args.claims:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            alone(prepare, folder, claims)
            results = {}
            for what in ("duckdb summarize", "duckdb profile", "spark summary", "spark profile"):
                results[what] = alone(measure, what, str(folder))
            for what, (seconds, rows, python, jvm) in results.items():
                reference = results[what.split()[0] + (" summarize" if what.startswith("duckdb") else " summary")][0]
                print(f"{claims:>12,.0f}{rows:>13,}  {what:<18}{seconds:>9.2f}{seconds / reference:>13.2f}"
                      f"{python:>11,.0f}{jvm:>9,.0f}")


if __name__ == "__main__":
    main()
