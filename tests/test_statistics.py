"""Table statistics against an independent computation with numpy and pandas, in both scan forms."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from hdh_pipeline.engines.duckdb import statistics
from hdh_pipeline.engines.duckdb.statistics import profile_table

K = 11


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 5000
    amount = np.round(rng.normal(50, 30, n), 2)
    amount[rng.choice(n, 40, replace=False)] = 0
    code = rng.choice([1, 2, 3, 9], n, p=[0.5, 0.3, 0.15, 0.05]).astype(float)
    code[rng.choice(n, 70, replace=False)] = np.nan
    words = np.array(["alpha", "be", "gamma", "delta-epsilon", "z"])
    text = words[rng.integers(0, len(words), n)].astype(object)
    text[rng.choice(n, 15, replace=False)] = None
    day = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")
    return pd.DataFrame({"amount": amount, "code": pd.array(code, dtype="Int64"), "text": text,
                         "day": day.date, "flag": rng.random(n) < 0.3})


def _profile(frame: pd.DataFrame, long_form_max_rows: int) -> dict:
    with duckdb.connect() as conn, pytest.MonkeyPatch.context() as patch:
        patch.setattr(statistics, "LONG_FORM_MAX_ROWS", long_form_max_rows)
        conn.execute("CREATE SCHEMA s")
        conn.execute("CREATE TABLE s.t AS SELECT amount, CAST(code AS BIGINT) AS code, text, "
                     "CAST(day AS DATE) AS day, flag FROM frame")
        rows, found = profile_table(conn, "s", "t", K)
    assert rows == len(frame)
    return {p.name: p for p in found}


@pytest.fixture(scope="module", params=["long", "wide"])
def profiles(frame: pd.DataFrame, request: pytest.FixtureRequest) -> dict:
    """The table unpivoted (short tables) or read with every column's aggregates in one SELECT (long ones)."""
    return _profile(frame, len(frame) if request.param == "long" else 0)


def test_both_forms_agree(frame: pd.DataFrame) -> None:
    long, wide = _profile(frame, len(frame)), _profile(frame, 0)
    for name in long:
        assert vars(long[name]) == vars(wide[name])


def test_numeric(frame: pd.DataFrame, profiles: dict) -> None:
    p, values = profiles["amount"], frame["amount"]
    assert (p.non_null, p.missing) == (len(values), 0)
    assert p.min == values.min() and p.max == values.max()
    assert p.mean == pytest.approx(values.mean()) and p.std == pytest.approx(values.std(ddof=1))
    assert p.zeros == (values == 0).sum() and p.negatives == (values < 0).sum()
    ordered = np.sort(values)
    assert p.smallest[-1] == ordered[K - 1] and p.largest[-1] == ordered[-K]
    for q, value in p.quantiles.items():  # exact up to QUANTILE_SAMPLE values: the lower of the two neighbours
        assert value == np.quantile(values, q, method="lower")
    inner = values[(values >= ordered[K - 1]) & (values <= ordered[-K])]
    assert [b.count for b in p.bins][0] == (values < ordered[K - 1]).sum()
    assert sum(b.count for b in p.bins[1:-1]) == len(inner)
    assert sum(b.count for b in p.bins) == len(values)


def test_codes_with_nulls(frame: pd.DataFrame, profiles: dict) -> None:
    p, values = profiles["code"], frame["code"]
    assert p.missing == values.isna().sum() == 70
    assert p.frequencies == {int(v): int(n) for v, n in values.value_counts().items()}
    assert p.distinct == 4 and p.distinct_exact


def test_text(frame: pd.DataFrame, profiles: dict) -> None:
    p, values = profiles["text"], frame["text"].dropna()
    assert p.missing == 15
    lengths = values.str.len()
    assert (p.min_length, p.max_length) == (lengths.min(), lengths.max())
    assert p.mean_length == pytest.approx(lengths.mean())
    assert p.frequencies == values.value_counts().to_dict()


def test_dates(frame: pd.DataFrame, profiles: dict) -> None:
    """Whole-year bins from the year of the k-th smallest date to that of the k-th largest, open bins beyond."""
    p, values = profiles["day"], pd.Series(frame["day"])
    assert p.min == values.min() and p.max == values.max()
    ordered = sorted(values)
    assert p.smallest[-1] == ordered[K - 1] and p.largest[-1] == ordered[-K]
    first, last = ordered[K - 1].year, ordered[-K].year
    years = pd.Series([d.year for d in values])
    expected = [(years < first).sum()] + [(years == y).sum() for y in range(first, last + 1)] + [(years > last).sum()]
    assert [b.count for b in p.bins] == expected
    assert [b.label for b in p.bins[1:-1]] == [str(y) for y in range(first, last + 1)]
    assert p.quantiles[0.5] == sorted(values)[(len(values) - 1) // 2]  # a date, exact


def test_boolean(frame: pd.DataFrame, profiles: dict) -> None:
    assert profiles["flag"].true_count == frame["flag"].sum()
    assert profiles["flag"].frequencies == {True: frame["flag"].sum(), False: (~frame["flag"]).sum()}


@pytest.mark.parametrize("long_form_max_rows", [10**6, 0])
def test_distinct_counts_of_near_unique_columns_are_exact(long_form_max_rows: int) -> None:
    """HyperLogLog misses by a few on small identifier-like columns: they are recounted exactly."""
    with duckdb.connect() as conn, pytest.MonkeyPatch.context() as patch:
        patch.setattr(statistics, "LONG_FORM_MAX_ROWS", long_form_max_rows)
        conn.execute("CREATE SCHEMA s")
        conn.execute("CREATE TABLE s.t AS SELECT 'P' || lpad(CAST(i AS VARCHAR), 5, '0') AS pid, i AS n, "
                     "CASE WHEN i = 7 THEN 'Q8' ELSE 'Q' || CAST(i AS VARCHAR) END AS almost "
                     "FROM range(1, 101) r(i) UNION ALL SELECT NULL, NULL, NULL")
        _, found = profile_table(conn, "s", "t", K, {"pid"})
    p = {v.name: v for v in found}
    assert (p["pid"].distinct, p["pid"].distinct_exact) == (100, True)
    assert (p["n"].distinct, p["n"].distinct_exact) == (100, True)
    assert (p["almost"].distinct, p["almost"].distinct_exact) == (99, True)  # one value twice: not unique
