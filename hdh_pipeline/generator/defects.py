"""Defects injected at exact, recorded counts.

A defect slot is (table, column, kind) with a rate. Over a table of N rows a slot injects
exactly round(rate x N) defects, spread over the chunks by cumulative rounding. Within a
chunk, every defective row carries one defect only, so no defect hides another, and the
first row of each chunk carries none (duplicate keys copy it).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hdh_pipeline.generator.population import Period, pseudonyms

LINE_KINDS = {"wrong_field_count", "unparseable_number", "latin1"}  # CSV only: the line does not parse
DEFAULT_RATES = {"missing": 0.01, "wrong_field_count": 0.001, "unparseable_number": 0.001, "latin1": 0.001}
OTHER_RATE = 0.002


@dataclass(frozen=True)
class Slot:
    table: str
    column: str
    kind: str
    invalid_code: object = None  # for not_in_nomenclature


SLOTS = [
    Slot("IR_BEN_R", "BEN_NIR_PSA", "duplicate_key"),
    Slot("IR_BEN_R", "BEN_NAI_ANN", "missing"),
    Slot("IR_BEN_R", "BEN_NAI_ANN", "age_over_120"),
    Slot("IR_BEN_R", "BEN_NAI_ANN", "birth_after_reference"),
    Slot("IR_BEN_R", "BEN_SEX_COD", "missing"),
    Slot("IR_BEN_R", "BEN_SEX_COD", "not_in_nomenclature", 7),
    Slot("IR_BEN_R", "BEN_DCD_DTE", "death_before_birth"),
    Slot("IR_BEN_R", "BEN_RES_DPT", "missing"),
    Slot("IR_BEN_R", "BEN_RES_DPT", "not_in_nomenclature", "9Z9"),
    Slot("ER_PRS_F", "BEN_NIR_PSA", "orphan_key"),
    Slot("ER_PRS_F", "EXE_SOI_DTD", "after_reference_date"),
    Slot("ER_PRS_F", "EXE_SOI_DTF", "missing"),
    Slot("ER_PRS_F", "EXE_SOI_DTF", "end_before_start"),
    Slot("ER_PRS_F", "PRS_NAT_REF", "missing"),
    Slot("ER_PRS_F", "PRS_NAT_REF", "not_in_nomenclature", 9999),
    Slot("ER_PRS_F", "PSE_SPE_COD", "missing"),
    Slot("ER_PRS_F", "PSE_SPE_COD", "not_in_nomenclature", 99),
    Slot("ER_PRS_F", "PRS_PAI_MNT", "negative_amount"),
    Slot("ER_PRS_F", "PRS_PAI_MNT", "unparseable_number"),
    Slot("ER_PRS_F", "*", "wrong_field_count"),
    Slot("T_MCOaaB", "RSA_NUM", "duplicate_key"),
    Slot("T_MCOaaB", "NIR_ANO_17", "orphan_key"),
    Slot("T_MCOaaB", "EXE_SOI_DTF", "discharge_before_admission"),
    Slot("T_MCOaaB", "AGE_ANN", "age_over_120"),
    Slot("T_MCOaaB", "DGN_PAL", "missing"),
    Slot("T_MCOaaB", "DGN_PAL", "not_in_nomenclature", "ZZZ"),
    Slot("T_MCOaaB", "SEJ_NBJ", "unparseable_number"),
    Slot("T_MCOaaB", "*", "wrong_field_count"),
    Slot("KI_CCI_R", "BEN_IDT_ANO", "orphan_key"),
    Slot("KI_CCI_R", "DCD_CIM_COD", "missing"),
    Slot("KI_CCI_R", "DCD_CIM_COD", "not_in_nomenclature", "ZZZ"),
    Slot("KI_CCI_R", "DCD_LIE_LIB", "latin1"),
    Slot("KI_CCI_R", "*", "wrong_field_count"),
]
KEY_COLUMNS = {"IR_BEN_R": ["BEN_NIR_PSA", "BEN_RNG_GEM"], "T_MCOaaB": ["ETA_NUM", "RSA_NUM"]}


def default_rate(kind: str) -> float:
    return DEFAULT_RATES.get(kind, OTHER_RATE)


def rates_for(overrides: dict, scale: float | None, csv: bool) -> dict[Slot, float]:
    """Each slot's rate: `scale` for all (or the defaults), then `overrides[table][column][kind]`."""
    known = {(s.table, s.column, s.kind) for s in SLOTS}
    for table, columns in overrides.items():
        for column, kinds in columns.items():
            for kind in kinds:
                if (table, column, kind) not in known:
                    raise ValueError(f"rates: {table}.{column} has no defect {kind!r}; "
                                     f"known: {sorted(f'{t}.{c}.{k}' for t, c, k in known)}")
    rates = {}
    for slot in SLOTS:
        rate = overrides.get(slot.table, {}).get(slot.column, {}).get(
            slot.kind, default_rate(slot.kind) if scale is None else scale)
        rates[slot] = 0.0 if slot.kind in LINE_KINDS and not csv else float(rate)
    for table in {s.table for s in SLOTS}:
        total = sum(r for s, r in rates.items() if s.table == table)
        if total >= 0.5:
            raise ValueError(f"rates: the defect rates of {table} add up to {total:.2f}; keep them under 0.5")
    return rates


