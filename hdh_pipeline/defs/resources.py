"""Dagster resources: the warehouse, opened under the single-writer lock."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from hdh_pipeline.defs.recovery import PROCESS_TAG, process_tags
from hdh_pipeline.engines.duckdb.warehouse import read_connection, write_connection
from hdh_pipeline.sources.loader import Source

WRITER_POOL = "duckdb_warehouse"
# Every asset writes the warehouse: one writer at a time (the pool, see dagster.yaml), and a step that fails is
# retried after a pause (a lock held by another process, a disk that was full); data problems raise
# dg.Failure(allow_retries=False) since retrying would not mend them.
WRITES = {"pool": WRITER_POOL, "retry_policy": dg.RetryPolicy(max_retries=2, delay=20, backoff=dg.Backoff.EXPONENTIAL)}


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse under `data_dir` (`HDH_DATA_DIR`), with the staging and catalogue folders beside it."""

    data_dir: str
    memory_limit: str | None = None  # DuckDB's memory_limit, e.g. "1GB" (`HDH_DUCKDB_MEMORY_LIMIT`); spills beyond

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        """Name the process that executes the run in its tags (recovery.py): should it die, the run is marked failed
        and its writer slot freed, by the next CLI run or the `recover_dead_runs` sensor."""
        run = context.dagster_run
        if context.instance is not None and run is not None and PROCESS_TAG not in run.tags:
            context.instance.add_run_tags(run.run_id, process_tags())

    @property
    def path(self) -> Path:
        return Path(self.data_dir) / "warehouse.duckdb"

    @property
    def catalogue_dir(self) -> Path:
        """Where the public catalogue is published (see catalogue/publish.py)."""
        return Path(self.data_dir) / "catalogue"

    def quality_docs_dir(self, source_id: str) -> Path:
        """Great Expectations Data Docs of a source's last validation."""
        return Path(self.data_dir) / "quality" / source_id / "data_docs"

    def staging(self, source_id: str) -> Path:
        return Path(self.data_dir) / "staging" / source_id

    @contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with write_connection(self.path, memory_limit=self.memory_limit) as connection:
            yield connection

    @contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with read_connection(self.path, memory_limit=self.memory_limit) as connection:
            yield connection


class Spark(dg.ConfigurableResource):
    """The Spark session of the sources declared `engine: spark` (engines/spark/session.py): a Spark Connect server
    (`HDH_SPARK_REMOTE`) or a session started on `HDH_SPARK_MASTER`, read from the settings when a step needs it.
    Our own rather than dagster-pyspark's: that one builds a classic session from its config (no Spark Connect),
    shows its config in the UI (a Connect URL carries a token) and would make pyspark a dependency of every
    install; this one has no config, starts nothing until a Spark source's step asks, and never shows a secret."""

    def session(self) -> object:
        try:
            from hdh_pipeline.engines.spark.session import session
        except ImportError:
            raise dg.Failure(description="a source declared `engine: spark` needs pyspark: pip install "
                                         "'hdh-pipeline[spark]'", allow_retries=False) from None
        return session()


_ENGINES: dict[tuple[str, str], object] = {}  # (run, source): the steps of a run share what Spark has read


def spark_engine(context: dg.AssetExecutionContext, spark: Spark, source: Source, warehouse: Warehouse) -> object:
    """The Spark engine of a source in this run (engines/spark/engine.py): its steps run in one process (in-process
    executor) and share one, so the tables are parsed and counted once a run. A Spark that cannot be reached fails
    the step in one line naming the source and where Spark is (never a secret)."""
    from hdh_pipeline.engines.spark.engine import SparkEngine
    from hdh_pipeline.engines.spark.session import SparkUnavailable

    key = (context.run_id, source.id)
    if key not in _ENGINES:
        for earlier in [k for k in _ENGINES if k[0] != context.run_id]:
            _ENGINES.pop(earlier).release()
        try:
            _ENGINES[key] = SparkEngine(spark.session(), source, warehouse.staging(source.id))
        except SparkUnavailable as error:
            raise dg.Failure(description=f"source {source.id}: {error}", allow_retries=False) from None
    return _ENGINES[key]
