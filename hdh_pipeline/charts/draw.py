"""Charts of the published catalogue, drawn with Altair from public rows only (never the private profile).

Per database: the age pyramid, the sex distribution, the coverage over time (event dates per year and
table), the completeness heatmap (tables x variables) and the quality overview. Per variable: its
distribution (bins, or top values with their labels) with its completeness in the subtitle.

A hidden count is drawn as hidden: a grey bar of conventional length k (or a grey cell) labelled
"masqué" ("hidden"), never as 0 nor left out, so a reader knows something is there. It is not
labelled "< k": a count hidden to protect another may be larger. Colours are Okabe-Ito's
(colour-blind safe) and viridis; words follow the database's `language`.
"""
from __future__ import annotations

import copy
import functools
from collections import defaultdict

import altair as alt

from hdh_pipeline import words as language
from hdh_pipeline.schema import CODES
from hdh_pipeline.vocabulary import EVENT_ROLES, OTHER, STATUSES, UNSUCCESSFUL

BLUE, VERMILLION, GREEN, PURPLE, GREY, HIDDEN = "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#999999", "#C8C8C8"


def _values(rows: list[dict]) -> dict:
    """Inline data as a plain dict: altair validates an `alt.InlineData` row by row when it is created
    (a second for the 5,000 cells of a wide source's completeness chart); the chart is validated anyway."""
    return {"values": rows}


def words(database: dict) -> dict[str, str]:
    """The source's words, with `<key>_label` for the words of LABELS capitalised (`Hommes`, `Individus`)."""
    return _labelled(language.language_of(database))


@functools.cache
def _labelled(code: str) -> dict[str, str]:
    w = language.words(code)
    return w | {f"{key}_label": w[key][:1].upper() + w[key][1:] for key in LABELS}


LABELS = ("men", "women", "other", "age", "individuals", "rows", "year", "position", "checks", "share")


def _count(value: int | None, w: dict) -> str:
    return w["hidden"] if value is None else language.integer(value, w["language"])


def _title(text: str, database: dict, *subtitle: str) -> alt.Title:
    return alt.Title(f"{text} — {database['title']}", subtitle=[s for s in subtitle if s], anchor="start")


def _hidden_color(field: str, domain: list, colours: list, legend: alt.Legend | None) -> alt.Color:
    """Colours by `field`, grey where the count is hidden (the data carry `hidden`)."""
    return alt.condition("datum.hidden", alt.value(HIDDEN),
                         alt.Color(f"{field}:N", scale=alt.Scale(domain=domain, range=colours), legend=legend))


def pyramid(database: dict, population: list[dict]) -> alt.Chart | None:
    """Men left, women right, five-year bands upwards; hidden cells grey at length k."""
    w, k = words(database), database["disclosure_k"]
    rows = []
    for r in population:
        if r["age_low"] is None or r["sex"] == "other":
            continue
        length = r["individuals"] if r["individuals"] is not None else k
        rows.append({"band": r["band"], "order": r["band_order"], "sex": w[f"{r['sex']}_label"],
                     "hidden": r["individuals"] is None, "signed": -length if r["sex"] == "men" else length,
                     "count": _count(r["individuals"], w)})
    if not rows:
        return None
    off_band = {band: sum(r["individuals"] or 0 for r in population if r["band"] == band)
                for band in ("implausible", "unknown")}
    hidden_off = {band: any(r["individuals"] is None for r in population if r["band"] == band) for band in off_band}
    note = {"implausible": "implausible_n", "unknown": "unknown_age_n"}
    notes = [w[note[band]].format(n=w["hidden"] if hidden_off[band] else off_band[band])
             for band in off_band if off_band[band] or hidden_off[band]]
    base = alt.Chart(_values(rows))
    bands = [r["band"] for r in sorted(rows, key=lambda r: -r["order"])]
    y = alt.Y("band:N", sort=list(dict.fromkeys(bands)), title=w["age_label"])
    bars = base.mark_bar().encode(
        y=y, x=alt.X("signed:Q", title=w["individuals_label"], axis=alt.Axis(labelExpr="abs(datum.value)")),
        color=_hidden_color("sex", [w["men_label"], w["women_label"]], [BLUE, VERMILLION],
                            alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("band:N", title=w["age_label"]), alt.Tooltip("sex:N", title=" "),
                 alt.Tooltip("count:N", title=w["individuals_label"])])
    marks = base.transform_filter("datum.hidden").mark_text(fontSize=9, color="#555555").encode(
        y=y, x="signed:Q", text=alt.value(w["hidden"]))
    subtitle = w["ages_at"].format(n=_count(database["individuals"], w), date=database["reference_date"])
    return (bars + marks).properties(width=520, height=420, title=_title(
        w["chart_pyramid"], database, subtitle, " · ".join(notes), w["hidden_note"].format(k=k)))


