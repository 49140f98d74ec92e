"""The catalogue's assets: one per public table, the charts of each source, the site and the exports, all
published together by one step (publication.py)."""

import datetime as dt

import dagster as dg

from hdh_pipeline import settings
from hdh_pipeline.defs.database import database_result, database_spec, documentation_check, documentation_check_spec
from hdh_pipeline.defs.keys import CATALOGUE as GROUP
from hdh_pipeline.defs.keys import database_key, profile_key, quality_key
from hdh_pipeline.defs.resources import WRITES, Warehouse
from hdh_pipeline.publication import Refresh, publish_catalogue
from hdh_pipeline.schema import TABLES
from hdh_pipeline.sources.loader import Source

REFRESH_STARTED = "hdh/refresh_started"  # run tags of a refresh made of several runs (see cli.py)
REFRESH_SOURCES = "hdh/refresh_sources"


def refresh_of(tags: dict[str, str]) -> Refresh:
    """The refresh a run publishes, from its tags: a refresh made of several runs (the CLI's, or the sensors') says
    when it started and which sources it meant to profile (ids, or `*` for all)."""
    started, attempted = tags.get(REFRESH_STARTED), tags.get(REFRESH_SOURCES)
    if not started:
        return Refresh()
    return Refresh(dt.datetime.fromisoformat(started), None if attempted in (None, "*") else set(attempted.split(",")))


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
    ] + [database_spec(s) for s in sources] + [
    ] + [
        dg.AssetSpec(key=[GROUP, "site"], group_name=GROUP, kinds={"html"}, tags={"hdh/layer": "site"},
                     deps=[database_key(s) for s in sources],
                     description="The public site: a static, searchable dictionary of every database (pages per "
                                 "database, table, variable and code list), from the published catalogue and charts, "
                                 "published with them. Serve it with `hdh-pipeline serve`."),
        dg.AssetSpec(key=[GROUP, "exports"], group_name=GROUP, kinds={"json"}, tags={"hdh/layer": "exports"},
                              deps=[[GROUP, table] for table in TABLES],
                     description="HealthDCAT-AP (Turtle, JSON-LD) of the catalogue and a Frictionless Data Package per "
                                 "source, published with it."),
    ]

    @dg.multi_asset(specs=specs, check_specs=[documentation_check_spec(s) for s in sources],
                    name="publish_catalogue", **WRITES)
    def _catalogue(context: dg.AssetExecutionContext, warehouse: Warehouse):
        """Apply disclosure control to every source's profile and publish the catalogue atomically."""
        published = publish_catalogue(warehouse.path, warehouse.catalogue_dir,
                                      {s.id: s.declaration.disclosure_k for s in sources}, refresh_of(context.run.tags))
        for source_id in published.missing:
            context.log.warning(f"source {source_id} has no profile yet: it is left out of the catalogue")
        for source_id, why in published.stale.items():
            context.log.warning(f"source {source_id} is stale, its previous profile is published: {why}")
        if settings.site_url() == settings.SITE_URL_PLACEHOLDER:
            context.log.warning(f"HDH_SITE_URL is not set: the exports' IRIs name the placeholder "
                                f"{settings.SITE_URL_PLACEHOLDER}; set it to where the catalogue is served")
        version, served = published.version, settings.public_url()  # links to what is served: always `current`
        context.log.info(f"published {version.name}: charts, site and exports in " +
                         ", ".join(f"{name} {seconds} s" for name, seconds in published.seconds.items()))
        for table in TABLES:
            yield dg.MaterializeResult(asset_key=[GROUP, table], metadata={
                "dagster/row_count": len(published.tables[table]),
                "parquet": dg.MetadataValue.url(f"{served}parquet/{table}.parquet"),
                "csv": dg.MetadataValue.url(f"{served}csv/{table}.csv"),
                "version": version.name,
            })
        rows = {d["source_id"]: d for d in published.tables["databases"]}
        for source in sources:
            if source.id in published.charts:
                yield database_result(source, rows[source.id], published.tables, published.charts[source.id])
        for source in sources:  # checks after every materialization (defs/events.py); one per source, published or not
            yield documentation_check(source, published.tables)
        yield dg.MaterializeResult(asset_key=[GROUP, "site"], metadata={
            "home": dg.MetadataValue.url(f"{served}site/index.html"),
            "pages": sum(1 for _ in (version / "site").rglob("*.html")),
            "pages_seconds": published.seconds.get("pages"), "search_seconds": published.seconds.get("search"),
        })
        yield dg.MaterializeResult(asset_key=[GROUP, "exports"], metadata={
            "healthdcat_ap": dg.MetadataValue.url(f"{served}exports/catalogue.ttl"),
            "data_packages": len(list((version / "exports").glob("*/datapackage.json"))),
        })

    return _catalogue
