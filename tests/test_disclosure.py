"""Disclosure control: the ledger's rules, and an attacker with every public table at once
(tests/attacker.py) against catalogues of generated sources with many small groups."""
from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hdh_pipeline.catalogue.disclosure import Ledger
from hdh_pipeline.catalogue.public import public_rows
from hdh_pipeline.engines.duckdb.load import load_table
from hdh_pipeline.quality.table_checks import compile_check
from hdh_pipeline.schema import TABLES
from hdh_pipeline.sources.loader import load_source
from hdh_pipeline.vocabulary import DEFAULT_K, OTHER
from tests.attacker import leaks
from tests.conftest import profile


def partition(cells: list[int], k: int = 11) -> set[int]:
    """Indexes of the hidden cells of one published total and its parts."""
    ledger = Ledger(k)
    ledger.cell("total", sum(cells))
    ledger.sum("total", [ledger.cell(i, c) for i, c in enumerate(cells)])
    return {c for c in ledger.hidden() if c != "total"}


@pytest.mark.parametrize(
    ("cells", "k", "hidden"),
    [
        ([50, 100, 200], 11, set()),
        ([5, 100, 200], 11, {0, 1}),        # one small cell: the next smallest goes too
        ([3, 4, 100], 11, {0, 1, 2}),       # 3 + 4 < 11: keep going
        ([0, 5, 50, 60], 11, {1, 2}),       # zeros reveal nobody and protect nobody
        ([10, 11], 11, {0, 1}),
        ([2, 3], 3, {0, 1}),
    ],
)
def test_one_partition(cells: list[int], k: int, hidden: set[int]) -> None:
    assert partition(cells, k) == hidden


def test_hidden_totals_hide_a_part_of_every_partition_below() -> None:
    """Rows 1000 = 995 values + 5 missing: the 995 go too, so one of its listed values must go as well."""
    ledger = Ledger(DEFAULT_K)
    ledger.cell("rows", 1000)
    ledger.sum(ledger.cell("database", 1500), ["rows", ledger.cell("other table", 500)])
    ledger.sum("rows", [ledger.cell("count", 995), ledger.cell("missing", 5)])
    ledger.sum("count", [ledger.cell("a", 600), ledger.cell("b", 395)])
    assert ledger.hidden() == {"count", "missing", "b"}
    assert ledger.published("rows") == 1000 and ledger.share("a", "rows") == 60.0 and ledger.share("b", "rows") is None


def test_a_small_derived_count_is_protected() -> None:
    """100 rows evaluated, 95 failing: the 5 passing rows follow by subtraction unless a count goes."""
    ledger = Ledger(DEFAULT_K)
    ledger.cell("evaluated", 100)
    ledger.cell("failing", 95)
    ledger.cell("passing", 5, derived=True)
    ledger.sum("evaluated", ["failing", "passing"])
    assert ledger.published("failing") is None and ledger.published("passing") is None
    assert ledger.share("failing", "evaluated") is None


def test_the_cheapest_complement_is_chosen() -> None:
    """A small table's rows hide the database total (one sum) rather than another table's rows (many sums)."""
    ledger = Ledger(DEFAULT_K)
    ledger.cell("total", 1005)
    ledger.sum("total", [ledger.cell("small", 5), ledger.cell("big", 1000)])
    for i in range(3):
        ledger.sum("big", [ledger.cell(("count", i), 900), ledger.cell(("missing", i), 100)])
    assert ledger.published("big") == 1000 and ledger.published("total") is None


def test_same_cells_are_one() -> None:
    """A not-null check evaluates the table's rows: its count is the row count, hidden with it."""
    ledger = Ledger(DEFAULT_K)
    ledger.cell("rows", 7)
    assert ledger.cell("evaluated", 7, same_as=["rows"]) == "rows"
    assert ledger.cell("other", 8, same_as=["rows"]) == "other"
    assert ledger.published("evaluated") is None


COUNT_COLUMNS = {table: [c.name for c in columns if c.count] for table, columns in TABLES.items()}
CHECKS = [  # (table, check id, expectation, kwargs, category): counted with the pipeline's own SQL
    ("people", "code_not_null", "expect_column_values_to_not_be_null", {"column": "code"}, "completeness"),
    ("people", "amount_range", "expect_column_values_to_be_between",
     {"column": "amount", "min_value": 0, "max_value": 1000}, "plausibility"),
    ("people", "sex_codes", "expect_column_values_to_be_in_set", {"column": "sex", "value_set": ["1", "2"]},
     "conformance"),
    ("visits", "cost_not_null", "expect_column_values_to_not_be_null", {"column": "cost"}, "completeness"),
]

people_strategy = st.lists(
    st.tuples(
        st.integers(0, 400),                                   # person
        st.sampled_from(["1", "2", "9", ""]),                  # sex code, with missing
        st.one_of(st.none(), st.integers(1890, 2030)),         # birth year (some implausible)
        st.one_of(st.none(), st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2024, 12, 31))),
        st.one_of(st.none(), st.integers(-50, 5000)),          # amount
        st.sampled_from(["A01", "B20", "C30", "D45", "E11", "Z99", ""]),
    ),
    min_size=0, max_size=300,
)
visits_strategy = st.lists(st.tuples(st.integers(0, 420), st.one_of(st.none(), st.integers(0, 30))), max_size=60)


