"""Charts: drawn from the published tables only, hidden counts drawn as hidden, offline in a browser."""
from __future__ import annotations

import json
import struct
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from hdh_pipeline.charts.draw import database_charts, variable_specs
from hdh_pipeline.vocabulary import DEFAULT_K
from tests.browser import needs_chromium, offline_page
from tests.test_disclosure import catalogue, people_strategy, visits_strategy

CHARTS = ("pyramid", "sex", "coverage", "completeness", "quality")


@pytest.fixture
def demo(published_demo) -> tuple[Path, dict]:
    return published_demo


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def spec_rows(spec: dict) -> list[dict]:
    """Every inline data row of a (possibly layered or concatenated) Vega-Lite spec."""
    rows = []
    if isinstance(spec.get("data"), dict) and "values" in spec["data"]:
        rows += spec["data"]["values"]
    for key in ("layer", "vconcat", "hconcat"):
        for part in spec.get(key, []):
            rows += spec_rows(part)
    for values in (spec.get("datasets") or {}).values():
        rows += values
    return rows


def test_demo_charts_are_written_with_the_catalogue(demo) -> None:
    version, _ = demo
    folder = version / "charts" / "demo"
    for name in CHARTS:
        width, height = png_size(folder / f"{name}.png")
        assert 300 < width < 4000 and 150 < height < 4000, (name, width, height)
        assert json.loads((folder / f"{name}.vl.json").read_text())["$schema"].startswith("https://vega.github.io")
        assert '<script src="../vega.js">' in (folder / f"{name}.html").read_text()
    assert (version / "charts" / "vega.js").stat().st_size > 500_000
    assert sorted(p.stem for p in (folder / "variables").glob("*.json")) == ["ER_PRS_F", "IR_BEN_R", "KI_CCI_R",
                                                                           "T_MCOaaB"]


def test_chart_data_are_the_published_tables(demo) -> None:
    version, public = demo
    folder = version / "charts" / "demo"
    spec = lambda name: json.loads((folder / f"{name}.vl.json").read_text())
    [database] = public["databases"]
    population = {(r["band"], r["sex"]): r["individuals"] for r in public["population"]}
    sexes = {"Hommes": "men", "Femmes": "women"}
    drawn = [r for r in spec_rows(spec("pyramid")) if "signed" in r]
    assert len(drawn) == 2 * 21
    for row in drawn:
        published = population[(row["band"], sexes[row["sex"]])]
        assert row["hidden"] == (published is None)
        assert row["hidden"] or abs(row["signed"]) == published
    by_sex = {r["sex"]: r for r in spec_rows(spec("sex"))}
    assert [by_sex[s]["length"] for s in ("Hommes", "Femmes")] == [database["men"], database["women"]]
    completeness = {(r["table"].split(" · ")[-1], r["variable"]): r["pct"] for r in spec_rows(spec("completeness"))}
    assert completeness == {(v["table_name"], v["variable"]): v["completeness_pct"] for v in public["variables"]}
    checks = Counter((r["table_name"], r["status"]) for r in public["quality_results"])
    categories = sum(r["checks"] for r in spec_rows(spec("quality")) if "category" in r)
    assert categories == sum(checks.values())
    bins = {(h["table_name"], h["variable"], h["label"]): h["frequency"] for h in public["histograms"]}
    for row in spec_rows(spec("coverage")):
        table, variable = row["series"].split(" · ")
        assert bins[(table, variable, row["year"])] == row["rows"]
    specs = json.loads((folder / "variables" / "IR_BEN_R.json").read_text())
    listed = [f["frequency"] for f in public["value_frequencies"]
              if (f["table_name"], f["variable"]) == ("IR_BEN_R", "BEN_SEX_COD")]
    assert [r["frequency"] for r in spec_rows(specs["BEN_SEX_COD"])] == listed


def test_readme_pictures_are_the_demos(demo) -> None:
    """The README shows the demo's pyramid and sex distribution, drawn from the specs beside them: the same as the
    demo's, data included (a PNG's bytes depend on the machine's fonts). `make charts-docs` regenerates them."""
    version, _ = demo
    for name in ("pyramid", "sex"):
        shown = Path(__file__).parent.parent / "docs" / "charts" / f"demo-{name}"
        published = version / "charts" / "demo" / name
        assert json.loads(shown.with_suffix(".vl.json").read_text()) == \
            json.loads(published.with_suffix(".vl.json").read_text()), "run: make charts-docs"
        assert shown.with_suffix(".png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


COUNTS = ("frequency", "rows", "length", "signed", "individuals")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=people_strategy, visits=visits_strategy)
def test_no_chart_carries_a_small_count(tmp_path_factory: pytest.TempPathFactory, people, visits) -> None:
    k = DEFAULT_K
    _, public = catalogue(tmp_path_factory.mktemp("source"), people, visits, k)
    specs = [chart.to_dict() for chart in database_charts(public, "p").values()]
    specs += [spec for table in variable_specs(public, "p").values() for spec in table.values()]
    for spec in specs:
        for row in spec_rows(spec):
            for field in COUNTS:
                value = row.get(field)
                assert value is None or value == 0 or abs(value) >= k, (field, row)


@needs_chromium
def test_a_chart_page_renders_offline(demo) -> None:
    version, _ = demo
    with offline_page() as browser:
        browser.page.goto((version / "charts" / "demo" / "pyramid.html").as_uri())
        browser.page.locator("#chart svg").first.wait_for()
        assert browser.page.locator("#chart svg .mark-rect path").count() >= 40  # the bars
        assert browser.refused == [] and browser.errors == []


def test_pngs_are_drawn_by_another_process_and_its_failure_names_the_chart(tmp_path: Path) -> None:
    from hdh_pipeline.charts.write import rendering_beside

    good, bad = tmp_path / "bars.vl.json", tmp_path / "broken.vl.json"
    good.write_text(json.dumps({"data": {"values": [{"n": 12}, {"n": 30}]}, "mark": "bar",
                                "encoding": {"x": {"field": "n", "type": "quantitative"}}}))
    bad.write_text("{not a spec")
    with rendering_beside() as render:
        render("fr", good)
    width, height = struct.unpack(">II", (tmp_path / "bars.png").read_bytes()[16:24])  # the PNG header's size
    assert (tmp_path / "bars.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and width > 20 and height > 20
    with pytest.raises(RuntimeError, match=r"drawing charts failed .*broken\.vl\.json: JSONDecodeError"), \
            rendering_beside() as render:
        render("fr", bad)
    assert not (tmp_path / "broken.png").exists()
