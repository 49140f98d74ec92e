"""Profile assets (one per source) and the catalogue assets (one per public table, published together)."""

import base64
import datetime as dt
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import dagster as dg

from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.charts.write import rendering_beside, vega_bundle, write_charts
from hdh_pipeline.exports.write import exporting
from hdh_pipeline.site.build import build_site, index_search
from hdh_pipeline.catalogue.publish import publish, read_published
from hdh_pipeline.catalogue.schema import TABLES
from hdh_pipeline.defs.quality import quality_key
from hdh_pipeline.defs.resources import WRITES, Warehouse
from hdh_pipeline.profile.drift import COMPARED, Change, compare
from hdh_pipeline.profile.source import profile_source
from hdh_pipeline.profile.store import load_failures, load_profiles, record_load, save_rows
from hdh_pipeline.sources.loader import Source

GROUP = "catalogue"
PROFILE_STEP = "(profile)"  # the `table` of a failed profile in the failure records
REFRESH_STARTED = "hdh/refresh_started"  # run tags of a refresh made of several runs (see cli.py)
REFRESH_SOURCES = "hdh/refresh_sources"


def profile_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "profile"])


def charts_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "charts"])


def _stale(context: dg.AssetExecutionContext, databases: list[dict], failures: dict[str, list[str]]) -> dict[str, str]:
    """Sources whose published profile is older than their data -> why: a table whose last load failed
    (`failures`), or a refresh made of several runs (the CLI's tags `hdh/refresh_started`, `hdh/refresh_sources`:
    ids, or `*` for all) that meant to profile the source and did not."""
    started, attempted = context.run.tags.get(REFRESH_STARTED), context.run.tags.get(REFRESH_SOURCES)
    wanted = set() if not attempted else None if attempted == "*" else set(attempted.split(","))
    since = dt.datetime.fromisoformat(started) if started else None
    stale = {}
    for database in databases:
        source_id, last = database["source_id"], database["last_refresh"]
        missed = since is not None and (wanted is None or source_id in wanted) and last is not None and last < since
        if missed or source_id in failures:
            why = failures.get(source_id, []) or ["not profiled by this refresh"]
            stale[source_id] = f"{'; '.join(why)}; last profiled at {last:%Y-%m-%d %H:%M} UTC"
    return stale


def _image(path: Path, title: str) -> dg.MetadataValue:
    """A PNG shown in the Dagster UI (markdown with the image inline)."""
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{base64.b64encode(path.read_bytes()).decode()})")


def _drift_check(key: dg.AssetKey, changes: list[Change], first: bool) -> dg.AssetCheckResult:
    """Fails (error) when a change breaks the dictionary, (warning) when anything moved beyond the tolerances."""
    breaking = [c for c in changes if c.breaks_dictionary]
    lines = ["| table | variable | change | measure | before | after |", "|---|---|---|---|---|---|"] + [
        f"| {c.table_name} | {c.variable or ''} | {c.change}{' (breaks the dictionary)' if c.breaks_dictionary else ''}"
        f" | {c.measure or ''} | {'' if c.before is None else c.before} | {'' if c.after is None else c.after} |"
        for c in changes]
    return dg.AssetCheckResult(
        asset_key=key, check_name="drift", passed=not changes,
        severity=dg.AssetCheckSeverity.ERROR if breaking else dg.AssetCheckSeverity.WARN,
        description="first refresh: nothing to compare with" if first else
        f"{len(changes)} changes since the previous refresh, {len(breaking)} breaking the dictionary" if changes
        else "nothing moved beyond the source's tolerances since the previous refresh",
        metadata={"changes": len(changes), "breaking_the_dictionary": len(breaking),
                  **({"detail": dg.MetadataValue.md("\n".join(lines))} if changes else {})})


