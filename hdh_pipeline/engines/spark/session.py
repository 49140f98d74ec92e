"""The Spark session of this process: a Spark Connect server (`HDH_SPARK_REMOTE`), else a session started here on
`HDH_SPARK_MASTER` (`local[*]` by default; `spark://`, `yarn`, `k8s://` submit to a cluster), with the settings of
`HDH_SPARK_CONF`. Nothing said about it shows a secret: `where()` names the host, never the URL's token."""
from __future__ import annotations

import socket
import threading
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from hdh_pipeline import settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

QUIET = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
         "spark.sql.session.timeZone": "UTC",  # dates and timestamps as written, whatever the machine's zone
         "spark.sql.ansi.enabled": "false",
         "spark.python.sql.dataFrameDebugging.enabled": "false"}  # no call-site capture for each column built
LOCAL = {"spark.driver.memory": "4g"}  # a session started here: its driver plans a wide source's jobs
CONNECT_TIMEOUT = 10  # seconds
_LOCK = threading.Lock()
_SESSION: list[SparkSession] = []


class SparkUnavailable(RuntimeError):
    """Spark cannot be reached or started; the message names where, never a secret."""


def _server(remote: str) -> tuple[str, int]:
    parts = urlsplit(remote.split(";", 1)[0])
    return parts.hostname or "localhost", parts.port or 15002


def where() -> str:
    """Where this process's Spark runs, without a secret."""
    remote = settings.spark_remote()
    if remote:
        return "Spark Connect at {}:{}".format(*_server(remote))
    return f"Spark master {settings.spark_master()}"


def _reachable(remote: str) -> None:
    """A Spark Connect server that does not answer fails here, at once: its client would retry for minutes."""
    try:
        socket.create_connection(_server(remote), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        raise SparkUnavailable(f"{where()} cannot be reached: {error.strerror or error}") from None


def conf() -> dict[str, str]:
    """`HDH_SPARK_CONF`'s settings (`key value` a line, `#` comments), `${VAR}` replaced by the environment."""
    path = settings.spark_conf()
    if path is None:
        return {}
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition(" ") if " " in line else line.partition("=")
            try:
                values[key.strip()] = settings.expand(value.strip())
            except KeyError as missing:
                raise SparkUnavailable(f"{path}: setting '{key.strip()}' uses ${{{missing.args[0]}}}, which is "
                                       "not set") from None
    return values


def session() -> SparkSession:
    """This process's session, started at the first call."""
    with _LOCK:
        if _SESSION:
            return _SESSION[0]
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            raise SparkUnavailable("pyspark is not installed: pip install 'hdh-pipeline[spark]'") from None
        builder = SparkSession.builder.appName("hdh-pipeline")
        builder = builder.remote(settings.spark_remote()) if settings.spark_remote() else \
            builder.master(settings.spark_master())
        local = {} if settings.spark_remote() else LOCAL
        for key, value in {**QUIET, **local, **conf()}.items():
            if not (settings.spark_remote() and key.startswith("spark.ui")):
                builder = builder.config(key, value)
        if settings.spark_remote():
            _reachable(settings.spark_remote())
        try:
            started = builder.getOrCreate()
        except Exception as error:  # whatever the JVM or the network says, in one line
            raise SparkUnavailable(f"{where()} cannot be reached: {_first_line(error)}") from None
        _SESSION.append(started)
        return started


def stop() -> None:
    with _LOCK:
        while _SESSION:
            _SESSION.pop().stop()


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    remote = settings.spark_remote()
    return line.replace(remote, "sc://…") if remote else line
