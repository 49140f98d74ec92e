"""Profile assets, one per source: the exact statistics, kept private in the warehouse, and what moved since the
previous refresh (the `drift` check)."""

import dagster as dg

from hdh_pipeline.defs.keys import group, profile_key
from hdh_pipeline.defs.operations import overdue
from hdh_pipeline.defs.resources import WRITES, Spark, Warehouse, spark_engine
from hdh_pipeline.engines.duckdb.engine import DuckDBEngine
from hdh_pipeline.profile.drift import COMPARED, Change, compare
from hdh_pipeline.profile.source import profile_source
from hdh_pipeline.profile.store import load_profiles, record_load, save_rows
from hdh_pipeline.sources.loader import Source

PROFILE_STEP = "(profile)"  # the `table` of a failed profile in the failure records


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
        group_name=group(source),
        kinds={"duckdb"},
        tags={"hdh/layer": "profile"},
        description=f"Exact statistics of every table and variable of {source.declaration.title}, kept private "
                    "in the warehouse (schema catalogue_internal, and every refresh in catalogue_history): what the "
                    "public catalogue is computed from. " + overdue(source),
        check_specs=[dg.AssetCheckSpec("drift", asset=key, description=(
            "What moved since the previous refresh (tables, columns, types, rows, completeness, distributions) "
            "beyond the source's tolerances: a warning, or an error when the data no longer matches its "
            "dictionary"))],
        **WRITES,
    )
    def _profile(context: dg.AssetExecutionContext, warehouse: Warehouse, spark: Spark):
        k = source.declaration.disclosure_k
        try:
            # a source on Spark is profiled where it lives, without holding the warehouse's writer meanwhile
            profile = profile_source(spark_engine(context, spark, source, warehouse), source, k) \
                if source.declaration.engine == "spark" else None
            with warehouse.write() as conn:
                previous = load_profiles(conn, [source.id], COMPARED)
                profile = profile or profile_source(DuckDBEngine.for_source(conn, source), source, k)
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
