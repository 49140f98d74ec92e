"""Why `duckdb+buffered` exists: Great Expectations gets no rows back through plain duckdb_engine."""
from __future__ import annotations

from pathlib import Path

import duckdb
import great_expectations as gx
import pytest

from hdh_pipeline.quality.dialect import close_all, register


@pytest.fixture
def table(tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE t AS SELECT range AS n, CASE WHEN range % 10 = 0 THEN NULL ELSE range END AS v "
                     "FROM range(1000)")
    return path


def run(url: str) -> gx.core.ExpectationValidationResult:
    register()
    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_sql("w", connection_string=url)
    batch = source.add_table_asset("t", table_name="t").add_batch_definition_whole_table("all").get_batch()
    try:
        return batch.validate(gx.expectations.ExpectColumnValuesToNotBeNull(column="v"))
    finally:
        source.get_engine().dispose()
        close_all()


def test_buffered_dialect_returns_results(table: Path) -> None:
    result = run(f"duckdb+buffered:///{table}?access_mode=read_only")
    assert (result.result["element_count"], result.result["unexpected_count"]) == (1000, 100)


def test_plain_duckdb_engine_loses_them(table: Path) -> None:
    """The upstream bug this dialect works around (great_expectations issues 10738, 11579): if this test
    starts failing, Great Expectations or duckdb_engine fixed it, and `quality/dialect.py` can go."""
    result = run(f"duckdb:///{table}?access_mode=read_only")
    assert not result.success and "unexpected_count" not in (result.result or {})
