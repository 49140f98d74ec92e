"""Command line: `sources` checks the declarations, `run` materialises everything, `suites` writes the
expectation suites, `serve` serves the published site.

Exit codes of `run`: 0 everything succeeded; 1 a step failed (a table refused by the publication guard
included); 2 a declaration or an argument is wrong (one message, no traceback); 3 every step succeeded but an
error-severity check failed."""
from __future__ import annotations

import argparse
import io
import logging
import os
import sys

from hdh_pipeline import settings
from hdh_pipeline.ingest.load import REJECTS
from hdh_pipeline.ingest.warehouse import quote, read_connection
from hdh_pipeline.sources.loader import DeclarationError, Source, load_sources


ENVIRONMENT = """environment:
  HDH_DATA_DIR             every output (default ./data): warehouse, catalogue, quality
  HDH_SOURCES              more source declarations: paths or globs, ':'-separated
  HDH_EXPECTATIONS_DIR     the expectation suites (default: the repository's expectations/)
  HDH_DUCKDB_MEMORY_LIMIT  DuckDB's memory limit, e.g. 1GB (it spills to disk beyond)
  HDH_QUALITY_WORKERS      processes that validate a source's quality suites (default: one per core, wide sources)
  HDH_SITE_LANGUAGE        the public site's language: fr (default) or en
  HDH_SITE_URL             where the catalogue is served (IRIs of the HealthDCAT-AP export)
  HDH_WEB_ASSETS           front-end files (default assets/web/node_modules, from `make install`)
  HDH_SENSOR_INTERVAL      seconds between two looks of each source's file sensor (default 300; daemon)
  HDH_ALERT_WEBHOOK        URL that receives a JSON POST when a run fails (daemon)
  DAGSTER_HOME             Dagster's instance (run history); unset: an ephemeral one"""


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


def _run_with_progress(defs, instance, job_name: str | None, selection=None, tags: dict | None = None):  # noqa: ANN001, ANN202
    """Run a named job (or, with `selection`, an unnamed run of those assets), with a progress bar over its steps
    (polled from the run's events)."""
    import threading

    import dagster as dg
    from tqdm import tqdm

    from hdh_pipeline.defs.recovery import process_tags

    tags = {**(tags or {}), **process_tags()}
    done_kinds = {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE,
                  dg.DagsterEventType.STEP_SKIPPED}
    earlier = set(instance.get_run_ids())
    outcome: dict = {}
    # Dagster's console shows step failures with their stack traces: `run` prints its own summary instead
    config = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    if job_name is not None:
        job = defs.resolve_job_def(job_name)
        steps = len(job.all_node_defs)
        start = lambda: outcome.update(result=job.execute_in_process(  # noqa: E731
            instance=instance, raise_on_error=False, run_config=config, tags=tags))
    else:
        job = defs.resolve_implicit_global_asset_job_def()
        steps = len(job.get_subset(asset_selection=selection.resolve(job.asset_layer.asset_graph)).all_node_defs)
        start = lambda: outcome.update(result=dg.materialize(  # noqa: E731
            [*defs.assets, *defs.asset_checks], resources=defs.resources, instance=instance, raise_on_error=False,
            selection=selection, run_config=config, tags=tags))
    worker = threading.Thread(target=start)
    worker.start()
    cursor, run_id = None, None
    with _terminal() as terminal, tqdm(total=steps, unit=" steps", desc="starting", disable=None, file=terminal) as bar:
        while worker.is_alive():
            worker.join(1.0)
            run_id = run_id or next((r for r in instance.get_run_ids(limit=5) if r not in earlier), None)
            if run_id is None:
                continue
            # only the events since the last poll: the bar names the step that started last
            records = instance.get_records_for_run(run_id, cursor=cursor, of_type={
                dg.DagsterEventType.STEP_START, *done_kinds})
            cursor = records.cursor
            for record in records.records:
                event = record.event_log_entry.dagster_event
                if event.event_type == dg.DagsterEventType.STEP_START:
                    bar.set_description(event.step_key)
                else:
                    bar.update(1)
    return outcome["result"]


