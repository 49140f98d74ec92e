"""Wide sources: fixed costs per table, variable and check, against DuckDB's SUMMARIZE in one run.

    python benchmarks/wide.py                         # the synthetic SNDS (if ../shared is here) and a
                                                      # generated source of 200 tables x 25 columns
    python benchmarks/wide.py --tables 400 --columns 30 --rows 50

Each source is ingested once; then each of these runs in its own process on the same
warehouse, so its time and peak RSS are its own:
  summarize   DuckDB `SUMMARIZE` of every table (the reference)
  ingest      every table and code list loaded (load_source_tables)
  profile     the whole source profile (profile_source)
  quality     every table's Great Expectations suite (validate_source, Data Docs included; helper processes
              started then, not ahead as in a run)
  cli         `hdh-pipeline run --source ID` end to end in a fresh data folder (Dagster, in process)
  charts      drawing the charts of the catalogue that run published (write_charts, part of the cli run)
  ui          the source's job `<id>_refresh` launched as a schedule or the UI does (GraphQL `launchRun` to
              `dagster dev`: webserver, daemon, run queue), from the request to the run's end; then `ui / cli`
The demo's CLI run is measured too, for peak memory against width. Peak RSS is that of the largest process;
for a cli run, the peak of all its processes summed is printed beside.
Targets (issue 12): cli <= 60 s and <= 12x summarize, profile <= 2x, quality <= 4x.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from isolated import alone, peak_mb

REPO = Path(__file__).resolve().parent.parent
SNDS = REPO / "assets" / "examples" / "synthetic-snds.yaml"
KINDS = [("integer", "CAST(i * {j} % 97 AS VARCHAR)"), ("number", "CAST(round(i * 1.37 + {j}, 2) AS VARCHAR)"),
         ("date", "strftime(DATE '2020-01-01' + CAST((i * {j}) % 1400 AS INTEGER), '%Y-%m-%d')"),
         ("string", "'C' || CAST((i + {j}) % 13 AS VARCHAR)")]


def generate_wide(folder: Path, tables: int, columns: int, rows: int) -> Path:
    """`tables` CSV files of `rows` rows and `columns` typed columns, with Table Schemas and a declaration."""
    import duckdb

    (folder / "data").mkdir(parents=True)
    (folder / "schemas").mkdir()
    with duckdb.connect() as conn:
        for t in range(tables):
            fields, select = [{"name": "ID", "type": "integer"}], ["CAST(i AS VARCHAR) AS ID"]
            for j in range(1, columns):
                kind, sql = KINDS[(t + j) % len(KINDS)]
                fields.append({"name": f"V{j:03d}", "type": kind, "description": f"variable {j}"})
                select.append(f"CASE WHEN (i + {j}) % 17 = 0 THEN NULL ELSE {sql.format(j=j)} END AS V{j:03d}")
            name = f"T{t:03d}"
            conn.execute(f"COPY (SELECT {', '.join(select)} FROM range({rows}) r(i)) "
                         f"TO '{folder / 'data' / name}.csv' (HEADER)")
            (folder / "schemas" / f"{name}.json").write_text(json.dumps(
                {"name": name, "fields": fields, "primaryKey": ["ID"]}))
    declaration = folder / "source.yaml"
    declaration.write_text(yaml.safe_dump({
        "id": "wide", "title": "Wide source", "producer": {"name": "benchmark"}, "licence": "CC0",
        "location": "data", "dictionary": {"path": "schemas"}, "reference_date": "2024-12-31"}))
    return declaration


def ingest(declaration: str, warehouse: str) -> tuple[float, float]:
    from hdh_pipeline.engines.duckdb.load import load_source_tables
    from hdh_pipeline.engines.duckdb.warehouse import write_connection
    from hdh_pipeline.sources.loader import load_source

    source = load_source(Path(declaration))
    started = time.perf_counter()
    with write_connection(Path(warehouse)) as conn:
        load_source_tables(conn, source, Path(warehouse).parent / "staging")
    return time.perf_counter() - started, peak_mb()


def measure(what: str, declaration: str, warehouse: str) -> tuple[float, float]:
    import duckdb

    from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
    from hdh_pipeline.profile.source import profile_source
    from hdh_pipeline.quality.source import validate_source
    from hdh_pipeline.sources.loader import load_source
    from hdh_pipeline.vocabulary import reference_date

    source = load_source(Path(declaration))
    started = time.perf_counter()
    if what == "quality":
        os.environ["HDH_EXPECTATIONS_DIR"] = str(Path(warehouse).parent / "expectations")
        validate_source(Path(warehouse), source, reference_date(source.declaration.reference_date, None),
                        Path(warehouse).parent / "docs")
    else:
        with duckdb.connect(warehouse, read_only=True) as conn:
            if what == "summarize":
                for table in source.tables:
                    conn.execute(f'SUMMARIZE "{source.id}"."{table.name}"').fetchall()
            else:
                profile_source(DuckDBEngine.for_source(conn, source), source, source.declaration.disclosure_k)
    largest = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return time.perf_counter() - started, largest / 1024  # quality: its helper processes are children


def cli(declaration: Path | None, source_id: str, folder: Path) -> tuple[float, float, float]:
    """`hdh-pipeline run --source ID` in a fresh data folder and Dagster home; (seconds, peak RSS MB of its
    largest process, peak of the summed RSS of all its processes MB)."""
    env = os.environ | {"HDH_DATA_DIR": str(folder / "data"), "DAGSTER_HOME": str(folder / "home"),
                        "HDH_EXPECTATIONS_DIR": str(folder / "expectations"),
                        "HDH_SOURCES": str(declaration) if declaration else ""}
    (folder / "home").mkdir(parents=True)
    (folder / "home" / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    with tempfile.TemporaryFile("w+") as output:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "hdh_pipeline.cli", "run", "--source", source_id], env=env,
                                   stdout=output, stderr=output, text=True)
        tree = _tree_peak(process)
        seconds = time.perf_counter() - started
        if process.returncode not in (0, 3):  # 3: error-severity checks failed, the run itself succeeded
            output.seek(0)
            print(f"cli run of {source_id} failed:\n{output.read()[-2000:]}", file=sys.stderr)
    return seconds, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, tree


def _tree_peak(process: subprocess.Popen) -> float:
    """The peak of the summed RSS (MB) of a process and its descendants (helpers, exports, Pagefind), sampled
    every 0.2 s until it exits."""
    import psutil

    root, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        total = 0
        try:
            for member in [root, *root.children(recursive=True)]:
                total += member.memory_info().rss
        except psutil.Error:
            pass  # one exited meanwhile
        peak = max(peak, total)
        time.sleep(0.2)
    return peak / 2**20


def charts(folder: Path) -> tuple[float, float]:
    """Draw again the charts of the catalogue published in `folder` (by `cli`); (seconds, peak RSS MB)."""
    from hdh_pipeline.catalogue.publish import read_version
    from hdh_pipeline.charts.write import write_charts

    os.environ["HDH_DATA_DIR"] = str(folder / "data")
    public = read_version(folder / "data" / "catalogue" / "current")
    started = time.perf_counter()
    write_charts(public, folder / "charts")
    return time.perf_counter() - started, peak_mb()


GRAPHQL = "http://127.0.0.1:{port}/graphql"
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status startTime endTime } } }"""


