"""Pages for the SNDS collaborative documentation (`documentation-snds`, its `tables/` folder), for any source: one
Markdown page per table in its product's folder (`PMSI MCO` under `PMSI/`, as there), laid out like the
documentation's own table pages (`# TABLE`, the title, `- Clé primaire : ...`, `## Modèle de données` with
Nom | Type | Description | Exemple | Propriétés and the types in words), then the catalogue's statistics and join
keys; and an index page (`README.md`) of the source's tables by product. Links only lead to pages written here."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

from hdh_pipeline import words
from hdh_pipeline.exports.source_rows import SourceRows


def product_folder(product: str) -> Path:
    """`PMSI MCO` -> `PMSI/PMSI MCO`, as the documentation files the PMSI's products; no `/` inside a name."""
    name = product.replace("/", "-").strip() or "-"
    return Path("PMSI", name) if name.startswith("PMSI ") else Path(name)


def _link(text: str, target: Path, here: Path) -> str:
    return f"[{text}]({quote(os.path.relpath(target, here).replace(os.sep, '/'))})"


def _cell(value: object) -> str:
    return ("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ")


def _page(rows: SourceRows, t: dict, pages: dict[str, Path]) -> str:
    w, table, here = rows.words, t["table_name"], pages[t["table_name"]].parent
    colon = " :" if w["language"] == "fr" else ":"
    lines = [f"# {table}", "", rows.title(t), ""]
    if t["description"] and t["description"] != t["title"]:
        lines += [t["description"], ""]
    if t["primary_key"]:
        lines += [f"- {w['primary_key']}{colon} `{t['primary_key']}`"]
    language = w["language"]
    count = (w["hidden"] if t["row_count"] is None else words.integer(t["row_count"], language)) \
        if t["status"] in ("loaded", "empty") else w.get(t["status"], t["status"])
    lines += [f"- {w['product']}{colon} {rows.product(t)}", f"- {w['database']}{colon} {rows.database['title']}",
              f"- {w['rows']}{colon} {count}", ""]
    key = set((t["primary_key"] or "").split(", "))
    header = [w["name"], w["type"], w["description"], w["example"], w["properties"], w["completeness"],
              w["distinct"], "Min", "Max"]
    lines += [f"## {w['data_model']}", "", "|" + "|".join(header) + "|", "|" + "-|" * len(header)]
    for v in rows.variables[table]:
        properties = ([w["primary_key"]] if v["variable"] in key else []) + \
            ([f"{w['code_list']}{colon} `{v['nomenclature']}`"] if v["nomenclature"] else [])
        completeness = w["hidden"] if v["completeness_pct"] is None else \
            f"{words.decimal(v['completeness_pct'], language, 2)} %"
        lines.append("|" + "|".join(_cell(x) for x in (
            v["variable"], rows.type_name(v), rows.description(v), "", ", ".join(properties), completeness,
            "–" if v["distinct_count"] is None else words.integer(v["distinct_count"], language),
            "–" if v["min"] is None else v["min"],
            "–" if v["max"] is None else v["max"])) + "|")
    joins = [r for r in rows.joins if table in (r["table_name"], r["referenced_table"])]
    if joins:
        lines += ["", f"## {w['join_keys']}", ""]
        for r in joins:
            if r["table_name"] == table:
                other = _link(r["referenced_table"], pages[r["referenced_table"]], here)
                lines.append(f"- `{r['columns']}` → {other} (`{r['referenced_columns']}`)")
            else:
                other = _link(r["table_name"], pages[r["table_name"]], here)
                lines.append(f"- {other} (`{r['columns']}`) → `{r['referenced_columns']}`")
    lines += ["", f"*{w['statistics_note'].format(k=rows.database['disclosure_k'])}*", ""]
    return "\n".join(lines)


def _index(rows: SourceRows, pages: dict[str, Path], folder: Path) -> str:
    w = rows.words
    colon = " :" if w["language"] == "fr" else ":"
    lines = [f"# {rows.database['title'] or rows.source}", ""]
    if rows.database["description"]:
        lines += [rows.database["description"], ""]
    lines.append(w["documentation_index"].format(title=rows.database["title"] or rows.source))
    product = None
    for t in rows.tables:
        if rows.product(t) != product:
            product = rows.product(t)
            lines += ["", f"## {product}", ""]
        lines.append(f"- {_link(t['table_name'], pages[t['table_name']], folder)}{colon} {rows.title(t)}")
    return "\n".join(lines) + "\n"


def write_documentation(public: dict[str, list[dict]], source: str, folder: Path) -> None:
    """The source's table pages and their index under `folder`."""
    rows = SourceRows(public, source)
    pages = {t["table_name"]: folder / product_folder(rows.product(t)) / f"{t['table_name']}.md" for t in rows.tables}
    for t in rows.tables:
        path = pages[t["table_name"]]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_page(rows, t, pages), encoding="utf-8")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(_index(rows, pages, folder), encoding="utf-8")