def sex_distribution(database: dict, labels: dict[str, str]) -> alt.Chart | None:
    """Individuals by sex (each counted once), with the codes' labels from the nomenclature."""
    if database["individuals"] is None and database["population_table"] is None:
        return None
    w, k = words(database), database["disclosure_k"]
    rows = [{"sex": w[f"{sex}_label"], "hidden": database[column] is None, "count": _count(database[column], w),
             "length": database[column] if database[column] is not None else k}
            for sex, column in (("men", "men"), ("women", "women"), ("other", "sex_other"))]
    codes = ", ".join(f"{code} = {label}" for code, label in labels.items())
    base = alt.Chart(_values(rows))
    y = alt.Y("sex:N", sort=None, title=None)
    bars = base.mark_bar().encode(
        y=y, x=alt.X("length:Q", title=w["individuals_label"]),
        color=_hidden_color("sex", [w["men_label"], w["women_label"], w["other_label"]], [BLUE, VERMILLION, GREY],
                            None),
        tooltip=[alt.Tooltip("sex:N", title=" "), alt.Tooltip("count:N", title=w["individuals_label"])])
    text = base.mark_text(align="left", dx=4).encode(y=y, x="length:Q", text="count:N")
    return (bars + text).properties(width=420, height=120, title=_title(
        w["chart_sex"], database, w["codes"].format(codes=codes) if codes else "", w["hidden_note"].format(k=k)))


def _heatmap(rows: list[dict], x: alt.X, y: alt.Y, colour: alt.Color, tooltip: list) -> alt.LayerChart:
    """Cells coloured by a value, and hidden cells grey: two layers, since a continuous colour scale
    drops the cells whose value is null (a hidden cell would vanish)."""
    base = alt.Chart(_values(rows)).encode(x=x, y=y, tooltip=tooltip)
    return alt.layer(base.transform_filter("datum.hidden").mark_rect(color=HIDDEN),
                     base.transform_filter("!datum.hidden").mark_rect().encode(color=colour))


def coverage(database: dict, variables: list[dict], histograms: list[dict]) -> alt.Chart | None:
    """Rows per year of each table's event dates (their yearly histogram bins): a heatmap, table by year."""
    w, k = words(database), database["disclosure_k"]
    events = {(v["table_name"], v["variable"]) for v in variables
              if v["role"] in EVENT_ROLES and (v["observed_type"] or "").startswith(("DATE", "TIMESTAMP"))}
    rows = [{"series": f"{h['table_name']} · {h['variable']}", "year": h["label"], "hidden": h["frequency"] is None,
             "rows": h["frequency"], "count": _count(h["frequency"], w)}
            for h in histograms if (h["table_name"], h["variable"]) in events
            and h["lower"] is not None and h["upper"] is not None]
    if not rows:
        return None
    series = len({r["series"] for r in rows})
    cells = _heatmap(rows, alt.X("year:O", title=w["year_label"]), alt.Y("series:N", title=None),
                     alt.Color("rows:Q", scale=alt.Scale(scheme="viridis", type="log"), title=w["rows_label"]),
                     [alt.Tooltip("series:N", title=w["table"]), alt.Tooltip("year:O", title=w["year_label"]),
                      alt.Tooltip("count:N", title=w["rows_label"])])
    return cells.properties(width=max(240, 22 * len({r["year"] for r in rows})), height=max(60, 16 * series),
                            title=_title(w["chart_coverage"], database, w["hidden_cell"].format(k=k)))


