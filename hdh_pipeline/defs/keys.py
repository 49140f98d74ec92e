"""The asset keys every part of the Dagster layer refers to, from the source's id only."""

import dagster as dg

from hdh_pipeline.sources.loader import Source

CATALOGUE = "catalogue"  # the group (and key prefix) of the public catalogue's assets


def table_key(source: Source, table: str) -> dg.AssetKey:
    return dg.AssetKey([source.id, table])


def profile_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "profile"])


def quality_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "quality"])


def charts_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "charts"])
