"""Feeds for the SNDS community's own tools, from the published catalogue, for any source:

- the interactive dictionary (`indsante/dico-snds`, a Shiny app): its `app_data` files, read by its
  `load_data()` with `read.csv(..., encoding = "UTF-8")` (comma-separated, header, UTF-8):
    snds_tables.csv         Produit, Table, Libelle, creation, suppression, dates_manquantes
    snds_vars.csv           table, var, format, description, nomenclature ("-" if none), creation,
                            suppression, dates_manquantes
    snds_nomenclatures.csv  nomenclature, titre ("Titre manquant"), variables_liees ("a, b" or
                            "Aucune variable liée"), nombre_lignes
    snds_nodes.csv          name, description, group (product number, from 1), index (from 0), nb_vars
    snds_links.csv          source, target (node indexes), joint_var ("A + B", or "A => B" when names differ)
    nomenclatures/<X>.csv   each code list
  The app selects its columns by name (`select(one_of(...))`), so the catalogue's figures follow as extra
  columns at the end: rows, completeness, distinct values, bounds, with the catalogue's disclosure marks;
- the collaborative documentation: one Markdown page per table, in the style of its table pages.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from hdh_pipeline import words
from hdh_pipeline.catalogue.codes import code_lists
from hdh_pipeline.schema import CODES


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _count(value: int | None, w: dict) -> str:
    return w["hidden"] if value is None else str(value)


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)  # None as an empty field, anything else as str() writes it


def _mine(public: dict[str, list[dict]], name: str, source: str) -> list[dict]:
    return [r for r in public.get(name, []) if r["source_id"] == source]


def _joint(columns: str, referenced: str) -> str:
    own, theirs = columns.split(", "), referenced.split(", ")
    return " + ".join(own) if own == theirs else f"{' + '.join(own)} => {' + '.join(theirs)}"


def write_dico_snds(public: dict[str, list[dict]], source: str, folder: Path) -> None:
    """The interactive dictionary's app_data files for one source."""
    [database] = _mine(public, "databases", source)
    w = words.words(words.language_of(database))
    tables = sorted(_mine(public, "tables", source), key=lambda t: (t["product"] or "", t["table_name"]))
    variables = _mine(public, "variables", source)
    by_table = defaultdict(list)
    for v in variables:
        by_table[v["table_name"]].append(v)
    _write(folder / "snds_tables.csv",
           ["Produit", "Table", "Libelle", "creation", "suppression", "dates_manquantes", "nombre_lignes",
            "completude_pct", "statut"],
           [[t["product"], t["table_name"], t["title"] or t["description"], t["created"], t["deleted"],
             t["missing_dates"], _count(t["row_count"], w) if t["status"] in ("loaded", "empty") else "",
             t["completeness_pct"], t["status"]] for t in tables])
    _write(folder / "snds_vars.csv",
           ["table", "var", "format", "description", "nomenclature", "creation", "suppression", "dates_manquantes",
            "completude_pct", "valeurs_distinctes", "min", "max", "moyenne"],
           [[v["table_name"], v["variable"], v["dictionary_format"] or v["declared_type"] or v["observed_type"],
             v["description"], v["nomenclature"] or "-", v["created"], v["deleted"], v["missing_dates"],
             v["completeness_pct"], v["distinct_count"], v["min"], v["max"], v["mean"]]
            for t in tables for v in sorted(by_table[t["table_name"]], key=lambda v: v["variable"])])
    lists = code_lists(public.get(CODES), source)
    users = defaultdict(set)
    for v in variables:
        if v["nomenclature"]:
            users[v["nomenclature"]].add(v["variable"])
    _write(folder / "snds_nomenclatures.csv", ["nomenclature", "titre", "variables_liees", "nombre_lignes"],
           [[c.name, c.title or "Titre manquant", ", ".join(sorted(users[c.name])) or "Aucune variable liée",
             len(c)] for c in lists])
    for c in lists:  # one list's rows at a time
        _write(folder / "nomenclatures" / f"{c.name}.csv", ["code", "libelle"],
               [[r["code"], r["label"]] for r in c.rows()])
    products = list(dict.fromkeys(t["product"] or "" for t in tables))
    index = {t["table_name"]: i for i, t in enumerate(tables)}
    _write(folder / "snds_nodes.csv", ["name", "description", "group", "index", "nb_vars"],
           [[t["table_name"], t["title"] or t["description"], products.index(t["product"] or "") + 1,
             index[t["table_name"]], len(by_table[t["table_name"]])] for t in tables])
    links = {}
    for r in _mine(public, "relations", source):
        if r["kind"] == "table" and r["table_name"] in index and r["referenced_table"] in index \
                and r["table_name"] != r["referenced_table"]:
            key = (index[r["table_name"]], index[r["referenced_table"]])
            joint = _joint(r["columns"], r["referenced_columns"] or r["columns"])
            links[key] = f"{links[key]} | {joint}" if key in links else joint
    _write(folder / "snds_links.csv", ["source", "target", "joint_var"],
           [[a, b, joint] for (a, b), joint in sorted(links.items())])


