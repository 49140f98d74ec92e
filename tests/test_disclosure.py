"""Disclosure control: the rules, and a property over generated data: no published count in 1..k-1."""
from __future__ import annotations

import json

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdh_pipeline.catalogue.disclosure import controlled_partition, safe_share, suppressed_cells
from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.catalogue.schema import TABLES
from hdh_pipeline.ingest.load import load_table
from hdh_pipeline.profile.source import profile_source
from hdh_pipeline.sources.loader import load_source


@pytest.mark.parametrize(
    ("cells", "k", "hidden"),
    [
        ([50, 100, 200], 11, set()),
        ([5, 100, 200], 11, {0, 1}),        # one small cell: the next smallest goes too
        ([3, 4, 100], 11, {0, 1, 2}),       # 3 + 4 < 11: keep going
        ([0, 5, 50, 60], 11, {1, 2}),       # zeros reveal nobody and protect nobody
        ([5], 11, {0}),
        ([10, 11], 11, {0, 1}),
        ([2, 3], 3, {0, 1}),
    ],
)
def test_suppressed_cells(cells: list[int], k: int, hidden: set[int]) -> None:
    assert suppressed_cells(cells, k) == hidden


def test_partition_keeps_unknown_cells() -> None:
    assert controlled_partition([None, 5, 40, 60], 11) == [None, None, None, 60]


@pytest.mark.parametrize(
    ("part", "total", "share"),
    [(50, 100, 50.0), (5, 100, None), (95, 100, None), (0, 100, 0.0), (100, 100, 100.0), (None, 100, None),
     (3, 0, None)],
)
def test_safe_share(part, total, share) -> None:
    assert safe_share(part, total, 11) == share


COUNT_COLUMNS = {table: [c.name for c in columns if c.count] for table, columns in TABLES.items()}

rows_strategy = st.lists(
    st.tuples(
        st.integers(0, 400),                                   # person
        st.sampled_from(["1", "2", "9", ""]),                  # sex code, with missing
        st.one_of(st.none(), st.integers(1900, 2024)),        # birth year
        st.one_of(st.none(), st.dates(min_value=__import__("datetime").date(2015, 1, 1),
                                      max_value=__import__("datetime").date(2024, 12, 31))),
        st.one_of(st.none(), st.floats(-50, 5000, allow_nan=False).map(lambda x: round(x, 2))),
        st.sampled_from(["A01", "B20", "C30", "D45", "E11", "Z99", ""]),
    ),
    min_size=0, max_size=400,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows_strategy, k=st.sampled_from([3, 5, 11]))
def test_no_published_count_below_k(tmp_path_factory: pytest.TempPathFactory, rows: list[tuple], k: int) -> None:
    folder = tmp_path_factory.mktemp("source")
    (folder / "data").mkdir()
    lines = ["pid,sex,birth_year,visit,amount,code"]
    lines += [",".join("" if v is None else str(v) for v in (f"P{p:05d}", s, b, d, a, c))
              for p, s, b, d, a, c in rows]
    (folder / "data" / "people.csv").write_text("\n".join(lines) + "\n")
    (folder / "schemas").mkdir()
    fields = [{"name": "pid", "type": "string"}, {"name": "sex", "type": "string"},
              {"name": "birth_year", "type": "year"}, {"name": "visit", "type": "date"},
              {"name": "amount", "type": "number"}, {"name": "code", "type": "string"}]
    (folder / "schemas" / "people.json").write_text(json.dumps({"name": "people", "fields": fields}))
    (folder / "source.yaml").write_text(yaml.safe_dump({
        "id": "p", "title": "P", "producer": {"name": "x"}, "licence": "x", "location": "data",
        "dictionary": {"path": "schemas"}, "disclosure_k": k,
        "tables": {"people": {"roles": {"person_id": "pid", "sex": "sex", "birth_year": "birth_year",
                                        "event_date": ["visit"]}}},
    }))
    source = load_source(folder / "source.yaml")
    with duckdb.connect(str(folder / "w.duckdb")) as conn:
        load_table(conn, source.declaration, source.tables[0], folder / "staging")
        internal = profile_source(conn, source, k).rows
    public = public_rows(internal, {"p": k})
    for table, columns in COUNT_COLUMNS.items():
        for row in public.get(table, []):
            for column in columns:
                value = row[column]
                assert value is None or value == 0 or value >= k, (table, column, row)
    for row in public["value_frequencies"]:  # no rare value is named
        if row["value"] not in (None, "(other)"):
            assert row["frequency"] is not None and row["frequency"] >= k
    # Complementary suppression: what a reader recovers by subtracting published bins from a published
    # total is the sum of the hidden bins; it must cover at least two bins and k rows.
    exact = {(h["variable"], h["bin"]): h["frequency"] for h in internal["histograms"]}
    totals = {v["variable"]: v["count"] for v in public["variables"]}
    for variable in {h["variable"] for h in public["histograms"]}:
        hidden = [exact[(variable, h["bin"])] for h in public["histograms"]
                  if h["variable"] == variable and h["frequency"] is None]
        if hidden and totals[variable] is not None:
            assert len(hidden) >= 2 and sum(hidden) >= k, (variable, hidden)
    [database], [exact_database] = public["databases"], internal["databases"]
    parts = ("men", "women", "sex_other")
    hidden = [exact_database[p] for p in parts if database[p] is None]
    if hidden and database["individuals"] is not None:
        assert len(hidden) >= 2 and sum(hidden) >= k
