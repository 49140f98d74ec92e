"""True (defect-free) rows of the four tables, one chunk of beneficiaries at a time.

Everything is vectorised with numpy; a chunk depends only on the seed and its index,
so the output is the same whatever else runs. Dates are numpy `datetime64[D]`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hdh_pipeline.generator import reference as ref

ID_MULTIPLIER = 128_473_910_337  # coprime with 10**16, and index x it fits in uint64 below 10**8 rows
CARE_CODES = np.array(list(ref.CARE_NATURES))
CARE_SHARES = np.array([v[1] for v in ref.CARE_NATURES.values()]) / sum(v[1] for v in ref.CARE_NATURES.values())
CARE_MEDIANS = np.array([v[2] for v in ref.CARE_NATURES.values()])
SPECIALIST_CODES = np.array([c for c in ref.SPECIALITIES if c != 1])
DIAGNOSES = np.array([c for c in ref.ICD10 if c != "O80"])
DEPARTMENT_CODES = np.array(list(ref.DEPARTMENTS))
DEATH_PLACE_CODES = np.array(list(ref.DEATH_PLACES))
DEATH_PLACE_LABELS = np.array(list(ref.DEATH_PLACES.values()))
ESTABLISHMENTS = np.random.default_rng(0).integers(10_000_000, 990_000_000, 300)  # FINESS-like numbers


@dataclass(frozen=True)
class Period:
    """The three calendar years the extract covers, ending on the reference date."""

    reference_year: int

    @property
    def start(self) -> np.datetime64:
        return np.datetime64(f"{self.reference_year - 2}-01-01")

    @property
    def end(self) -> np.datetime64:
        return np.datetime64(f"{self.reference_year}-12-31")


def pseudonyms(index: np.ndarray, prefix: str = "P") -> np.ndarray:
    """17-character pseudonyms, distinct for distinct indexes below 10**8."""
    digits = ((index.astype(np.uint64) + np.uint64(1)) * np.uint64(ID_MULTIPLIER)) % np.uint64(10**16)
    return np.char.add(prefix, np.char.zfill(digits.astype(str), 16))


def _uniform_dates(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    span = (high - low).astype(np.int64) + 1
    return low + (rng.random(len(low)) * span).astype(np.int64).astype("timedelta64[D]")


def _seasonal_dates(rng: np.random.Generator, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Uniform dates between low and high, thinned by the monthly admission weights."""
    dates = _uniform_dates(rng, low, high)
    pending = np.ones(len(dates), dtype=bool)
    accept = ref.ADMISSION_MONTH_WEIGHT / ref.ADMISSION_MONTH_WEIGHT.max()
    for _ in range(50):
        months = dates.astype("datetime64[M]").astype(int) % 12
        pending &= rng.random(len(dates)) >= accept[months]
        if not pending.any():
            break
        dates[pending] = _uniform_dates(rng, low[pending], high[pending])
    return dates


@dataclass
class Beneficiaries:
    index: np.ndarray       # global row number
    ids: np.ndarray
    birth_year: np.ndarray
    birth_month: np.ndarray
    sex: np.ndarray
    department: np.ndarray
    death_date: np.ndarray  # NaT when alive at the reference date
    group: np.ndarray       # 5-year age group at the reference date

    @property
    def birth_month_index(self) -> np.ndarray:
        return (self.birth_year - 1970) * 12 + self.birth_month - 1  # as months since epoch

    def window(self, period: Period) -> tuple[np.ndarray, np.ndarray]:
        """First and last day each person can have care in the period."""
        born = self.birth_month_index.astype("datetime64[M]").astype("datetime64[D]")
        start = np.maximum(born, period.start)
        end = np.where(np.isnat(self.death_date), period.end, self.death_date)
        return start, np.maximum(start, end)


def beneficiaries(rng: np.random.Generator, first: int, count: int, period: Period) -> Beneficiaries:
    group = rng.choice(len(ref.AGE_GROUP_SHARE), count, p=ref.AGE_GROUP_SHARE)
    age = np.minimum(5 * group + rng.integers(0, 5, count), ref.MAX_NATURAL_AGE)
    birth_year = period.reference_year - age
    birth_month = rng.integers(1, 13, count)
    sex = np.where(rng.random(count) < ref.MALE_SHARE_BY_GROUP[group], 1, 2)
    dies = rng.random(count) < 1 - (1 - ref.annual_death_probability(age)) ** 3
    people = Beneficiaries(
        index=np.arange(first, first + count),
        ids=pseudonyms(np.arange(first, first + count)),
        birth_year=birth_year, birth_month=birth_month, sex=sex,
        department=rng.choice(DEPARTMENT_CODES, count),
        death_date=np.full(count, np.datetime64("NaT"), dtype="datetime64[D]"),
        group=group,
    )
    start, end = people.window(period)
    death = _uniform_dates(rng, start, end)
    people.death_date = np.where(dies, death, np.datetime64("NaT"))
    return people