def _refresh(defs, instance, source_ids: list[str], tags: dict[str, str]) -> list:  # noqa: ANN001
    """One source: its job `<id>_refresh` (the source, then the catalogue with it). Every source, or several:
    the sources first, then `catalogue_publish` whatever happened to them, so that a failing source does not
    stop the others from publishing (its previous profile is published, and the refresh record says so)."""
    import datetime as dt

    import dagster as dg

    from hdh_pipeline.defs.catalogue import REFRESH_SOURCES, REFRESH_STARTED
    from hdh_pipeline.defs.assemble import PUBLISH_JOB, SOURCES_JOB

    if len(source_ids) == 1:
        return [_run_with_progress(defs, instance, f"{source_ids[0]}_refresh", tags=tags)]
    tags = {**tags, REFRESH_STARTED: dt.datetime.now(dt.timezone.utc).replace(tzinfo=None).isoformat(),
            REFRESH_SOURCES: ",".join(source_ids) or "*"}
    sources = (_run_with_progress(defs, instance, SOURCES_JOB, tags=tags) if not source_ids else
               _run_with_progress(defs, instance, None, dg.AssetSelection.groups(*source_ids), tags=tags))
    return [sources, _run_with_progress(defs, instance, PUBLISH_JOB, tags=tags)]


def _prepare(sources: list[Source]) -> None:
    """Start what the run's steps will wait for, on the core Dagster's start leaves idle (seconds of imports and
    set-up, one core): the first source's quality helpers (their Great Expectations import, quality/parallel.py;
    its steps would start them when its loading starts), and the charts' Vega bundle (built once per data folder)."""
    from hdh_pipeline.charts.write import vega_bundle
    from hdh_pipeline.quality import parallel

    if sources:
        parallel.warm_up(parallel.worker_count(len(sources[0].tables), 0, settings.memory_limit()))
    vega_bundle(wait=False)