def build_profile_asset(source: Source, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    key = profile_key(source)

    @dg.asset(
        key=key,
        deps=upstream,
        group_name=source.id,
        kinds={"duckdb"},
        tags={"hdh/layer": "profile"},
        description=f"Exact statistics of every table and variable of {source.declaration.title}, kept private "
                    "in the warehouse (schema catalogue_internal, and every refresh in catalogue_history): what the "
                    "public catalogue is computed from.",
        check_specs=[dg.AssetCheckSpec("drift", asset=key, description=(
            "What moved since the previous refresh (tables, columns, types, rows, completeness, distributions) "
            "beyond the source's tolerances: a warning, or an error when the data no longer matches its "
            "dictionary"))],
        **WRITES,
    )
    def _profile(context: dg.AssetExecutionContext, warehouse: Warehouse):
        try:
            with warehouse.write() as conn:
                previous = load_profiles(conn, [source.id], COMPARED)
                profile = profile_source(conn, source, source.declaration.disclosure_k)
                changes = compare(previous, profile.rows, source.declaration.tolerances)
                profiled_at = profile.rows["databases"][0]["last_refresh"]
                profile.rows["changes"] = [c.row(source.id) | {"detected_at": profiled_at} for c in changes]
                save_rows(conn, source.id, profile.rows, history=source.declaration.history)
                record_load(conn, source.id, PROFILE_STEP)
        except Exception as error:  # the source stays stale, and the next publication says why
            with warehouse.write() as conn:
                record_load(conn, source.id, PROFILE_STEP, "its profile failed", str(error))
            raise
        database = profile.rows["databases"][0]
        yield dg.MaterializeResult(metadata={
            "dagster/row_count": len(profile.rows["variables"]),
            "tables": database["table_count"],
            "profiling_seconds": database["profiling_seconds"],
            "changes_since_previous_refresh": len(changes),
        })
        if dg.AssetCheckKey(key, "drift") in context.selected_asset_check_keys:
            yield _drift_check(key, changes, first=not previous["tables"])

    return _profile


def _column_schema(table: str) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in TABLES[table]])


