"""Profile assets (one per source) and the catalogue assets (one per public table, published together)."""

import datetime as dt
import uuid

import dagster as dg

from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.catalogue.publish import publish, read_published
from hdh_pipeline.catalogue.schema import TABLES
from hdh_pipeline.defs.quality import quality_key
from hdh_pipeline.defs.resources import WRITER_POOL, Warehouse
from hdh_pipeline.profile.source import profile_source
from hdh_pipeline.profile.store import load_profiles, save_rows
from hdh_pipeline.sources.loader import Source

GROUP = "catalogue"


def profile_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "profile"])


def build_profile_asset(source: Source, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=profile_key(source),
        deps=upstream,
        group_name=source.id,
        owners=source.declaration.owners,
        kinds={"duckdb"},
        tags={"hdh/layer": "profile"},
        description=f"Exact statistics of every table and variable of {source.declaration.title}, kept private "
                    "in the warehouse (schema catalogue_internal): what the public catalogue is computed from.",
        pool=WRITER_POOL,
    )
    def _profile(context: dg.AssetExecutionContext, warehouse: Warehouse) -> dg.MaterializeResult:
        with warehouse.write() as conn:
            profile = profile_source(conn, source, source.declaration.disclosure_k)
            save_rows(conn, source.id, profile.rows)
        database = profile.rows["databases"][0]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(profile.rows["variables"]),
            "tables": database["table_count"],
            "profiling_seconds": database["profiling_seconds"],
        })

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
    ]

    @dg.multi_asset(specs=specs, name="publish_catalogue", pool=WRITER_POOL)
    def _catalogue(context: dg.AssetExecutionContext, warehouse: Warehouse):
        """Apply disclosure control to every source's profile and publish the catalogue atomically."""
        started = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        ids = [s.id for s in sources]
        with warehouse.read() as conn:
            internal = load_profiles(conn, ids)
        public = public_rows(internal, {s.id: s.declaration.disclosure_k for s in sources})
        profiled = {d["source_id"]: d["profiling_seconds"] for d in internal["databases"]}
        missing = [i for i in ids if i not in profiled]
        for source_id in missing:
            context.log.warning(f"source {source_id} has no profile yet: it is left out of the catalogue")
        finished = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        public["refreshes"] = read_published(warehouse.catalogue_dir, "refreshes") + [{
            "refresh_id": uuid.uuid4().hex[:12], "started_at": started, "finished_at": finished,
            "duration_seconds": (finished - started).total_seconds(), "sources": ", ".join(sorted(profiled)),
            "profiling_seconds": ", ".join(f"{i}={s}" for i, s in sorted(profiled.items())),
            "outcome": "partial" if missing else "success",
        }]
        version = publish(public, warehouse.catalogue_dir)
        for table in TABLES:
            yield dg.MaterializeResult(asset_key=[GROUP, table], metadata={
                "dagster/row_count": len(public[table]),
                "parquet": dg.MetadataValue.path(str(version / "parquet" / f"{table}.parquet")),
                "version": version.name,
            })

    return _catalogue
