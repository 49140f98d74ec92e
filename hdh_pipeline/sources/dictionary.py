"""Data dictionaries: Frictionless Table Schema JSON, plain or in the SNDS flavour.

The SNDS flavour adds keys we keep: `produit` (product), `nomenclature` per field
(`"-"` for none, `"IR_SEX_V"` or `"IR_SEX_V:SEX_COD"`), `regle_gestion` (management
rule), `history`, and uses `length` as a string. Unknown keys are kept in `extras`.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path


class DictionaryError(ValueError):
    """A Table Schema file that cannot be read; the message names the file and key."""


@dataclass(frozen=True)
class NomenclatureRef:
    table: str
    column: str | None = None  # None: the code list's primary key


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    table: str
    referenced_columns: tuple[str, ...]
    description: str = ""


@dataclass(frozen=True)
class History:
    """When a table or variable appeared, disappeared, and which periods it misses (SNDS flavour:
    `dateCreated`, `dateDeleted`, `dateMissing`, on a field or in a table's `history`)."""

    created: str = ""
    deleted: str = ""
    missing: tuple[str, ...] = ()

    @classmethod
    def read(cls, raw: object) -> History:
        raw = raw if isinstance(raw, dict) else {}
        return cls(str(raw.get("dateCreated") or "").strip(), str(raw.get("dateDeleted") or "").strip(),
                   tuple(str(m) for m in _as_tuple(raw.get("dateMissing")) if str(m).strip()))


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: str = "string"
    format: str = "default"
    description: str = ""
    length: int | None = None
    constraints: dict = field(default_factory=dict)
    nomenclature: NomenclatureRef | None = None
    management_rule: str = ""
    true_values: tuple[str, ...] = ()
    false_values: tuple[str, ...] = ()
    history: History = History()
    size: str = ""          # the length as written: `17`, `11,2`
    storage_type: str = ""  # SNDS flavour's `type_oracle`: number, string, date

    @property
    def snds_format(self) -> str:
        """The type as the SNDS dictionary writes it: `number (11,2)`, `string (17)`, `date (8)`, `date`."""
        kind = self.storage_type or {"integer": "number", "year": "number"}.get(self.type, self.type)
        return f"{kind} ({self.size})" if self.size else kind


@dataclass(frozen=True)
class TableSpec:
    name: str
    file: Path
    title: str = ""
    description: str = ""
    product: str = ""
    columns: tuple[ColumnSpec, ...] = ()
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    missing_values: tuple[str, ...] | None = None
    history: History = History()
    typed: bool = True  # its column types are imposed on the data (a dictionary), not the file's own (labels)

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name == name), None)


def _as_tuple(value: object) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _nomenclature(value: object) -> NomenclatureRef | None:
    if not isinstance(value, str) or value.strip() in ("", "-"):
        return None
    table, _, column = value.strip().partition(":")
    return NomenclatureRef(table, column or None)


def _length(value: object) -> int | None:
    """The number of characters or digits: `17`, `"17"`, or the precision of `"4,0"` (precision, scale)."""
    match = re.match(r"\s*(\d+)", str(value)) if value not in (None, "") else None
    return int(match.group(1)) if match else None


def _column(raw: dict, where: str) -> ColumnSpec:
    if not isinstance(raw, dict) or not raw.get("name"):
        raise DictionaryError(f"{where}: every field needs a 'name'")
    where = f"{where} field {raw['name']!r}"
    return ColumnSpec(
        name=raw["name"],
        type=raw.get("type") or "string",
        format=raw.get("format") or "default",
        description=(raw.get("description") or raw.get("title") or "").strip(),
        length=_length(raw.get("length")),
        constraints=raw.get("constraints") or {},
        nomenclature=_nomenclature(raw.get("nomenclature")),
        management_rule=(raw.get("regle_gestion") or "").strip(),
        true_values=_as_tuple(raw.get("trueValues")),
        false_values=_as_tuple(raw.get("falseValues")),
        history=History.read(raw),
        size=str(raw.get("length") or "").strip(),
        storage_type=str(raw.get("type_oracle") or "").strip(),
    )


def _foreign_key(raw: dict, where: str) -> ForeignKey:
    try:
        reference = raw["reference"]
        return ForeignKey(
            columns=_as_tuple(raw["fields"]),
            table=reference["resource"],
            referenced_columns=_as_tuple(reference["fields"]),
            description=raw.get("description") or "",
        )
    except (KeyError, TypeError) as error:
        raise DictionaryError(f"{where}: foreignKeys entry {raw!r} lacks {error}") from None


def read_table_schema(path: Path) -> TableSpec:
    """Parse one Table Schema file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DictionaryError(f"{path}: not a readable JSON Table Schema ({error})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("fields"), list):
        raise DictionaryError(f"{path}: a Table Schema needs a 'fields' list")
    columns = tuple(_column(f, str(path)) for f in raw["fields"])
    names = [c.name for c in columns]
    primary_key = _as_tuple(raw.get("primaryKey"))
    for key in primary_key:
        if key not in names:
            raise DictionaryError(f"{path}: primaryKey names {key!r}, which is not a field")
    missing = raw.get("missingValues")
    return TableSpec(
        name=raw.get("name") or path.stem,
        file=path,
        title=(raw.get("title") or "").strip(),
        description=(raw.get("description") or raw.get("observation") or "").strip(),
        product=raw.get("produit") or "",
        columns=columns,
        primary_key=primary_key,
        foreign_keys=tuple(_foreign_key(fk, str(path)) for fk in raw.get("foreignKeys") or []),
        missing_values=tuple(missing) if isinstance(missing, list) else None,
        history=History.read(raw.get("history") or raw),
    )


def read_dictionary(files: list[Path]) -> dict[str, TableSpec]:
    """Table Schemas by table name; two files describing one table is an error."""
    specs: dict[str, TableSpec] = {}
    for path in sorted(files):
        spec = read_table_schema(path)
        if spec.name in specs:
            raise DictionaryError(f"{path}: table {spec.name!r} is already described by {specs[spec.name].file}")
        specs[spec.name] = spec
    return specs
