"""Asset factory: one asset per source table, all loaded by one step, plus one for the source's code lists.

Keys are `[source id, table]`, the group is the source id; nothing here opens DuckDB
until an asset runs. The tables of a source are one multi-asset (any subset can be
materialised): one step per table would pay Dagster's step overhead hundreds of times for
a wide source, and the warehouse has one writer: the step's connection, whose cursors load several
tables at once.
"""

from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import dagster as dg
import duckdb

from hdh_pipeline.defs.events import fetch_check_targets
from hdh_pipeline.defs.keys import group, of_source
from hdh_pipeline.defs.profile import build_profile_asset
from hdh_pipeline.defs.quality import build_quality_asset, build_quality_checks, warm_up_quality
from hdh_pipeline.defs.resources import WRITES, Spark, Warehouse, spark_engine
from hdh_pipeline.engines.duckdb.load import REJECTS, LoadResult, load_table, prepare_schema
from hdh_pipeline.engines.duckdb.rejects import Rejections, rejections
from hdh_pipeline.engines.duckdb.statistics import identifier_columns
from hdh_pipeline.engines.duckdb.warehouse import in_threads, quote
from hdh_pipeline.engines.plan import IngestionError, RefusedLoad
from hdh_pipeline.profile.store import prepare_failures, record_load
from hdh_pipeline.sources.declaration import SourceDeclaration
from hdh_pipeline.sources.dictionary import ColumnSpec, TableSpec
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source
from hdh_pipeline.sources.statistical import file_format_of
from hdh_pipeline.vocabulary import MASK

PREVIEW_ROWS = 10
ACCEPT_TAG = "hdh/accept"  # run tag: `source.table` or `source`, comma-separated: loads accepted beyond tolerances

def _constraints(column: ColumnSpec, spec: TableSpec) -> dg.TableColumnConstraints:
    other = [f"declared type {column.type}" + ("" if column.format == "default" else f" ({column.format})")]
    if column.length:
        other.append(f"length {column.length}")
    if column.nomenclature:
        other.append(f"nomenclature {column.nomenclature.table}")
    for key in ("minimum", "maximum", "enum", "pattern"):
        if key in column.constraints:
            other.append(f"{key} {column.constraints[key]}")
    return dg.TableColumnConstraints(
        nullable=not column.constraints.get("required", False) and column.name not in spec.primary_key,
        unique=bool(column.constraints.get("unique")) or spec.primary_key == (column.name,),
        other=other,
    )

def column_schema(table: SourceTable, loaded: LoadResult | None = None) -> dg.TableSchema | None:
    """The columns as the dictionary describes them, with the DuckDB types once loaded."""
    spec = table.spec
    if loaded is None and spec is None:
        return None
    names_types = loaded.columns if loaded else tuple((c.name, c.type) for c in spec.columns)
    roles = table.roles.by_column()
    columns = []
    for name, duck_type in names_types:
        declared = spec.column(name) if spec else None
        columns.append(dg.TableColumn(
            name=name,
            type=duck_type,
            description=declared.description if declared else None,
            constraints=_constraints(declared, spec) if declared else None,
            tags={"role": roles[name]} if name in roles else None,
        ))
    return dg.TableSchema(columns=columns)

def _preview(conn: duckdb.DuckDBPyConnection, schema: str, table: str, masked: set[str]) -> str:
    """A markdown table of the first rows; identifier columns show no values."""
    cursor = conn.execute(f"SELECT * FROM {quote(schema)}.{quote(table)} LIMIT {PREVIEW_ROWS}")
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()

    def cell(name: str, value: object) -> str:
        if name in masked and value is not None:
            return MASK
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")[:40]

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(n, v) for n, v in zip(names, row)) + " |" for row in rows]
    return "\n".join(lines)

def _description(source: Source, table: SourceTable) -> str:
    parts = [table.title]
    if table.description and table.description != table.title:
        parts.append(table.description)
    if table.spec and table.spec.product:
        parts.append(f"Product: {table.spec.product}.")
    parts.append(f"Source: {source.declaration.title}.")
    return "\n\n".join(p for p in parts if p)