def run(source_ids: list[str], accept: list[str] | None = None) -> int:
    """Materialise every asset of the sources (all declared ones by default) and the catalogue, then say where
    the outputs are. `accept`: `source.table` or `source` whose new loads are kept beyond the guard's tolerances."""
    try:
        sources = load_sources(settings.declaration_files())  # a declaration mistake: one message, as `sources` says
    except (DeclarationError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    if unknown := set(source_ids) - {source.id for source in sources}:
        print(f"unknown source ids: {', '.join(sorted(unknown))}; see `hdh-pipeline sources`", file=sys.stderr)
        return 2
    _prepare([source for source in sources if not source_ids or source.id in source_ids])
    import dagster as dg

    from hdh_pipeline.defs.assemble import build_definitions

    defs = build_definitions(sources)
    from hdh_pipeline.catalogue.publish import read_published
    from hdh_pipeline.defs.ingestion import ACCEPT_TAG
    from hdh_pipeline.defs.recovery import free_dead_runs

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    for line in free_dead_runs(instance):  # a run killed earlier must not block this one
        print(f"recovered: {line}", file=sys.stderr)
    published = read_published(settings.data_dir() / "catalogue", "refreshes")
    results = _refresh(defs, instance, source_ids, {ACCEPT_TAG: ",".join(accept)} if accept else {})
    failed = {e.step_key: e.step_failure_data for result in results for e in result.all_events
              if e.event_type_value == "STEP_FAILURE"}
    for result in results:  # what the steps warned of (rejected lines, columns not in the dictionary...)
        for record in instance.all_logs(result.run_id):
            if record.level == logging.WARNING and not record.is_dagster_event:
                print(f"warning: {record.step_key}: {record.user_message}", file=sys.stderr)
    print("\n" + summary())
    print(f"\nWarehouse: {settings.warehouse_path()}   (rejected lines: table _rejects of each source schema)")
    refreshes = read_published(settings.data_dir() / "catalogue", "refreshes")
    if not refreshes:
        print("Catalogue: nothing published yet (every source failed; see the errors below)")
    else:
        print(f"Catalogue: {settings.data_dir() / 'catalogue' / 'current'}   (DuckDB, Parquet and CSV; columns in "
              "catalogue.md)" + ("" if len(refreshes) > len(published) else "   NOT republished by this run"))
        print(f"Site:      {settings.data_dir() / 'catalogue' / 'current' / 'site' / 'index.html'}   (search needs "
              "`hdh-pipeline serve`)")
    print(f"Quality:   {settings.data_dir() / 'quality'}/<source>/data_docs/index.html   (Great Expectations Data Docs, "
          "internal)")
    print("Open the Dagster UI:  make ui   then browse http://127.0.0.1:3000")
    checks = [e for result in results for e in result.get_asset_check_evaluations() if not e.passed]
    for severity in (dg.AssetCheckSeverity.ERROR, dg.AssetCheckSeverity.WARN):
        listed = [c for c in checks if c.severity == severity]
        if listed:
            print(f"\nFailed checks ({severity.value.lower()}):")
            for check in listed:
                failing = check.metadata.get("failed_checks")  # a markdown table, one failed check a row
                ids = [row.split("|")[1].strip() for row in str(failing.value).splitlines()[2:]
                       if row.startswith("|")] if failing is not None else []
                detail = f": {', '.join(ids[:4])}{', ...' if len(ids) > 4 else ''}" if ids else ""
                print(f"  {'/'.join(check.asset_key.path)} {check.check_name}{detail}")
    stale = refreshes[-1]["stale_sources"] if len(refreshes) > len(published) else None
    if stale:
        print("\nStale sources (their previous profile is published):\n  " + "\n  ".join(stale.split(" | ")))
    if failed:
        print(f"\n{len(failed)} steps failed (details in the run's logs in the UI):", file=sys.stderr)
        for step, data in failed.items():
            why = data.user_failure_data.description if data.user_failure_data else data.error.message
            print(f"  {step}: {why.strip().splitlines()[0] if why else 'see the logs'}", file=sys.stderr)
        return 1
    if any(c.severity == dg.AssetCheckSeverity.ERROR for c in checks):
        print("\nError-severity checks failed (exit code 3): the catalogue is published; see the checks above.",
              file=sys.stderr)
        return 3
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


def serve(port: int) -> int:
    """Serve the published catalogue version (site, charts, exports) on 127.0.0.1 until interrupted."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    version = settings.data_dir() / "catalogue" / "current"
    if not (version / "site" / "index.html").exists():
        print(f"no published site under {version}: run `hdh-pipeline run` first", file=sys.stderr)
        return 2
    # the `current` link, not its target: a new publication is served as soon as it is current
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(version))
    with ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"Serving {version} at http://127.0.0.1:{port}/site/index.html  (Ctrl-C to stop)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hdh-pipeline", description=__doc__, epilog=ENVIRONMENT,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("sources", help="validate the source declarations and list what they yield")
    run_parser = commands.add_parser("run", help="ingest, profile, check and catalogue the declared sources")
    run_parser.add_argument("--source", dest="source_ids", action="append", default=[], metavar="ID",
                            help="only this source (repeat for more; default: every declared source)")
    run_parser.add_argument("--accept", action="append", default=[], metavar="SOURCE[.TABLE]",
                            help="keep this table's new load even beyond the publication guard's tolerances "
                                 "(rejected lines, rows lost); a source id accepts all its tables")
    suites_parser = commands.add_parser("suites", help="(re)generate expectation suites, keeping hand edits")
    suites_parser.add_argument("source_ids", nargs="*", help="sources to regenerate (default: all)")
    serve_parser = commands.add_parser("serve", help="serve the published site locally (its search needs HTTP)")
    serve_parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args(argv)
    if args.command == "sources":
        return list_sources()
    if args.command == "serve":
        return serve(args.port)
    if args.command == "run":
        return run(args.source_ids, args.accept)
    return suites(args.source_ids)


if __name__ == "__main__":
    sys.exit(main())
