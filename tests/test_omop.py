"""An OMOP CDM source documented by the CDM's own specification (carried in the package): descriptions, types,
keys, and concept ids as codes labelled from the source's CONCEPT table."""
from __future__ import annotations

from pathlib import Path

import pytest

from hdh_pipeline.engines.duckdb.warehouse import write_connection
from hdh_pipeline.sources.loader import DeclarationError
from hdh_pipeline.sources.omop import omop_dictionary
from tests.conftest import profile

PEOPLE = 40


def test_the_cdm_specification_describes_the_tables_as_the_data_names_them() -> None:
    specs = omop_dictionary("5.4", ["PERSON", "CONCEPT", "VISIT_OCCURRENCE", "NOTE_NLP"])
    assert set(specs) == {"PERSON", "CONCEPT", "VISIT_OCCURRENCE", "NOTE_NLP"}
    person = specs["PERSON"]
    assert person.primary_key == ("person_id",) and person.product == "OMOP CDM"
    assert person.description.startswith("This table serves as the central identity management for all Persons")
    gender = person.column("gender_concept_id")
    assert gender.type == "string" and gender.nomenclature.table == "CONCEPT" and gender.constraints == {"required": True}
    assert person.column("year_of_birth").type == "integer" and person.column("birth_datetime").type == "datetime"
    assert person.column("person_source_value").length == 50
    visit = specs["VISIT_OCCURRENCE"]
    assert ("person_id",) in [fk.columns for fk in visit.foreign_keys]
    assert {fk.table for fk in visit.foreign_keys} >= {"PERSON", "PROVIDER", "CARE_SITE"}  # in the data's case
    assert specs["NOTE_NLP"].column("offset") is not None  # `"offset"` in the specification (a SQL keyword)
    assert specs["CONCEPT"].product == "OMOP VOCAB"
    assert len(omop_dictionary("5.3", ["person"])["person"].columns) == 18


def test_concept_ids_are_codes_named_by_the_sources_concepts(write_source, load, tmp_path: Path) -> None:
    person = "person_id,gender_concept_id,year_of_birth,race_concept_id\n" + "".join(
        f"{i},{8507 if i % 3 else 8532},{1950 + i},{8527 if i < 30 else 9999}\n" for i in range(PEOPLE))
    concept = ("concept_id,concept_name,domain_id,vocabulary_id,concept_class_id,standard_concept,concept_code,"
               "valid_start_date,valid_end_date,invalid_reason\n"
               "8507,MALE,Gender,Gender,Gender,S,M,1970-01-01,2099-12-31,\n"
               "8532,FEMALE,Gender,Gender,Gender,S,F,1970-01-01,2099-12-31,\n"
               "8527,White,Race,Race,Race,S,5,1970-01-01,2099-12-31,\n")
    source = write_source({"PERSON.csv": person, "CONCEPT.csv": concept}, dictionary={"omop": "5.4"})
    for table in ("PERSON", "CONCEPT"):
        load(source, table)
    with write_connection(tmp_path / "warehouse.duckdb") as conn:
        rows = profile(conn, source, 11).rows
    variables = {v["variable"]: v for v in rows["variables"] if v["table_name"] == "PERSON"}
    gender = variables["gender_concept_id"]
    assert gender["observed_type"] == "VARCHAR" and gender["mean"] is None and gender["nomenclature"] == "CONCEPT"
    assert variables["year_of_birth"]["observed_type"] == "BIGINT" and variables["year_of_birth"]["mean"] is not None
    labels = {(f["variable"], f["value"]): f["label"] for f in rows["value_frequencies"] if f["table_name"] == "PERSON"}
    assert labels[("gender_concept_id", "8507")] == "MALE" and labels[("gender_concept_id", "8532")] == "FEMALE"
    assert labels[("race_concept_id", "8527")] == "White" and labels[("race_concept_id", "9999")] is None
    race = next(r for r in rows["relations"] if r["table_name"] == "PERSON" and r["columns"] == "race_concept_id")
    assert (race["referenced_table"], race["checked_rows"], race["matched_rows"]) == ("CONCEPT", PEOPLE, 30)
    assert {t["table_name"]: t["primary_key"] for t in rows["tables"]} == {"PERSON": "person_id", "CONCEPT": "concept_id"}


def test_a_dictionary_is_table_schemas_or_a_cdm_version(write_source) -> None:
    with pytest.raises(DeclarationError, match="either `path`"):
        write_source({"PERSON.csv": "person_id\n1\n"}, dictionary={"omop": "5.4", "path": "schemas"})
    with pytest.raises(DeclarationError, match="omop"):
        write_source({"PERSON.csv": "person_id\n1\n"}, dictionary={"omop": "6.0"})