def _events_per_person(rng: np.random.Generator, people: Beneficiaries, period: Period,
                       per_year: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    start, end = people.window(period)
    years = ((end - start).astype(np.int64) + 1) / 365.25
    counts = rng.poisson(per_year[people.group] * years)
    owner = np.repeat(np.arange(len(counts)), counts)
    return owner, start[owner], end[owner]


def claims(rng: np.random.Generator, people: Beneficiaries, period: Period) -> dict[str, np.ndarray]:
    owner, low, high = _events_per_person(rng, people, period, ref.CLAIMS_PER_YEAR)
    n = len(owner)
    start = _uniform_dates(rng, low, high)
    lasting = rng.random(n) < 0.15
    end = np.minimum(start + np.where(lasting, rng.integers(1, 31, n), 0).astype("timedelta64[D]"), high)
    nature_at = rng.choice(len(CARE_CODES), n, p=CARE_SHARES)
    paid = np.round(CARE_MEDIANS[nature_at] * rng.lognormal(0.0, 0.6, n), 2)
    rate = rng.choice(np.array([0.6, 0.7, 1.0]), n, p=[0.3, 0.55, 0.15])
    general = np.isin(CARE_CODES[nature_at], [1111, 1211]) | (rng.random(n) < 0.5)
    return {
        "BEN_NIR_PSA": people.ids[owner],
        "EXE_SOI_DTD": start,
        "EXE_SOI_DTF": end,
        "PRS_NAT_REF": CARE_CODES[nature_at],
        "PSE_SPE_COD": np.where(general, 1, rng.choice(SPECIALIST_CODES, n)),
        "PRS_PAI_MNT": paid,
        "BSE_REM_MNT": np.round(paid * rate, 2),
    }


def stays(rng: np.random.Generator, people: Beneficiaries, period: Period, first_stay: int) -> dict[str, np.ndarray]:
    owner, low, high = _events_per_person(rng, people, period, ref.STAYS_PER_YEAR)
    n = len(owner)
    admission = _seasonal_dates(rng, low, high)
    same_day = rng.random(n) < ref.SAME_DAY_STAY_SHARE
    length = np.where(same_day, 0, np.maximum(1, np.round(rng.lognormal(np.log(4.0), 0.8, n)))).astype(np.int64)
    discharge = np.minimum(admission + length.astype("timedelta64[D]"), high)
    admitted_month = admission.astype("datetime64[M]").astype(int)
    age = (admitted_month - people.birth_month_index[owner]) // 12
    women_of_age = (people.sex[owner] == 2) & (age >= 18) & (age <= 45)
    diagnosis = np.where(women_of_age & (rng.random(n) < 0.2), "O80", rng.choice(DIAGNOSES, n))
    discharge_month = discharge.astype("datetime64[M]").astype(int)
    return {
        "ETA_NUM": rng.choice(ESTABLISHMENTS, n),
        "RSA_NUM": np.arange(first_stay, first_stay + n),
        "NIR_ANO_17": people.ids[owner],
        "EXE_SOI_DTD": admission,
        "EXE_SOI_DTF": discharge,
        "SEJ_NBJ": (discharge - admission).astype(np.int64),
        "AGE_ANN": age,
        "COD_SEX": people.sex[owner].astype(str),
        "DGN_PAL": diagnosis,
        "GRG_GHM": rng.choice(np.array(ref.GHM), n),
        "SOR_MOI": np.char.zfill((discharge_month % 12 + 1).astype(str), 2),
        "SOR_ANN": discharge_month // 12 + 1970,
    }


def death_causes(rng: np.random.Generator, people: Beneficiaries) -> dict[str, np.ndarray]:
    dead = ~np.isnat(people.death_date)
    n = int(dead.sum())
    place = rng.choice(len(DEATH_PLACE_CODES), n, p=[0.24, 0.53, 0.13, 0.02, 0.08])
    return {
        "BEN_IDT_ANO": people.ids[dead],
        "BEN_DCD_DTE": people.death_date[dead],
        "BEN_SEX_COD": people.sex[dead],
        "DCD_CIM_COD": rng.choice(np.array(ref.DEATH_CAUSES), n),
        "DCD_DPT_COD": people.department[dead],
        "DCD_LIE_COD": DEATH_PLACE_CODES[place],
        "DCD_LIE_LIB": DEATH_PLACE_LABELS[place],
    }


def beneficiary_rows(people: Beneficiaries) -> dict[str, np.ndarray]:
    """IR_BEN_R's columns. Defects are injected into copies, so the other tables keep the true values,
    except the ids: a duplicated id is shared with the other tables, so their keys still match."""
    return {
        "BEN_NIR_PSA": people.ids,
        "BEN_RNG_GEM": np.ones(len(people.ids), dtype=np.int64),
        "BEN_NAI_ANN": people.birth_year.copy(),
        "BEN_NAI_MOI": np.char.zfill(people.birth_month.astype(str), 2),
        "BEN_SEX_COD": people.sex.copy(),
        "BEN_DCD_DTE": people.death_date.copy(),
        "BEN_RES_DPT": people.department.copy(),
    }
