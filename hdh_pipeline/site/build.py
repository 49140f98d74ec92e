"""The public site: a static, searchable dictionary of every catalogued database, from published rows only.

    site/index.html                                  every database
    site/glossary.html                               every term the pages use, linked where they appear
    site/<source>/index.html                         its metadata, charts, join graph, tables by product
    site/<source>/tables/<table>.html                variables, join keys both ways
    site/<source>/variables/<table>/<variable>.html  statistics, chart, quality checks, history
    site/<source>/nomenclatures/<code list>.html     every code and label, a filter, the variables using it
    site/<source>/nomenclatures/<code list>.csv      the list to download (its own column names)
    site/<source>/downloads/<catalogue table>.csv    the source's rows of each catalogue table
    site/<source>/tables/<table>.csv                 the table's variables
    site/cytoscape.min.js, site/graph.js             the interactive join graph (Cytoscape.js, its licence in vendor/)
    site/pagefind/                                   the search index (Pagefind)

Pages link to the charts (`../charts/`) and exports (`../exports/`) of the same published version.
Search is Pagefind's: it runs in the browser from the generated index, over HTTP (it fetches index
fragments, which browsers refuse from `file://`): `hdh-pipeline serve` serves a version locally.
Hidden counts show as "masqué" ("hidden"), with why in a tooltip; every count goes through the
`count` filter (`<data class="count">`), which a test scans.
"""
from __future__ import annotations

import csv
import functools
import json
import logging
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from hdh_pipeline import processes, words
from hdh_pipeline.catalogue.codes import code_lists
from hdh_pipeline.schema import CODES, TABLES, column_names
from hdh_pipeline.site.graph import graph_data, join_graph, slug
from hdh_pipeline.vocabulary import DEFAULT_K, EVENT_ROLES, UNSUCCESSFUL, kind_of

HERE = Path(__file__).parent
LOG = logging.getLogger(__name__)
DOWNLOADS = [name for name in TABLES if name not in ("refreshes", CODES)]  # a source's rows of these, as CSV
GLOSSARY = ("masked", "k", "bounds", "completeness", "conformance", "plausibility", "kahn", "match", "direction",
            "code_list", "primary_key", "identifier", "other", "coverage", "severity")  # words' def_<anchor>
FLAGS = ("is_identifier", "is_quasi_identifier", "is_unique", "is_constant", "is_mostly_missing")


class _Environment(Environment):
    def getattr(self, obj: object, attribute: str) -> object:
        """`row.name` of the rows and words (dicts) looks the key up first: Jinja's attribute first, then key, raises
        and catches an AttributeError for each, a fifth of a wide source's pages' time."""
        if type(obj) is dict and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


@functools.cache
def _environment(language: str) -> Environment:
    """The templates, with the words and number formats of a language."""
    w = words.words(language)
    env = _Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True, auto_reload=False)

    def count(value: int | None, k: int) -> Markup:
        if value is None:
            return Markup('<abbr class="hidden-count" title="{}">{}</abbr>').format(
                w["hidden_title"].format(k=k), w["hidden"])
        return Markup('<data class="count" value="{}">{}</data>').format(value, words.integer(value, language))

    def pct(value: float | None) -> str:
        return "–" if value is None else words.decimal(value, language, 2) + " %"

    def num(value: object) -> str:
        """A statistic: numbers with at most 4 decimals, dates and text as they are."""
        try:
            number = float(value)
        except (TypeError, ValueError):
            return str(value)
        return words.decimal(number, language)

    def term(text: str, anchor: str, root: str) -> Markup:
        """A word of a page, linked to its definition in the glossary."""
        return Markup('<a class="term" href="{}glossary.html#{}">{}</a>').format(root, anchor, text)

    env.filters.update(count=count, pct=pct, slug=slug, num=num, integer=lambda n: words.integer(n, language))
    env.globals.update(w=w, lang=language, term=term)
    return env


