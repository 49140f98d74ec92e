"""Every setting of the pipeline, in one table: environment variables read at call time (never at import), so
tests and the CLI can point the pipeline elsewhere. Relative paths are relative to the working directory (the
project's folder: where `make`, `dagster dev` and the daemon run). `hdh-pipeline --help` and the README's table
are written from SETTINGS (a test checks the README).
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

BACKGROUND_NICENESS = 10  # of a process working beside a run's own steps (quality helpers started ahead, the
# exports, the charts' PNGs): what the run waits for comes first, the background fills the idle cores


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as people read it
    meaning: str


SETTINGS = (
    Setting("HDH_DATA_DIR", "data", "every output: the warehouse, the published catalogue, the quality reports"),
    Setting("HDH_SOURCES", "(none)", "more source declarations beside `assets/sources/*.yaml`: paths or globs, "
                                     "`:`-separated"),
    Setting("HDH_EXPECTATIONS_DIR", "expectations", "the quality suites and rules, one folder per source"),
    Setting("HDH_SITE_LANGUAGE", "fr", "the language of the pages about every source (`fr` or `en`); a source's "
                                       "own pages, charts and exports speak its declaration's `language`"),
    Setting("HDH_SITE_URL", "https://catalogue.example.org/", "where the catalogue is served: the IRIs of the "
                                                              "HealthDCAT-AP export (a publication warns while it "
                                                              "is the placeholder)"),
    Setting("HDH_PUBLIC_URL", "http://127.0.0.1:8000/", "where the current catalogue version is served "
                                                       "(`hdh-pipeline serve`): the Dagster UI's links to pages and "
                                                       "charts"),
    Setting("HDH_INTERNAL_URL", "http://127.0.0.1:8001/", "where the internal reports are served "
                                                         "(`hdh-pipeline serve --internal`): the Dagster UI's links "
                                                         "to Data Docs and documentation reports"),
    Setting("HDH_DUCKDB_MEMORY_LIMIT", "(DuckDB's: 80 % of RAM)", "the most memory DuckDB may take (e.g. `1GB`); "
                                                                   "beyond it DuckDB spills to disk"),
    Setting("HDH_QUALITY_WORKERS", "(1, or one per core for a wide source)", "processes that validate a source's "
                                                                             "quality suites"),
    Setting("HDH_SENSOR_INTERVAL", "300", "seconds between two looks of each source's file sensor (daemon)"),
    Setting("HDH_ALERT_WEBHOOK", "(none)", "a URL that receives a JSON POST when a run fails (daemon)"),
    Setting("HDH_SPARK_REMOTE", "(none)", "the Spark Connect server of the sources declared `engine: spark` "
                                          "(`sc://host:15002`, its token in the URL: never shown)"),
    Setting("HDH_SPARK_MASTER", "local[*]", "without a Spark Connect server, the master of the Spark session started "
                                            "here (`local[2]`, `spark://host:7077`, `yarn`, `k8s://...`)"),
    Setting("HDH_SPARK_CONF", "(none)", "a file of Spark settings, one `key value` per line (spark-defaults.conf's "
                                        "form), `${VAR}` replaced by the environment (secrets)"),
    Setting("DAGSTER_HOME", "(the CLI: an ephemeral instance)", "Dagster's instance folder: run history, schedules; "
                                                                "`make` sets `.dagster_home`"),
)


VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand(text: str) -> str:
    """`${VAR}` and `${VAR:-default}` replaced by the environment (secrets in declarations and Spark settings);
    KeyError names a variable that is not set and has no default."""
    def substitute(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise KeyError(name)

    return VARIABLE.sub(substitute, text)


def _get(name: str) -> str | None:
    return os.environ.get(name) or None


def data_dir() -> Path:
    """Every output of the pipeline."""
    return Path(_get("HDH_DATA_DIR") or "data").resolve()


def warehouse_path() -> Path:
    """The DuckDB file that holds one schema per loaded source and the private profile."""
    return data_dir() / "warehouse.duckdb"


def catalogue_dir() -> Path:
    """The published catalogue's versions and its `current` link (catalogue/publish.py)."""
    return data_dir() / "catalogue"


def quality_dir(source_id: str) -> Path:
    """A source's internal reports (Great Expectations' Data Docs and results, its documentation's to-do)."""
    return internal_dir() / source_id


def expectations_dir() -> Path:
    return Path(_get("HDH_EXPECTATIONS_DIR") or "expectations").resolve()


def site_language() -> str:
    return _get("HDH_SITE_LANGUAGE") or "fr"


SITE_URL_PLACEHOLDER = "https://catalogue.example.org/"


def site_url() -> str:
    return (_get("HDH_SITE_URL") or SITE_URL_PLACEHOLDER).rstrip("/") + "/"


def public_url() -> str:
    return (_get("HDH_PUBLIC_URL") or "http://127.0.0.1:8000/").rstrip("/") + "/"


def internal_url() -> str:
    return (_get("HDH_INTERNAL_URL") or "http://127.0.0.1:8001/").rstrip("/") + "/"


def internal_dir() -> Path:
    """What `hdh-pipeline serve --internal` serves: every source's internal reports, never the public site."""
    return data_dir() / "quality"


def memory_limit() -> str | None:
    return _get("HDH_DUCKDB_MEMORY_LIMIT")


def quality_workers() -> int | None:
    value = _get("HDH_QUALITY_WORKERS")
    return max(1, int(value)) if value else None


def sensor_interval() -> int:
    return int(_get("HDH_SENSOR_INTERVAL") or 300)


def alert_webhook() -> str | None:
    return _get("HDH_ALERT_WEBHOOK")


def spark_remote() -> str | None:
    return _get("HDH_SPARK_REMOTE")


def spark_master() -> str:
    return _get("HDH_SPARK_MASTER") or "local[*]"


def spark_conf() -> Path | None:
    conf = _get("HDH_SPARK_CONF")
    return Path(conf) if conf else None


def dagster_home() -> Path | None:
    home = _get("DAGSTER_HOME")
    return Path(home) if home else None


def declaration_files() -> list[Path]:
    """The built-in declarations (`assets/sources/*.yaml`), then those named by `HDH_SOURCES`."""
    files = sorted(Path("assets", "sources").glob("*.yaml"))
    for pattern in filter(None, (_get("HDH_SOURCES") or "").split(":")):
        matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not matches:
            raise FileNotFoundError(f"HDH_SOURCES names {pattern!r}, which matches no file")
        files.extend(Path(m) for m in matches)
    unique: dict[Path, None] = {}
    for f in files:
        unique.setdefault(f.resolve(), None)
    return list(unique)


def help_text() -> str:
    """The settings for `--help`."""
    width = max(len(s.name) for s in SETTINGS) + 2
    return "settings (environment variables):\n" + "\n".join(
        f"  {s.name:<{width}}{s.meaning.replace('`', '')} (default: {s.default})" for s in SETTINGS)


def markdown_table() -> str:
    """The settings as the README's table."""
    return "\n".join(["| variable | default | meaning |", "|---|---|---|"] +
                     [f"| `{s.name}` | {s.default} | {s.meaning} |" for s in SETTINGS])
