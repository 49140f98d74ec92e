"""The generated source's own data dictionary (SNDS-flavoured Table Schemas), code lists and declaration."""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyreadstat
import yaml

from hdh_pipeline.generator import reference as ref


def _field(name: str, type_: str, description: str, length: int, nomenclature: str = "-",
           fmt: str = "default", **constraints) -> dict:
    field = {"name": name, "type": type_, "format": fmt, "description": description, "length": str(length),
             "nomenclature": nomenclature, "regle_gestion": ""}
    if constraints:
        field["constraints"] = constraints
    return field


PERSON = _field("BEN_NIR_PSA", "string", "Identifiant anonyme du patient dans le SNIIRAM", 17, minLength=17,
                maxLength=17)
TABLES = {
    "IR_BEN_R": {
        "title": "Référentiel des bénéficiaires",
        "produit": "BENEFICIAIRE",
        "fields": [
            PERSON,
            _field("BEN_RNG_GEM", "integer", "Rang de naissance du bénéficiaire", 2, minimum=1, maximum=9),
            _field("BEN_NAI_ANN", "year", "Année de naissance du bénéficiaire", 4),
            _field("BEN_NAI_MOI", "date", "Mois de naissance du bénéficiaire", 2, fmt="%m"),
            _field("BEN_SEX_COD", "integer", "Code sexe du bénéficiaire", 1, "IR_SEX_V:SEX_COD"),
            _field("BEN_DCD_DTE", "date", "Date de décès du bénéficiaire", 8),
            _field("BEN_RES_DPT", "string", "Département de résidence du bénéficiaire", 3, "IR_DPT_V:GEO_DPT_COD"),
        ],
        "primaryKey": ["BEN_NIR_PSA", "BEN_RNG_GEM"],
        "foreignKeys": [],
    },
    "ER_PRS_F": {
        "title": "Prestations de soins de ville",
        "produit": "DCIR",
        "fields": [
            PERSON,
            _field("EXE_SOI_DTD", "date", "Date de début d'exécution des soins", 8),
            _field("EXE_SOI_DTF", "date", "Date de fin d'exécution des soins", 8),
            _field("PRS_NAT_REF", "integer", "Code de la prestation de référence", 4, "IR_NAT_V:PRS_NAT"),
            _field("PSE_SPE_COD", "integer", "Spécialité médicale du professionnel de santé exécutant", 2,
                   "IR_SPE_V:SPE_COD"),
            _field("PRS_PAI_MNT", "number", "Montant global de la dépense (euros)", 9, minimum=0),
            _field("BSE_REM_MNT", "number", "Montant remboursé pour l'acte de base (euros)", 9, minimum=0),
        ],
        "foreignKeys": [{"fields": ["BEN_NIR_PSA"], "reference": {"resource": "IR_BEN_R", "fields": ["BEN_NIR_PSA"]},
                         "description": "Bénéficiaire"}],
    },
    "T_MCOaaB": {
        "title": "Séjours hospitaliers MCO (résumés de sortie anonymes)",
        "produit": "PMSI MCO",
        "fields": [
            _field("ETA_NUM", "integer", "Numéro FINESS e-PMSI", 9),
            _field("RSA_NUM", "integer", "N° d'index du RSA", 10),
            _field("NIR_ANO_17", "string", "N° anonyme du patient", 17),
            _field("EXE_SOI_DTD", "date", "Date d'entrée", 8),
            _field("EXE_SOI_DTF", "date", "Date de sortie", 8),
            _field("SEJ_NBJ", "integer", "Durée totale du séjour (jours)", 4, minimum=0),
            _field("AGE_ANN", "integer", "Âge en années à l'entrée", 3, minimum=0, maximum=120),
            _field("COD_SEX", "string", "Sexe", 1, "IR_SEX_V:SEX_COD"),
            _field("DGN_PAL", "string", "Diagnostic principal (CIM-10)", 6, "IR_CIM_V:CIM_COD"),
            _field("GRG_GHM", "string", "GHM calculé par le GENRSA", 6),
            _field("SOR_MOI", "date", "Mois de sortie", 2, fmt="%m"),
            _field("SOR_ANN", "year", "Année de sortie", 4),
        ],
        "primaryKey": ["ETA_NUM", "RSA_NUM"],
        "foreignKeys": [{"fields": ["NIR_ANO_17"], "reference": {"resource": "IR_BEN_R", "fields": ["BEN_NIR_PSA"]},
                         "description": "Bénéficiaire"}],
    },
    "KI_CCI_R": {
        "title": "Causes médicales de décès",
        "produit": "Causes de décès",
        "fields": [
            _field("BEN_IDT_ANO", "string", "Identifiant bénéficiaire anonymisé", 17),
            _field("BEN_DCD_DTE", "date", "Date de décès du bénéficiaire", 8),
            _field("BEN_SEX_COD", "integer", "Code sexe du bénéficiaire", 1, "IR_SEX_V:SEX_COD"),
            _field("DCD_CIM_COD", "string", "Cause initiale du décès (CIM-10)", 4, "IR_CIM_V:CIM_COD"),
            _field("DCD_DPT_COD", "string", "Département de décès", 3, "IR_DPT_V:GEO_DPT_COD"),
            _field("DCD_LIE_COD", "integer", "Lieu du décès", 1),
            _field("DCD_LIE_LIB", "string", "Libellé du lieu du décès", 200),
        ],
        "primaryKey": ["BEN_IDT_ANO"],
        "foreignKeys": [{"fields": ["BEN_IDT_ANO"], "reference": {"resource": "IR_BEN_R", "fields": ["BEN_NIR_PSA"]},
                         "description": "Bénéficiaire"}],
    },
}
NOMENCLATURES = {
    "IR_SEX_V": ("Sexe", "SEX_COD", "integer", "SEX_LIB", ref.SEX),
    "IR_DPT_V": ("Départements", "GEO_DPT_COD", "string", "GEO_DPT_LIB", ref.DEPARTMENTS),
    "IR_NAT_V": ("Nature de prestation", "PRS_NAT", "integer", "PRS_NAT_LIB",
                 {code: value[0] for code, value in ref.CARE_NATURES.items()}),
    "IR_SPE_V": ("Spécialités médicales", "SPE_COD", "integer", "SPE_LIB", ref.SPECIALITIES),
    "IR_CIM_V": ("Classification internationale des maladies, 10e révision (extrait)", "CIM_COD", "string",
                 "CIM_LIB", ref.ICD10),
}
ROLES = {
    "IR_BEN_R": {"sex": "BEN_SEX_COD", "birth_year": "BEN_NAI_ANN", "death_date": "BEN_DCD_DTE"},
    "ER_PRS_F": {"start_date": "EXE_SOI_DTD", "end_date": "EXE_SOI_DTF", "event_date": ["EXE_SOI_DTD"]},
    "T_MCOaaB": {"person_id": ["NIR_ANO_17"], "age": "AGE_ANN", "sex": "COD_SEX", "start_date": "EXE_SOI_DTD",
                 "end_date": "EXE_SOI_DTF", "event_date": ["EXE_SOI_DTD"]},
    "KI_CCI_R": {"person_id": ["BEN_IDT_ANO"], "sex": "BEN_SEX_COD", "death_date": "BEN_DCD_DTE"},
}