def _alt(name: str, database: dict, population: list[dict], w: dict) -> str:
    """Text alternative of a database chart, with the numbers it shows."""
    def shown(value: int | None) -> str:
        return w["hidden"] if value is None else str(value)

    if name == "pyramid":
        bands = defaultdict(dict)
        for r in population:
            bands[r["band"]][r["sex"]] = r["individuals"]
        return w["pyramid_alt"].format(title=database["title"]) + " : " + "; ".join(
            f"{band} : {w['men']} {shown(sexes.get('men'))}, {w['women']} {shown(sexes.get('women'))}"
            for band, sexes in bands.items())
    if name == "sex":
        return f"{w['men']} {shown(database['men'])}, {w['women']} {shown(database['women'])}, " \
               f"{w['other']} {shown(database['sex_other'])}"
    return f"{w['chart_' + name]} — {database['title']}"


def _measure(change: dict, w: dict) -> str:
    """What a change measured, in the page's language: the catalogue writes it in English, its tolerance last
    (`relative change in rows > 0.1`)."""
    key, limit = f"measure_{change['change']}".replace(" ", "_"), (change["measure"] or "").rpartition(">")[2]
    try:
        return w[key].format(limit=words.decimal(float(limit), w["language"])) if key in w else change["measure"] or ""
    except ValueError:
        return change["measure"] or ""


def _quality_summary(checks: list[dict], w: dict) -> str:
    if not checks:
        return "–"
    failed = sum(c["status"] in UNSUCCESSFUL for c in checks)
    return w["failed_checks"].format(n=failed) if failed else w["all_passed"]


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(html, encoding="utf-8")


def _write_csv(path: Path, table: str, rows: list[dict]) -> None:
    """Published rows of a catalogue table as CSV (UTF-8, its columns in the catalogue's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(column_names(table))
        writer.writerows([row.get(c) for c in column_names(table)] for row in rows)


def _by(rows: list[dict], *keys: str) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        out[tuple(row[k] for k in keys)].append(row)
    return out


def build_site(public: dict[str, list[dict]], version: Path, search: bool = True) -> Path:
    """Every page of the site under `version/site`, and its search index (`search=False`: the caller indexes
    them, `index_search`); returns the site folder. Each source's pages speak its language (words.language_of)."""
    out = version / "site"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "site.css", out / "site.css")
    shutil.copyfile(HERE / "graph.js", out / "graph.js")
    library = HERE / "vendor" / "cytoscape"
    if library.is_dir():  # without it (a package built without `make install`), the static join graphs stay
        shutil.copytree(library, out / "vendor" / "cytoscape", dirs_exist_ok=True)
        shutil.copyfile(library / "cytoscape.min.js", out / "cytoscape.min.js")
    databases = sorted(public["databases"], key=lambda d: d["title"] or d["source_id"])
    k = min((d["disclosure_k"] for d in databases), default=DEFAULT_K)
    pyramids = {d["source_id"]: f"../charts/{d['source_id']}/pyramid.png" for d in databases
                if (version / "charts" / d["source_id"] / "pyramid.vl.json").exists()}  # its PNG may be drawing
    home = _environment(words.language_of())
    _write(out / "index.html", home.get_template("home.html").render(root="", k=k, databases=databases,
                                                                      pyramids=pyramids))
    _write(out / "glossary.html", home.get_template("glossary.html").render(root="", k=k, terms=GLOSSARY))
    tables_of = _by(public["tables"], "source_id")
    variables_of = _by(public["variables"], "source_id", "table_name")
    relations_of = _by(public["relations"], "source_id")
    checks_of = _by(public["quality_results"], "source_id", "table_name", "variable")
    for d in databases:
        _database_pages(_environment(words.language_of(d)), out, version, d, public, tables_of[(d["source_id"],)],
                        variables_of, relations_of[(d["source_id"],)], checks_of)
    if search:
        index_search(out)
    return out


def index_search(site: Path) -> None:
    """Pagefind's index of the pages. Without it the site works, search says it is unavailable: a
    failure is logged, not raised (it must not stop the catalogue's publication)."""
    try:
        processes.run("pagefind", "--site", str(site), "--silent", timeout=600)
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        LOG.warning("search index not built (%s): the site is published without search. %s",
                    type(error).__name__, detail.decode(errors="replace")[-300:])


