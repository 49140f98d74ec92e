"""The single-writer rule: concurrent writers from several processes take turns instead of failing."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import duckdb
import pytest

from hdh_pipeline.engines.duckdb.load import load_table
from hdh_pipeline.engines.duckdb.warehouse import read_connection, write_connection
from hdh_pipeline.sources.loader import load_source


def load_in_another_process(declaration: str, table: str, warehouse: str) -> int:
    source = load_source(Path(declaration))
    [entry] = [t for t in source.tables if t.name == table]
    with write_connection(Path(warehouse)) as conn:
        return load_table(conn, source.declaration, entry, Path(warehouse).parent / "staging").row_count


def test_concurrent_writers_take_turns(write_source, tmp_path: Path) -> None:
    tables = {f"t{i}.csv": "n\n" + "".join(f"{j}\n" for j in range(50_000 * (i + 1))) for i in range(4)}
    write_source(tables)
    warehouse = tmp_path / "warehouse.duckdb"
    with ProcessPoolExecutor(4) as pool:
        counts = list(pool.map(load_in_another_process, [str(tmp_path / "source.yaml")] * 4,
                               [f"t{i}" for i in range(4)], [str(warehouse)] * 4))
    assert counts == [50_000, 100_000, 150_000, 200_000]
    with read_connection(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'src' "
                            "AND table_name NOT IN ('_rejects', '_missing')").fetchone() == (4,)


def test_reader_is_read_only(write_source, load, tmp_path: Path) -> None:
    load(write_source({"t.csv": "n\n1\n"}), "t")
    with read_connection(tmp_path / "warehouse.duckdb") as conn, pytest.raises(duckdb.Error, match="read-only"):
        conn.execute("DROP TABLE src.t")


def test_reader_of_missing_warehouse_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="materialise the ingestion assets first"), \
            read_connection(tmp_path / "none.duckdb"):
        pass


def test_in_threads_keeps_the_order_with_a_cursor_per_thread(tmp_path: Path) -> None:
    from hdh_pipeline.engines.duckdb.warehouse import THREADS, in_threads

    cursors = set()

    def work(cursor: duckdb.DuckDBPyConnection, i: int) -> int:
        cursors.add(id(cursor))
        cursor.execute(f"CREATE OR REPLACE TEMP TABLE part AS SELECT i FROM t WHERE i <= {i}")  # the cursor's own
        return cursor.execute("SELECT sum(i) FROM part").fetchone()[0]

    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS i FROM range(200)")
        assert list(in_threads(conn, work, range(200))) == [i * (i + 1) // 2 for i in range(200)]
    assert 1 <= len(cursors) <= THREADS and id(conn) not in cursors