def columns(table: str) -> list[str]:
    return [f["name"] for f in TABLES[table]["fields"]]


def write_dictionary(out: Path) -> None:
    (out / "schemas").mkdir(parents=True, exist_ok=True)
    for name, table in TABLES.items():
        schema = {"name": name, **table, "missingValues": [""]}
        schema["foreignKeys"] = table["foreignKeys"] + [
            {"fields": [f["name"]], "reference": {"resource": f["nomenclature"].split(":")[0],
                                                  "fields": [f["nomenclature"].split(":")[1]]},
             "description": "Nomenclature"}
            for f in table["fields"] if f["nomenclature"] != "-"
        ]
        (out / "schemas" / f"{name}.json").write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n")


def write_nomenclatures(out: Path) -> None:
    folder = out / "nomenclatures"
    folder.mkdir(parents=True, exist_ok=True)
    for name, (title, code, code_type, label, values) in NOMENCLATURES.items():
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter=";", lineterminator="\n")
            writer.writerow([code, label])
            writer.writerows(values.items())
        schema = {"name": name, "title": title, "primaryKey": [code], "missingValues": [""],
                  "fields": [{"name": code, "type": code_type, "role": "code"},
                             {"name": label, "type": "string", "role": "label"}]}
        (folder / f"{name}.json").write_text(json.dumps(schema, ensure_ascii=False, indent=2) + "\n")


