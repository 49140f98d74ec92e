"""The SNDS interactive dictionary's data (`indsante/dico-snds`, a Shiny app: its `app_data` folder), for any
source, written the way the app's code reads it:

    snds_tables.csv         Produit, Table, Libelle, creation, suppression, dates_manquantes
    snds_vars.csv           table, var, format (`number (11,2)`, `date (8)`), description, nomenclature ("-" if
                            none), creation, suppression, dates_manquantes; in the dictionary's order
    snds_nomenclatures.csv  nomenclature, titre ("Titre manquant"), variables_liees ("a, b" or
                            "Aucune variable liée"), nombre_lignes
    snds_nodes.csv          name, description, group, index (from 0), nb_vars: the tables taking part in a join;
                            group is the app's fixed colour scale of ten SNDS products (PRODUCTS)
    snds_links.csv          source, target (node indexes), joint_var: `A + B`, `A => B` when names differ, and
                            ` | Bidirectionnel` (the key's description); the keys between two tables joined by ` | `
    nomenclatures/<NAME>.csv  each code list, `;`-separated (the app opens `toupper(name).csv` with read.csv2), with
                            the list's own column names

`load_data()` reads the five files with `read.csv` (comma, header, UTF-8) and selects its columns by name, so the
catalogue's figures follow the app's columns, at the end of snds_tables.csv and snds_vars.csv (the app's tests
require the exact columns of snds_nodes.csv and snds_links.csv). Text columns are never all empty: R would read them
as logical NA columns.
"""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from hdh_pipeline.exports.source_rows import SourceRows

# The app's colour scale (app/server/onglet_network.R), groups 1 to 10, and the SNDS dictionary's names for them.
PRODUCTS = ("BENEFICIAIRE", "DCIR/DCIRS", "DCIRS", "DCIR", "Causes de décès", "CARTOGRAPHIE_PATHOLOGIES", "PMSI MCO",
            "PMSI HAD", "PMSI SSR", "PMSI RIM-P")
ALIASES = {"DCIR_DCIRS": "DCIR/DCIRS"}


def _write(path: Path, header: list[str], rows: list[list], delimiter: str = ",") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)  # None as an empty field, anything else as str() writes it


def groups(products: list[str]) -> dict[str, int]:
    """Product -> its colour group: the app's own for the ten SNDS products, the unused ones (then again from 1)
    for the others, in order."""
    fixed = {p: PRODUCTS.index(ALIASES.get(p, p)) + 1 for p in products if ALIASES.get(p, p) in PRODUCTS}
    free = [g for g in range(1, len(PRODUCTS) + 1) if g not in fixed.values()] or list(range(1, len(PRODUCTS) + 1))
    others = [p for p in dict.fromkeys(products) if p not in fixed]
    return fixed | {p: free[i % len(free)] for i, p in enumerate(others)}


def joint_var(relation: dict) -> str:
    """`A + B`, or `A => C` when the referenced columns are named otherwise, then ` | ` and the key's description."""
    own, theirs = relation["columns"].split(", "), (relation["referenced_columns"] or relation["columns"]).split(", ")
    joint = " + ".join(own) if set(own) == set(theirs) else f"{' + '.join(own)} => {' + '.join(theirs)}"
    return f"{joint} | {relation['description']}" if relation.get("description") else joint


def _tables(rows: SourceRows, folder: Path) -> None:
    w = rows.words
    _write(folder / "snds_tables.csv",
           ["Produit", "Table", "Libelle", "creation", "suppression", "dates_manquantes", "nombre_lignes",
            "completude_pct", "statut"],
           [[rows.product(t), t["table_name"], rows.title(t), t["created"], t["deleted"], t["missing_dates"],
             (w["hidden"] if t["row_count"] is None else t["row_count"]) if t["status"] in ("loaded", "empty") else "",
             t["completeness_pct"], t["status"]] for t in rows.tables])
    _write(folder / "snds_vars.csv",
           ["table", "var", "format", "description", "nomenclature", "creation", "suppression", "dates_manquantes",
            "completude_pct", "valeurs_distinctes", "min", "max", "moyenne"],
           [[v["table_name"], v["variable"], rows.storage_format(v), rows.description(v), v["nomenclature"] or "-",
             v["created"], v["deleted"], v["missing_dates"], v["completeness_pct"], v["distinct_count"], v["min"],
             v["max"], v["mean"]] for t in rows.tables for v in rows.variables[t["table_name"]]])


def _code_lists(rows: SourceRows, folder: Path) -> None:
    users = defaultdict(set)
    for variables in rows.variables.values():
        for v in variables:
            if v["nomenclature"]:
                users[v["nomenclature"]].add(v["variable"])
    _write(folder / "snds_nomenclatures.csv", ["nomenclature", "titre", "variables_liees", "nombre_lignes"],
           [[c.name, c.title or rows.words["no_title"], ", ".join(sorted(users[c.name])) or
             rows.words["no_linked_variable"], len(c)] for c in rows.code_lists])
    written = set()
    for c in rows.code_lists:  # one list's rows at a time
        name = c.name.upper()
        if name in written:  # two lists whose names differ only in case: the app can open one
            continue
        written.add(name)
        code, label = c.fields
        _write(folder / "nomenclatures" / f"{name}.csv", [code, label or rows.words["label"]],
               [[r["code"], r["label"]] for r in c.rows()], delimiter=";")


def _graph(rows: SourceRows, folder: Path) -> None:
    joined = {name for r in rows.joins if r["table_name"] != r["referenced_table"]
              for name in (r["table_name"], r["referenced_table"])}
    colour = groups([rows.product(t) for t in rows.tables])
    nodes = sorted((t for t in rows.tables if t["table_name"] in joined),
                   key=lambda t: (colour[rows.product(t)], rows.product(t), t["table_name"]))
    index = {t["table_name"]: i for i, t in enumerate(nodes)}
    # the app's own data sizes every node alike (nb_vars = 1)
    _write(folder / "snds_nodes.csv", ["name", "description", "group", "index", "nb_vars"],
           [[t["table_name"], rows.title(t), colour[rows.product(t)], index[t["table_name"]], 1] for t in nodes])
    links: dict[tuple[int, int], list[str]] = defaultdict(list)
    for r in rows.joins:
        if r["table_name"] != r["referenced_table"]:
            links[(index[r["table_name"]], index[r["referenced_table"]])].append(joint_var(r))
    _write(folder / "snds_links.csv", ["source", "target", "joint_var"],
           [[a, b, " | ".join(joints)] for (a, b), joints in sorted(links.items())])


def write_dico_snds(public: dict[str, list[dict]], source: str, folder: Path) -> None:
    """The interactive dictionary's app_data files for one source."""
    rows = SourceRows(public, source)
    _tables(rows, folder)
    _code_lists(rows, folder)
    _graph(rows, folder)
