"""The one Definitions object, assembled: every declared source's assets, checks, jobs, schedule and sensors, the
catalogue, and the policies every asset shares (owners and tags here; the writer pool and retries in
resources.WRITES). `definitions.py` builds it for Dagster; the CLI builds it from the sources it has read."""
from __future__ import annotations

import dagster as dg

from hdh_pipeline import settings
from hdh_pipeline.defs.catalogue import REFRESH_SOURCES, REFRESH_STARTED, build_catalogue_assets
from hdh_pipeline.defs.ingestion import build_source_definitions, refresh_job_name
from hdh_pipeline.defs.keys import CATALOGUE as CATALOGUE_GROUP
from hdh_pipeline.defs.keys import DATABASE_LAYER, of_source, profile_key
from hdh_pipeline.defs.operations import (
    alert_on_failure,
    build_file_sensor,
    build_publish_sensors,
    freshness_policy,
    recover_dead_runs,
)
from hdh_pipeline.defs.resources import Spark, Warehouse
from hdh_pipeline.sources.loader import Source, load_sources

SOURCES_JOB = "refresh_sources"
PUBLISH_JOB = "catalogue_publish"


def _policies(sources: list[Source]):
    """Owners, tags and freshness of every asset: a source's assets (its charts included) belong to its owners, the
    shared catalogue to every source's owners; a source's profile is overdue past its declared frequency."""
    by_id = {s.id: s for s in sources}
    everyone = sorted({owner for s in sources for owner in s.declaration.owners})

    def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
        source = by_id.get(spec.key.path[0])
        fresh = {"freshness_policy": freshness_policy(source)} if source and spec.key == profile_key(source) else {}
        return spec.replace_attributes(owners=source.declaration.owners if source else everyone,
                                       tags={**spec.tags, "hdh/source": source.id if source else "all"}, **fresh)

    return apply


def build_definitions(sources: list[Source] | None = None) -> dg.Definitions:
    """Every declared source's definitions and the catalogue's (`sources`: already loaded ones)."""
    sources = load_sources(settings.declaration_files()) if sources is None else sources
    refresh_sources = dg.define_asset_job(
        SOURCES_JOB, selection=of_source(*sources),
        description="Refresh every source (ingestion, profile, quality); the sensors `publish_after_refresh` and "
                    "`publish_after_failed_refresh` then run `catalogue_publish`, which publishes what succeeded "
                    "with the previous profile of what failed.")
    publish = dg.define_asset_job(
        PUBLISH_JOB, selection=dg.AssetSelection.groups(CATALOGUE_GROUP) | dg.AssetSelection.tag(*DATABASE_LAYER),
        description="Republish the catalogue (tables, charts, site, exports) from the sources' last profiles.")
    parts = dg.Definitions.merge(*(build_source_definitions(source) for source in sources))
    return dg.Definitions(
        assets=dg.map_asset_specs(_policies(sources), [*parts.assets, build_catalogue_assets(sources)]),
        asset_checks=parts.asset_checks, jobs=[*parts.jobs, refresh_sources, publish], schedules=parts.schedules,
        sensors=[*(build_file_sensor(s, refresh_job_name(s)) for s in sources if not s.remote),  # remote: its schedule
                 *build_publish_sensors(refresh_sources, publish, REFRESH_STARTED, REFRESH_SOURCES), alert_on_failure,
                 recover_dead_runs],
        resources={"warehouse": Warehouse(data_dir=str(settings.data_dir()), memory_limit=settings.memory_limit()),
                   "spark": Spark()},
        # One process per run: every writing step waits for the single DuckDB writer anyway, and a process per
        # step pays Dagster's and Great Expectations' import (about 6 s) each time.
        executor=dg.in_process_executor,
    )

