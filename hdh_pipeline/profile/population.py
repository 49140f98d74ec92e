"""The database's population: individuals, sex and age from its population table (the first with person-id,
sex and birth or age roles), and the grid of individuals per age band and sex.

Each person counts once: as a man when all their sex codes are male codes, a woman when all are female codes,
else (both, another code, none) in `sex_other`, so men + women + other = individuals. Ages are at the reference
date (a person's highest age where an age role has several); ages outside AGE_MIN..AGE_MAX are implausible:
counted in `implausible_ages` (and the grid's `implausible` band), left out of the typical ages. The k-th
smallest and largest ages need 2k plausible ages (with fewer, they would cross)."""
from __future__ import annotations

import datetime as dt

from hdh_pipeline.engines.base import AGE_BANDS, BAND_YEARS, SEXES, Engine, PopulationQuery
from hdh_pipeline.sources.loader import Source

EMPTY = {"individuals": None, "population_table": None, "men": None, "women": None, "sex_other": None,
         "age_low": None, "age_median": None, "age_high": None, "implausible_ages": None}


def _query(engine: Engine, source: Source, reference: dt.date) -> PopulationQuery | None:
    loaded = engine.tables()
    codes = source.declaration.sex_codes
    for table in source.tables:
        roles = table.roles
        age = roles.age or roles.birth_year or roles.birth_date
        needed = {*roles.person_id, roles.sex, age}
        if roles.person_id and roles.sex and age and needed <= set(loaded.get(table.name, ())):
            return PopulationQuery(table.name, tuple(roles.person_id), roles.sex, tuple(codes.male),
                                   tuple(codes.female), roles.age, None if roles.age else roles.birth_year,
                                   None if roles.age or roles.birth_year else roles.birth_date, reference)
    return None


def population(engine: Engine, source: Source, reference: dt.date, k: int) -> tuple[dict, list[dict]]:
    """(the database row's population fields, the `population` rows)."""
    query = _query(engine, source, reference)
    if query is None:
        return EMPTY, []
    persons = engine.persons(query, k)
    bounded = persons.plausible >= 2 * k
    grid = [{"source_id": source.id, "band_order": order, "band": band,
             "age_low": order * BAND_YEARS if order < len(AGE_BANDS) else None,
             "sex": sex, "individuals": persons.grid.get((order, sex), 0)}
            for order, band in enumerate([*AGE_BANDS, "implausible", "unknown"]) for sex in SEXES]
    return {"individuals": persons.individuals, "population_table": query.table, "men": persons.by_sex["men"],
            "women": persons.by_sex["women"], "sex_other": persons.by_sex["other"],
            "implausible_ages": persons.implausible, "age_median": persons.age_median,
            "age_low": persons.age_low if bounded else None, "age_high": persons.age_high if bounded else None}, grid
