"""The public site and the exports: built for the demo and the example sources, searched and browsed in
headless Chromium with the network off, and scanned for small counts and identifier values."""
from __future__ import annotations

import functools
import json
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from frictionless import Package
from pyshacl import validate
from rdflib import Graph, Namespace

from tests.browser import needs_chromium, offline_page
from tests.conftest import REPO_ROOT
from tests.test_charts import COUNTS, spec_rows

HEALTH = Namespace("http://healthdataportal.eu/ns/health#")
COUNT = re.compile(r'<data class="count" value="(-?\d+)">')


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def served(published_demo):
    """The published version on a local static server (search fetches its index over HTTP)."""
    version, _ = published_demo
    handler = functools.partial(Quiet, directory=str(version))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_site_pages(published_demo) -> None:
    version, public = published_demo
    site = version / "site"
    pages = {p.relative_to(site).as_posix() for p in site.rglob("*.html")}
    assert {"index.html", "demo/index.html", "demo/tables/IR_BEN_R.html",
            "demo/variables/T_MCOaaB/SEJ_NBJ.html", "demo/nomenclatures/IR_SEX_V.html"} <= pages
    assert len([p for p in pages if p.startswith("demo/variables/")]) == len(public["variables"])
    assert (site / "pagefind" / "pagefind-ui.js").exists()
    html = (site / "demo" / "variables" / "IR_BEN_R" / "BEN_SEX_COD.html").read_text()
    assert "Code sexe du bénéficiaire" in html and "IR_SEX_V" in html and "vegaEmbed" in html
    assert not re.search(r'(src|href)="https?://', "".join(p.read_text() for p in site.rglob("*.html")))
    code_list = (site / "demo" / "nomenclatures" / "IR_SEX_V.html").read_text()
    assert "MASCULIN" in code_list and "FEMININ" in code_list
    ages = re.search(r"<dt>Âges</dt><dd>([^<]*)", (site / "demo" / "index.html").read_text()).group(1)
    assert re.fullmatch(r"de \d+(,\d+)? à \d+(,\d+)? ans \(médiane \d+(,\d+)?\), au \S+; .*", ages), ages


def test_exports_validate(published_demo) -> None:
    version, public = published_demo
    descriptor = json.loads((version / "exports" / "demo" / "datapackage.json").read_text())
    report = Package.validate_descriptor(descriptor)
    assert report.valid, report.flatten(["message"])
    assert {r["name"] for r in descriptor["resources"]} == {"ir_ben_r", "er_prs_f", "ki_cci_r", "t_mcoaab"}
    graph = Graph().parse(version / "exports" / "catalogue.ttl")
    conforms, _, text = validate(graph, shacl_graph=Graph().parse(REPO_ROOT / "assets" / "shapes" / "healthdcat-ap.ttl"))
    assert conforms, text
    assert len(Graph().parse(version / "exports" / "catalogue.jsonld", format="json-ld")) == len(graph)
    [database] = public["databases"]
    assert {int(o) for o in graph.objects(None, HEALTH.numberOfUniqueIndividuals)} == {database["individuals"]}


def test_every_published_file_is_safe(published_demo) -> None:
    """No count in 1..k-1 in any file of the published version, and no value of an identifier."""
    version, public = published_demo
    k = 11
    warehouse = version.parent.parent.parent / "warehouse.duckdb"
    identifiers = [(v["table_name"], v["variable"]) for v in public["variables"] if v["is_identifier"]]
    assert identifiers
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        secrets = {str(value) for table, column in identifiers for (value,) in conn.execute(
            f'SELECT DISTINCT CAST("{column}" AS VARCHAR) FROM demo."{table}" WHERE "{column}" IS NOT NULL')
            .fetchall() if len(str(value)) >= 6}
    assert len(secrets) > 1000
    pattern = re.compile("|".join(re.escape(s) for s in sorted(secrets, key=len, reverse=True)))
    files = [p for p in version.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".csv", ".ttl",
                                                                            ".jsonld", ".md")]
    assert len(files) > 50
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not pattern.search(text), path
        if path.suffix == ".html":
            assert all(int(n) == 0 or int(n) >= k for n in COUNT.findall(text)), path
        if path.suffix == ".json" and "charts" in path.parts:
            specs = json.loads(text)
            for spec in (specs.values() if "variables" in path.parts else [specs]):
                for row in spec_rows(spec):
                    assert all(row.get(f) in (None, 0) or abs(row[f]) >= k for f in COUNTS), (path, row)
    for value in Graph().parse(version / "exports" / "catalogue.ttl").objects(None, HEALTH.numberOfRecords):
        assert not str(value).isdigit() or int(value) == 0 or int(value) >= k


