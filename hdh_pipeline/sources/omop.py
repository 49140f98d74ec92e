"""The OMOP Common Data Model's own specification as a source's dictionary (`dictionary: {omop: "5.4"}`): every
table and field description, type, required field, primary and foreign key, from the CDM's published CSVs (OHDSI
CommonDataModel, `inst/csv/`, Apache-2.0; carried in `omop_cdm/` with their licence).

Names follow the data: a CDM table is matched to the source's table of the same name whatever its case (`PERSON`
or `person`), and a foreign key names the source's table. `*_concept_id` fields are codes: text, whose code list is
the source's CONCEPT table (its `concept_name` labels their values), not numbers to average."""
from __future__ import annotations

import csv
import functools
import re
from pathlib import Path

from hdh_pipeline.sources.dictionary import ColumnSpec, ForeignKey, NomenclatureRef, TableSpec

SPECIFICATION = Path(__file__).parent / "omop_cdm"
VERSIONS = ("5.3", "5.4")
CONCEPT = "concept"


@functools.cache
def _read(version: str, level: str) -> tuple[dict, ...]:
    path = SPECIFICATION / f"OMOP_CDMv{version}_{level}_Level.csv"
    with open(path, encoding="utf-8", newline="") as handle:
        return tuple(csv.DictReader(handle))


def _text(value: str | None) -> str:
    return "" if value in (None, "NA") else value.strip()


def _type(datatype: str) -> tuple[str, int | None]:
    """A CDM datatype as a Table Schema type and length: `varchar(50)` -> (`string`, 50)."""
    datatype = datatype.strip().lower()
    length = re.search(r"\((\d+)\)", datatype)
    kind = {"integer": "integer", "bigint": "integer", "float": "number", "date": "date",
            "datetime": "datetime"}.get(datatype.split("(")[0], "string")
    return kind, int(length.group(1)) if length else None


def omop_dictionary(version: str, names: list[str]) -> dict[str, TableSpec]:
    """The CDM's description of the source's tables (`names`, as the data names them) -> their specs."""
    ours = {name.lower(): name for name in names}

    def named(table: str) -> str:  # a CDM table as the source names it, or in the source's case
        return ours.get(table.lower()) or (table.upper() if any(n.isupper() for n in names) else table.lower())

    fields: dict[str, list[dict]] = {}
    for row in _read(version, "Field"):
        fields.setdefault(row["cdmTableName"].lower(), []).append(row)
    specs = {}
    for row in _read(version, "Table"):
        table = row["cdmTableName"].lower()
        if table not in ours:
            continue
        columns, keys, foreign = [], [], []
        for field in fields.get(table, []):
            name = field["cdmFieldName"].strip().strip('"').lower()
            kind, length = _type(field["cdmDatatype"])
            code = name.endswith("_concept_id")
            referenced = _text(field["fkTableName"]).lower()
            columns.append(ColumnSpec(
                name=name, type="string" if code else kind, length=length,
                description=_text(field["userGuidance"]),
                constraints={"required": True} if field["isRequired"].strip().lower() == "yes" else {},
                nomenclature=NomenclatureRef(named(CONCEPT), "concept_id") if code else None,
                size=str(length or "")))
            if field["isPrimaryKey"].strip().lower() == "yes":
                keys.append(name)
            if field["isForeignKey"].strip().lower() == "yes" and referenced and not code:
                foreign.append(ForeignKey((name,), named(referenced), (_text(field["fkFieldName"]).lower(),)))
        specs[ours[table]] = TableSpec(
            name=ours[table], file=SPECIFICATION / f"OMOP_CDMv{version}_Table_Level.csv",
            description=_text(row["tableDescription"]), product=f"OMOP {_text(row['schema']) or 'CDM'}",
            columns=tuple(columns), primary_key=tuple(keys), foreign_keys=tuple(foreign))
    return specs