SAS_EPOCH_DAYS = 3653  # days from 1960-01-01, where SAS counts dates from, to 1970-01-01


def write_xport(table: str, rows: pa.Table, path: Path) -> None:
    """A table as a SAS transport file (version 8: long names): the table's title as file label, descriptions as
    variable labels (cut at 40 characters, SAS's classic limit: pyreadstat 1.3.7 cannot read back a file where a
    longer label meets a long character format name), coded variables formatted with their code list's format."""
    fields = TABLES[table]["fields"]
    formats = {f["name"]: ("$" if f["type"] == "string" else "") + f["nomenclature"].split(":")[0] + "."
               for f in fields if f["nomenclature"] != "-"}
    frame = pd.DataFrame(index=range(rows.num_rows))
    for name in rows.column_names:  # text as text, the rest as numbers (SAS stores dates as days since 1960)
        column = rows[name]
        if pa.types.is_date(column.type):
            column = pc.add(column.cast(pa.int32()), SAS_EPOCH_DAYS)
            formats[name] = "DATE9."
        frame[name] = column.to_pandas() if pa.types.is_string(column.type) else column.to_pandas().astype("float64")
    pyreadstat.write_xport(frame, str(path), file_label=TABLES[table]["title"], table_name=table,
                           column_labels=[f["description"][:40] for f in fields], file_format_version=8,
                           variable_format=formats)


def write_formats(path: Path) -> None:
    """The code lists as SAS formats, in the data set PROC FORMAT CNTLOUT= writes (FMTNAME, START, END, LABEL,
    TYPE: C for text codes, N for numbers): how SAS formats travel between systems."""
    rows = [{"FMTNAME": name, "START": str(code), "END": str(code), "LABEL": label,
             "TYPE": "C" if code_type == "string" else "N"}
            for name, (_, _, code_type, _, values) in NOMENCLATURES.items() for code, label in values.items()]
    pyreadstat.write_xport(pd.DataFrame(rows), str(path), table_name="FORMATS", file_format_version=8,
                           file_label="Formats (PROC FORMAT CNTLOUT)")


def write_declaration(path: Path, out: Path, source_id: str, file_format: str, beneficiaries: int, seed: int,
                      reference_year: int) -> None:
    """A source declaration for the generated files, with paths relative to the declaration."""
    relative = Path(os.path.relpath(out.resolve(), path.resolve().parent)).as_posix()
    people = f"{beneficiaries:,}".replace(",", "\u202f")
    declaration = {
        "id": source_id,
        "title": "SNDS synthétique réaliste (démo)" if source_id == "demo" else f"SNDS synthétique ({source_id})",
        "description": (
            f"Extrait synthétique au format du SNDS : {people} bénéficiaires, leurs prestations de ville, "
            f"séjours MCO et causes de décès sur {reference_year - 2}-{reference_year}, avec des défauts injectés "
            f"en nombre connu (graine {seed}). Généré par hdh-generate ; aucune personne réelle."
        ),
        "producer": {"name": "hdh-pipeline"},
        "contact": {"name": "hdh-pipeline maintainers"},
        "licence": "Apache-2.0 (synthetic data)",
        "access": {"conditions": "Données synthétiques en libre accès : aucune demande n'est nécessaire",
                   "delay": "aucun", "contact": "hdh-pipeline maintainers"},
        "update_frequency": "0 3 * * 1",
        "owners": ["team:hdh-pipeline"],
        "location": f"{relative}/data",
        "format": file_format,
        "dictionary": {"path": f"{relative}/schemas"},
        **({"formats": f"{relative}/formats.xpt"} if file_format == "xpt" else
           {"nomenclatures": {"path": f"{relative}/nomenclatures"}}),
        "reference_date": f"{reference_year}-12-31",
        "roles": {"person_id": ["BEN_NIR_PSA"]},
        "tables": {name: {"roles": roles} for name, roles in ROLES.items()},
    }
    header = "# Written by hdh-generate: regenerate rather than edit (see docs/synthetic.md).\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + yaml.safe_dump(declaration, allow_unicode=True, sort_keys=False))
