"""The join graph of a database's tables: a static SVG whose nodes are links to the table pages (keyboard-focusable,
readable without JavaScript; tables on a circle, grouped by product), and the data the interactive drawing of the
whole database (graph.js, Cytoscape.js) draws from."""
from __future__ import annotations

import math
from html import escape


def join_graph(tables: list[dict], relations: list[dict], href: str = "tables/{}.html",
               focus: str | None = None) -> str:
    """SVG of the tables joined by a declared key (`relations` of kind `table`); `focus`: only that table and
    its neighbours. Empty string when no table joins another."""
    edges = set(_edges(relations))
    if focus is not None:
        edges = {e for e in edges if focus in e}
    if not edges:
        return ""
    product = {t["table_name"]: t["product"] or "" for t in tables}
    nodes = sorted({n for e in edges for n in e}, key=lambda n: (product.get(n, "~"), n))
    radius = max(120, 11 * len(nodes))
    size = 2 * radius + 260
    centre = size / 2
    place = {n: (centre + radius * math.cos(2 * math.pi * i / len(nodes) - math.pi / 2),
                 centre + radius * math.sin(2 * math.pi * i / len(nodes) - math.pi / 2)) for i, n in enumerate(nodes)}
    known = set(product)
    parts = [f'<svg class="graph" viewBox="0 0 {size:.0f} {size:.0f}" width="{min(size, 900):.0f}" role="img" '
             f'aria-label="{escape(", ".join(f"{a} → {b}" for a, b in sorted(edges)))}" '
             'xmlns="http://www.w3.org/2000/svg">']
    for a, b in sorted(edges):
        (x1, y1), (x2, y2) = place[a], place[b]
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#8a8a8a" '
                     'stroke-width="1.2"/>')
    for name, (x, y) in place.items():
        angle = math.atan2(y - centre, x - centre)
        anchor = "start" if math.cos(angle) >= 0 else "end"
        tx, ty = x + 10 * math.cos(angle), y + 10 * math.sin(angle) + 4
        colour = "#D55E00" if name == focus else "#0072B2"
        node = (f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="{colour}"/>'
                f'<text x="{tx:.1f}" y="{ty:.1f}" text-anchor="{anchor}" font-size="12">{escape(name)}</text>')
        if name in known and name != focus:
            parts.append(f'<a href="{escape(href.format(slug(name)))}" aria-label="{escape(name)}">{node}</a>')
        else:
            parts.append(node)
    parts.append("</svg>")
    return "".join(parts)


def _edges(relations: list[dict]) -> dict[tuple[str, str], list[str]]:
    """(table, referenced table) -> its keys (`A => B`), for the keys between two different tables."""
    edges: dict[tuple[str, str], list[str]] = {}
    for r in relations:
        if r["kind"] == "table" and r["table_name"] != r["referenced_table"]:
            joint = r["columns"] if r["referenced_columns"] in (None, r["columns"]) else \
                f"{r['columns']} => {r['referenced_columns']}"
            edges.setdefault((r["table_name"], r["referenced_table"]), []).append(joint)
    return edges


def graph_data(tables: list[dict], relations: list[dict], no_product: str, href: str = "tables/{}.html") -> dict:
    """The joined tables (id, product, page), their keys (source, target, label) and the products, for graph.js."""
    edges = _edges(relations)
    product = {t["table_name"]: t["product"] or no_product for t in tables}
    names = sorted({n for e in edges for n in e})
    return {"products": sorted({product.get(n, no_product) for n in names}),
            "nodes": [{"id": n, "product": product.get(n, no_product),
                       "href": href.format(slug(n)) if n in product else None} for n in names],
            "edges": [{"source": a, "target": b, "label": " | ".join(keys)} for (a, b), keys in sorted(edges.items())]}


def slug(name: str) -> str:
    """A file name for a table, variable or code list name (kept readable; only unsafe characters change)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(name))