@needs_chromium
def test_search_then_browse_offline(served) -> None:
    """Home -> search an accent-less word of a French description -> the variable page (its chart and
    statistics) -> its table -> a join-graph link to another table."""
    with offline_page() as browser:
        page = browser.page
        page.context.route(f"{served}/**", lambda route: route.continue_())
        page.goto(f"{served}/site/index.html")
        page.get_by_role("textbox", name="Rechercher dans le catalogue").fill("duree sejour")  # its visible label
        result = page.locator(".pagefind-ui__result-link", has_text="SEJ_NBJ").first
        result.wait_for(timeout=20_000)  # among the first results, beside its table's page
        assert "q=duree+sejour" in page.url  # the query in the URL
        assert "variable · SNDS synthétique réaliste (démo)" in result.inner_text()  # its kind and its source
        filters = page.locator(".pagefind-ui__filter-panel").inner_text()
        assert "Type de page" in filters and "Base" in filters
        result.click()
        page.wait_for_url("**/variables/T_MCOaaB/SEJ_NBJ.html")
        page.locator("#chart svg").first.wait_for()
        assert page.locator("table.stats data.count").count() >= 2
        page.get_by_role("link", name="T_MCOaaB").first.click()
        page.wait_for_url("**/tables/T_MCOaaB.html")
        page.locator("svg.graph a[aria-label='IR_BEN_R']").click()
        page.wait_for_url("**/tables/IR_BEN_R.html")
        assert "Référentiel des bénéficiaires" in page.content()
        assert browser.errors == []
        assert [url for url in browser.refused if not url.startswith(served)] == []