def _graphql(port: int, query: str, variables: dict) -> dict:
    import urllib.request

    request = urllib.request.Request(GRAPHQL.format(port=port), json.dumps(
        {"query": query, "variables": variables}).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


def ui(declaration: Path | None, source_id: str, folder: Path, port: int = 3917) -> tuple[float, float]:
    """Launch the source's job `<id>_refresh` (its assets, checks and the catalogue) from `dagster dev`, as its
    schedule or its sensor does; (seconds from the request to the run's end, the run's own duration)."""
    import signal

    env = os.environ | {"HDH_DATA_DIR": str(folder / "data"), "DAGSTER_HOME": str(folder / "home"),
                        "HDH_EXPECTATIONS_DIR": str(folder / "expectations"),
                        "HDH_SOURCES": str(declaration) if declaration else ""}
    (folder / "home").mkdir(parents=True)
    (folder / "home" / "dagster.yaml").write_text((REPO / "dagster.yaml").read_text())
    server = subprocess.Popen([str(Path(sys.executable).parent / "dagster"), "dev", "-w", str(REPO / "workspace.yaml"),
                               "-p", str(port), "-h", "127.0.0.1"], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(240):  # the code location loads in the background
            try:
                launched = _graphql(port, LAUNCH, {"p": {"selector": {
                    "repositoryLocationName": "hdh_pipeline.definitions", "repositoryName": "__repository__",
                    "jobName": f"{source_id}_refresh"}}})["launchRun"]
                if launched["__typename"] == "LaunchRunSuccess":
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"dagster dev did not accept the run: {launched}")
        started = time.perf_counter()
        while True:
            run = _graphql(port, STATUS, {"id": launched["run"]["runId"]})["runOrError"]
            if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
                return time.perf_counter() - started, run["endTime"] - run["startTime"]
            time.sleep(0.5)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def shape(declaration: Path) -> tuple[str, int, int]:
    from hdh_pipeline.sources.loader import load_source

    source = load_source(declaration)
    variables = sum(len(t.spec.columns) for t in source.tables if t.spec)
    return source.id, len(source.tables), variables


def run(declaration: Path, folder: Path, with_ui: bool) -> None:
    source_id, tables, variables = shape(declaration)
    warehouse = str(folder / "warehouse.duckdb")
    results = {}
    results["ingest"] = alone(ingest, str(declaration), warehouse)
    for what in ("summarize", "profile", "quality"):
        results[what] = alone(measure, what, str(declaration), warehouse)
    results["cli"] = alone(cli, declaration, source_id, folder / "cli")
    results["charts"] = alone(charts, folder / "cli")
    reference = results["summarize"][0]
    for what, (seconds, rss, *tree) in results.items():
        print(f"{source_id:<16}{tables:>7}{variables:>10}  {what:<10}{seconds:>9.2f}{rss:>13,.0f}"
              f"{seconds / reference:>13.2f}" + (f"   (all its processes: {tree[0]:,.0f} MB)" if tree else ""),
              flush=True)
    if with_ui:
        seconds, in_run = alone(ui, declaration, source_id, folder / "ui")
        print(f"{source_id:<16}{tables:>7}{variables:>10}  {'ui':<10}{seconds:>9.2f}{'':>13}"
              f"{seconds / reference:>13.2f}"
              f"   (run {in_run:.1f} s; ui / cli = {seconds / results['cli'][0]:.2f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--columns", type=int, default=25)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--no-snds", action="store_true", help="skip the synthetic SNDS even if it is here")
    parser.add_argument("--no-ui", action="store_true", help="skip the runs launched through `dagster dev`")
    args = parser.parse_args()
    print(f"{'source':<16}{'tables':>7}{'variables':>10}  {'run':<10}{'seconds':>9}{'peak RSS MB':>13}"
          f"{'x summarize':>13}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        seconds, rss, tree = alone(cli, None, "demo", Path(tmp) / "demo")
        print(f"{'demo':<16}{4:>7}{33:>10}  {'cli':<10}{seconds:>9.2f}{rss:>13,.0f}{'':>13}"
              f"   (all its processes: {tree:,.0f} MB)", flush=True)
        seconds, rss = alone(charts, Path(tmp) / "demo")
        print(f"{'demo':<16}{4:>7}{33:>10}  {'charts':<10}{seconds:>9.2f}{rss:>13,.0f}{'':>13}", flush=True)
        shared = REPO.parent / "shared" / "data" / "synthetic-snds"
        if shared.exists() and not args.no_snds:
            run(SNDS, Path(tmp) / "snds", not args.no_ui)
        run(generate_wide(Path(tmp) / "wide", args.tables, args.columns, args.rows), Path(tmp) / "wide", False)


if __name__ == "__main__":
    main()
