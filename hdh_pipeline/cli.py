"""Command line: `sources` checks the declarations, `run` refreshes and publishes, `suites` writes the expectation
suites, `serve` serves the published site (or, `--internal`, the internal reports).

Exit codes of `run`: 0 everything succeeded; 1 a step failed (a table refused by the publication guard
included); 2 a declaration or an argument is wrong (one message, no traceback); 3 every step succeeded but an
error-severity check failed."""
from __future__ import annotations

import argparse
import contextlib
import sys
from typing import TYPE_CHECKING

from hdh_pipeline import settings
from hdh_pipeline.sources.loader import DeclarationError, Source, load_sources

if TYPE_CHECKING:
    from hdh_pipeline.defs.runs import Report


def _sources(source_ids: list[str]) -> list[Source] | str:
    """The declared sources, or what is wrong (a declaration, an unknown id), in one message."""
    try:
        sources = load_sources(settings.declaration_files())
    except (DeclarationError, FileNotFoundError) as error:
        return str(error)
    if unknown := set(source_ids) - {source.id for source in sources}:
        return f"unknown source ids: {', '.join(sorted(unknown))}; see `hdh-pipeline sources`"
    return sources


def list_sources() -> int:
    """Validate every declaration and say what each source yields."""
    sources = _sources([])
    if isinstance(sources, str):
        print(sources, file=sys.stderr)
        return 2
    for source in sources:
        described = sum(t.spec is not None for t in source.tables)
        print(f"{source.id}: {len(source.tables)} tables ({described} in the dictionary), "
              f"{len(source.nomenclatures)} code lists — {source.file}")
    return 0


def run(source_ids: list[str], accept: list[str]) -> int:
    """Refresh the sources (all declared ones by default) and publish the catalogue, then say what happened and
    where the outputs are."""
    sources = _sources(source_ids)
    if isinstance(sources, str):
        print(sources, file=sys.stderr)
        return 2
    from hdh_pipeline.defs.runs import refresh  # Dagster: seconds to import

    report = refresh(sources, source_ids, accept)
    _print(report)
    return report.exit_code


def _print(report: Report) -> None:
    """What a refresh did, and where its outputs are."""
    for line in report.recovered:
        print(f"recovered: {line}", file=sys.stderr)
    for line in report.warnings:
        print(f"warning: {line}", file=sys.stderr)
    print(f"\n{'source':<28}{'tables':>8}{'rows':>14}{'rejected lines':>16}")
    for loaded in report.loaded:
        print(f"{loaded.source:<28}{loaded.tables:>8}{loaded.rows:>14,}{loaded.rejected:>16,}")
    current = settings.catalogue_dir() / "current"
    print(f"\nWarehouse: {settings.warehouse_path()}   (rejected lines: table _rejects of each source schema)")
    if not current.exists():
        print("Catalogue: nothing published yet (every source failed; see the errors below)")
    else:
        print(f"Catalogue: {current}   (DuckDB, Parquet and CSV; columns in catalogue.md)" +
              ("" if report.published else "   NOT republished by this run"))
        print(f"Site:      {current / 'site' / 'index.html'}   (search needs `hdh-pipeline serve`)")
    print(f"Quality:   {settings.data_dir() / 'quality'}/<source>/data_docs/index.html   (Great Expectations Data "
          "Docs, internal)")
    print("Open the Dagster UI:  make ui   then browse http://127.0.0.1:3000")
    for severity in ("error", "warning"):
        listed = [c for c in report.failed_checks if c.severity == severity]
        if listed:
            print(f"\nFailed checks ({severity}):")
            for check in listed:
                detail = f": {', '.join(check.failed[:4])}{', ...' if len(check.failed) > 4 else ''}" \
                    if check.failed else ""
                print(f"  {check.asset} {check.check}{detail}")
    if report.stale:
        print("\nStale sources (their previous profile is published):\n  " + "\n  ".join(report.stale))
    if report.failed_steps:
        print(f"\n{len(report.failed_steps)} steps failed (details in the run's logs in the UI):", file=sys.stderr)
        for step, why in report.failed_steps.items():
            print(f"  {step}: {why}", file=sys.stderr)
    elif report.exit_code == 3:
        print("\nError-severity checks failed (exit code 3): the catalogue is published; see the checks above.",
              file=sys.stderr)


def suites(source_ids: list[str]) -> int:
    """(Re)write the expectation suites of the sources (all by default) from their loaded tables and profiles."""
    sources = _sources(source_ids)
    if isinstance(sources, str):
        print(sources, file=sys.stderr)
        return 2
    from hdh_pipeline.quality.source import write_source_suites

    for source in sources:
        if not source_ids or source.id in source_ids:
            try:
                written = write_source_suites(source)
            except (FileNotFoundError, ValueError) as error:
                print(error, file=sys.stderr)
                return 2
            print(f"{source.id}: {len(written)} suites in {written[0].parent if written else '(no loaded table)'}")
    return 0


def serve(port: int | None, internal: bool, host: str) -> int:
    """Serve the published catalogue version (site, charts, exports), or with `internal` the internal reports (Data
    Docs, documentation to-do lists: never public), until interrupted."""
    import functools
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    if internal:
        folder, home, port = settings.internal_dir(), "", 8001 if port is None else port
        if not folder.exists():
            print(f"no internal reports under {folder}: run `hdh-pipeline run` first", file=sys.stderr)
            return 2
    else:
        # the `current` link, not its target: a new publication is served as soon as it is current
        folder, home, port = settings.catalogue_dir() / "current", "site/index.html", 8000 if port is None else port
        if not (folder / home).exists():
            print(f"no published site under {folder}: run `hdh-pipeline run` first", file=sys.stderr)
            return 2
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    with ThreadingHTTPServer((host, port), handler) as server:
        print(f"Serving {folder} at http://{host}:{port}/{home}  (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hdh-pipeline", description=__doc__, epilog=settings.help_text(),
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
    serve_parser = commands.add_parser("serve", help="serve the published site (its search needs HTTP), or the "
                                                     "internal reports")
    serve_parser.add_argument("--port", type=int, default=None, help="default 8000, 8001 with --internal")
    serve_parser.add_argument("--internal", action="store_true",
                              help="the internal reports (Data Docs, documentation to-do lists) instead of the site")
    serve_parser.add_argument("--host", default="127.0.0.1", help="the address to bind (default: this machine only)")
    args = parser.parse_args(argv)
    if args.command == "sources":
        return list_sources()
    if args.command == "serve":
        return serve(args.port, args.internal, args.host)
    if args.command == "run":
        return run(args.source_ids, args.accept)
    return suites(args.source_ids)


if __name__ == "__main__":
    sys.exit(main())
