"""The asset keys and groups every part of the Dagster layer refers to: keys from the source's id, groups labelled
with its title (the UI's name for "my database")."""

import re
import unicodedata

import dagster as dg

from hdh_pipeline.sources.loader import Source

CATALOGUE = "catalogue"  # the group (and key prefix) of the public catalogue's assets
DATABASE_LAYER = ("hdh/layer", "database")  # the tag of each source's database asset, made by the publication's step


def group(source: Source) -> str:
    """The source's group, named from its title in the letters Dagster allows (`SNDS synthétique (démo)` ->
    `SNDS_synthetique_demo`). A label only: selections go by key prefix, so two sources may share one."""
    ascii_title = unicodedata.normalize("NFKD", source.declaration.title).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "_", ascii_title).strip("_")[:64] or source.id


def of_source(*sources: Source) -> dg.AssetSelection:
    """The sources' own assets (tables, code lists, profile, quality), not their database asset, which the
    publication's step makes."""
    return dg.AssetSelection.key_prefixes(*([s.id] for s in sources)) - dg.AssetSelection.tag(*DATABASE_LAYER)


def profile_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "profile"])


def quality_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "quality"])


def database_key(source: Source) -> dg.AssetKey:
    return dg.AssetKey([source.id, "database"])
