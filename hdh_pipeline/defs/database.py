"""Each source's database asset: "my database" as its owner sees it in the UI, in the source's group. Its
description says who produces it, who to contact, its licence, access and schedule; once published, its metadata
shows every database chart inline, each a link to its interactive page, served (always the `current` version) by
`hdh-pipeline serve`, and links to the site and to the internal reports. Made by the
publication's step, from the published catalogue only."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pyarrow as pa
import pyarrow.compute as pc

from hdh_pipeline import reports, settings, words
from hdh_pipeline.defs.keys import CATALOGUE, DATABASE_LAYER, database_key, group
from hdh_pipeline.profile.documentation import Documentation, documentation
from hdh_pipeline.schema import CODES, TABLES
from hdh_pipeline.sources.loader import Source

CHARTS = ("pyramid", "sex", "coverage", "completeness", "quality")
LEAST_COMPLETE = 15  # variables listed under the completeness chart, by name


def _who(source: Source) -> dict[str, str]:
    """The declaration's facts about the database, in words (empty where the declaration says nothing)."""
    d = source.declaration
    producer = f"[{d.producer.name}]({d.producer.url})" if d.producer.url else d.producer.name
    contact = ", ".join(x for x in (d.contact.name, d.contact.email, d.contact.url) if x)
    access = "; ".join(x for x in (d.access.conditions, d.access.delay, d.access.procedure_url, d.access.contact) if x)
    return {"producer": producer, "contact": contact, "licence": d.licence, "access": access,
            "owners": ", ".join(d.owners),
            "schedule": f"{words.schedule(d.update_frequency, d.language)} (`{d.update_frequency}`, {d.timezone})"}


def database_spec(source: Source) -> dg.AssetSpec:
    facts = _who(source)
    lines = [f"**{source.declaration.title}**", source.declaration.description, "",
             *(f"- {name}: {value or '(not declared)'}" for name, value in facts.items())]
    return dg.AssetSpec(
        key=database_key(source), group_name=group(source), kinds={"altair", "html"}, tags=dict([DATABASE_LAYER]),
        deps=[[CATALOGUE, table] for table in TABLES], skippable=True,
        description="\n".join(lines) + "\n\nThe database as the catalogue publishes it: its charts (age pyramid, "
                                       "sex, coverage, completeness, quality), drawn from the published catalogue "
                                       "only, and its pages; made by the catalogue's publication.")


def _least_complete(source_id: str, variables: list[dict]) -> str:
    mine = sorted((v for v in variables if v["source_id"] == source_id and v["completeness_pct"] is not None),
                  key=lambda v: (v["completeness_pct"], v["table_name"], v["variable"]))[:LEAST_COMPLETE]
    return "| table | variable | completeness % |\n|---|---|---|\n" + "".join(
        f"| {v['table_name']} | {v['variable']} | {v['completeness_pct']:.1f} |\n" for v in mine)


def documentation_check_spec(source: Source) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec("documentation", asset=database_key(source), description=(
        "Warns while the database's documentation lacks anything: the declaration's producer web site, contact "
        "email, licence, access conditions and procedure, owners; a table's or variable's description; a code "
        "list's labels. Metadata: the to-do list"))


def _documentation(source: Source, public: dict) -> Documentation:
    mine = lambda rows: [r for r in rows if r["source_id"] == source.id]
    codes: pa.Table = public[CODES].filter(pc.equal(public[CODES]["source_id"], source.id))
    return documentation(source.declaration, mine(public["tables"]), mine(public["variables"]),
                         zip(codes["nomenclature"].to_pylist(), codes["label"].to_pylist()))


def documentation_check(source: Source, public: dict) -> dg.AssetCheckResult:
    """The documentation's to-do list (also an internal page for the owners)."""
    found = _documentation(source, public)
    if not any(d["source_id"] == source.id for d in public["databases"]):
        return dg.AssetCheckResult(asset_key=database_key(source), check_name="documentation", passed=False,
                                   severity=dg.AssetCheckSeverity.WARN,
                                   description="not published yet (no profile): its tables and variables cannot be "
                                               "checked; the declaration lacks: " +
                                               (", ".join(g.missing for g in found.gaps) or "nothing"))
    page = f"{settings.internal_url()}{source.id}/{reports.DOCUMENTATION}"
    reports.documentation_page(settings.quality_dir(source.id), source.id, found)
    shown = found.gaps[:40]
    todo = "| level | what | missing |\n|---|---|---|\n" + "".join(
        f"| {g.level} | {g.name} | {g.missing} |\n" for g in shown) + (
        f"\n... and {len(found.gaps) - len(shown):,} more: see the report" if len(found.gaps) > len(shown) else "")
    return dg.AssetCheckResult(
        asset_key=database_key(source), check_name="documentation", passed=not found.gaps,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{found.pct:g} % of the documentation present; {len(found.gaps):,} gaps" if found.gaps else
        "nothing is missing",
        metadata={"documentation_pct": dg.MetadataValue.float(found.pct), "gaps": len(found.gaps),
                  "to_do": dg.MetadataValue.md(todo), "report": dg.MetadataValue.url(page)})


def _protocol(database: dict, protocol: list[dict]) -> str:
    """The database's quality protocol as the catalogue publishes it (catalogue/protocol.py)."""
    lines = [f"Run {database['update_frequency_text']}, after each load and profile.", "",
             "| category | rule | severity | checks | threshold % | passed % |", "|---|---|---|---|---|---|"]
    for p in protocol:
        low, high = p["threshold_pct_min"], p["threshold_pct_max"]
        lines.append(f"| {p['category']} | {p['rule']} | {p['severity']} | {p['checks']} | "
                     f"{low:g}{'' if high == low else f'-{high:g}'} | {p['pass_rate_pct'] or ''} |")
    return "\n".join(lines)


def database_result(source: Source, database: dict, public: dict[str, list[dict]],
                    charts: dict[str, Path]) -> dg.MaterializeResult:
    """What the catalogue publishes of the database: its facts, its charts inline, its served pages."""
    public_url, internal_url = settings.public_url(), settings.internal_url()
    metadata: dict = {"title": database["title"], **{name: dg.MetadataValue.md(value or "(not declared)")
                                                     for name, value in _who(source).items()}}
    for name in CHARTS:
        if name in charts:  # short markdown: the UI shows it in place (an image inline would be a button)
            served = f"{public_url}charts/{source.id}/{name}"
            metadata[f"chart: {name}"] = dg.MetadataValue.md(f"[![{name}]({served}.1x.png)]({served}.html)")
        if name == "completeness":
            metadata["least complete variables"] = dg.MetadataValue.md(_least_complete(source.id, public["variables"]))
    protocol = [p for p in public["quality_protocol"] if p["source_id"] == source.id]
    metadata["quality protocol"] = dg.MetadataValue.md(_protocol(database, protocol))
    metadata["documentation_pct"] = dg.MetadataValue.float(database["documentation_pct"])
    metadata |= {
        "site": dg.MetadataValue.url(f"{public_url}site/{source.id}/index.html"),
        "quality protocol and label (site)": dg.MetadataValue.url(
            f"{public_url}site/{source.id}/index.html#quality-protocol"),
        "data docs (internal)": dg.MetadataValue.url(f"{internal_url}{source.id}/data_docs/index.html"),
        "served from": dg.MetadataValue.md(f"`hdh-pipeline serve` ({public_url}, HDH_PUBLIC_URL) and `hdh-pipeline "
                                           f"serve --internal` ({internal_url}, HDH_INTERNAL_URL)"),
    }
    return dg.MaterializeResult(asset_key=database_key(source), metadata=metadata)
