"""Write the charts of a catalogue version: Vega-Lite specs, PNGs and offline HTML pages.

    charts/vega.js                              Vega, Vega-Lite and Vega-Embed (vl-convert's bundle), once
    charts/<source>/<chart>.vl.json, .png, .html  database charts (pyramid, sex, coverage, completeness, quality)
    charts/<source>/variables/<table>.json      {variable: Vega-Lite spec}, rendered by the site in the browser

Only the database charts are rendered to PNG (vl-convert, no browser): a source with 5,000 variables
gets 5,000 specs, not 5,000 images. The HTML pages load `../vega.js`: nothing from the network.
"""
from __future__ import annotations

import html
import json
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import altair as alt
import vl_convert as vlc

from hdh_pipeline.charts.draw import database_charts, variable_specs
from hdh_pipeline.settings import data_dir

VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
LOCALES = {"fr": "fr-FR", "en": "en-GB"}  # number formats: 1 000,5 in French
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<script src="../vega.js"></script>
<style>body{{font-family:sans-serif;margin:1.5em}}</style></head>
<body><div id="chart"></div>
<script>vegaEmbed("#chart", {spec}, {options});</script>
</body></html>
"""


BUNDLING: dict[Path, Future] = {}  # bundles being built in a thread of this process


def vega_bundle(wait: bool = True) -> Path:
    """vl-convert's JavaScript bundle of Vega, Vega-Lite and Vega-Embed, built once per version (2-3 s, in Rust,
    which releases the GIL: `wait=False` starts it in a thread, so that it is ready when the charts need it)."""
    cache = data_dir() / "cache" / f"vega-{vlc.get_vega_version()}-{VL_VERSION}-{vlc.get_vega_embed_version()}.js"
    if not cache.exists() and cache not in BUNDLING:
        BUNDLING[cache] = ThreadPoolExecutor(1, thread_name_prefix="vega-bundle").submit(_bundle, cache)
    if wait and cache in BUNDLING:
        BUNDLING.pop(cache).result()
    return cache


def _bundle(cache: Path) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    part = cache.with_suffix(f".{os.getpid()}.part")
    part.write_text(vlc.javascript_bundle(vl_version=VL_VERSION), encoding="utf-8")
    part.replace(cache)


Render = Callable[[dict, dict, Path], None]  # (Vega-Lite spec, format locale, PNG path)


def render_png(spec: dict, locale: dict, path: Path) -> None:
    path.write_bytes(vlc.vegalite_to_png(spec, vl_version=VL_VERSION, scale=2, format_locale=locale))


@contextmanager
def rendering_beside() -> Iterator[Render]:
    """A `render` for `write_charts` that draws the PNGs in a thread while the caller goes on (vl-convert
    releases the GIL: most of the charts' time on a wide source); on exit, waits for them and raises the
    first failure."""
    with ThreadPoolExecutor(1, thread_name_prefix="png") as pool:
        drawing: list[Future] = []
        yield lambda spec, locale, path: drawing.append(pool.submit(render_png, spec, locale, path))
        for done in drawing:
            done.result()


def write_charts(public: dict[str, list[dict]], folder: Path,
                 render: Render = render_png) -> dict[str, dict[str, Path]]:
    """Every chart of every source of the public rows, under `folder`; source -> chart name -> PNG path.
    `render` draws each PNG (`rendering_beside()`: while the caller goes on)."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(vega_bundle(), folder / "vega.js")
    written: dict[str, dict[str, Path]] = {}
    for database in public["databases"]:
        source = database["source_id"]
        target = folder / source
        (target / "variables").mkdir(parents=True, exist_ok=True)
        written[source] = {}
        language = database.get("language") or "fr"
        locale = vlc.get_format_locale(LOCALES[language])
        options = json.dumps({"actions": False, "renderer": "svg", "formatLocale": locale})
        for name, chart in database_charts(public, source).items():
            spec = chart.to_dict()
            (target / f"{name}.vl.json").write_text(json.dumps(spec, ensure_ascii=False, default=str), encoding="utf-8")
            render(spec, locale, target / f"{name}.png")
            (target / f"{name}.html").write_text(PAGE.format(
                lang=language, title=html.escape(f"{name} — {database['title']}"), options=options,
                spec=json.dumps(spec, ensure_ascii=False, default=str).replace("</", "<\\/")), encoding="utf-8")
            written[source][name] = target / f"{name}.png"
        for table, specs in variable_specs(public, source).items():
            (target / "variables" / f"{table}.json").write_text(
                json.dumps(specs, ensure_ascii=False, default=str), encoding="utf-8")
    return written