@dataclass
class Counter:
    """Cumulative rounding: after N rows a slot has injected exactly round(rate x N)."""

    rate: float
    rows: int = 0
    injected: int = 0

    def take(self, rows: int) -> int:
        self.rows += rows
        due = math.floor(self.rate * self.rows + 0.5) - self.injected
        self.injected += due
        return due


@dataclass
class Chunk:
    """One table's rows for one chunk, with null masks and the rows whose CSV line is broken."""

    columns: dict[str, np.ndarray]
    nulls: dict[str, np.ndarray] = field(default_factory=dict)
    line_defects: dict[int, Slot] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values())))

    def null_mask(self, column: str) -> np.ndarray:
        values = self.columns[column]
        natural = np.isnat(values) if values.dtype.kind == "M" else np.zeros(len(values), dtype=bool)
        return natural | self.nulls.get(column, False)


def _day_in_year(rng: np.random.Generator, year: np.ndarray) -> np.ndarray:
    start = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    return start + rng.integers(0, 365, len(year)).astype("timedelta64[D]")


def _apply(slot: Slot, chunk: Chunk, rows: np.ndarray, rng: np.random.Generator, period: Period) -> None:
    c, n, kind, column = chunk.columns, len(rows), slot.kind, slot.column

    def days(low: int, high: int) -> np.ndarray:
        return rng.integers(low, high, n).astype("timedelta64[D]")

    if kind == "missing":
        chunk.nulls.setdefault(column, np.zeros(len(chunk), dtype=bool))[rows] = True
    elif kind == "not_in_nomenclature":
        c[column][rows] = slot.invalid_code
    elif kind == "age_over_120":
        age = rng.integers(121, 131, n)
        c[column][rows] = period.reference_year - age if column == "BEN_NAI_ANN" else age
    elif kind == "birth_after_reference":
        c[column][rows] = period.reference_year + rng.integers(1, 6, n)
    elif kind == "death_before_birth":
        c[column][rows] = _day_in_year(rng, c["BEN_NAI_ANN"][rows] - rng.integers(1, 11, n))
    elif kind == "orphan_key":
        c[column][rows] = pseudonyms(rng.integers(0, 10**8 - 1, n), prefix="X")
    elif kind in ("end_before_start", "discharge_before_admission"):
        c["EXE_SOI_DTF"][rows] = c["EXE_SOI_DTD"][rows] - days(1, 31)
    elif kind == "negative_amount":
        c[column][rows] = -c[column][rows]
    elif kind == "duplicate_key":
        for key in KEY_COLUMNS[slot.table]:
            c[key][rows] = c[key][0]
    elif kind == "after_reference_date":  # the whole care episode moves past the reference date
        shift = (period.end - c["EXE_SOI_DTD"][rows]) + days(1, 366)
        c["EXE_SOI_DTD"][rows] += shift
        c["EXE_SOI_DTF"][rows] += shift
    elif kind in LINE_KINDS:
        chunk.line_defects.update((int(r), slot) for r in rows)
    else:
        raise ValueError(f"unknown defect kind {kind!r}")


def inject(table: str, chunk: Chunk, counters: dict[Slot, Counter], rng: np.random.Generator,
           period: Period) -> dict[Slot, int]:
    """Inject this chunk's share of every slot of `table`; return how many of each."""
    slots = [s for s in SLOTS if s.table == table]
    due = {s: counters[s].take(len(chunk)) for s in slots}
    total = sum(due.values())
    if total == 0:
        return due
    if total > len(chunk) - 1:
        raise ValueError(f"{table}: {total} defects do not fit in a chunk of {len(chunk)} rows; "
                         "lower the rates or raise the chunk size")
    rows = rng.choice(np.arange(1, len(chunk)), total, replace=False)
    start = 0
    for slot in slots:
        if due[slot]:
            _apply(slot, chunk, np.sort(rows[start:start + due[slot]]), rng, period)
            start += due[slot]
    return due
