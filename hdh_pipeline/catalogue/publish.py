"""Atomic publication of the catalogue: versions side by side, `current` swapped in one rename.

    $HDH_DATA_DIR/catalogue/
      current -> versions/<id>          the published version (a symbolic link)
      versions/<id>/catalogue.duckdb    every catalogue table
      versions/<id>/parquet/<t>.parquet, csv/<t>.csv, catalogue.md (the column dictionary)
      versions/<id>/charts/...          charts (and later the site), drawn from these tables

A version is written completely before `current` points to it, so a reader sees the
previous complete version or the new one, never a half-written one; readers take no
lock. The last KEEP versions stay, so a reader still holding an older one keeps working.
"""
from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

import duckdb

from hdh_pipeline.engines.duckdb.warehouse import quote
from hdh_pipeline.schema import CODES, TABLES, arrow_table, markdown

KEEP = 3


def current(root: Path) -> Path | None:
    """The published version's folder, or None before the first publication."""
    link = root / "current"
    return link.resolve() if link.exists() else None


def read_published(root: Path, table: str) -> list[dict]:
    """One table of the published version ([] before the first publication, or if that version predates the
    table)."""
    version = current(root)
    if version is None:
        return []
    with duckdb.connect(str(version / "catalogue.duckdb"), read_only=True) as conn:
        if not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [table]).fetchone()[0]:
            return []
    return read_version(version, [table])[table]


def read_version(version: Path, tables: list[str] | None = None) -> dict[str, list[dict]]:
    """Tables of a catalogue version (all by default), as rows (the code lists as an Arrow table)."""
    with duckdb.connect(str(version / "catalogue.duckdb"), read_only=True) as conn:
        names = tables or [n for (n,) in conn.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        out = {}
        for name in names:
            if name == CODES:
                out[name] = conn.sql(f"SELECT * FROM {CODES} ORDER BY ALL").to_arrow_table()
                continue
            cursor = conn.execute(f"SELECT * FROM {quote(name)}")
            columns = [d[0] for d in cursor.description]
            out[name] = [dict(zip(columns, row)) for row in cursor.fetchall()]
    return out


def publish(tables: dict[str, list[dict]], root: Path, write_more: Callable[[Path], None] | None = None) -> Path:
    """Write a new version of every catalogue table, and what `write_more(version folder)` draws from
    them, then make it current. If anything fails, the current version stays and the new one goes."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")  # names sort in time order
    version = root / "versions" / f"{stamp}-{uuid.uuid4().hex[:8]}"
    try:
        _write(tables, version)
        if write_more is not None:
            write_more(version)
    except BaseException:
        shutil.rmtree(version, ignore_errors=True)
        raise
    link = root / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(version.relative_to(root), link)
    os.replace(link, root / "current")  # the one atomic step
    _prune(root, keep=version)
    return version


def _write(tables: dict[str, list[dict]], version: Path) -> None:
    (version / "parquet").mkdir(parents=True)
    (version / "csv").mkdir()
    with duckdb.connect(str(version / "catalogue.duckdb")) as conn:
        for name in TABLES:
            data = arrow_table(name, tables.get(name, []))
            conn.register("incoming", data)
            conn.execute(f"CREATE TABLE {quote(name)} AS SELECT * FROM incoming")
            conn.unregister("incoming")
            conn.execute(f"COPY {quote(name)} TO '{version}/parquet/{name}.parquet' (FORMAT parquet)")
            conn.execute(f"COPY {quote(name)} TO '{version}/csv/{name}.csv' (HEADER)")
    (version / "catalogue.md").write_text(markdown())


def _prune(root: Path, keep: Path) -> None:
    versions = sorted((root / "versions").iterdir())
    for old in versions[:-KEEP]:
        if old != keep:
            shutil.rmtree(old, ignore_errors=True)
