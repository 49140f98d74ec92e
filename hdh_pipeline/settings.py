"""Where things live: the data folder, the warehouse, the source declarations.

Read from the environment at call time (never at import), so tests and the CLI can
point the pipeline elsewhere with plain environment variables.
"""
from __future__ import annotations

import glob
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_SOURCES = REPO_ROOT / "assets" / "sources"

BACKGROUND_NICENESS = 10  # of a process working beside a run's own steps (quality helpers started ahead, the
# exports, the charts' PNGs): what the run waits for comes first, the background fills the idle cores

def data_dir() -> Path:
    """`HDH_DATA_DIR` (default `./data`): every output of the pipeline."""
    return Path(os.environ.get("HDH_DATA_DIR", "data")).resolve()


def warehouse_path() -> Path:
    """The DuckDB file that holds one schema per source."""
    return data_dir() / "warehouse.duckdb"


def memory_limit() -> str | None:
    """`HDH_DUCKDB_MEMORY_LIMIT` (e.g. 1GB): the most memory DuckDB may take before spilling to disk."""
    return os.environ.get("HDH_DUCKDB_MEMORY_LIMIT") or None


def quality_workers() -> int | None:
    """`HDH_QUALITY_WORKERS`: processes that validate a source's quality suites (default: one per core for a wide
    source, else 1; see quality/parallel.py)."""
    value = os.environ.get("HDH_QUALITY_WORKERS")
    return max(1, int(value)) if value else None


def declaration_files() -> list[Path]:
    """The built-in declarations, then those named by `HDH_SOURCES` (paths or globs, `:`-separated)."""
    files = sorted(BUILTIN_SOURCES.glob("*.yaml"))
    for pattern in filter(None, os.environ.get("HDH_SOURCES", "").split(":")):
        matches = sorted(glob.glob(os.path.expanduser(pattern), recursive=True))
        if not matches:
            raise FileNotFoundError(f"HDH_SOURCES names {pattern!r}, which matches no file")
        files.extend(Path(m) for m in matches)
    unique: dict[Path, None] = {}
    for f in files:
        unique.setdefault(f.resolve(), None)
    return list(unique)


def sensor_interval() -> int:
    """`HDH_SENSOR_INTERVAL` (seconds, default 300): how often the file sensors look at the sources' files."""
    return int(os.environ.get("HDH_SENSOR_INTERVAL", "300"))


def alert_webhook() -> str | None:
    """`HDH_ALERT_WEBHOOK`: a URL that receives a JSON POST when a run fails (Slack, Mattermost, Teams...)."""
    return os.environ.get("HDH_ALERT_WEBHOOK") or None
