"""Publishing the catalogue: every source's private profile through disclosure control into the public tables,
then what is drawn from them (charts, site, exports), all in one new version made current in one step
(catalogue/publish.py). A source whose last refresh failed is published from its previous profile, and the
refresh record says why it is stale."""
from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hdh_pipeline.catalogue.label import label_rows
from hdh_pipeline.catalogue.protocol import protocol_rows
from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.catalogue.publish import publish, read_published
from hdh_pipeline.charts.write import rendering_beside, vega_bundle, write_charts
from hdh_pipeline.engines.duckdb.warehouse import read_connection
from hdh_pipeline.exports.write import exporting
from hdh_pipeline.profile.store import load_failures, load_profiles
from hdh_pipeline.site.build import build_site, index_search


@dataclass(frozen=True)
class Refresh:
    """What the refresh being published meant to do: when it started, and which sources it meant to profile
    (None: every source); a source it missed is stale. Without `started`, only failed loads make a source stale."""

    started: dt.datetime | None = None
    sources: set[str] | None = None


@dataclass
class Publication:
    version: Path
    tables: dict[str, list[dict]]  # the public rows, by catalogue table
    charts: dict[str, dict[str, Path]]  # source -> chart name -> PNG
    missing: list[str]  # sources without a profile yet: left out
    stale: dict[str, str]  # source -> why its previous profile is published
    seconds: dict[str, float] = field(default_factory=dict)  # charts, pages, search, waited


def stale_sources(databases: list[dict], failures: dict[str, list[str]], refresh: Refresh) -> dict[str, str]:
    """Sources whose published profile is older than their data -> why: a table whose last load failed
    (`failures`), or a source the refresh meant to profile and did not."""
    stale = {}
    for database in databases:
        source_id, last = database["source_id"], database["last_refresh"]
        meant = refresh.sources is None or source_id in refresh.sources
        missed = refresh.started is not None and meant and last is not None and last < refresh.started
        if missed or source_id in failures:
            why = failures.get(source_id, []) or ["not profiled by this refresh"]
            stale[source_id] = f"{'; '.join(why)}; last profiled at {last:%Y-%m-%d %H:%M} UTC"
    return stale


def _timed(seconds: dict[str, float], name: str, step: Callable[[], object]) -> None:
    started = time.perf_counter()
    step()
    seconds[name] = round(time.perf_counter() - started, 2)


def publish_catalogue(warehouse: Path, catalogue: Path, k_by_source: dict[str, int],
                      refresh: Refresh = Refresh()) -> Publication:
    """Publish, as a new version under `catalogue`, every source of `k_by_source` (id -> its disclosure k) from the
    private profiles of the `warehouse` file."""
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    vega_bundle(wait=False)  # built meanwhile, if not yet
    ids = list(k_by_source)
    with read_connection(warehouse) as conn:
        internal = load_profiles(conn, ids)
        failures = load_failures(conn)
    public = public_rows(internal, k_by_source)
    profiled = {d["source_id"]: d["profiling_seconds"] for d in internal["databases"]}
    missing = [i for i in ids if i not in profiled]
    stale = stale_sources(internal["databases"], failures, refresh)
    finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    public["refreshes"] = read_published(catalogue, "refreshes") + [{
        "refresh_id": uuid.uuid4().hex[:12], "started_at": started, "finished_at": finished,
        "duration_seconds": (finished - started).total_seconds(), "sources": ", ".join(sorted(profiled)),
        "profiling_seconds": ", ".join(f"{i}={s}" for i, s in sorted(profiled.items())),
        "outcome": "partial" if missing or stale else "success",
        "stale_sources": " | ".join(f"{i} ({why})" for i, why in sorted(stale.items())) or None,
    }]
    public["quality_protocol"] = protocol_rows(public["quality_results"], public["databases"],
                                               read_published(catalogue, "quality_protocol"))
    public["quality_label"] = label_rows(public, finished)
    charts: dict[str, dict[str, Path]] = {}
    seconds: dict[str, float] = {}

    def draw(version: Path) -> None:
        """Charts, then the site that shows them, and the exports, in the version being published. The exports,
        the charts' PNGs and the site's search index are written by processes of their own, beside this one."""
        with exporting(version), rendering_beside() as render:  # the PNGs are drawn while the site is built
            _timed(seconds, "charts", lambda: charts.update(write_charts(public, version / "charts", render)))
            _timed(seconds, "pages", lambda: build_site(public, version, search=False))
            _timed(seconds, "search", lambda: index_search(version / "site"))
            waited = time.perf_counter()
        seconds["waited"] = round(time.perf_counter() - waited, 2)

    version = publish(public, catalogue, write_more=draw)
    return Publication(version, public, charts, missing, stale, seconds)
