"""The internal reports of a source, for its owners: every quality check with its exact counts, and what its
documentation lacks. Written under `settings.quality_dir(source)` beside the Data Docs, served by `hdh-pipeline
serve --internal`, never published (exact counts: no disclosure control)."""
from __future__ import annotations

import html
from pathlib import Path

from hdh_pipeline.profile.documentation import Documentation
from hdh_pipeline.vocabulary import SEVERE, UNSUCCESSFUL

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:1.5em}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2em .5em;text-align:left}} .failed{{background:#fde2e1}}
.warning{{background:#fff4d6}}</style></head><body><p><a href="index.html">{source}</a> · internal report, not
public</p><h1>{title}</h1>{body}</body></html>
"""
CHECKS = "checks.html"
DOCUMENTATION = "documentation.html"


def _table(header: list[str], rows: list[tuple[list[object], str]]) -> str:
    """An HTML table; each row (cells, CSS class)."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(f'<tr class="{css}">' + "".join(f"<td>{html.escape('' if c is None else str(c))}</td>"
                                                   for c in cells) + "</tr>" for cells, css in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _write(folder: Path, name: str, source: str, title: str, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.html").write_text(PAGE.format(title=html.escape(source), source=html.escape(source), body=(
        f'<ul><li><a href="{CHECKS}">Quality checks</a></li><li><a href="{DOCUMENTATION}">Documentation to-do</a>'
        '</li><li><a href="data_docs/index.html">Great Expectations Data Docs</a></li></ul>')), encoding="utf-8")
    page = folder / name
    page.write_text(PAGE.format(title=html.escape(title), source=html.escape(source), body=body), encoding="utf-8")
    return page


def checks_page(folder: Path, source: str, results: list[dict]) -> Path:
    """Every check of the source's last validation, failed first, with its exact counts."""
    ordered = sorted(results, key=lambda r: (r["status"] not in UNSUCCESSFUL, r["table_name"], r["check_id"]))
    rows = [([r["table_name"], r["check_id"], r["category"], r["evaluated_rows"], r["failing_rows"],
              None if r["failing_pct"] is None else f"{r['failing_pct']:.2f}", f"{r['threshold_pct']:g}",
              r["severity"], r["status"], r["reason"], r.get("failing_values")],
             ("failed" if r["severity"] == SEVERE else "warning") if r["status"] in UNSUCCESSFUL else "")
            for r in ordered]
    failed = sum(r["status"] in UNSUCCESSFUL for r in results)
    return _write(folder, CHECKS, source, f"Quality checks of {source}: {failed} of {len(results)} failed", _table(
        ["table", "check", "category", "evaluated rows", "failing rows", "failing %", "threshold %", "severity",
         "status", "reason", "failing values (rows; identifiers masked)"], rows))


def documentation_page(folder: Path, source: str, documentation: Documentation) -> Path:
    """What the source's documentation lacks, database first."""
    rows = [([g.level, g.name, g.missing], "") for g in documentation.gaps]
    return _write(folder, DOCUMENTATION, source, f"Documentation of {source}: {documentation.pct:g} % present, "
                                                 f"{len(documentation.gaps)} gaps", _table(
        ["level", "what", "missing"], rows) if rows else "<p>Nothing is missing.</p>")
