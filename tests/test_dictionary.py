"""Table Schema dictionaries, plain and SNDS flavour, and the DuckDB types they give."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hdh_pipeline.engines.plan import column_type
from hdh_pipeline.sources.dictionary import (
    ColumnSpec,
    DictionaryError,
    NomenclatureRef,
    read_dictionary,
    read_table_schema,
)
from tests.conftest import SHARED_DATA, needs_shared

SNDS_TABLE = {
    "name": "IR_BEN_R", "title": "Référentiel", "produit": "BENEFICIAIRE", "missingValues": [""],
    "history": {"dateCreated": "2006", "dateDeleted": "", "dateMissing": ["2011-01", "2011-02"]},
    "primaryKey": ["BEN_NIR_PSA", "BEN_RNG_GEM"],
    "foreignKeys": [{"fields": ["BEN_SEX_COD"], "reference": {"resource": "IR_SEX_V", "fields": ["SEX_COD"]},
                     "description": "Nomenclature"}],
    "fields": [
        {"name": "BEN_NIR_PSA", "type": "string", "length": "17", "nomenclature": "-", "regle_gestion": ""},
        {"name": "BEN_RNG_GEM", "type": "integer", "nomenclature": "IR_BER_V:BEN_RNG_GEM", "length": "4,0"},
        {"name": "BEN_SEX_COD", "type": "integer", "nomenclature": "IR_SEX_V", "description": "Sexe",
         "dateCreated": "2008", "dateDeleted": "2020", "dateMissing": [],
         "regle_gestion": "1 homme, 2 femme", "constraints": {"minimum": 0}},
    ],
}


def test_snds_flavour(tmp_path: Path) -> None:
    path = tmp_path / "IR_BEN_R.json"
    path.write_text(json.dumps(SNDS_TABLE))
    spec = read_table_schema(path)
    assert (spec.name, spec.title, spec.product, spec.primary_key) == (
        "IR_BEN_R", "Référentiel", "BENEFICIAIRE", ("BEN_NIR_PSA", "BEN_RNG_GEM"))
    pid, rank, sex = spec.columns
    assert pid.nomenclature is None and pid.length == 17
    assert rank.nomenclature == NomenclatureRef("IR_BER_V", "BEN_RNG_GEM") and rank.length == 4
    assert sex.nomenclature == NomenclatureRef("IR_SEX_V") and sex.management_rule == "1 homme, 2 femme"
    assert spec.foreign_keys[0].table == "IR_SEX_V" and spec.foreign_keys[0].referenced_columns == ("SEX_COD",)
    assert (spec.history.created, spec.history.missing) == ("2006", ("2011-01", "2011-02"))
    assert (sex.history.created, sex.history.deleted, pid.history.created) == ("2008", "2020", "")


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ("{not json", "not a readable JSON Table Schema"),
        ('{"name": "T"}', "needs a 'fields' list"),
        ('{"fields": [{"type": "string"}]}', "every field needs a 'name'"),
        ('{"fields": [{"name": "a"}], "primaryKey": "b"}', "primaryKey names 'b'"),
        ('{"fields": [{"name": "a"}], "foreignKeys": [{"fields": "a"}]}', "foreignKeys entry"),
    ],
)
def test_broken_schema_names_file(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "T.json"
    path.write_text(content)
    with pytest.raises(DictionaryError, match=says) as error:
        read_table_schema(path)
    assert str(path) in str(error.value)


def test_two_schemas_for_one_table(tmp_path: Path) -> None:
    for name in ("a.json", "b.json"):
        (tmp_path / name).write_text('{"name": "T", "fields": [{"name": "x"}]}')
    with pytest.raises(DictionaryError, match="already described by"):
        read_dictionary(sorted(tmp_path.glob("*.json")))


@pytest.mark.parametrize(
    ("declared", "fmt", "overrides", "stored", "read_as"),
    [
        ("string", "default", {}, "VARCHAR", "VARCHAR"),
        ("integer", "default", {}, "BIGINT", "BIGINT"),
        ("number", "default", {}, "DOUBLE", "DOUBLE"),
        ("boolean", "default", {}, "BOOLEAN", "BOOLEAN"),
        ("boolean", "default", {"boolean": "VARCHAR"}, "VARCHAR", "VARCHAR"),
        ("year", "default", {}, "INTEGER", "INTEGER"),
        ("yearmonth", "default", {}, "VARCHAR", "VARCHAR"),
        ("date", "default", {}, "DATE", "DATE"),
        ("date", "%d%m%Y", {}, "DATE", "VARCHAR"),
        ("date", "%m", {}, "SMALLINT", "SMALLINT"),
        ("datetime", "%d%b%Y:%H:%M:%S", {}, "TIMESTAMP", "VARCHAR"),
        ("datetime", "default", {}, "TIMESTAMP", "TIMESTAMP"),
        ("geopoint", "default", {}, "VARCHAR", "VARCHAR"),
    ],
)
def test_type_mapping(declared: str, fmt: str, overrides: dict, stored: str, read_as: str) -> None:
    mapped = column_type(ColumnSpec("c", type=declared, format=fmt), overrides)
    assert (mapped.stored, mapped.read_as) == (stored, read_as)


@needs_shared("synthetic-snds")
def test_whole_snds_dictionary_reads() -> None:
    files = sorted((SHARED_DATA / "synthetic-snds" / "schemas").rglob("*.json"))
    specs = read_dictionary(files)
    assert len(specs) == 191
    assert specs["IR_BEN_R"].column("BEN_SEX_COD").nomenclature.table == "IR_SEX_V"
    assert sum(len(s.columns) for s in specs.values()) == 4853