def build_catalogue_assets(sources: list[Source]) -> dg.AssetsDefinition:
    specs = [
        dg.AssetSpec(
            key=[GROUP, table], group_name=GROUP, kinds={"duckdb", "parquet"}, tags={"hdh/layer": "catalogue"},
            deps=[key for s in sources for key in (profile_key(s), quality_key(s))],
            description=f"Public catalogue table `{table}`, under disclosure control (see docs/catalogue.md).",
            metadata={"dagster/column_schema": _column_schema(table)},
        )
        for table in TABLES
    ] + [
        dg.AssetSpec(
            key=charts_key(s), group_name=GROUP, kinds={"altair"}, tags={"hdh/layer": "charts"}, skippable=True,
            deps=[[GROUP, table] for table in TABLES],
            description=f"Charts of {s.declaration.title}, drawn from the published catalogue only and published "
                        "with it (so in the catalogue group, made by its step): age pyramid, sex, coverage over time, completeness, quality (Vega-Lite, PNG, "
                        "HTML), and one spec per variable.")
        for s in sources
    ] + [
        dg.AssetSpec(key=[GROUP, "site"], group_name=GROUP, kinds={"html"}, tags={"hdh/layer": "site"},
                     deps=[charts_key(s) for s in sources],
                     description="The public site: a static, searchable dictionary of every database (pages per "
                                 "database, table, variable and code list), from the published catalogue and charts, "
                                 "published with them. Serve it with `hdh-pipeline serve`."),
        dg.AssetSpec(key=[GROUP, "exports"], group_name=GROUP, kinds={"json"}, tags={"hdh/layer": "exports"},
                              deps=[[GROUP, table] for table in TABLES],
                     description="HealthDCAT-AP (Turtle, JSON-LD) of the catalogue and a Frictionless Data Package per "
                                 "source, published with it."),
    ]

    @dg.multi_asset(specs=specs, name="publish_catalogue", **WRITES)
    def _catalogue(context: dg.AssetExecutionContext, warehouse: Warehouse):
        """Apply disclosure control to every source's profile and publish the catalogue atomically."""
        started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        vega_bundle(wait=False)  # built meanwhile, if not yet
        ids = [s.id for s in sources]
        with warehouse.read() as conn:
            internal = load_profiles(conn, ids)
            failures = load_failures(conn)
        public = public_rows(internal, {s.id: s.declaration.disclosure_k for s in sources})
        profiled = {d["source_id"]: d["profiling_seconds"] for d in internal["databases"]}
        missing = [i for i in ids if i not in profiled]
        for source_id in missing:
            context.log.warning(f"source {source_id} has no profile yet: it is left out of the catalogue")
        stale = _stale(context, internal["databases"], failures)
        for source_id, why in stale.items():
            context.log.warning(f"source {source_id} is stale, its previous profile is published: {why}")
        finished = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        public["refreshes"] = read_published(warehouse.catalogue_dir, "refreshes") + [{
            "refresh_id": uuid.uuid4().hex[:12], "started_at": started, "finished_at": finished,
            "duration_seconds": (finished - started).total_seconds(), "sources": ", ".join(sorted(profiled)),
            "profiling_seconds": ", ".join(f"{i}={s}" for i, s in sorted(profiled.items())),
            "outcome": "partial" if missing or stale else "success",
            "stale_sources": " | ".join(f"{i} ({why})" for i, why in sorted(stale.items())) or None,
        }]
        drawn: dict[str, dict[str, Path]] = {}

        timings: dict[str, float] = {}

        def draw(version: Path) -> None:
            """Charts, then the site that shows them, and the exports: all in the version being published. The
            exports, the charts' PNGs and the site's search index are written by processes of their own, beside
            this one; `waited` is what was left to wait for at the end."""
            def timed(name: str, step: Callable[[], object]) -> None:
                started_step = time.perf_counter()
                step()
                timings[name] = round(time.perf_counter() - started_step, 2)

            with exporting(version), rendering_beside() as render:  # the PNGs are drawn while the site is built
                timed("charts", lambda: drawn.update(write_charts(public, version / "charts", render)))
                timed("pages", lambda: build_site(public, version, search=False))
                timed("search", lambda: index_search(version / "site"))
                waited = time.perf_counter()
            timings["waited"] = round(time.perf_counter() - waited, 2)

        version = publish(public, warehouse.catalogue_dir, write_more=draw)
        context.log.info(f"published {version.name}: charts, site and exports in " +
                         ", ".join(f"{name} {seconds} s" for name, seconds in timings.items()))
        for table in TABLES:
            yield dg.MaterializeResult(asset_key=[GROUP, table], metadata={
                "dagster/row_count": len(public[table]),
                "parquet": dg.MetadataValue.path(str(version / "parquet" / f"{table}.parquet")),
                "version": version.name,
            })
        for source in sources:
            if source.id not in drawn:
                continue
            charts = drawn[source.id]
            metadata = {name: _image(charts[name], name) for name in ("pyramid", "sex") if name in charts}
            yield dg.MaterializeResult(asset_key=charts_key(source), metadata={
                **metadata, "charts": dg.MetadataValue.path(str(version / "charts" / source.id)),
                "html": dg.MetadataValue.md("\n".join(f"- [{name}]({path.with_suffix('.html').as_uri()})"
                                                      for name, path in charts.items())),
                "site": dg.MetadataValue.path(str(version / "site" / source.id / "index.html")),
                **{f"{name}_seconds (all sources)": seconds for name, seconds in timings.items()},
            })

        yield dg.MaterializeResult(asset_key=[GROUP, "site"], metadata={
            "home": dg.MetadataValue.path(str(version / "site" / "index.html")),
            "pages": sum(1 for _ in (version / "site").rglob("*.html")),
            "pages_seconds": timings.get("pages"), "search_seconds": timings.get("search"),
        })
        yield dg.MaterializeResult(asset_key=[GROUP, "exports"], metadata={
            "healthdcat_ap": dg.MetadataValue.path(str(version / "exports" / "catalogue.ttl")),
            "data_packages": len(list((version / "exports").glob("*/datapackage.json"))),
        })

    return _catalogue
