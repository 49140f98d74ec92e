"""Quality: one asset per source that runs every table's suite, and one check per table summarising it. The
suites' plausibility uses the source's reference date, the profile's (vocabulary.reference_date): quality runs
after the profile."""

import dagster as dg

from hdh_pipeline import reports, settings
from hdh_pipeline.defs.events import fetch_check_targets
from hdh_pipeline.defs.keys import group, profile_key, quality_key
from hdh_pipeline.defs.resources import WRITES, Spark, Warehouse, spark_engine
from hdh_pipeline.engines.duckdb.warehouse import lock
from hdh_pipeline.profile.store import load_profiles, save_rows
from hdh_pipeline.quality import data_docs, parallel
from hdh_pipeline.quality.source import count_on_spark, validate_source
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.vocabulary import ERROR, SEVERE, UNSUCCESSFUL

FAILED_CHECKS = "failed_check_ids"  # a suite check's metadata: the ids of its failed checks (a JSON list)

def warm_up_quality(context: dg.AssetExecutionContext, source: Source, warehouse: Warehouse) -> None:
    """Called when the source's code lists or tables start loading (whichever first; it tops up): if this run
    checks their quality, the processes that will validate them start importing Great Expectations now, on the
    core the loading leaves idle (quality/parallel.py)."""
    if source.declaration.engine == "duckdb" and quality_key(source) in context.job_def.asset_layer.selected_asset_keys:
        parallel.warm_up(parallel.worker_count(len(source.tables), 0, warehouse.memory_limit))


RUN_BY = {"duckdb": "run inside DuckDB", "spark": "counted by Spark where the data live (the same checks in Spark SQL)"}


def build_quality_asset(source: Source, upstream: list[dg.AssetKey]) -> dg.AssetsDefinition:
    @dg.asset(
        key=quality_key(source),
        deps=[*upstream, profile_key(source)],
        group_name=group(source),
        kinds={source.declaration.engine, "great_expectations" if source.declaration.engine == "duckdb" else "sql"},
        tags={"hdh/layer": "quality"},
        description=f"Great Expectations suites of every table of {source.declaration.title} (expectations/"
                    f"{source.id}/, or generated from the declaration), "
                    f"{RUN_BY[source.declaration.engine]}; exact results kept private in the warehouse, "
                    "controlled ones published in catalogue/quality_results.",
        **WRITES,
    )
    def _quality(context: dg.AssetExecutionContext, warehouse: Warehouse, spark: Spark) -> dg.MaterializeResult:
        docs = warehouse.quality_docs_dir(source.id)
        if source.declaration.engine == "spark":
            docs = None  # the checks are counted by Spark, without Great Expectations' pages
        elif not data_docs.available():
            context.log.warning(f"Data Docs of {source.id} not written: this install carries no front-end files "
                                "(`make install` fills them); every quality check runs")
            docs = None
        with warehouse.read() as conn:
            [database] = load_profiles(conn, [source.id], ("databases",))["databases"]
        if source.declaration.engine == "spark":
            engine = spark_engine(context, spark, source, warehouse)
            results = count_on_spark(engine, source, database["reference_date"])
        else:
            with lock(warehouse.path):
                results = validate_source(warehouse.path, source, database["reference_date"], docs,
                                          memory_limit=warehouse.memory_limit)
        with warehouse.write() as conn:
            save_rows(conn, source.id, {"quality_results": results})
        reports.checks_page(settings.quality_dir(source.id), source.id, results)
        failed = [r for r in results if r["status"] in UNSUCCESSFUL]
        return dg.MaterializeResult(metadata={
            "dagster/row_count": len(results),
            "checks_failed": len(failed),
            "checks_in_error": sum(r["status"] == ERROR for r in results),
            "checks_report": dg.MetadataValue.url(f"{settings.internal_url()}{source.id}/{reports.CHECKS}"),
            **({"data_docs": dg.MetadataValue.url(f"{settings.internal_url()}{source.id}/data_docs/index.html")}
               if docs else {}),
        })

    return _quality


def _summary(results: list[dict]) -> str:
    """Every check of a table, failed first (the worst first), with its exact counts: what an owner acts on."""
    ordered = sorted(results, key=lambda r: (r["status"] not in UNSUCCESSFUL, -(r["failing_pct"] or 0), r["check_id"]))
    lines = ["| check | category | evaluated rows | failing rows | failing % | threshold % | severity | status | "
             "failing values (rows; identifiers masked) |", "|---|---|---|---|---|---|---|---|---|"]
    for r in ordered:
        pct = "" if r["failing_pct"] is None else f"{r['failing_pct']:.2f}"
        counts = " | ".join("" if r[c] is None else f"{r[c]:,}" for c in ("evaluated_rows", "failing_rows"))
        reason = f" ({r['reason']})" if r["reason"] else ""
        values = (r.get("failing_values") or "").replace("|", "\\|")
        lines.append(f"| {r['check_id']} | {r['category']} | {counts} | {pct} | {r['threshold_pct']:g} | "
                     f"{r['severity']} | {r['status']}{reason} | {values} |")
    return "\n".join(lines)


def build_quality_checks(source: Source, tables: dict[str, dg.AssetKey]) -> dg.AssetChecksDefinition:
    specs = [dg.AssetCheckSpec("quality_suite", asset=key, additional_deps=[quality_key(source)],
                               description=f"Summary of the quality suite of {name}")
             for name, key in tables.items()]

    @dg.multi_asset_check(specs=specs, name=f"{source.id}_quality_suites", **WRITES)
    def _checks(context: dg.AssetCheckExecutionContext, warehouse: Warehouse):
        with warehouse.read() as conn:
            results = load_profiles(conn, [source.id], ("quality_results",))["quality_results"]
        by_table: dict[str, list[dict]] = {}
        for r in results:
            by_table.setdefault(r["table_name"], []).append(r)
        fetch_check_targets(context, list(tables.values()))
        for name, key in tables.items():
            mine = by_table.get(name, [])
            failed = [r for r in mine if r["status"] in UNSUCCESSFUL]
            severe = any(r["severity"] == SEVERE for r in failed)
            yield dg.AssetCheckResult(
                asset_key=key, check_name="quality_suite", passed=not failed,
                severity=dg.AssetCheckSeverity.ERROR if severe else dg.AssetCheckSeverity.WARN,
                description=f"{len(failed)} of {len(mine)} checks failed: "
                            f"{', '.join(r['check_id'] for r in failed)}" if failed else f"{len(mine)} checks passed",
                metadata={"checks": len(mine), "failed": len(failed),
                          "failing_rows": sum(r["failing_rows"] or 0 for r in failed),
                          "every_check": dg.MetadataValue.md(_summary(mine)),
                          FAILED_CHECKS: dg.MetadataValue.json([r["check_id"] for r in failed]),
                          "checks_report": dg.MetadataValue.url(
                              f"{settings.internal_url()}{source.id}/{reports.CHECKS}")},
            )

    return _checks
