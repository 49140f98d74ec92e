"""The SNDS community's feeds, checked by their own code: the interactive dictionary's app_data through the app's
tests and checks (`../shared/clients/dico-snds/check-export.sh`, R), and the documentation pages by following
every link."""
from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import unquote

import pytest

from hdh_pipeline.exports.dico_snds import PRODUCTS, groups, write_dico_snds
from hdh_pipeline.exports.documentation import write_documentation
from hdh_pipeline.schema import CODES, arrow_table, column_names
from tests.conftest import SHARED_DATA

CHECK_EXPORT = SHARED_DATA.parent / "clients" / "dico-snds" / "check-export.sh"
APP_COLUMNS = {  # the columns indsante/dico-snds reads (app/functions.R, app/global.R, app/server/*.R)
    "snds_tables.csv": ["Produit", "Table", "Libelle", "creation", "suppression", "dates_manquantes"],
    "snds_vars.csv": ["table", "var", "format", "description", "nomenclature", "creation", "suppression",
                      "dates_manquantes"],
    "snds_nomenclatures.csv": ["nomenclature", "titre", "variables_liees", "nombre_lignes"],
    "snds_nodes.csv": ["name", "description", "group", "index", "nb_vars"],
    "snds_links.csv": ["source", "target", "joint_var"],
}


