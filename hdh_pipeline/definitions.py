"""The one Definitions object: every declared source's assets and schedules, and the warehouse."""
from __future__ import annotations

import dagster as dg

from hdh_pipeline import settings
from hdh_pipeline.defs.catalogue import GROUP as CATALOGUE_GROUP
from hdh_pipeline.defs.catalogue import build_catalogue_assets
from hdh_pipeline.defs.ingestion import build_source_definitions
from hdh_pipeline.defs.resources import Warehouse
from hdh_pipeline.sources.loader import load_sources


ALL_JOB = "refresh_all"
SOURCES_JOB = "refresh_sources"
PUBLISH_JOB = "catalogue_publish"


def build_definitions() -> dg.Definitions:
    sources = load_sources(settings.declaration_files())
    return dg.Definitions.merge(
        *(build_source_definitions(source) for source in sources),
        dg.Definitions(assets=[build_catalogue_assets(sources)], jobs=[
            dg.define_asset_job(ALL_JOB, selection=dg.AssetSelection.all(),
                                description="Refresh every source and publish the catalogue once."),
            dg.define_asset_job(SOURCES_JOB, selection=dg.AssetSelection.all() - dg.AssetSelection.groups(
                CATALOGUE_GROUP), description="Refresh every source (ingestion, profile, quality), not the catalogue: "
                                              "then `catalogue_publish` publishes what succeeded with the previous "
                                              "profile of what failed."),
            dg.define_asset_job(PUBLISH_JOB, selection=dg.AssetSelection.groups(CATALOGUE_GROUP),
                                description="Republish the catalogue (tables, charts, site, exports) from the "
                                            "sources' last profiles."),
        ]),
        # One process per run: every writing step waits for the single DuckDB writer anyway, and a process per
        # step pays Dagster's and Great Expectations' import (about 6 s) each time.
        dg.Definitions(resources={"warehouse": Warehouse(data_dir=str(settings.data_dir()),
                                                             memory_limit=settings.memory_limit())},
                       executor=dg.in_process_executor),
    )


defs = build_definitions()
