"""A few failing values of each failed check, for the source's owners (the check's metadata, the internal checks
report): the most frequent ones, identifier columns masked. Exact values from the warehouse: never published."""
from __future__ import annotations

import duckdb

from hdh_pipeline.engines.duckdb.warehouse import quote
from hdh_pipeline.quality.table_checks import failing_rows
from hdh_pipeline.vocabulary import FAILED, MASK

SHOWN = 5
CHECKS = 50  # failed checks whose values are looked up, the most failing first: each reads its table again


def _identifiers(conn: duckdb.DuckDBPyConnection, source_id: str) -> set[tuple[str, str]]:
    """(table, column) of the source's identifier columns, as its profile found them."""
    try:
        return set(conn.execute("SELECT table_name, variable FROM catalogue_internal.variables "
                                "WHERE source_id = ? AND is_identifier", [source_id]).fetchall())
    except duckdb.CatalogException:  # not profiled yet
        return set()


def failing_values(conn: duckdb.DuckDBPyConnection, schema: str, rows: list[dict],
                   expectations_of: dict[str, list[dict]]) -> None:
    """Fill `failing_values` of each failed row (`value (rows)`, most frequent first, `; `-separated) from its
    expectation in `expectations_of` (table -> the suite's expectations), for the CHECKS most failing ones."""
    identifiers = _identifiers(conn, schema)
    failed = sorted((r for r in rows if r["status"] == FAILED), key=lambda r: -(r["failing_rows"] or 0))
    for row in failed[:CHECKS]:
        expectation = next((e for e in expectations_of.get(row["table_name"], [])
                            if (e.get("meta") or {}).get("check") == row["check_id"]), None)
        written = expectation and failing_rows(expectation["type"], expectation.get("kwargs", {}))
        if not written:
            continue
        columns, query = written
        columns = columns or [c.strip() for c in (row["variable"] or "").split(",") if c.strip()]
        masked = [(row["table_name"], c) in identifiers for c in columns]
        shown = ", ".join(quote(c) for c, hide in zip(columns, masked) if not hide)
        if not shown:
            row["failing_values"] = MASK
            continue
        batch = query.format(batch=f"{quote(schema)}.{quote(row['table_name'])}")
        try:
            found = conn.execute(f"SELECT {shown}, count(*) AS n FROM ({batch}) GROUP BY ALL "
                                 f"ORDER BY n DESC, {shown} LIMIT {SHOWN}").fetchall()
        except duckdb.Error as error:  # the check itself was counted: say why its values are not shown
            row["failing_values"] = f"(not shown: {str(error).splitlines()[0][:200]})"
            continue
        row["failing_values"] = "; ".join(
            ", ".join("NULL" if v is None else str(v)[:40] for v in values[:-1]) + f" ({values[-1]:,})"
            for values in found) or None