def completeness(database: dict, variables: list[dict], tables: list[dict]) -> alt.Chart | None:
    """Tables (grouped by product) x variable positions, coloured by completeness %."""
    if not variables:
        return None
    w = words(database)
    product = {t["table_name"]: t["product"] or "" for t in tables}
    rows = [{"table": f"{product.get(v['table_name'], '')} · {v['table_name']}".lstrip(" ·"),
             "position": v["position"], "variable": v["variable"], "hidden": v["completeness_pct"] is None,
             "pct": v["completeness_pct"],
             "shown": w["hidden"] if v["completeness_pct"] is None else f"{v['completeness_pct']} %"}
            for v in variables]
    heat = _heatmap(rows, alt.X("position:O", title=w["position_label"], axis=alt.Axis(labels=False, ticks=False)),
                    alt.Y("table:N", title=None, sort="ascending"),
                    alt.Color("pct:Q", scale=alt.Scale(scheme="viridis", domain=[0, 100]), title="%"),
                    [alt.Tooltip("table:N", title=w["table"]), alt.Tooltip("variable:N", title=w["variable"]),
                     alt.Tooltip("shown:N", title="%")])
    widest = max(v["position"] for v in variables)
    return heat.properties(width=min(1200, max(200, 7 * widest)), height=max(60, 11 * len({r["table"] for r in rows})),
                           title=_title(w["chart_completeness"], database,
                                        w["hidden_cell"].format(k=database["disclosure_k"])))


def quality(database: dict, results: list[dict]) -> alt.Chart | None:
    """Checks passed, failed, in error and not applicable, by category; then the tables with failures."""
    if not results:
        return None
    w = words(database)
    names = [w[s] for s in STATUSES]
    colour = alt.Color("status:N", scale=alt.Scale(domain=names, range=[GREEN, VERMILLION, PURPLE, GREY]),
                       title=w["status"])
    by_category: dict[tuple, int] = defaultdict(int)
    by_table: dict[tuple, int] = defaultdict(int)
    for r in results:
        by_category[(w.get(f"{r['category']}_cat", w.get(r["category"], r["category"])), w[r["status"]])] += 1
        by_table[(r["table_name"], w[r["status"]])] += 1
    categories = alt.Chart(_values([{"category": c, "status": s, "checks": n}
                                                  for (c, s), n in by_category.items()])).mark_bar().encode(
        y=alt.Y("category:N", title=w["category"]), x=alt.X("checks:Q", title=w["checks_label"]), color=colour,
        tooltip=["category:N", "status:N", "checks:Q"]).properties(width=520,
                                                                   title=_title(w["chart_quality"], database))
    unsuccessful = [w[status] for status in UNSUCCESSFUL]
    failing = {t for (t, s), n in by_table.items() if s in unsuccessful}
    worst = sorted(failing, key=lambda t: (-sum(n for (x, s), n in by_table.items()
                                                if x == t and s in unsuccessful), t))[:30]
    if not worst:
        return categories
    tables = alt.Chart(_values([{"table": t, "status": s, "checks": n} for (t, s), n in by_table.items()
                                              if t in worst])).mark_bar().encode(
        y=alt.Y("table:N", sort=worst, title=None), x=alt.X("checks:Q", title=w["checks_label"]), color=colour,
        tooltip=["table:N", "status:N", "checks:Q"]).properties(width=520, title=w["tables_failing"])
    return alt.vconcat(categories, tables)


def sex_labels(variables: list[dict], frequencies: list[dict], database: dict) -> dict[str, str]:
    """Code -> label of the sex variable of the population table, from its published frequencies."""
    sex = {(v["table_name"], v["variable"]) for v in variables
           if v["role"] == "sex" and v["table_name"] == database["population_table"]}
    return {f["value"]: f["label"] for f in frequencies
            if (f["table_name"], f["variable"]) in sex and f["value"] not in (None, OTHER) and f["label"]}


