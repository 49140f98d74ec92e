"""Write the charts of a catalogue version: Vega-Lite specs, PNGs and offline HTML pages.

    charts/vega.js                              Vega, Vega-Lite and Vega-Embed (vl-convert's bundle), once
    charts/<source>/<chart>.vl.json, .png, .1x.png, .html
                                                database charts (pyramid, sex, coverage, completeness, quality)
    charts/<source>/variables/<table>.json      {variable: Vega-Lite spec}, rendered by the site in the browser

Only the database charts are rendered to PNG (vl-convert, no browser; charts/render.py): a source with
5,000 variables gets 5,000 specs, not 5,000 images. The HTML pages load `../vega.js`: nothing from the network.
"""
from __future__ import annotations

import html
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import altair as alt
import vl_convert as vlc

from hdh_pipeline import words
from hdh_pipeline.charts.draw import database_charts, variable_specs
from hdh_pipeline.charts.render import Renderer, render_png
from hdh_pipeline.settings import data_dir

VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<script src="../vega.js"></script>
<style>body{{font-family:sans-serif;margin:1.5em}}</style></head>
<body><div id="chart"></div>
<script>vegaEmbed("#chart", {spec}, {options});</script>
</body></html>
"""


BUNDLING: dict[Path, Renderer] = {}  # bundles being built by a process of their own


def vega_bundle(wait: bool = True) -> Path:
    """vl-convert's JavaScript bundle of Vega, Vega-Lite and Vega-Embed, built once per data folder (2-3 s, by a
    process of its own: `wait=False` starts it and returns, so that it is ready when the charts need it)."""
    cache = data_dir() / "cache" / f"vega-{vlc.get_vega_version()}-{VL_VERSION}-{vlc.get_vega_embed_version()}.js"
    if not cache.exists() and cache not in BUNDLING:
        renderer = BUNDLING[cache] = Renderer(VL_VERSION)
        renderer.send("bundle", cache)
        renderer.end_input()
    if wait and cache in BUNDLING:
        BUNDLING.pop(cache).finish()
    return cache


Render = Callable[[str, Path], None]  # (language, Vega-Lite spec file): draws the PNG beside it


def render_here(language: str, spec_file: Path) -> None:
    render_png(VL_VERSION, language, spec_file)


@contextmanager
def rendering_beside() -> Iterator[Render]:
    """A `render` for `write_charts` that has the PNGs drawn by another process while the caller goes on (most
    of the charts' time on a wide source); on exit, waits for it and raises if it failed."""
    renderer = Renderer(VL_VERSION)
    try:
        yield lambda language, spec_file: renderer.send("png", language, spec_file)
    except BaseException:
        renderer.stop()
        raise
    renderer.finish()


def write_charts(public: dict[str, list[dict]], folder: Path,
                 render: Render = render_here) -> dict[str, dict[str, Path]]:
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
        language = words.language_of(database)
        locale = vlc.get_format_locale(words.CHART_LOCALES[language])
        options = json.dumps({"actions": False, "renderer": "svg", "formatLocale": locale})
        for name, chart in database_charts(public, source).items():
            spec = chart.to_dict()
            (target / f"{name}.vl.json").write_text(json.dumps(spec, ensure_ascii=False, default=str), encoding="utf-8")
            render(language, target / f"{name}.vl.json")
            (target / f"{name}.html").write_text(PAGE.format(
                lang=language, options=options,
                title=html.escape(f"{words.words(language)['chart_' + name]} — {database['title']}"),
                spec=json.dumps(spec, ensure_ascii=False, default=str).replace("</", "<\\/")), encoding="utf-8")
            written[source][name] = target / f"{name}.png"
        for table, specs in variable_specs(public, source).items():
            (target / "variables" / f"{table}.json").write_text(
                json.dumps(specs, ensure_ascii=False, default=str), encoding="utf-8")
    return written
