"""A table's declared keys, each checked once: foreign keys to the source's tables and the code lists of its
fields. A one-column code list whose column's exact frequencies are known is checked against them (no query);
the engine counts the others."""
from __future__ import annotations

import datetime as dt

from hdh_pipeline.engines.base import ColumnStatistics, Engine, KeyCheck
from hdh_pipeline.profile.codes import CodeLists
from hdh_pipeline.sources.discovery import SourceTable
from hdh_pipeline.sources.loader import Source


def as_text(value: object) -> str:
    """A value as a CAST(... AS VARCHAR) writes it: how keys are compared."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else str(value)


def _declared(table: SourceTable) -> dict[tuple, tuple[str, str]]:
    """(columns, referenced table, referenced columns) -> (`fk` or `field`, the key's description), each key once."""
    wanted: dict[tuple, tuple[str, str]] = {}
    for fk in table.spec.foreign_keys:
        wanted[(fk.columns, fk.table, fk.referenced_columns)] = ("fk", fk.description)
    for column in table.spec.columns:
        ref = column.nomenclature
        if ref and not any(cols == (column.name,) and t == ref.table for cols, t, _ in wanted):
            wanted[((column.name,), ref.table, (ref.column,) if ref.column else ())] = ("field", "")
    return wanted


def _checked(row: dict, checked: int, matched: int) -> None:
    row.update(checked_rows=checked, matched_rows=matched, status="checked",
               match_pct=round(100.0 * matched / checked, 2) if checked else None)


def relations(engine: Engine, source: Source, table: SourceTable, columns: dict[str, ColumnStatistics],
              codes: CodeLists) -> list[dict]:
    """The table's `relations` rows."""
    if table.spec is None:
        return []
    loaded = engine.tables()
    declared = {t.name for t in source.tables}
    listed = {t.name for t in source.nomenclatures} | set(codes.columns)
    rows, asked = [], []
    for (names, referenced, referenced_columns), (origin, description) in _declared(table).items():
        is_table, is_code_list = referenced in loaded, referenced in codes
        # a foreign key names a table of the source, loaded or not, unless it names a code list
        kind = "table" if referenced in declared or (origin == "fk" and referenced not in listed) else "nomenclature"
        row = {"source_id": source.id, "table_name": table.name, "columns": ", ".join(names),
               "referenced_table": referenced, "referenced_columns": ", ".join(referenced_columns), "kind": kind,
               "description": description or None, "checked_rows": None, "matched_rows": None, "match_pct": None}
        rows.append(row)
        if not set(names) <= set(columns):
            row["status"] = "column not in the data"
            continue
        if not (is_table or is_code_list):
            row["status"] = "referenced table not loaded"
            continue
        if not is_table and len(names) == 1:
            referenced_columns = (codes.code_column(referenced, referenced_columns[0] if referenced_columns
                                                    else None)[0],)
        row["referenced_columns"] = ", ".join(referenced_columns)
        frequencies = columns[names[0]].frequencies if len(names) == 1 else None
        if not is_table and len(names) == 1 and frequencies is not None:
            known = codes.code_set(referenced, referenced_columns[0])
            _checked(row, sum(frequencies.values()), sum(n for v, n in frequencies.items() if as_text(v) in known))
            continue
        asked.append((row, KeyCheck(names, referenced, referenced_columns, code_list=not is_table)))
    for (row, _), (checked, matched) in zip(asked, engine.matches(table.name, [check for _, check in asked])):
        _checked(row, checked, matched)
    return rows