def _database_pages(env: Environment, out: Path, version: Path, d: dict, public: dict, tables: list[dict],
                    variables_of: dict, relations: list[dict], checks_of: dict) -> None:
    source, k, w = d["source_id"], d["disclosure_k"], env.globals["w"]
    folder = out / source
    population = [r for r in public.get("population", []) if r["source_id"] == source]
    charts = [{"png": f"../../charts/{source}/{name}.png", "html": f"../../charts/{source}/{name}.html",
               "alt": _alt(name, d, population, w), "caption": w[f"chart_{name}"]}
              for name in ("pyramid", "sex", "coverage", "completeness", "quality")
              if (version / "charts" / source / f"{name}.vl.json").exists()]
    products = defaultdict(list)
    for t in sorted(tables, key=lambda t: t["table_name"]):
        products[t["product"] or ""].append(t)
    lists = code_lists(public.get(CODES), source)
    for name in DOWNLOADS:  # the source's own rows of each catalogue table
        _write_csv(folder / "downloads" / f"{name}.csv", name,
                   [r for r in public.get(name, []) if r["source_id"] == source])
    _write(folder / "index.html", env.get_template("database.html").render(
        root="../", k=k, d=d, charts=charts, products=sorted(products.items()),
        graph=join_graph(tables, relations), graph_data=graph_data(tables, relations, w["no_product"]),
        code_lists=[(c.name, c.title) for c in lists],
        downloads=DOWNLOADS,
        protocol=[r for r in public.get("quality_protocol", []) if r["source_id"] == source],
        label=[r for r in public.get("quality_label", []) if r["source_id"] == source],
        changes=[c | {"measure": _measure(c, w)} for c in public.get("changes", []) if c["source_id"] == source]))
    names = {t["table_name"] for t in tables}
    known_lists = {c.name for c in lists}
    for t in tables:
        table = t["table_name"]
        variables = variables_of.get((source, table), [])
        rows = [v | {"quality_summary": _quality_summary(checks_of.get((source, table, v["variable"]), []), w)}
                for v in variables]
        outgoing = [r | {"linked": r["referenced_table"] in names} for r in relations
                    if r["table_name"] == table and r["kind"] == "table"]
        incoming = [r for r in relations if r["referenced_table"] == table and r["kind"] == "table"
                    and r["table_name"] != table]
        summary = w["table_summary"].format(
            name=table, product=w["of_product"].format(product=t["product"]) if t["product"] else "",
            n=words.integer(t["column_count"], w["language"]) if t["column_count"] is not None else "–",
            rows=words.integer(t["row_count"], w["language"]) if t["row_count"] is not None else w["hidden"])
        _write_csv(folder / "tables" / f"{slug(table)}.csv", "variables", variables)
        _write(folder / "tables" / f"{slug(table)}.html", env.get_template("table.html").render(
            root="../../", k=k, d=d, t=t, summary=summary, variables=rows, outgoing=outgoing, code_lists=known_lists,
            incoming=incoming, graph=join_graph(tables, relations, href="{}.html", focus=table)))
        specs_file = version / "charts" / source / "variables" / f"{table}.json"
        specs = json.loads(specs_file.read_text(encoding="utf-8")) if specs_file.exists() else {}
        template = env.get_template("variable.html")
        for v in variables:
            spec = specs.get(v["variable"])
            kind = kind_of(v["observed_type"] or "VARCHAR")
            numeric, event = kind == "numeric", v["role"] in EVENT_ROLES and kind == "date"
            hidden = {name for name, applies in (("zeros", numeric), ("negatives", numeric),
                                                 ("after_reference", event)) if applies}
            _write(folder / "variables" / slug(table) / f"{slug(v['variable'])}.html", template.render(
                root="../../../", k=k, d=d, v=v, spec=spec, spec_rows=spec["data"]["values"] if spec else [],
                checks=checks_of.get((source, table, v["variable"]), []), code_lists=known_lists, hidden=hidden,
                flags=", ".join(w[f] for f in FLAGS if v[f])))
    users = defaultdict(list)
    for t in tables:
        for v in variables_of.get((source, t["table_name"]), []):
            if v["nomenclature"]:
                users[v["nomenclature"]].append(v)
    for codes in lists:
        rows = codes.rows()
        _write(folder / "nomenclatures" / f"{slug(codes.name)}.html", env.get_template("nomenclature.html").render(
            root="../../", k=k, d=d, name=codes.name, title=codes.title, codes=rows, total=len(codes),
            used_by=users.get(codes.name, [])))
        with open(folder / "nomenclatures" / f"{slug(codes.name)}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([codes.fields[0], codes.fields[1] or w["label"]])
            writer.writerows([r["code"], r["label"]] for r in rows)

