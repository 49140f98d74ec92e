"""Command line: `sources` checks the declarations, `run` materialises everything, `suites` writes the
expectation suites."""
from __future__ import annotations

import argparse
import io
import os
import sys

from hdh_pipeline import settings
from hdh_pipeline.ingest.load import REJECTS
from hdh_pipeline.ingest.warehouse import quote, read_connection
from hdh_pipeline.sources.loader import DeclarationError, load_sources


def list_sources() -> int:
    """Validate every declaration and say what each source yields."""
    try:
        sources = load_sources(settings.declaration_files())
    except (DeclarationError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    for source in sources:
        described = sum(t.spec is not None for t in source.tables)
        print(f"{source.id}: {len(source.tables)} tables ({described} in the dictionary), "
              f"{len(source.nomenclatures)} code lists — {source.file}")
    return 0


def summary() -> str:
    """Tables, rows and rejected rows per source, read from the warehouse."""
    lines = [f"{'source':<28}{'tables':>8}{'rows':>14}{'rejected rows':>15}"]
    with read_connection(settings.warehouse_path()) as conn:
        schemas = [s for (s,) in conn.execute(
            "SELECT DISTINCT schema_name FROM duckdb_tables() WHERE table_name = ? ORDER BY 1", [REJECTS]).fetchall()]
        for schema in schemas:
            tables = conn.execute(
                "SELECT count(*), coalesce(sum(estimated_size), 0) FROM duckdb_tables() "
                "WHERE schema_name = ? AND table_name <> ?", [schema, REJECTS]).fetchone()
            rejected = conn.execute(
                f"SELECT count(DISTINCT (table_name, file, line)) FROM {quote(schema)}.{REJECTS}").fetchone()[0]
            lines.append(f"{schema:<28}{tables[0]:>8}{tables[1]:>14,}{rejected:>15,}")
    return "\n".join(lines)


def _terminal() -> io.TextIOBase:
    """A copy of standard error: Dagster captures file descriptor 2 while steps run."""
    try:
        return os.fdopen(os.dup(sys.stderr.fileno()), "w")
    except (OSError, ValueError, io.UnsupportedOperation):  # no real file behind it (tests)
        return io.StringIO()


def _materialize_with_progress(defs, instance):  # noqa: ANN001, ANN202 - Dagster objects
    """Materialise every asset and check, with a progress bar over the steps (polled from the run's events)."""
    import threading

    import dagster as dg
    from tqdm import tqdm

    done_kinds = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
                  dg.DagsterEventType.STEP_SKIPPED}
    earlier = set(instance.get_run_ids())
    outcome: dict = {}
    worker = threading.Thread(target=lambda: outcome.update(result=dg.materialize(
        [*defs.assets, *defs.asset_checks], resources=defs.resources, instance=instance, raise_on_error=False,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}})))
    steps = len(list(defs.assets)) + len(list(defs.asset_checks))
    worker.start()
    with _terminal() as terminal, tqdm(total=steps, unit=" steps", desc="materialising", disable=None, file=terminal) as bar:
        while worker.is_alive():
            worker.join(0.5)
            runs = [r for r in instance.get_run_ids() if r not in earlier]
            if runs:
                done = len(instance.get_records_for_run(runs[0], of_type=done_kinds).records)
                bar.update(done - bar.n)
    return outcome["result"]


def run() -> int:
    """Materialise every asset of every declared source, then say where the outputs are."""
    import dagster as dg

    from hdh_pipeline.definitions import build_definitions

    defs = build_definitions()
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    result = _materialize_with_progress(defs, instance)
    failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    print("\n" + summary())
    print(f"\nWarehouse: {settings.warehouse_path()}   (rejected lines: table _rejects of each source schema)")
    print(f"Catalogue: {settings.data_dir() / 'catalogue' / 'current'}   (DuckDB, Parquet and CSV; columns in "
          "catalogue.md)")
    print(f"Quality:   {settings.data_dir() / 'quality'}/<source>/data_docs/index.html   (Great Expectations Data Docs)")
    print("Open the Dagster UI:  make ui   then browse http://127.0.0.1:3000")
    if failed:
        print(f"\n{len(failed)} assets failed: {', '.join(failed)}. Their error is in the run's logs in the UI.",
              file=sys.stderr)
        return 1
    return 0


def suites(source_ids: list[str]) -> int:
    """(Re)write the expectation suites of the sources (all by default) from their loaded tables."""
    from hdh_pipeline.quality.source import write_suites

    sources = [s for s in load_sources(settings.declaration_files()) if not source_ids or s.id in source_ids]
    unknown = set(source_ids) - {s.id for s in sources}
    if unknown:
        print(f"unknown source ids: {', '.join(sorted(unknown))}; see `hdh-pipeline sources`", file=sys.stderr)
        return 2
    with read_connection(settings.warehouse_path()) as conn:
        for source in sources:
            written = write_suites(conn, source)
            print(f"{source.id}: {len(written)} suites in {written[0].parent if written else '(no loaded table)'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hdh-pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sources", help="validate the source declarations and list what they yield")
    commands.add_parser("run", help="ingest, profile, check and catalogue every declared source")
    suites_parser = commands.add_parser("suites", help="(re)generate expectation suites, keeping hand edits")
    suites_parser.add_argument("source_ids", nargs="*", help="sources to regenerate (default: all)")
    args = parser.parse_args(argv)
    if args.command == "suites":
        return suites(args.source_ids)
    return {"sources": list_sources, "run": run}[args.command]()


if __name__ == "__main__":
    sys.exit(main())