def read_app_data(folder: Path) -> dict[str, list[dict]]:
    """The files as the app's load_data() reads them: read.csv, comma-separated, header, UTF-8."""
    out = {}
    for name, columns in APP_COLUMNS.items():
        with open(folder / name, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert reader.fieldnames[:len(columns)] == columns, name  # the app's columns first, extras after
            out[name] = list(reader)
    return out


def check_export(folder: Path) -> str:
    """Run the app's own tests and checks on an app_data folder; its output. Skips where R or the app's copy is
    absent, except in CI (which installs R)."""
    if not CHECK_EXPORT.exists():
        pytest.skip(f"the dico-snds app's checks are not at {CHECK_EXPORT}")
    if shutil.which("Rscript") is None:
        if os.environ.get("CI"):
            pytest.fail("Rscript is missing in CI: .ci/run installs r-base-core r-cran-dplyr r-cran-testthat")
        pytest.skip("R is not installed (apt-get install r-base-core r-cran-dplyr r-cran-testthat)")
    done = subprocess.run(["bash", str(CHECK_EXPORT), str(folder)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return done.stdout


def broken_links(folder: Path) -> list[str]:
    """Every relative link of the Markdown pages under `folder` that leads nowhere."""
    broken = []
    for page in folder.rglob("*.md"):
        for target in re.findall(r"\]\(([^)]+)\)", page.read_text(encoding="utf-8")):
            if "://" not in target and not (page.parent / unquote(target)).exists():
                broken.append(f"{page.relative_to(folder)} -> {target}")
    return broken


def test_the_demo_export_passes_the_apps_checks(published_demo) -> None:
    version, public = published_demo
    folder = version / "exports" / "demo" / "dico-snds"
    printed = check_export(folder)
    assert "FAIL" not in printed and "0 failed" in printed
    data = read_app_data(folder)
    nodes = {n["name"]: n for n in data["snds_nodes.csv"]}
    assert nodes["IR_BEN_R"]["group"] == "1" and nodes["KI_CCI_R"]["group"] == "5"  # the app's own colours
    assert {n["nb_vars"] for n in nodes.values()} == {"1"}
    assert {"source": nodes["KI_CCI_R"]["index"], "target": nodes["IR_BEN_R"]["index"],
            "joint_var": "BEN_IDT_ANO => BEN_NIR_PSA | Bénéficiaire"} in data["snds_links.csv"]  # the key's note
    variables = [(v["table"], v["var"]) for v in data["snds_vars.csv"]]
    assert len(variables) == len(public["variables"])
    positions = {(v["table_name"], v["variable"]): v["position"] for v in public["variables"]}
    for table in {t for t, _ in variables}:  # the dictionary's order, not the alphabet's
        mine = [positions[(t, v)] for t, v in variables if t == table]
        assert mine == sorted(mine), table
    formats = {(v["table"], v["var"]): v["format"] for v in data["snds_vars.csv"]}
    assert formats[("KI_CCI_R", "BEN_DCD_DTE")] == "date (8)" and formats[("KI_CCI_R", "DCD_CIM_COD")] == "string (4)"
    with open(folder / "nomenclatures" / "IR_SEX_V.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    codes = sorted((r["code"], r["label"]) for r in public[CODES] if r["nomenclature"] == "IR_SEX_V")
    assert rows[0] == ["SEX_COD", "SEX_LIB"] and sorted(map(tuple, rows[1:])) == codes


def test_the_demo_documentation_reads_like_the_snds_documentation(published_demo) -> None:
    version, public = published_demo
    folder = version / "exports" / "demo" / "documentation"
    assert broken_links(folder) == []
    page = (folder / "Causes de décès" / "KI_CCI_R.md").read_text(encoding="utf-8")
    assert page.startswith("# KI_CCI_R\n\nCauses médicales de décès\n\n- Clé primaire : `BEN_IDT_ANO`\n")
    assert "## Modèle de données\n\n|Nom|Type|Description|Exemple|Propriétés|Complétude|" in page
    assert "|DCD_CIM_COD|chaîne de caractères|Cause initiale du décès (CIM-10)||Nomenclature : `IR_CIM_V`|" in page
    assert "|BEN_DCD_DTE|date|" in page and "[IR_BEN_R](../BENEFICIAIRE/IR_BEN_R.md)" in page
    assert (folder / "PMSI" / "PMSI MCO").is_dir()  # as the documentation files the PMSI's products
    index = (folder / "README.md").read_text(encoding="utf-8")
    assert index.count("](") == len(public["tables"]) and "## Causes de décès" in index


def _rows(table: str, **values) -> dict:
    return dict.fromkeys(column_names(table)) | values


def _catalogue(products: dict[str, str], relations: list[tuple[str, str, str, str, str]]) -> dict:
    """A published catalogue of one source: tables (name -> product), each with one variable per joining column,
    and its join keys (table, columns, referenced table, referenced columns, description)."""
    tables = [_rows("tables", source_id="s", table_name=t, product=p, status="loaded", row_count=100)
              for t, p in products.items()]
    names = {(t, c) for t, cs, r, rcs, _ in relations for t, c in [(t, cs), (r, rcs)]}
    variables = [_rows("variables", source_id="s", table_name=t, variable=c, position=i, observed_type="VARCHAR")
                 for i, (t, c) in enumerate(sorted(names), 1)]
    return {"databases": [_rows("databases", source_id="s", title="Base", language="fr", disclosure_k=11)],
            "tables": tables, "variables": variables, "nomenclatures": arrow_table(CODES, []),
            "relations": [_rows("relations", source_id="s", table_name=t, columns=cs, referenced_table=r,
                                referenced_columns=rcs, kind="table", description=d or None)
                          for t, cs, r, rcs, d in relations]}


def test_links_keep_every_key_and_its_description(tmp_path: Path) -> None:
    public = _catalogue({"A": "DCIR", "B": "BENEFICIAIRE", "C": "DCIR_DCIRS", "D": "DAMIR", "E": "DCIR"},
                        [("A", "BEN_ID", "B", "BEN_ID", "Bidirectionnel"), ("A", "BEN_ID", "C", "BEN_ID", ""),
                         ("A", "PS", "C", "PFS_NUM", ""), ("D", "X, Y", "A", "X, Y", "")])
    write_dico_snds(public, "s", tmp_path)
    data = read_app_data(tmp_path)
    names = [n["name"] for n in data["snds_nodes.csv"]]
    assert "E" not in names  # no join: not a node
    index = {n["name"]: n["index"] for n in data["snds_nodes.csv"]}
    links = {(link["source"], link["target"]): link["joint_var"] for link in data["snds_links.csv"]}
    assert links == {(index["A"], index["B"]): "BEN_ID | Bidirectionnel",  # one column, two tables: both kept
                     (index["A"], index["C"]): "BEN_ID | PS => PFS_NUM",
                     (index["D"], index["A"]): "X + Y"}
    group = {n["name"]: int(n["group"]) for n in data["snds_nodes.csv"]}
    assert (group["B"], group["C"], group["A"]) == (1, 2, 4)  # the app's colours, DCIR_DCIRS as DCIR/DCIRS
    assert 1 <= group["D"] <= 10 and group["D"] not in (1, 2, 4)


def test_groups_stay_in_the_apps_ten_colours() -> None:
    many = [f"product {i}" for i in range(25)]
    assert set(groups(many).values()) == set(range(1, 11))
    assert groups([*PRODUCTS, "other"])["other"] in range(1, 11)
    assert groups(["PMSI SSR", "x", "y"]) == {"PMSI SSR": 9, "x": 1, "y": 2}


def test_a_source_without_dictionary_documents_itself(tmp_path: Path) -> None:
    """No product, no title, no description: the export still gives R text columns and the pages still link."""
    public = _catalogue({"visit": None, "person": None}, [("visit", "person_id", "person", "person_id", "")])
    public["variables"][0]["observed_type"] = "DECIMAL(5,2)"
    write_dico_snds(public, "s", tmp_path / "dico")
    data = read_app_data(tmp_path / "dico")
    assert {t["Produit"] for t in data["snds_tables.csv"]} == {"Base"}
    assert {t["Libelle"] for t in data["snds_tables.csv"]} == {"Titre manquant"}
    assert {v["description"] for v in data["snds_vars.csv"]} == {"Description manquante"}
    assert sorted(v["format"] for v in data["snds_vars.csv"]) == ["number (5,2)", "string"]
    write_documentation(public, "s", tmp_path / "doc")
    assert broken_links(tmp_path / "doc") == []
    assert (tmp_path / "doc" / "Base" / "visit.md").read_text(encoding="utf-8").count("](person.md)") == 1