def _cell(value: object) -> str:
    return _text(value).replace("|", "\\|").replace("\n", " ")


def write_markdown_pages(public: dict[str, list[dict]], source: str, folder: Path) -> None:
    """One page per table in the style of the collaborative SNDS documentation's table pages."""
    [database] = _mine(public, "databases", source)
    k, w = database["disclosure_k"], words.words(words.language_of(database))
    variables = defaultdict(list)
    for v in _mine(public, "variables", source):
        variables[v["table_name"]].append(v)
    relations = _mine(public, "relations", source)
    folder.mkdir(parents=True, exist_ok=True)
    for t in _mine(public, "tables", source):
        table = t["table_name"]
        lines = [f"# {table}", "", f"{t['title'] or ''}".strip(), ""]
        if t["description"] and t["description"] != t["title"]:
            lines += [t["description"], ""]
        colon = " :" if w["language"] == "fr" else ":"
        rows = _count(t["row_count"], w) if t["status"] in ("loaded", "empty") else w.get(t["status"], t["status"])
        lines += [f"- {w['product']}{colon} {t['product'] or '–'}", f"- {w['database']}{colon} {database['title']}",
                  f"- {w['rows']}{colon} {rows}", f"- {w['primary_key']}{colon} {t['primary_key'] or '–'}", ""]
        joins = [r for r in relations if r["kind"] == "table" and table in (r["table_name"], r["referenced_table"])]
        if joins:
            lines += [f"## {w['join_keys']}", ""]
            lines += [f"- `{r['columns']}` → [{r['referenced_table']}]({r['referenced_table']}.md) "
                      f"(`{r['referenced_columns']}`)" if r["table_name"] == table else
                      f"- [{r['table_name']}]({r['table_name']}.md) (`{r['columns']}`) → `{r['referenced_columns']}`"
                      for r in joins]
            lines.append("")
        header = [w[key] for key in ("name", "type", "description", "code_list", "completeness", "distinct")]
        lines += [f"## {w['variables']}", "", "| " + " | ".join(header) + " | Min | Max |", "|-|-|-|-|-|-|-|-|"]
        for v in sorted(variables[table], key=lambda v: v["position"]):
            completeness = f"{v['completeness_pct']} %" if v["completeness_pct"] is not None else w["hidden"]
            lines.append("| " + " | ".join(_cell(x) for x in (
                v["variable"], v["dictionary_format"] or v["declared_type"] or v["observed_type"], v["description"],
                v["nomenclature"] or "-", completeness, v["distinct_count"] if v["distinct_count"] is not None else "–",
                v["min"] if v["min"] is not None else "–", v["max"] if v["max"] is not None else "–")) + " |")
        lines += ["", f"*{w['statistics_note'].format(k=k)}*", ""]
        (folder / f"{table}.md").write_text("\n".join(lines), encoding="utf-8")
