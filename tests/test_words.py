"""Words and the language rule: both languages say everything, and an English source is English throughout (its
pages, charts and every export), a French one French."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import duckdb
import pytest
from frictionless import Package
from pyshacl import validate
from rdflib import Graph

from hdh_pipeline import words
from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.charts.write import write_charts
from hdh_pipeline.engines.duckdb.load import load_source_tables
from hdh_pipeline.exports.write import write_exports
from hdh_pipeline.site.build import build_site
from hdh_pipeline.vocabulary import DEFAULT_K
from hdh_pipeline.words import en, fr
from tests.conftest import REPO_ROOT, profile


def test_both_languages_have_every_word() -> None:
    assert fr.WORDS.keys() == en.WORDS.keys()
    assert all(fr.WORDS[key] and en.WORDS[key] for key in fr.WORDS)
    for key in fr.WORDS:  # the same placeholders
        assert set(re.findall(r"\{\w+\}", fr.WORDS[key])) == set(re.findall(r"\{\w+\}", en.WORDS[key])), key


def test_numbers_and_schedules_in_each_language() -> None:
    assert (words.integer(1234567, "fr"), words.integer(1234567, "en")) == ("1\u202f234\u202f567", "1,234,567")
    assert (words.decimal(93.0, "fr"), words.decimal(12.345, "en", 2)) == ("93", "12.35")
    assert words.schedule("0 3 * * 1", "fr") == "À 03:00, uniquement le lundi"
    assert words.schedule("0 3 * * 1", "en") == "At 03:00, only on Monday"


def _source(write_source, language: str):
    people = "person_id,sex,birth_year\n" + "".join(f"P{i:04d},{1 + i % 2},{1940 + i % 60}\n" for i in range(300))
    visits = "visit_id,person_id,visit_date,amount\n" + "".join(
        f"V{i:05d},P{i % 300:04d},2023-{1 + i % 12:02d}-{1 + i % 28:02d},{1000 + (i % 50) * 37.5}\n"
        for i in range(1500))
    return write_source({"people.csv": people, "visits.csv": visits}, language=language, roles={"person_id": ["person_id"]},
                        tables={"people": {"roles": {"sex": "sex", "birth_year": "birth_year"}},
                                "visits": {"roles": {"event_date": ["visit_date"]}}})


@pytest.fixture(params=["en", "fr"])
def published(request: pytest.FixtureRequest, write_source, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path, dict]:
    """(language, the version folder, the public rows) of a small source declared in that language, with its site,
    charts and exports, in a catalogue of the same language."""
    monkeypatch.setenv("HDH_SITE_LANGUAGE", request.param)
    source = _source(write_source, request.param)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_source_tables(conn, source, tmp_path / "staging")
        rows = profile(conn, source, DEFAULT_K).rows
    public = public_rows(rows | {"quality_results": [], "changes": []}, {source.id: DEFAULT_K})
    version = tmp_path / "version"
    write_charts(public, version / "charts")
    build_site(public, version, search=False)
    write_exports(public, version / "exports")
    return request.param, version, public


def _texts(version: Path) -> dict[Path, str]:
    """Every published file people read: pages, documentation, tables, charts (the RDF exports are checked by their
    literals' language tags; the Data Package's keys are its specification's)."""
    def text(path: Path) -> str:
        read = path.read_text(encoding="utf-8")
        if path.suffix == ".csv":  # its header names columns (the catalogue's, the app's), its rows are read
            return read.partition("\n")[2]
        return re.sub(r'(href|src|id)="[^"]*"', "", read)  # links and anchors are not read

    return {path: text(path) for path in version.rglob("*")
            if path.suffix in (".html", ".md", ".csv") or (path.suffix == ".json" and "charts" in path.parts)}


def test_a_source_speaks_its_language_everywhere(published) -> None:
    language, version, public = published
    other = en.WORDS if language == "fr" else fr.WORDS
    mine = words.words(language)
    # the other language's words (long enough not to be names, and not the same in both)
    foreign = {other[key] for key in other if len(other[key]) > 8 and other[key] != mine[key] and "{" not in other[key]}
    texts = _texts(version)
    for path, text in texts.items():
        if path.suffix == ".html":
            assert f'<html lang="{language}">' in text, path
        found = [word for word in foreign if word in text]
        assert not found, (path, found[:3])
    tagged = {o.language for o in Graph().parse(version / "exports" / "catalogue.ttl").objects() if
              getattr(o, "language", None)}
    assert tagged == {language}
    visits = (version / "site" / "src" / "tables" / "visits.html").read_text(encoding="utf-8")
    assert words.integer(1500, language) in visits  # the rows, written the language's way
    pyramid = json.loads((version / "charts" / "src" / "pyramid.vl.json").read_text())
    assert pyramid["title"]["text"].startswith(mine["chart_pyramid"])
    [database] = public["databases"]
    assert database["update_frequency_text"] == words.schedule(database["update_frequency"], language)


def test_every_export_validates(published) -> None:
    language, version, public = published
    exports = version / "exports"
    descriptor = json.loads((exports / "src" / "datapackage.json").read_text())
    assert Package.validate_descriptor(descriptor).valid
    assert {r["name"] for r in descriptor["resources"]} == {"people", "visits"}
    graph = Graph().parse(exports / "catalogue.ttl")
    conforms, _, text = validate(graph, shacl_graph=Graph().parse(REPO_ROOT / "assets" / "shapes" / "healthdcat-ap.ttl"))
    assert conforms, text
    assert len(Graph().parse(exports / "catalogue.jsonld", format="json-ld")) == len(graph)
    with open(exports / "src" / "dico-snds" / "snds_vars.csv", encoding="utf-8") as handle:
        variables = list(csv.DictReader(handle))
    assert {(v["table"], v["var"]) for v in variables} == {(v["table_name"], v["variable"]) for v in public["variables"]}
    assert {p.name for p in (exports / "src" / "documentation").rglob("*.md")} == {"people.md", "visits.md", "README.md"}