def accepted(tags: dict[str, str], source_id: str, table: str) -> bool:
    """Whether the run accepts this table's new load whatever the publication guard says."""
    return bool({source_id, f"{source_id}.{table}"} & {a.strip() for a in tags.get(ACCEPT_TAG, "").split(",")})


def _load(conn: duckdb.DuckDBPyConnection, warehouse: Warehouse, declaration: SourceDeclaration, table: SourceTable,
          guard: bool) -> tuple[LoadResult, str, Rejections | None] | IngestionError:
    """Load one table, preview it and its rejected lines (identifier columns masked), or the error that stopped its
    load (recorded for the catalogue, which says the table is stale, until a load succeeds)."""
    try:
        loaded = load_table(conn, declaration, table, warehouse.staging(declaration.id), guard=guard)
    except IngestionError as error:
        record_load(conn, declaration.id, table.name, "new load refused by the publication guard (rejected lines or "
                    "lost rows beyond the tolerance)" if isinstance(error, RefusedLoad) else
                    "its files could not be read", str(error))
        return error
    record_load(conn, declaration.id, table.name)
    masked = set(table.roles.person_id) | identifier_columns(
        conn, loaded.schema, loaded.table, dict(loaded.columns), loaded.row_count)
    rejected = rejections(conn, loaded.schema, loaded.table, [name for name, _ in loaded.columns], masked,
                          declaration.csv_for(table.name).delimiter) if loaded.rejected_rows else None
    return loaded, _preview(conn, loaded.schema, loaded.table, masked), rejected


