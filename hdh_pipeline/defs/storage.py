"""Dagster's instance storage as `dagster.yaml` selects it: SQLite with an event log that keeps its database
connections open, and compute logs that no child process mirrors.

Dagster's own SQLite event log creates a SQLAlchemy engine and opens a connection for every event it
stores (two or three for an asset or check event: the run's file, then the cross-run index), and checks
the schema again before each check result. A run of a wide source stores thousands of events: that
was two thirds of Dagster's cost per event (19 ms → 7 ms measured on 1,728 events). This event log
keeps one engine per database file, for the index and the few run files last used (a webserver reads
many), and remembers the tables it has seen. Everything else is Dagster's: the files, their schema,
the locking. `dagster.yaml` selects it (`storage: custom:`); PostgreSQL replaces it for a service.
"""

import sys
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from dagster._config import Field, StringSource
from dagster._core.execution.compute_logs import redirect_to_file
from dagster._core.storage.compute_log_manager import CapturedLogContext, ComputeIOType
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.local_compute_log_manager import IO_TYPE_EXTENSION, LocalComputeLogManager
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._utils import ensure_file, mkdir_p, touch_file
from sqlalchemy import Connection, Engine, create_engine

from hdh_pipeline import settings

RUN_FILES_OPEN = 4  # run databases kept open besides the index (the running run, and a few a webserver reads)


class OpenSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` that reuses an engine (and its open connection) per database file."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._tables: set[str] = set()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.pop(shard, None)
        if engine is None:
            engine = create_engine(self.conn_string_for_shard(shard),
                                   connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
        self._engines[shard] = engine  # the most recently used last
        runs = [s for s in self._engines if s != INDEX_SHARD_NAME]
        for old in runs[:-RUN_FILES_OPEN]:
            self._engines.pop(old).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock, self._engine(shard).connect() as conn, conn.begin():
            yield conn

    def has_table(self, table_name: str) -> bool:
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)  # tables are created, never dropped (wipe empties them)
        return table_name in self._tables

    def _close(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close()  # before the run files are deleted
        super().wipe()

    def dispose(self) -> None:
        self._close()
        super().dispose()


class SqliteStorage(DagsterSqliteStorage):
    """Dagster's default storage (runs, events, schedules in SQLite files under `base_dir`) with the event
    log above."""

    def __init__(self, base_dir: str, inst_data=None):
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = OpenSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def config_type(cls):
        return {"base_dir": StringSource}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        mkdir_p(config_value["base_dir"])
        return cls(config_value["base_dir"], inst_data=inst_data)


class FileComputeLogManager(LocalComputeLogManager):
    """Dagster's local compute logs (a step's stdout and stderr, in files under `base_dir`, shown in the UI) without
    their mirror to the terminal: Dagster mirrors each stream with a `tail -F` child that a killed run leaves
    behind, holding its pipes open. A step's output goes to its files only; the CLI prints its own report."""

    @contextmanager
    def capture_logs(self, log_key: Sequence[str]) -> Iterator[CapturedLogContext]:
        outpath = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDOUT])
        errpath = self.get_captured_local_path(log_key, IO_TYPE_EXTENSION[ComputeIOType.STDERR])
        ensure_file(outpath)
        ensure_file(errpath)
        with redirect_to_file(sys.stdout, outpath), redirect_to_file(sys.stderr, errpath):
            yield CapturedLogContext(log_key)
        touch_file(self.complete_artifact_path(log_key))  # the capture is complete

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        """`base_dir` defaults to Dagster's own: `$DAGSTER_HOME/storage`."""
        return cls(config_value.get("base_dir") or str(settings.dagster_home() / "storage"), inst_data=inst_data)