def database_charts(public: dict[str, list[dict]], source_id: str) -> dict[str, alt.TopLevelMixin]:
    """name -> chart, for the charts the source's published rows allow."""
    mine = {name: [r for r in rows if r.get("source_id") == source_id] for name, rows in public.items()
            if name != CODES}  # the code lists (Arrow) are not charted
    [database] = mine["databases"]
    charts = {
        "pyramid": pyramid(database, mine.get("population", [])),
        "sex": sex_distribution(database, sex_labels(mine["variables"], mine["value_frequencies"], database)),
        "coverage": coverage(database, mine["variables"], mine["histograms"]),
        "completeness": completeness(database, mine["variables"], mine["tables"]),
        "quality": quality(database, mine.get("quality_results", [])),
    }
    return {name: chart for name, chart in charts.items() if chart is not None}


# -- one chart per variable: a template per kind and language, filled with the variable's rows --------

def _variable_template(kind: str, w: dict) -> dict:
    rows = _values([])
    tooltip = [alt.Tooltip("name:N", title=w["value"]), alt.Tooltip("count:N", title=w["rows_label"])]
    colour = alt.condition("datum.hidden", alt.value(HIDDEN), alt.value(BLUE))
    if kind == "bins":
        chart = alt.Chart(rows).mark_bar().encode(
            x=alt.X("name:N", sort=alt.SortField("order"), title=None), y=alt.Y("length:Q", title=w["rows_label"]),
            color=colour, tooltip=tooltip).properties(width=480, height=220)
    else:
        chart = alt.Chart(rows).mark_bar().encode(
            y=alt.Y("name:N", sort=alt.SortField("order"), title=None), x=alt.X("length:Q", title=w["rows_label"]),
            color=colour, tooltip=tooltip).properties(width=420)
    return chart.properties(title="").to_dict()


_TEMPLATES: dict[tuple[str, str], dict] = {}


def variable_spec(variable: dict, database: dict, bins: list[dict], values: list[dict]) -> dict | None:
    """A Vega-Lite spec of one variable's distribution (its bins, or its listed values, `(other)` and
    missing), its completeness in the subtitle; None when it has neither."""
    w, k = words(database), database["disclosure_k"]
    if bins:
        kind, rows = "bins", [{"name": b["label"], "order": b["bin"], "frequency": b["frequency"]} for b in bins]
    elif values:
        kind = "values"
        rows = [{"name": w["missing_value"] if f["value"] is None else
                 f"{f['value']} {f['label']}" if f["label"] else f["value"], "order": f["rank"],
                 "frequency": f["frequency"]} for f in values]
    else:
        return None
    for row in rows:
        row.update(hidden=row["frequency"] is None, count=_count(row["frequency"], w),
                   length=row["frequency"] if row["frequency"] is not None else k)
    key = (kind, w["language"])
    if key not in _TEMPLATES:
        _TEMPLATES[key] = _variable_template(kind, w)
    spec = copy.deepcopy(_TEMPLATES[key])
    pct = variable["completeness_pct"]
    spec["data"] = {"values": rows}
    if kind == "values":
        spec["height"] = 18 * len(rows)
    spec["title"] = {"text": f"{variable['table_name']}.{variable['variable']}", "anchor": "start", "subtitle": [
        s for s in (variable["description"], w["complete"].format(pct=pct) if pct is not None
                    else w["complete_hidden"]) if s]}
    return spec


def variable_specs(public: dict[str, list[dict]], source_id: str) -> dict[str, dict[str, dict]]:
    """table -> variable -> spec, for every variable of the source with bins or listed values."""
    [database] = [d for d in public["databases"] if d["source_id"] == source_id]
    bins, values = defaultdict(list), defaultdict(list)
    for h in public["histograms"]:
        if h["source_id"] == source_id:
            bins[(h["table_name"], h["variable"])].append(h)
    for f in public["value_frequencies"]:
        if f["source_id"] == source_id:
            values[(f["table_name"], f["variable"])].append(f)
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for v in public["variables"]:
        if v["source_id"] != source_id:
            continue
        key = (v["table_name"], v["variable"])
        spec = variable_spec(v, database, bins.get(key, []), values.get(key, []))
        if spec is not None:
            out[v["table_name"]][v["variable"]] = spec
    return dict(out)