def test_names_and_a_missing_search_index(published_demo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Any table name makes a valid resource name; a site whose search index cannot be built is still
    published (without search), so that the catalogue's publication does not fail for it."""
    from hdh_pipeline.exports.datapackage import resource_name
    from hdh_pipeline.schema import arrow_table
    from hdh_pipeline.site import build

    assert resource_name("Causes de décès (2013)") == "causes_de_deces_2013"
    _, public = published_demo

    def fail(*args, **kwargs):
        raise OSError("pagefind is not installed")

    monkeypatch.setattr(build.processes, "run", fail)
    site = build.build_site(public | {"nomenclatures": arrow_table("nomenclatures", public["nomenclatures"])}, tmp_path)
    assert (site / "demo" / "tables" / "IR_BEN_R.html").exists() and not (site / "pagefind").exists()


@needs_chromium
def test_every_code_is_reachable_and_tables_fit_a_phone(served, published_demo) -> None:
    """A code list's page holds every code, filters them by code or label as one types (accents aside), offers
    the list as CSV and names the variables using it; a table's variables name their code list; on a 390 px
    phone, wide tables scroll inside their box and the page does not."""
    import csv

    version, public = published_demo
    codes = sorted((r["code"], r["label"]) for r in public["nomenclatures"] if r["nomenclature"] == "IR_CIM_V")
    with open(version / "site" / "demo" / "nomenclatures" / "IR_CIM_V.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["CIM_COD", "CIM_LIB"] and sorted(map(tuple, rows[1:])) == codes
    with offline_page() as browser:
        page = browser.page
        page.context.route(f"{served}/**", lambda route: route.continue_())
        page.goto(f"{served}/site/demo/tables/KI_CCI_R.html")
        page.get_by_role("link", name="IR_CIM_V").first.click()
        page.wait_for_url("**/nomenclatures/IR_CIM_V.html")
        assert page.locator("#codes tbody tr").count() == len(codes)
        assert page.get_by_role("link", name="KI_CCI_R.DCD_CIM_COD").count() == 1
        label = next(label for code, label in codes if code == "E11")
        page.get_by_label("Chercher un code ou un libellé").fill("e11")
        assert [r.inner_text().split("\t")[0] for r in page.locator("#codes tbody tr:visible").all()] == ["E11"]
        plain = label.lower().replace("é", "e").replace("è", "e")
        page.get_by_label("Chercher un code ou un libellé").fill(plain)
        assert page.locator("#codes tbody tr:visible").first.inner_text().startswith("E11")
        assert page.get_by_role("link", name="Télécharger la liste (CSV)").get_attribute("href") == "IR_CIM_V.csv"
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{served}/site/demo/tables/ER_PRS_F.html")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        wide = page.locator(".wide").last
        assert wide.evaluate("e => e.scrollWidth > e.clientWidth")  # the variables table scrolls in its box
        assert browser.errors == []
        assert [url for url in browser.refused if not url.startswith(served)] == []


def test_every_link_of_the_site_opens_and_downloads_hold_the_published_rows(published_demo) -> None:
    """Every relative link and source of every page names a file of the published version; the database page's
    downloads are the source's published rows, a table page's its variables."""
    import csv
    from urllib.parse import unquote

    version, public = published_demo
    site = version / "site"
    broken = []
    for page in site.rglob("*.html"):
        for target in re.findall(r'(?:href|src)="([^"#:]+)(?:#[^"]*)?"', page.read_text(encoding="utf-8")):
            if not (page.parent / unquote(target)).exists():
                broken.append(f"{page.relative_to(site)} -> {target}")
    assert broken == []
    home = (site / "demo" / "index.html").read_text(encoding="utf-8")
    for name in ("tables", "variables", "value_frequencies", "quality_results"):
        assert f'href="downloads/{name}.csv"' in home and f'href="../../parquet/{name}.parquet"' in home
        with open(site / "demo" / "downloads" / f"{name}.csv", encoding="utf-8", newline="") as handle:
            assert sum(1 for _ in csv.DictReader(handle)) == len(public[name])
    with open(site / "demo" / "tables" / "KI_CCI_R.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["variable"] for r in rows] == [v["variable"] for v in public["variables"] if v["table_name"] == "KI_CCI_R"]


@needs_chromium
def test_access_and_words_are_explained(served, published_demo, tmp_path: Path) -> None:
    """The database page shows how to obtain the data beside the licence, the home page the licence; a term of a
    page opens its definition in the glossary; a source whose counts are all hidden says why."""
    from hdh_pipeline.site.build import GLOSSARY, build_site

    version, public = published_demo
    with offline_page() as browser:
        page = browser.page
        page.context.route(f"{served}/**", lambda route: route.continue_())
        page.goto(f"{served}/site/index.html")
        assert "Apache-2.0 (synthetic data)" in page.locator(".card").first.inner_text()
        page.goto(f"{served}/site/demo/index.html")
        facts = page.locator("dl.facts").inner_text()
        assert "Données synthétiques en libre accès" in facts and "délai habituel : aucun" in facts
        page.goto(f"{served}/site/demo/tables/KI_CCI_R.html")
        page.get_by_role("link", name="Correspondance").click()
        page.wait_for_url("**/glossary.html#match")
        assert page.locator("#match").is_visible() and "clé de jointure" in page.locator("#match").inner_text()
        assert page.locator("ul.glossary li").count() == len(GLOSSARY)
        assert browser.errors == []
    [database] = public["databases"]
    hidden = {name: None for name in ("individuals", "men", "women", "sex_other", "total_rows")}
    from hdh_pipeline.schema import arrow_table

    site = build_site(public | {"databases": [database | hidden],
                                "nomenclatures": arrow_table("nomenclatures", public["nomenclatures"])},
                      tmp_path, search=False)
    text = (site / "demo" / "index.html").read_text(encoding="utf-8")
    assert "Les effectifs de cette base sont masqués : inférieurs au seuil k = 11" in text
    assert "Les effectifs de cette base sont masqués" not in (version / "site" / "demo" / "index.html").read_text()


QUERIES = REPO_ROOT / "tests" / "data" / "search_queries.csv"


def judged_queries() -> list[tuple[str, set[str]]]:
    """The judged query set: French queries, with and without accents, each with the pages that answer it."""
    import csv

    with open(QUERIES, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))[1:]
    return [(query, set(expected.split("|"))) for query, expected in rows]


def top_results(page, served: str, query: str, n: int = 3) -> list[str]:
    """The first `n` pages the site's search gives for a query, as paths under site/ (from the query in the URL)."""
    from urllib.parse import quote

    page.goto(f"{served}/site/index.html?q={quote(query)}")
    message = page.locator(".pagefind-ui__message").filter(has_text=re.compile(r"\d|Aucun"))
    message.wait_for(timeout=20_000)
    total = int((re.search(r"\d+", message.inner_text()) or ["0"])[0])
    links = page.locator("li.pagefind-ui__result .pagefind-ui__result-title a.pagefind-ui__result-link")
    if total:  # each result's page is fetched, then shown
        links.nth(min(n, total) - 1).wait_for(timeout=20_000)
    hrefs = [links.nth(i).get_attribute("href") for i in range(min(n, links.count()))]
    return [href.split("/site/", 1)[-1].split("#")[0] for href in hrefs]


@needs_chromium
def test_search_finds_the_judged_pages_in_its_top_three(served) -> None:
    """At least 90 % of the judged queries have an expected page among the first three results; a code finds its
    code list."""
    queries = judged_queries()
    assert len(queries) >= 30
    with offline_page() as browser:
        page = browser.page
        page.context.route(f"{served}/**", lambda route: route.continue_())
        missed = []
        for query, expected in queries:
            found = top_results(page, served, query)
            if not expected & set(found):
                missed.append((query, found))
        print(f"judged queries: {len(queries) - len(missed)}/{len(queries)} in the top 3; missed: {missed}")
        assert len(missed) <= len(queries) // 10, missed
        for code in ("E11", "I21"):  # ICD-10 codes, in no page's text but their list's
            assert top_results(page, served, code)[:1] == ["demo/nomenclatures/IR_CIM_V.html"], code
        assert browser.errors == []


@needs_chromium
def test_the_join_graph_zooms_filters_and_highlights(served, published_demo) -> None:
    """The database's join graph, drawn by the Cytoscape.js the site serves (with its licence): a colour per product
    with a legend whose boxes hide a product, a table's neighbourhood highlighted on a click, zoom with the wheel."""
    version, public = published_demo
    assert (version / "site" / "vendor" / "cytoscape" / "LICENSE").exists()
    with offline_page() as browser:
        page = browser.page
        page.context.route(f"{served}/**", lambda route: route.continue_())
        page.goto(f"{served}/site/demo/index.html")
        page.locator("#join-graph canvas").first.wait_for(timeout=20_000)
        assert not page.locator("#join-graph-static").is_visible()
        graph = "window.hdhJoinGraph"
        products = {t["product"] for t in public["tables"]}
        assert set(page.locator("#join-graph-legend label").all_inner_texts()) == products
        assert page.evaluate(f"{graph}.nodes().length") == 4 and page.evaluate(f"{graph}.edges().length") == 3
        before = page.evaluate(f"{graph}.zoom()")
        page.locator("#join-graph canvas").last.dispatch_event("wheel", {"deltaY": 400, "deltaMode": 0})
        assert page.evaluate(f"{graph}.zoom()") < before  # the wheel zooms (out)
        colours = page.evaluate(f"{graph}.nodes().map(n => n.data('colour'))")
        assert len(set(colours)) == len(products)
        page.get_by_role("checkbox", name="Causes de décès").uncheck()
        assert page.evaluate(f"{graph}.getElementById('KI_CCI_R').visible()") is False
        page.get_by_role("checkbox", name="Causes de décès").check()
        page.evaluate(f"{graph}.getElementById('IR_BEN_R').emit('tap')")
        assert page.evaluate(f"{graph}.edges('.near').length") == 3  # every table joins IR_BEN_R
        page.evaluate(f"{graph}.getElementById('KI_CCI_R').emit('tap')")
        assert page.evaluate(f"{graph}.nodes('.faded').map(n => n.id()).sort()") == ["ER_PRS_F", "T_MCOaaB"]
        assert browser.errors == []
        assert [url for url in browser.refused if not url.startswith(served)] == []