def _rejections_metadata(rejected: Rejections) -> dict:
    """The rejected lines by reason and column, and the first ones: what the files' owner must fix."""
    reasons = "| reason | column | lines |\n|---|---|---|\n" + "".join(
        f"| {reason} | {column} | {n:,} |\n" for reason, column, n in rejected.by_reason)
    examples = "| file | line | error | the line (identifiers masked) |\n|---|---|---|---|\n" + "".join(
        f"| {Path(file).name if file else ''} | {'' if line is None else line} | {_cell(error)} | `{_cell(raw)}` |\n"
        for file, line, error, raw in rejected.examples)
    return {"rejected_lines_by_reason": dg.MetadataValue.md(reasons),
            "rejected_line_examples": dg.MetadataValue.md(examples)}


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").replace("`", "'")[:160]


def _loaded_check(key: dg.AssetKey, declaration: SourceDeclaration, table: SourceTable, loaded: LoadResult,
                  rejected: Rejections | None) -> dg.AssetCheckResult:
    """Fails (error, blocking what depends on the table) when every line was rejected; warns beyond the source's
    `rejected_warning` share of rejected lines, naming the main reason."""
    read = loaded.row_count + loaded.rejected_rows
    share = loaded.rejected_rows / read if read else 0.0
    limit = declaration.tolerances.rejected_warning
    every_line = loaded.row_count == 0 and loaded.rejected_rows > 0
    main = ""
    if rejected and rejected.by_reason:
        reason, column, _ = rejected.by_reason[0]
        main = f" (mostly: {reason}{f', column {column}' if column else ''})"
    if every_line:
        description = (f"every line of {table.name} was rejected{main}: check the dictionary's types and the reading "
                       f"options against {declaration.id}._rejects")
    elif share > limit:
        description = (f"{loaded.rejected_rows:,} of {read:,} lines of {table.name} rejected ({share:.2%}, over "
                       f"{limit:.2%}){main}; every one is in {declaration.id}._rejects with its reason")
    elif loaded.rejected_rows:
        description = f"{loaded.rejected_rows:,} of {read:,} lines rejected ({share:.2%}, within {limit:.2%})"
    else:
        description = f"every one of {read:,} lines loaded"
    return dg.AssetCheckResult(
        asset_key=key, check_name="loaded", passed=not every_line and share <= limit,
        severity=dg.AssetCheckSeverity.ERROR if every_line else dg.AssetCheckSeverity.WARN, description=description,
        metadata={"rows": loaded.row_count, "rejected_rows": loaded.rejected_rows,
                  "rejected_pct": dg.MetadataValue.float(round(100 * share, 4)),
                  "warning_above_pct": dg.MetadataValue.float(100 * limit),
                  **(_rejections_metadata(rejected) if rejected else {})})


def _materialize(context: dg.AssetExecutionContext, warehouse: Warehouse, declaration: SourceDeclaration,
                 table: SourceTable, loaded: LoadResult, preview: str | None,
                 rejected: Rejections | None) -> tuple[dg.MaterializeResult, list]:
    """The table's materialization, and its `loaded` check result if selected (reported once every table is)."""
    key = dg.AssetKey([declaration.id, table.name])
    for warning in loaded.warnings:
        context.log.warning(warning)
    if loaded.rejected_rows:
        context.log.warning(
            f"{loaded.rejected_rows} rows of {table.name} did not parse; see {declaration.id}._rejects"
        )
    metadata: dict = {
        "dagster/row_count": loaded.row_count,
        "dagster/table_name": f"{loaded.schema}.{loaded.table}",
        "rejected_rows": loaded.rejected_rows,
        "files": dg.MetadataValue.json([str(f) for f in table.files]),
    }
    if preview is not None:  # a table read by Spark has none: no row leaves Spark
        metadata |= {"warehouse": dg.MetadataValue.path(str(warehouse.path)), "preview": dg.MetadataValue.md(preview)}
    if schema := column_schema(table, loaded):
        metadata["dagster/column_schema"] = schema
    if rejected:
        metadata |= _rejections_metadata(rejected)
    if loaded.warnings:
        metadata["warnings"] = dg.MetadataValue.md("\n".join(f"- {w}" for w in loaded.warnings))
    if loaded.missing:  # special and user-defined missing values of SAS, Stata and SPSS files, loaded as nulls
        metadata["missing_values_by_reason"] = dg.MetadataValue.md(
            "| column | reason | rows |\n|---|---|---|\n" + "".join(f"| {c} | {r} | {n:,} |\n"
                                                                for c, r, n in loaded.missing))
    loaded_check = _loaded_check(key, declaration, table, loaded, rejected)
    selected = dg.AssetCheckKey(key, "loaded") in context.selected_asset_check_keys  # a check can be deselected
    return dg.MaterializeResult(asset_key=key, metadata=metadata), [loaded_check] if selected else []


def _refused(context: dg.AssetExecutionContext, key: dg.AssetKey, refused: RefusedLoad) -> list:
    """The failed `loaded` check of a refused load (the table keeps its previous version)."""
    if dg.AssetCheckKey(key, "loaded") not in context.selected_asset_check_keys:
        return []
    return [dg.AssetCheckResult(asset_key=key, check_name="loaded", passed=False, description=str(refused),
                                metadata={**{k: v for k, v in refused.measures.items() if k != "rejection_causes"},
                                          "rejection_causes": dg.MetadataValue.json(
                                              refused.measures["rejection_causes"]),
                                          "previous_version_kept": True})]

def _load_into_duckdb(warehouse: Warehouse, source: Source, chosen: list[tuple]) -> Iterator[tuple]:
    """(chosen item, load result and preview, or the error) of each table loaded into the warehouse. One connection:
    opening the file costs more than loading a small table; several tables load at once (in_threads), reported in
    the source's order."""
    with warehouse.write() as conn, closing(in_threads(conn, lambda cursor, item: _load(
            cursor, warehouse, source.declaration, item[1], item[2]), chosen)) as outcomes:
        prepare_schema(conn, source.id)  # before the threads start: two creating these at once would conflict
        prepare_failures(conn)
        yield from zip(chosen, outcomes)


def _read_with_spark(context: dg.AssetExecutionContext, warehouse: Warehouse, spark: Spark, source: Source,
                     chosen: list[tuple]) -> Iterator[tuple]:
    """(chosen item, what Spark read of the table, or the error) of each table of a source read where it lives:
    nothing is copied; its rejected lines are counted, the first ones kept in `<source>._rejects` with their reason.
    No preview: no row leaves Spark."""
    engine = spark_engine(context, spark, source, warehouse)
    with warehouse.write() as conn:
        prepare_schema(conn, source.id)
        prepare_failures(conn)
        for item in chosen:
            name = item[1].name
            if name in engine.failures:
                record_load(conn, source.id, name, "its files could not be read", str(engine.failures[name]))
                yield item, engine.failures[name]
                continue
            rejected, kept = engine.rejected_lines(name)
            conn.execute(f"DELETE FROM {quote(source.id)}.{REJECTS} WHERE table_name = ?", [name])
            if kept:
                conn.executemany(f"INSERT INTO {quote(source.id)}.{REJECTS} VALUES (?, NULL, NULL, NULL, 'SPARK', ?, "
                                 "?, now())", [[name, reason, line] for reason, line in kept])
            record_load(conn, source.id, name)
            read = engine.table(name)
            # no row leaves Spark: the kept lines are summarised with every field masked
            yield item, (LoadResult(source.id, name, item[1].files, engine.row_count(name), rejected,
                                    tuple(read.columns.items()), read.warnings), None,
                         rejections(conn, source.id, name, list(read.columns), set(read.columns),
                                    source.declaration.csv_for(name).delimiter) if rejected else None)


def build_tables_asset(source: Source) -> dg.AssetsDefinition:
    """Every table of the source; a table whose files cannot be read fails the step once the others are
    loaded, naming the files."""
    specs, checks, tables = [], [], {}
    for table in source.tables:
        key = dg.AssetKey([source.id, table.name])
        metadata = {"source_declaration": dg.MetadataValue.path(str(source.file))}
        if schema := column_schema(table):
            metadata["dagster/column_schema"] = schema
        if table.spec:
            metadata["dictionary"] = dg.MetadataValue.path(str(table.spec.file))
        specs.append(dg.AssetSpec(key, group_name=group(source),
                                  kinds=kinds(source.declaration.engine, (table,)),
                                  tags={"hdh/layer": "ingestion"},
                                  description=_description(source, table), metadata=metadata, skippable=True))
        checks.append(dg.AssetCheckSpec(
            "loaded", asset=key, blocking=True,
            description="Fails, and stops what depends on the table, when every line of its files was rejected (the "
                        "catalogue would describe an empty table), or when the publication guard refused the new "
                        "load (more rejected lines or fewer rows than the source's tolerances allow): the previous "
                        "version is kept. Warns when more lines than the source's `rejected_warning` share "
                        f"({source.declaration.tolerances.rejected_warning:.1%}) were rejected. Metadata: the "
                        "measures, the rejected lines by reason and column, and the first ones"))
        tables[key] = table

    @dg.multi_asset(specs=specs, check_specs=checks, name=f"{source.id}_tables", can_subset=True, **WRITES)
    def _tables(context: dg.AssetExecutionContext, warehouse: Warehouse, spark: Spark):
        failures, results = [], []  # check results, reported together after the materializations (events.py)
        warm_up_quality(context, source, warehouse)
        chosen = [(key, table, not accepted(context.run.tags, source.id, table.name))  # (key, table, guarded)
                  for key, table in tables.items() if key in context.selected_asset_keys]
        on_spark = source.declaration.engine == "spark"
        loads = _read_with_spark(context, warehouse, spark, source, chosen) if on_spark else \
            _load_into_duckdb(warehouse, source, chosen)
        for (key, table, _), outcome in loads:
            if isinstance(outcome, IngestionError):
                if isinstance(outcome, RefusedLoad):
                    results += _refused(context, key, outcome)
                context.log.error(str(outcome))
                failures.append(str(outcome))
                continue
            materialization, checked = _materialize(context, warehouse, source.declaration, table, *outcome)
            yield materialization
            results += checked
        fetch_check_targets(context, [result.asset_key for result in results])
        yield from results
        if failures:
            # a data problem: retrying the run would not help, a person must look (the files, or --accept)
            raise dg.Failure(description=f"{len(failures)} tables not loaded (their previous version is kept): "
                                         f"{'; '.join(failures)}", allow_retries=False,
                             metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))})

    return _tables


KINDS = {"sas7bdat": "sas", "xpt": "sas", "sas-formats": "sas", "dta": "stata", "sav": "spss"}


def kinds(engine: str, tables: tuple[SourceTable, ...]) -> set[str]:
    """The UI's kinds of assets holding these tables: the engine and their formats (Dagster shows three at most)."""
    formats = {file_format_of(Path(t.files[0])) if t.format == "value-labels" else t.format for t in tables}
    return {engine, *sorted({KINDS.get(f, f) for f in formats})[:2]}


def build_nomenclatures_asset(source: Source) -> dg.AssetsDefinition:
    """The source's code lists, each loaded as a table of schema `<source>_nomenclatures`."""
    declaration = source.declaration.for_nomenclatures()
    schema = declaration.id

    @dg.asset(
        key=[source.id, "nomenclatures"],
        group_name=group(source),
        kinds=kinds(source.declaration.engine, source.nomenclatures),
        tags={"hdh/layer": "ingestion"},
        description=f"Code lists (nomenclatures) of {source.declaration.title}: "
                    f"{len(source.nomenclatures)} tables in schema {schema}.",
        **WRITES,
    )
    def _nomenclatures(context: dg.AssetExecutionContext, warehouse: Warehouse, spark: Spark) -> dg.MaterializeResult:
        if source.declaration.engine == "spark":
            return _code_lists_read_by_spark(context, spark, source, warehouse)
        rows, rejected, failures = 0, 0, []
        warm_up_quality(context, source, warehouse)  # the code lists load first: as early as it gets

        def attempt(conn: duckdb.DuckDBPyConnection, table: SourceTable) -> LoadResult | IngestionError:
            try:
                return load_table(conn, declaration, table, warehouse.staging(schema))
            except IngestionError as error:
                return error

        with warehouse.write() as conn, closing(in_threads(conn, attempt, source.nomenclatures)) as outcomes:
            prepare_schema(conn, schema)  # before the threads start
            for loaded in outcomes:
                if isinstance(loaded, IngestionError):
                    context.log.error(str(loaded))
                    failures.append(str(loaded))
                    continue
                rows, rejected = rows + loaded.row_count, rejected + loaded.rejected_rows
        if failures:
            raise dg.Failure(
                description=f"{len(failures)} of {len(source.nomenclatures)} code lists failed to load; "
                            "the others are loaded",
                metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))},
            )
        return dg.MaterializeResult(metadata={
            "dagster/row_count": rows,
            "code_lists": len(source.nomenclatures),
            "rejected_rows": rejected,
            "schema": schema,
        })

    return _nomenclatures

def _code_lists_read_by_spark(context: dg.AssetExecutionContext, spark: Spark, source: Source,
                              warehouse: Warehouse) -> dg.MaterializeResult:
    """A Spark source's code lists, read by Spark (reference data: a few thousand rows each)."""
    engine = spark_engine(context, spark, source, warehouse)
    failures = [str(engine.failures[t.name]) for t in source.nomenclatures if t.name in engine.failures]
    if failures:
        raise dg.Failure(description=f"{len(failures)} of {len(source.nomenclatures)} code lists could not be read",
                         metadata={"failures": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))})
    return dg.MaterializeResult(metadata={
        "dagster/row_count": sum(engine.code_list(name).num_rows for name in engine.code_lists()),
        "code_lists": len(source.nomenclatures)})


def build_source_definitions(source: Source) -> dg.Definitions:
    assets = [build_tables_asset(source)]
    if source.nomenclatures:
        assets.append(build_nomenclatures_asset(source))
    loaded = [key for a in assets for key in a.keys]
    assets += [build_profile_asset(source, loaded), build_quality_asset(source, loaded)]
    checks = build_quality_checks(source, {t.name: dg.AssetKey([source.id, t.name]) for t in source.tables})
    job = dg.define_asset_job(
        name=refresh_job_name(source),
        # the source and everything downstream of it (catalogue, its database asset, site, exports)
        selection=of_source(source).downstream(),
        description=f"Refresh {source.declaration.title}, then republish the catalogue with it.",
        tags={"hdh/source": source.id},
    )
    refresh = dg.ScheduleDefinition(
        name=f"{source.id}_schedule",
        job=job,
        cron_schedule=source.declaration.update_frequency,
        execution_timezone=source.declaration.timezone,
        description=f"Refresh {source.declaration.title} ({source.declaration.update_frequency}, "
                    f"{source.declaration.timezone}).",
    )
    return dg.Definitions(assets=assets, asset_checks=[checks], jobs=[job], schedules=[refresh])


def refresh_job_name(source: Source) -> str:
    return f"{source.id}_refresh"
