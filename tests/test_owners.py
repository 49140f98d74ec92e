"""What a data owner is shown of their database: the documentation's gaps, the quality protocol and the EHDS
label, checked against independent counts of the published demo and against hand-made cases."""
from __future__ import annotations

import datetime as dt
from collections import Counter

from rdflib import Graph, Literal, Namespace, URIRef

from hdh_pipeline.catalogue.label import label_rows
from hdh_pipeline.profile.documentation import documentation
from hdh_pipeline.sources.declaration import SourceDeclaration
from tests.conftest import declaration

DQV = Namespace("http://www.w3.org/ns/dqv#")


def test_documentation_gaps_name_what_is_missing() -> None:
    complete = SourceDeclaration(**declaration(
        description="d", producer={"name": "P", "url": "https://p.example"}, contact={"email": "a@p.example"},
        access={"conditions": "on request", "procedure_url": "https://p.example/ask"}, owners=["a@p.example"]))
    tables = [{"table_name": "T", "description": "What T holds"}]
    variables = [{"table_name": "T", "variable": "x", "description": "x"}]
    codes = [("L", "one"), ("L", "two")]
    assert documentation(complete, tables, variables, codes).gaps == []
    assert documentation(complete, tables, variables, codes).pct == 100.0
    bare = SourceDeclaration(**declaration())
    found = documentation(bare, tables + [{"table_name": "U", "description": None}],
                          variables + [{"table_name": "U", "variable": "y", "description": ""}],
                          codes + [("L", None), ("M", "m")])
    assert {(g.level, g.name, g.missing) for g in found.gaps} == {
        ("database", "src", "description"), ("database", "src", "producer's web site"),
        ("database", "src", "contact email"), ("database", "src", "access conditions"),
        ("database", "src", "access procedure (URL)"), ("database", "src", "owners"),
        ("table", "U", "description"), ("variable", "U.y", "description"), ("code list", "L", "labels of 1 codes")}
    # 7 declared facts, 2 tables, 2 variables, 2 code lists: 13 items, 9 gaps
    assert found.items == 13 and found.pct == round(100 * 4 / 13, 1)


def test_the_protocol_counts_what_ran(published_demo) -> None:
    version, public = published_demo
    results = [r for r in public["quality_results"] if r["source_id"] == "demo"]
    protocol = [p for p in public["quality_protocol"] if p["source_id"] == "demo"]
    assert sum(p["checks"] for p in protocol) == len(results)
    expected = Counter((r["category"], r["check_id"].split(":")[0], r["severity"], r["status"]) for r in results)
    for p in protocol:
        key = (p["category"], p["rule"], p["severity"])
        assert p["passed"] == expected[(*key, "passed")]
        assert p["failed"] == expected[(*key, "failed")] + expected[(*key, "error")]
        judged = expected[(*key, "passed")] + expected[(*key, "failed")]
        assert p["pass_rate_pct"] == (round(100 * expected[(*key, "passed")] / judged, 1) if judged else None)
        assert min(r["threshold_pct"] for r in results if r["check_id"].split(":")[0] == p["rule"]
                   and r["category"] == p["category"] and r["severity"] == p["severity"]) == p["threshold_pct_min"]
    assert {p["category"] for p in protocol} == {"conformance", "completeness", "plausibility"}
    # the demo's injected duplicate keys fail its error-severity primary key checks
    assert any(p["rule"] == "primary_key" and p["severity"] == "error" and p["failed"] for p in protocol)


def test_the_label_shows_its_evidence_and_goes_to_dqv(published_demo) -> None:
    version, public = published_demo
    label = {(r["dimension"], r["element"]): r for r in public["quality_label"] if r["source_id"] == "demo"}
    [database] = [d for d in public["databases"] if d["source_id"] == "demo"]
    assert label[("documentation", "documentation completeness")]["measure"] == database["documentation_pct"]
    results = [r for r in public["quality_results"] if r["source_id"] == "demo" and r["status"] in ("passed", "failed")]
    conformance = [r for r in results if r["category"] == "conformance"]
    assert label[("technical quality", "conformance checks passed")]["measure"] == round(
        100 * sum(r["status"] == "passed" for r in conformance) / len(conformance), 1)
    assert {r["basis"] for r in label.values()} == {"computed", "declared", "not covered"}
    assert label[("timeliness", "refreshed within its declared frequency")]["value"].startswith("yes")
    # a year later, the weekly demo is late
    later = label_rows(public, database["last_refresh"] + dt.timedelta(days=365))
    assert [r["value"] for r in later if r["source_id"] == "demo" and r["dimension"] == "timeliness"][0][:2] == "no"
    graph = Graph().parse(version / "exports" / "catalogue.ttl")
    values = {str(metric).rsplit("/", 1)[1]: value.toPython() for m in graph.subjects(DQV.isMeasurementOf, None)
              for metric in graph.objects(m, DQV.isMeasurementOf) for value in graph.objects(m, DQV.value)}
    assert float(values["documentation-completeness"]) == database["documentation_pct"]
    assert (None, DQV.hasQualityAnnotation, None) in graph
    bodies = [str(o) for o in graph.objects(None, URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#value"))
              if isinstance(o, Literal)]
    assert any("Quality protocol" in b and "primary_key" in b for b in bodies)
