"""Profiling time and peak memory against DuckDB's SUMMARIZE (and ydata-profiling), in one run.

    python benchmarks/profiling.py                                 # about 1M and 10M claim rows
    python benchmarks/profiling.py --ydata-python /path/to/python  # also ydata-profiling (minimal)

For each size, the generator writes a source (Parquet), the pipeline loads it, then each
of these runs in its own process on the same warehouse, so its peak RSS is its own:
  summarize   DuckDB `SUMMARIZE` of every table (approximate distinct counts and quantiles)
  statistics  this project's two-scan statistics of every table (profile_table)
  catalogue   the whole source profile: statistics + keys, code lists, population (profile_source)
  quality     every table's Great Expectations suite, run inside DuckDB (validate_source; Great Expectations
              imported before the clock starts, as a run's helpers import it while the tables load)
  charts      drawing the public catalogue's charts (write_charts; the profile before it is not timed)
  ydata       ydata-profiling, minimal mode, on the claims table read into pandas, where it fits
Targets: catalogue <= 2x summarize; peak RSS flat when rows grow 10x; quality side by side.
ydata-profiling pins its own pandas, so it runs from another environment: make one with
`python3.11 -m venv /tmp/ydata && /tmp/ydata/bin/pip install ydata-profiling duckdb`.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from isolated import alone, peak_mb

CLAIMS_PER_PERSON = 34.5
YDATA = """
import sys, time, duckdb
from ydata_profiling import ProfileReport
frame = duckdb.connect(sys.argv[1], read_only=True).execute('SELECT * FROM synthetic.ER_PRS_F').df()
started = time.perf_counter()
ProfileReport(frame, minimal=True, progress_bar=False).to_json()
peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM:'))
print(time.perf_counter() - started, peak / 1024)
"""


def prepare(folder: Path, claims: float) -> Path:
    from hdh_pipeline.engines.duckdb.load import load_source_tables
    from hdh_pipeline.engines.duckdb.warehouse import write_connection
    from hdh_pipeline.generator.generate import Settings, generate
    from hdh_pipeline.sources.loader import load_source

    generate(Settings(out=folder, beneficiaries=int(claims / CLAIMS_PER_PERSON), file_format="parquet"),
             folder / "source.yaml")
    source = load_source(folder / "source.yaml")
    warehouse = folder / "warehouse.duckdb"
    with write_connection(warehouse) as conn:
        load_source_tables(conn, source, folder / "staging")
    return warehouse


def measure(what: str, folder: str, memory_limit: str | None) -> tuple[float, float]:
    import os

    from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
    from hdh_pipeline.engines.duckdb.statistics import profile_table
    from hdh_pipeline.engines.duckdb.warehouse import connect
    from hdh_pipeline.profile.source import profile_source
    from hdh_pipeline.sources.loader import load_source
    from hdh_pipeline.vocabulary import reference_date

    source = load_source(Path(folder) / "source.yaml")
    if what == "quality":  # GX opens the warehouse itself; suites generated from the declaration
        import hdh_pipeline.quality.validate  # noqa: F401 - Great Expectations' import (seconds) is not timed
        from hdh_pipeline.quality.source import validate_source

        os.environ["HDH_EXPECTATIONS_DIR"] = str(Path(folder) / "expectations")
        started = time.perf_counter()
        reference = reference_date(source.declaration.reference_date, None)
        validate_source(Path(folder) / "warehouse.duckdb", source, reference, memory_limit=memory_limit)
        return time.perf_counter() - started, peak_mb()
    with connect(Path(folder) / "warehouse.duckdb", read_only=True, memory_limit=memory_limit) as conn:
        started = time.perf_counter()
        for table in source.tables:
            if what == "summarize":
                conn.execute(f"SUMMARIZE synthetic.{table.name}").fetchall()
            elif what == "statistics":
                profile_table(conn, "synthetic", table.name, 11, set(table.roles.person_id))
        if what == "catalogue":
            profile_source(DuckDBEngine.for_source(conn, source), source, 11)
        if what == "charts":
            from hdh_pipeline.catalogue.public import public_rows
            from hdh_pipeline.charts.write import write_charts

            rows = profile_source(DuckDBEngine.for_source(conn, source), source, 11).rows
            public = public_rows(rows, {source.id: 11})
            started = time.perf_counter()
            write_charts(public, Path(folder) / "charts")
        seconds = time.perf_counter() - started
    return seconds, peak_mb()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--claims", type=float, nargs="+", default=[1e6, 10e6])
    parser.add_argument("--ydata-python", help="a Python with ydata-profiling installed")
    parser.add_argument("--memory-limit", help="DuckDB memory_limit for every run, e.g. 1GB")
    args = parser.parse_args()
    print(f"{'claim rows':>12}{'all rows':>12}  {'run':<12}{'seconds':>9}{'peak RSS MB':>13}{'x summarize':>13}")
    for claims in args.claims:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            alone(prepare, folder, claims)
            import duckdb
            with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
                rows = conn.execute("SELECT sum(estimated_size) FROM duckdb_tables() "
                                    "WHERE schema_name = 'synthetic'").fetchone()[0]
            results = {}
            for what in ("summarize", "statistics", "catalogue", "quality", "charts"):
                results[what] = alone(measure, what, str(folder), args.memory_limit)
            if args.ydata_python:
                out = subprocess.run([args.ydata_python, "-c", YDATA, str(folder / "warehouse.duckdb")],
                                     capture_output=True, text=True)
                if out.returncode == 0:
                    seconds, rss = map(float, out.stdout.split()[-2:])
                    results["ydata (claims)"] = (seconds, rss)
                else:
                    print(f"ydata-profiling failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            reference = results["summarize"][0]
            for what, (seconds, rss) in results.items():
                print(f"{claims:>12,.0f}{rows:>12,}  {what:<12}{seconds:>9.2f}{rss:>13,.0f}"
                      f"{seconds / reference:>13.2f}")


if __name__ == "__main__":
    main()