def write_csv(path, header: str, rows: list[tuple]) -> None:
    lines = [header] + [",".join("" if v is None else str(v) for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def catalogue(folder, people: list[tuple], visits: list[tuple], k: int) -> tuple[dict, dict]:
    """(exact rows, public rows) of a two-table source: people, and their visits (a join key)."""
    (folder / "data").mkdir()
    write_csv(folder / "data" / "people.csv", "pid,sex,birth_year,visit,amount,code",
              [(f"P{p:05d}", *rest) for p, *rest in people])
    write_csv(folder / "data" / "visits.csv", "pid,cost", [(f"P{p:05d}", c) for p, c in visits])
    (folder / "schemas").mkdir()
    fields = {"people": [{"name": "pid", "type": "string"}, {"name": "sex", "type": "string"},
                         {"name": "birth_year", "type": "year"}, {"name": "visit", "type": "date"},
                         {"name": "amount", "type": "integer"}, {"name": "code", "type": "string"}],
              "visits": [{"name": "pid", "type": "string"}, {"name": "cost", "type": "integer"}]}
    keys = {"people": {"primaryKey": ["pid"]},
            "visits": {"foreignKeys": [{"fields": ["pid"], "reference": {"resource": "people", "fields": ["pid"]}}]}}
    for table, columns in fields.items():
        (folder / "schemas" / f"{table}.json").write_text(json.dumps({"name": table, "fields": columns} | keys[table]))
    (folder / "source.yaml").write_text(yaml.safe_dump({
        "id": "p", "title": "P", "producer": {"name": "x"}, "licence": "x", "location": "data",
        "dictionary": {"path": "schemas"}, "disclosure_k": k, "reference_date": "2025-01-01",
        "tables": {"people": {"roles": {"person_id": "pid", "sex": "sex", "birth_year": "birth_year",
                                        "event_date": ["visit"]}}},
    }))
    source = load_source(folder / "source.yaml")
    with duckdb.connect(str(folder / "w.duckdb")) as conn:
        for table in source.tables:
            load_table(conn, source.declaration, table, folder / "staging")
        internal = profile(conn, source, k).rows
        internal["quality_results"] = []
        for table, check, kind, kwargs, category in CHECKS:
            sql = compile_check(kind, kwargs)
            query = f"SELECT {sql['evaluated']}, {sql['failing']} FROM {{batch}}".format(batch=f"p.{table}")
            evaluated, failing = conn.execute(query).fetchone()
            internal["quality_results"].append({
                "source_id": "p", "table_name": table, "variable": kwargs["column"], "check_id": check,
                "expectation": kind, "category": category, "threshold_pct": 0.0, "severity": "warning",
                "evaluated_rows": evaluated, "failing_rows": failing, "status": "failed" if failing else "passed",
                "reason": None, "run_at": None,
                "failing_pct": round(100.0 * failing / evaluated, 2) if evaluated else None})
    return internal, public_rows(internal, {"p": k})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(people=people_strategy, visits=visits_strategy, k=st.sampled_from([3, 5, 11]))
def test_no_count_below_k_and_nothing_recovered(tmp_path_factory: pytest.TempPathFactory, people: list[tuple],
                                               visits: list[tuple], k: int) -> None:
    internal, public = catalogue(tmp_path_factory.mktemp("source"), people, visits, k)
    for table, columns in COUNT_COLUMNS.items():
        for row in public.get(table, []):
            for column in columns:
                value = row[column]
                assert value is None or value == 0 or value >= k, (table, column, row)
    for row in public["value_frequencies"]:  # no rare value is named
        if row["value"] not in (None, OTHER):
            exact = next(r for r in internal["value_frequencies"] if (r["table_name"], r["variable"], r["value"])
                         == (row["table_name"], row["variable"], row["value"]))
            assert exact["frequency"] >= k
    assert leaks(public, {"p": k}) == []


def test_values_seen_k_times_stay_listed(tmp_path) -> None:
    """The issue's sex variable: 2 invalid codes must not push "men" into (other)."""
    people = [(i, "1" if i < 60 else "2" if i < 118 else "9", 1980, None, 1, "A01") for i in range(120)]
    internal, public = catalogue(tmp_path, people, [], DEFAULT_K)
    sex = {r["value"]: r["frequency"] for r in public["value_frequencies"] if r["variable"] == "sex"}
    assert set(sex) == {"1", "2", OTHER, None}
    assert sex[OTHER] is None and sex[None] == 0     # 2 in (other): hidden, and one listed count with it
    assert [sex["1"], sex["2"]].count(None) == 1
    assert leaks(public, {"p": DEFAULT_K}) == []


def cell_by_cell(internal: dict, k: int) -> dict:
    """The naive rule, for the attacker to beat: every count in 1..k-1 hidden, nothing else."""
    public = {}
    for table, rows in internal.items():
        if table == "nomenclatures":  # code lists (an Arrow table): reference data, no counts
            public[table] = rows
            continue
        counts = COUNT_COLUMNS.get(table, [])
        public[table] = [{**r, **{c: None if r.get(c) is not None and 0 < r[c] < k else r.get(c) for c in counts}}
                         for r in rows]
    return public


def test_the_attacker_beats_cell_by_cell_suppression(tmp_path) -> None:
    """Each leak the disclosure issue named, recovered from a naive catalogue of the same source."""
    people = [(i, "1" if i % 2 else "2", 1980, None, 10 if i < 3 else 2000, "A01" if i < 97 else "")
              for i in range(100)]
    internal, public = catalogue(tmp_path, people, [(i, 5) for i in range(7)], DEFAULT_K)
    found = dict(leaks(cell_by_cell(internal, DEFAULT_K), {"p": DEFAULT_K}))
    assert found[("missing", "p", "people", "code")] == 3            # rows - count, and rows - listed - other
    assert found[("passing", "p", "people", "amount_range")] == 3     # evaluated - failing
    assert found[("rows", "p", "visits")] == 7                        # a hidden table size, from its variables
    assert found[("evaluated", "p", "visits", "cost_not_null")] == 7  # ... and from its checks
    assert leaks(public, {"p": DEFAULT_K}) == []


def test_no_mean_that_weighs_hidden_counts(tmp_path) -> None:
    """Amounts 1 (50 rows) and 2 (30 rows), 5 missing: the missing count hides the count, which hides
    one listed frequency; with the mean published, count = 50 + x and mean * count = 50 + 2x give x."""
    people = [(i, "1", 1980, None, 1 if i < 50 else 2 if i < 80 else None, "A01") for i in range(85)]
    internal, public = catalogue(tmp_path, people, [], DEFAULT_K)
    exact = next(v for v in internal["variables"] if v["variable"] == "amount")
    assert round(50 * (1 - exact["mean"]) / (exact["mean"] - 2)) == 30  # the attack, had the mean been published
    amount = next(v for v in public["variables"] if v["variable"] == "amount")
    listed = {r["value"]: r["frequency"] for r in public["value_frequencies"] if r["variable"] == "amount"}
    assert amount["count"] is None and None in (listed["1"], listed["2"]) and listed[OTHER] == 0
    assert amount["mean"] is None and amount["std"] is None
    birth = next(v for v in public["variables"] if v["variable"] == "birth_year")
    assert birth["mean"] == 1980.0  # nothing hidden there: the mean stays


def test_the_attacker_finds_ranks_and_key_distincts(demo_run) -> None:
    """Two side channels of the demo's catalogue (issue 25): a hidden listed count ranked between two published
    ones bounds it, and through the sums the missing values of its variable; rows minus a key column's distinct
    values bound a composite key's hidden duplicate rows. Published as the catalogue publishes, nothing is found;
    published as before the fix (listed values ranked by their exact counts, key columns' exact distinct values),
    the attacker finds both."""
    from hdh_pipeline.engines.duckdb.warehouse import read_connection
    from hdh_pipeline.profile.store import load_profiles

    root, _ = demo_run
    with read_connection(root / "out" / "warehouse.duckdb") as conn:
        internal = load_profiles(conn, ["demo"])
    k_of = {"demo": DEFAULT_K}
    public = public_rows(internal, k_of)
    assert leaks(public, k_of) == []

    exact = {(r["table_name"], r["variable"], r["value"]): r["frequency"] for r in internal["value_frequencies"]}
    ranked = []
    for table, variable in {(r["table_name"], r["variable"]) for r in public["value_frequencies"]}:
        rows = sorted((r for r in public["value_frequencies"] if (r["table_name"], r["variable"]) == (table, variable)),
                      key=lambda r: r["rank"])
        listed = sorted((r for r in rows if r["value"] not in (None, OTHER)),
                        key=lambda r: (-exact[(table, variable, r["value"])], r["value"]))
        rest = [r for r in rows if r["value"] in (None, OTHER)]
        ranked += [r | {"rank": rank} for rank, r in enumerate([*listed, *rest], start=1)]
    found = {cell for cell, _ in leaks(public | {"value_frequencies": ranked}, k_of)}
    assert ("missing", "demo", "T_MCOaaB", "DGN_PAL") in found

    distinct = {(v["table_name"], v["variable"]): v["distinct_count"] for v in internal["variables"]}
    keys = {(t["table_name"], c) for t in public["tables"] for c in (t["primary_key"] or "").split(", ")}
    variables = [v | {"distinct_count": distinct[(v["table_name"], v["variable"])]}
                 if (v["table_name"], v["variable"]) in keys else v for v in public["variables"]]
    found = {cell for cell, _ in leaks(public | {"variables": variables}, k_of)}
    assert ("duplicates", "demo", "IR_BEN_R") in found
