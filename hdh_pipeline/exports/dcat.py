"""The catalogue as HealthDCAT-AP (DCAT-AP with the health extension), written with rdflib.

A `dcat:Catalog` with one `dcat:Dataset` per source: title, description, publisher, contact point,
access rights, licence, temporal coverage, accrual periodicity, keywords, theme, the health
extension's numbers (records, unique individuals, typical ages, population coverage), a quality
measurement, its distributions (the published catalogue files and the Data Package) and its variable
dictionary (CSVW table schemas). Numbers come from the published tables: a hidden count is written
as a string in the source's language ("withheld (disclosure control, k = 11)"), never as a number.
`assets/shapes/healthdcat-ap.ttl` states these properties as required (checked by pyshacl in tests).
"""
from __future__ import annotations

import re
from collections import defaultdict

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from hdh_pipeline import settings, words

HEALTH = Namespace("http://healthdataportal.eu/ns/health#")
DQV = Namespace("http://www.w3.org/ns/dqv#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
CSVW = Namespace("http://www.w3.org/ns/csvw#")
OA = Namespace("http://www.w3.org/ns/oa#")
FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
THEME = URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL")
RIGHTS = Namespace("http://publications.europa.eu/resource/authority/access-right/")


def _frequency(cron: str) -> URIRef:
    """The EU frequency closest to a cron schedule."""
    minute, hour, day, month, weekday = (cron.split() + ["*"] * 5)[:5]
    if month != "*":
        return FREQUENCY.ANNUAL
    if day != "*":
        return FREQUENCY.MONTHLY
    if weekday != "*":
        return FREQUENCY.WEEKLY
    return FREQUENCY.DAILY if not hour.startswith("*/") else FREQUENCY.CONT


def _number(value: float | int | None, k: int, language: str, datatype: URIRef = XSD.nonNegativeInteger) -> Literal:
    if value is None:
        return Literal(words.words(language)["withheld"].format(k=k), lang=language)
    return Literal(int(value) if datatype != XSD.decimal else value, datatype=datatype)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _quality(g: Graph, base: str, dataset: URIRef, d: dict, label: list[dict], protocol: list[dict]) -> None:
    """The database's quality label as W3C DQV: one measurement per computed percentage (its metric in its label
    dimension), and the quality protocol and the rest of the label as a quality annotation (the catalogue's own
    English vocabulary: no language tag)."""
    for row in label:
        if row["measure"] is None:
            continue
        metric, dimension = URIRef(f"{base}quality/metrics/{_slug(row['element'])}"), \
            URIRef(f"{base}quality/dimensions/{_slug(row['dimension'])}")
        g.add((metric, RDF.type, DQV.Metric))
        g.add((metric, DQV.inDimension, dimension))
        g.add((metric, DCTERMS.title, Literal(row["element"])))
        g.add((dimension, RDF.type, DQV.Dimension))
        g.add((dimension, DCTERMS.title, Literal(row["dimension"])))
        measurement = BNode()
        g.add((dataset, DQV.hasQualityMeasurement, measurement))
        g.add((measurement, RDF.type, DQV.QualityMeasurement))
        g.add((measurement, DQV.isMeasurementOf, metric))
        g.add((measurement, DQV.computedOn, dataset))
        g.add((measurement, DQV.value, Literal(row["measure"], datatype=XSD.decimal)))
    text = [f"Quality protocol, run {d['update_frequency_text']} ({d['update_frequency']}):"] + [
        f"- {p['category']} / {p['rule']} ({p['severity']}): {p['checks']} checks, threshold "
        f"{p['threshold_pct_min']:g}-{p['threshold_pct_max']:g} %, passed {p['pass_rate_pct']} %; {p['on_failure']}"
        for p in protocol] + ["EHDS data quality and utility label:"] + [
        f"- {row['dimension']} / {row['element']}: {row['value'] or 'unknown'} ({row['basis']}; {row['evidence']})"
        for row in label]
    annotation, body = BNode(), BNode()
    g.add((dataset, DQV.hasQualityAnnotation, annotation))
    g.add((annotation, RDF.type, DQV.QualityAnnotation))
    g.add((annotation, OA.motivatedBy, DQV.qualityAssessment))
    g.add((annotation, OA.hasTarget, dataset))
    g.add((annotation, OA.hasBody, body))
    g.add((body, RDF.type, OA.TextualBody))
    g.add((body, RDF.value, Literal("\n".join(text))))


def catalogue_graph(public: dict[str, list[dict]]) -> Graph:
    base = settings.site_url()
    g = Graph()
    for prefix, ns in (("dcat", DCAT), ("dct", DCTERMS), ("foaf", FOAF), ("healthdcatap", HEALTH), ("dqv", DQV),
                       ("vcard", VCARD), ("csvw", CSVW), ("oa", OA)):
        g.bind(prefix, ns)
    catalogue = URIRef(base + "catalogue")
    g.add((catalogue, RDF.type, DCAT.Catalog))
    language = words.language_of()
    w = words.words(language)
    g.add((catalogue, DCTERMS.title, Literal(w["catalogue_title"], lang=language)))
    g.add((catalogue, DCTERMS.description, Literal(w["catalogue_description"], lang=language)))
    labels, protocols = defaultdict(list), defaultdict(list)
    for row in public.get("quality_label", []):
        labels[row["source_id"]].append(row)
    for row in public.get("quality_protocol", []):
        protocols[row["source_id"]].append(row)
    tables = defaultdict(list)
    for t in public["tables"]:
        tables[t["source_id"]].append(t)
    variables = defaultdict(list)
    for v in public["variables"]:
        variables[(v["source_id"], v["table_name"])].append(v)
    for d in public["databases"]:
        source, k, lang = d["source_id"], d["disclosure_k"], words.language_of(d)
        dataset = URIRef(f"{base}datasets/{source}")
        g.add((catalogue, DCAT.dataset, dataset))
        g.add((dataset, RDF.type, DCAT.Dataset))
        g.add((dataset, DCTERMS.identifier, Literal(source)))
        g.add((dataset, DCTERMS.title, Literal(d["title"], lang=lang)))
        g.add((dataset, DCTERMS.description, Literal(d["description"] or d["title"], lang=lang)))
        publisher = URIRef(f"{base}publishers/{re.sub(r'[^A-Za-z0-9]+', '-', d['producer'] or source).strip('-')}")
        g.add((dataset, DCTERMS.publisher, publisher))
        g.add((publisher, RDF.type, FOAF.Agent))
        g.add((publisher, FOAF.name, Literal(d["producer"] or source)))
        if d["producer_url"]:
            g.add((publisher, FOAF.homepage, URIRef(d["producer_url"])))
        contact = BNode()
        g.add((dataset, DCAT.contactPoint, contact))
        g.add((contact, RDF.type, VCARD.Kind))
        g.add((contact, VCARD.fn, Literal(d["contact"] or d["producer"] or source)))
        email = re.search(r"[^\s@]+@[^\s@]+\.[^\s@]+", d["contact"] or "")
        if email:
            g.add((contact, VCARD.hasEmail, URIRef(f"mailto:{email.group(0)}")))
        g.add((dataset, DCTERMS.accessRights, RIGHTS.RESTRICTED if d["access"] or d["access_procedure_url"]
                                                  else RIGHTS.NON_PUBLIC))
        g.add((dataset, DCTERMS.license, Literal(d["licence"] or "unknown")))
        period = BNode()
        g.add((dataset, DCTERMS.temporal, period))
        g.add((period, RDF.type, DCTERMS.PeriodOfTime))
        for prop, value in ((DCAT.startDate, d["first_date"]), (DCAT.endDate, d["last_date"])):
            if value is not None:
                g.add((period, prop, Literal(str(value)[:10], datatype=XSD.date)))
        g.add((dataset, DCTERMS.accrualPeriodicity, _frequency(d["update_frequency"])))
        g.add((dataset, DCAT.theme, THEME))
        for keyword in sorted({t["product"] for t in tables[source] if t["product"]} | {source}):
            g.add((dataset, DCAT.keyword, Literal(keyword)))
        g.add((dataset, HEALTH.numberOfRecords, _number(d["total_rows"], k, lang)))
        g.add((dataset, HEALTH.numberOfUniqueIndividuals, _number(d["individuals"], k, lang)))
        g.add((dataset, HEALTH.minTypicalAge, _number(d["age_low"], k, lang, XSD.decimal)))
        g.add((dataset, HEALTH.maxTypicalAge, _number(d["age_high"], k, lang, XSD.decimal)))
        w = words.words(lang)
        g.add((dataset, HEALTH.populationCoverage, Literal(w["population_coverage"].format(
            table=d["population_table"] or w["none"], date=d["reference_date"]), lang=lang)))
        measurement = BNode()
        g.add((dataset, DQV.hasQualityMeasurement, measurement))
        g.add((measurement, RDF.type, DQV.QualityMeasurement))
        g.add((measurement, DQV.isMeasurementOf, URIRef(f"{base}quality/checks-passed-pct")))
        g.add((measurement, DQV.value, _number(d["quality_checks_passed_pct"], k, lang, XSD.decimal)))
        _quality(g, base, dataset, d, labels[source], protocols[source])
        for name, media, path in (("catalogue (CSV)", "text/csv", "csv/"),
                                  ("catalogue (Parquet)", "application/vnd.apache.parquet", "parquet/"),
                                  ("Data Package", "application/json", f"exports/{source}/datapackage.json"),
                                  ("site", "text/html", f"site/{source}/index.html")):
            distribution = URIRef(f"{dataset}/distributions/{re.sub(r'[^a-z]+', '-', name.lower()).strip('-')}")
            g.add((dataset, DCAT.distribution, distribution))
            g.add((distribution, RDF.type, DCAT.Distribution))
            g.add((distribution, DCTERMS.title, Literal(name)))
            g.add((distribution, DCAT.accessURL, URIRef(base + path)))
            g.add((distribution, DCAT.mediaType, Literal(media)))
        for t in tables[source]:
            schema = URIRef(f"{dataset}/tables/{t['table_name']}")
            g.add((dataset, CSVW.tableSchema, schema))
            g.add((schema, RDF.type, CSVW.Schema))
            g.add((schema, CSVW.name, Literal(t["table_name"])))
            if t["title"]:
                g.add((schema, DCTERMS.title, Literal(t["title"], lang=lang)))
            for v in variables[(source, t["table_name"])]:
                column = URIRef(f"{schema}/{v['variable']}")
                g.add((schema, CSVW.column, column))
                g.add((column, RDF.type, CSVW.Column))
                g.add((column, CSVW.name, Literal(v["variable"])))
                g.add((column, CSVW.datatype, Literal(v["declared_type"] or v["observed_type"] or "string")))
                if v["description"]:
                    g.add((column, DCTERMS.description, Literal(v["description"], lang=lang)))
    return g
