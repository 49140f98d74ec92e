"""What a database's documentation lacks: the one rule behind its public completeness figure
(`databases.documentation_pct`), its owners' to-do list (the `documentation` check of its database asset) and their
internal page. Read from the declaration and from the tables', variables' and code lists' rows (their texts are
published unchanged: the private and the public rows give the same answer)."""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from hdh_pipeline.sources.declaration import SourceDeclaration


@dataclass(frozen=True)
class Gap:
    level: str  # `database`, `table`, `variable` or `code list`
    name: str  # what lacks it: the database's id, `TABLE`, `TABLE.VARIABLE`, the code list
    missing: str  # what is missing, in words


@dataclass(frozen=True)
class Documentation:
    gaps: list[Gap]
    items: int  # what was looked at: every declared fact, table, variable and code list

    @property
    def pct(self) -> float:
        return round(100.0 * (self.items - len(self.gaps)) / self.items, 1) if self.items else 100.0


def _declared(d: SourceDeclaration) -> list[tuple[str, bool]]:
    return [("description", bool(d.description.strip())), ("producer's web site", bool(d.producer.url)),
            ("contact email", bool(d.contact.email)), ("licence", bool(d.licence.strip())),
            ("access conditions", bool(d.access.conditions.strip())),
            ("access procedure (URL)", bool(d.access.procedure_url)), ("owners", bool(d.owners))]


def documentation(declaration: SourceDeclaration, tables: Iterable[dict], variables: Iterable[dict],
                  codes: Iterable[tuple[str, str | None]]) -> Documentation:
    """The gaps of one source's documentation. `codes`: (code list, label) of every code."""
    gaps = [Gap("database", declaration.id, what) for what, present in _declared(declaration) if not present]
    items = len(_declared(declaration))
    for t in tables:
        items += 1
        if not (t.get("description") or "").strip() or t["description"] == t["table_name"]:
            gaps.append(Gap("table", t["table_name"], "description"))
    for v in variables:
        items += 1
        if not (v.get("description") or "").strip():
            gaps.append(Gap("variable", f"{v['table_name']}.{v['variable']}", "description"))
    unlabelled, lists = Counter(), set()
    for code_list, label in codes:
        lists.add(code_list)
        unlabelled[code_list] += not (label or "").strip()
    for code_list in sorted(lists):
        items += 1
        if unlabelled[code_list]:
            gaps.append(Gap("code list", code_list, f"labels of {unlabelled[code_list]:,} codes"))
    return Documentation(gaps, items)
