"""Statistical files as producers deliver them (SAS7BDAT, SAS transport, Stata, SPSS), read with pyreadstat.

- Their metadata (`read_metadata`, headers only): the file label, each variable's label and format, value labels.
  Labels document the table where no dictionary does (`describe`); value labels, and SAS formats from a format
  catalogue (`.sas7bcat`) or from a PROC FORMAT CNTLOUT data set (`read_formats`), become code lists.
- Their rows (`batches`): Arrow record batches of `CHUNK_ROWS` rows, never a whole table. Dates, datetimes and
  times (from the variable's format, as pyreadstat classifies them) become date32, timestamp and time64; special
  missing values (SAS and Stata `.A`-`.Z`, `._`) and SPSS user-defined missing values become nulls, counted by
  reason. Each batch carries the file and the row number, for rejected rows to name them.
"""
from __future__ import annotations

import functools
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyreadstat

from hdh_pipeline.sources.dictionary import ColumnSpec, NomenclatureRef, TableSpec

READERS = {"sas7bdat": pyreadstat.read_sas7bdat, "xpt": pyreadstat.read_xport, "dta": pyreadstat.read_dta,
           "sav": pyreadstat.read_sav}
EXTENSIONS = {"sas7bdat": (".sas7bdat",), "xpt": (".xpt", ".xport"), "dta": (".dta",), "sav": (".sav", ".zsav")}
CHUNK_ROWS = 200_000
FILE, ROW = "hdh_file", "hdh_row"  # columns added to every batch: where each row comes from

# pyreadstat's classification of date formats (its _readstat_parser.pyx): the format's name without width
_SAS = {"date": {"WEEKDATE", "MMDDYY", "DDMMYY", "YYMMDD", "DATE", "DDMMYYB", "DDMMYYC", "DDMMYYD", "DDMMYYN",
                 "DDMMYYP", "DDMMYYS", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP", "MMDDYYS", "WEEKDATX",
                 "DTDATE", "IS8601DA", "E8601DA", "B8601DA", "YYMMDDB", "YYMMDDD", "YYMMDDN", "YYMMDDP", "YYMMDDS"},
        "datetime": {"DATETIME", "E8601DT", "DATEAMPM", "MDYAMPM", "IS8601DT", "B8601DT", "B8601DN"},
        "time": {"TIME", "HHMM", "TOD", "TIMEAMPM", "IS8601TM", "E8601TM", "B8601TM"}}
_SPSS = {"date": {"DATE", "ADATE", "EDATE", "JDATE", "SDATE"}, "datetime": {"DATETIME", "YMDHMS"},
         "time": {"TIME", "DTIME"}}
_STATA = {"date": {"%td", "%d", "%tdD_m_Y", "%tdCCYY-NN-DD"}, "datetime": {"%tC", "%tc"},
          "time": {"%tcHH:MM:SS", "%tcHH:MM"}}
_FORMAT_NAME = re.compile(r"^([A-Z][A-Z0-9]+[A-Z])(\d+)?(?(2)(?:\.\d+)?$|$)")
# (unit in seconds, seconds from the format's origin to 1970-01-01) of each kind's stored number
_SAS_ORIGIN, _SPSS_ORIGIN = 315_619_200, 12_219_379_200
_CLOCKS = {("sas", "date"): (86_400, _SAS_ORIGIN), ("sas", "datetime"): (1, _SAS_ORIGIN), ("sas", "time"): (1, 0),
           ("stata", "date"): (86_400, _SAS_ORIGIN), ("stata", "datetime"): (0.001, _SAS_ORIGIN),
           ("stata", "time"): (0.001, _SAS_ORIGIN), ("spss", "date"): (1, _SPSS_ORIGIN),
           ("spss", "datetime"): (1, _SPSS_ORIGIN), ("spss", "time"): (1, 0)}
_FAMILY = {"sas7bdat": "sas", "xpt": "sas", "dta": "stata", "sav": "spss"}
ARROW_TYPES = {"string": pa.string(), "number": pa.float64(), "date": pa.date32(), "datetime": pa.timestamp("us"),
               "time": pa.time64("us")}


class StatisticalFileError(ValueError):
    """A statistical file or format catalogue that cannot be read; the message names it and says why."""


@dataclass(frozen=True)
class Variable:
    name: str
    label: str
    format: str  # as the file writes it: `DATE9`, `$SEXF`, `%td`, `F8.2`
    kind: str  # string, number, date, datetime, time
    label_set: str | None  # the value labels (or SAS format) its codes are read with


@dataclass(frozen=True)
class FileMetadata:
    label: str
    encoding: str
    variables: tuple[Variable, ...]
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # label set -> code -> label
    user_missing: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # SPSS: column -> ranges
    widths: tuple[int, ...] = ()  # bytes each variable takes in a row (transport files: fixed-width records)

    @property
    def row_bytes(self) -> int:
        return sum(self.widths)


def _kind(family: str, storage: str, fmt: str) -> str:
    if storage == "string":
        return "string"
    names = {"sas": _SAS, "spss": _SPSS, "stata": _STATA}[family]
    match = _FORMAT_NAME.match(fmt.upper()) if family != "stata" else None
    name = match.group(1) if match else fmt
    return next((kind for kind, formats in names.items() if name in formats), "number")


def code_text(value: object) -> str:
    """A code as the warehouse writes the value: integral numbers without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def file_format_of(path: Path) -> str | None:
    """The statistical format a file's extension says (None: not one)."""
    return next((f for f, ext in EXTENSIONS.items() if path.name.lower().endswith(ext)), None)


def _hint(error: Exception) -> str:
    return " (check the declared `encoding`)" if "encod" in str(error).lower() else ""


def _read(path: Path, file_format: str, encoding: str | None, **options) -> tuple[pd.DataFrame, object]:
    if file_format == "xpt" and path.is_file() and path.stat().st_size % 80:
        # a transport file is 80-byte records: readstat would read a cut one without a word, its last rows lost
        raise StatisticalFileError(f"{path}: truncated ({path.stat().st_size} bytes, not whole 80-byte records)")
    try:
        return READERS[file_format](str(path), encoding=encoding, **options)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeError, OSError) as error:
        raise StatisticalFileError(f"{path}: not a readable {file_format} file: {error}{_hint(error)}") from None


def _user_missing(file_format: str) -> dict[str, bool]:
    """pyreadstat's option to see special and user-defined missing values (its transport reader has none)."""
    return {} if file_format == "xpt" else {"user_missing": True}


def read_metadata(path: Path, file_format: str, encoding: str | None = None) -> FileMetadata:
    """A file's label, variables and value labels, from its header."""
    family = _FAMILY[file_format]
    _, meta = _read(path, file_format, encoding, metadataonly=True, **_user_missing(file_format))
    linked = meta.variable_to_label or {}
    variables = []
    for name in meta.column_names:
        fmt = meta.original_variable_types.get(name) or ""
        storage = meta.readstat_variable_types.get(name, "double")
        label_set = linked.get(name) if family != "sas" else (fmt.rstrip("0123456789.") or None)
        variables.append(Variable(name, (meta.column_names_to_labels.get(name) or "").strip(), fmt,
                                  _kind(family, storage, fmt), label_set))
    sets = {name: {code_text(code): str(label) for code, label in labels.items()}
            for name, labels in (meta.value_labels or {}).items()}
    ranges = {column: [(float(r["lo"]), float(r["hi"])) for r in found]
              for column, found in (getattr(meta, "missing_ranges", None) or {}).items()}
    widths = meta.variable_storage_width or {}
    return FileMetadata((meta.file_label or "").strip(), meta.file_encoding or "", tuple(variables), sets, ranges,
                        tuple(widths.get(name, 0) for name in meta.column_names))


def read_formats(path: Path, encoding: str | None = None) -> dict[str, dict[str, str]]:
    """SAS formats as code lists (read once per version of the file: every code list of a catalogue asks)."""
    try:
        changed = path.stat().st_mtime_ns
    except OSError as error:
        raise StatisticalFileError(f"{path}: cannot be read: {error.strerror}") from None
    return _formats(path, changed, encoding)


@functools.lru_cache(maxsize=16)
def _formats(path: Path, changed: int, encoding: str | None) -> dict[str, dict[str, str]]:
    """SAS formats as code lists: a format catalogue (`.sas7bcat`), or a data set written by
    `PROC FORMAT CNTLOUT=` (columns FMTNAME, START, END, LABEL; ranges and `OTHER` are not codes and are left out)."""
    if path.suffix.lower() == ".sas7bcat":
        try:
            _, meta = pyreadstat.read_sas7bcat(str(path), encoding=encoding)
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeError, OSError) as error:
            raise StatisticalFileError(f"{path}: not a readable SAS format catalogue: {error}") from None
        return {name: {code_text(c): str(label) for c, label in labels.items()}
                for name, labels in meta.value_labels.items()}
    file_format = file_format_of(path)
    if file_format is None:
        raise StatisticalFileError(f"{path}: a format catalogue is a .sas7bcat file or a CNTLOUT data set "
                                   "(.sas7bdat, .xpt)")
    frame, _ = _read(path, file_format, encoding)
    frame.columns = [c.upper() for c in frame.columns]
    missing = {"FMTNAME", "START", "LABEL"} - set(frame.columns)
    if missing:
        raise StatisticalFileError(f"{path}: not a CNTLOUT data set of formats (no column "
                                   f"{', '.join(sorted(missing))})")
    formats: dict[str, dict[str, str]] = {}
    for row in frame.to_dict("records"):
        start = str(row["START"]).strip()
        end = str(row.get("END") or start).strip()
        if start != end or "O" in str(row.get("HLO") or ""):
            continue
        name = str(row["FMTNAME"]).strip().upper()
        character = str(row.get("TYPE") or "").strip().upper() == "C"
        formats.setdefault(f"${name}" if character and not name.startswith("$") else name, {})[start] = \
            str(row["LABEL"]).strip()
    return formats


def code_list_name(label_set: str, taken: set[str]) -> str:
    """A code list's name for a label set or format: its name without SAS's `$` of character formats (then
    `_CHAR` when a numeric format has that name too)."""
    bare = re.sub(r"[^A-Za-z0-9_]", "_", label_set.lstrip("$")) or "LABELS"
    return f"{bare}_CHAR" if label_set.startswith("$") and bare in taken else bare


def describe(table: str, path: Path, meta: FileMetadata, spec: TableSpec | None,
             code_lists: dict[str, str]) -> TableSpec:
    """The table's description: the dictionary's where there is one, its gaps filled from the file's labels (the
    file label as title, variable labels as descriptions, value labels as code lists). `code_lists`: label set ->
    code list name."""
    def linked(variable: Variable) -> NomenclatureRef | None:
        name = code_lists.get(variable.label_set or "")
        return NomenclatureRef(name) if name else None

    if spec is None:
        return TableSpec(table, path, title=meta.label, typed=False, columns=tuple(
            ColumnSpec(v.name, type=v.kind if v.kind != "number" else "number", description=v.label,
                       nomenclature=linked(v)) for v in meta.variables))
    by_name = {v.name: v for v in meta.variables}
    columns = []
    for column in spec.columns:
        variable = by_name.get(column.name)
        if variable is not None:
            column = ColumnSpec(**{**column.__dict__, "description": column.description or variable.label,
                                   "nomenclature": column.nomenclature or linked(variable)})
        columns.append(column)
    return TableSpec(**{**spec.__dict__, "title": spec.title or meta.label, "columns": tuple(columns)})


def arrow_schema(meta: FileMetadata) -> pa.Schema:
    return pa.schema([(v.name, ARROW_TYPES[v.kind]) for v in meta.variables] +
                     [(FILE, pa.string()), (ROW, pa.int64())])


def _numbers(values: pd.Series, reasons: Counter, column: str) -> np.ndarray:
    """A numeric column as floats; special missing values (`A`..`Z`, `_` with user_missing) counted and nulled."""
    if values.dtype.kind == "f":
        return values.to_numpy()
    special = values.map(lambda v: isinstance(v, str))
    for letter, n in values[special].value_counts().items():
        reasons[(column, f".{letter}")] += int(n)
    return pd.to_numeric(values.mask(special), errors="coerce").to_numpy(dtype="float64")


def _batch(frame: pd.DataFrame, meta: FileMetadata, family: str, path: Path, first_row: int,
           reasons: Counter) -> pa.RecordBatch:
    arrays = []
    for variable in meta.variables:
        values = frame[variable.name]
        if variable.kind == "string":
            arrays.append(pa.array(values.to_numpy(dtype=object, na_value=None), pa.string()))
            continue
        numbers = _numbers(values, reasons, variable.name)
        for low, high in meta.user_missing.get(variable.name, []):
            hit = (numbers >= low) & (numbers <= high)
            if hit.any():
                reasons[(variable.name, f"user-missing {code_text(low)}" +
                         (f"..{code_text(high)}" if high != low else ""))] += int(hit.sum())
                numbers = np.where(hit, np.nan, numbers)
        if variable.kind == "number":
            arrays.append(pa.array(numbers, pa.float64(), from_pandas=True))
            continue
        unit, origin = _CLOCKS[(family, variable.kind)]
        seconds = numbers * unit - origin
        if variable.kind == "date":
            arrays.append(pa.array(np.floor(seconds / 86_400), pa.float64(), from_pandas=True).cast(pa.int32())
                          .cast(pa.date32()))
        else:
            micros = pa.array(np.round(seconds * 1e6), pa.float64(), from_pandas=True).cast(pa.int64())
            arrays.append(micros.cast(pa.timestamp("us") if variable.kind == "datetime" else pa.time64("us")))
    rows = len(frame)
    arrays += [pa.array([str(path)] * rows, pa.string()), pa.array(np.arange(first_row, first_row + rows), pa.int64())]
    return pa.RecordBatch.from_arrays(arrays, schema=arrow_schema(meta))


_OBSERVATIONS = re.compile(rb"HEADER RECORD\*{7}OBS(V8   |     )HEADER RECORD!{7}")


_MISSING_MARKS = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ_", np.uint8)


def _transport_missing(body: bytes, rows: int, meta: FileMetadata, reasons: Counter) -> None:
    """Count a transport chunk's special missing values by (column, reason): readstat reads them as plain nulls.
    A missing number is its mark (`.`, `A`..`Z`, `_`) followed by zero bytes (SAS's transport format)."""
    records = np.frombuffer(body, np.uint8, count=rows * meta.row_bytes).reshape(rows, meta.row_bytes)
    offset = 0
    for variable, width in zip(meta.variables, meta.widths):
        if variable.kind != "string":
            field = records[:, offset:offset + width]
            special = np.isin(field[:, 0], _MISSING_MARKS) & ~field[:, 1:].any(axis=1)
            if special.any():
                marks, counts = np.unique(field[special, 0], return_counts=True)
                for mark, n in zip(marks, counts):
                    reasons[(variable.name, "." + chr(mark))] += int(n)
        offset += width


def _transport_frames(path: Path, meta: FileMetadata, encoding: str | None,
                      reasons: Counter) -> Iterator[pd.DataFrame]:
    """A transport file's rows, CHUNK_ROWS at a time. readstat reads a row offset by parsing every row before it
    (a file read in chunks costs chunks x rows), so each chunk is cut from the file's fixed-width records into a
    small transport file of its own (the same header, its row count) and read whole; its special missing values
    are counted from the records themselves."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
        found = _OBSERVATIONS.search(head)
        if found is None or not meta.row_bytes:
            raise StatisticalFileError(f"{path}: no observation header: not a SAS transport file")
        start = found.start() + 80
        header = bytearray(head[:start])
        size = path.stat().st_size
        counted = found.group(1) == b"V8   "  # version 8 says its row count; version 5 does not
        rows = int(head[found.end():start].strip()) if counted else (size - start) // meta.row_bytes
        with tempfile.TemporaryDirectory(prefix="hdh-xpt-") as folder:
            part = Path(folder) / "part.xpt"
            for first in range(0, rows, CHUNK_ROWS):
                count = min(CHUNK_ROWS, rows - first)
                if counted:  # the chunk's row count
                    header[found.end():start] = str(count).rjust(15).ljust(start - found.end()).encode()
                handle.seek(start + first * meta.row_bytes)
                body = handle.read(count * meta.row_bytes)
                part.write_bytes(bytes(header) + body + b" " * (-len(body) % 80))
                frame, _ = _read(part, "xpt", encoding, disable_datetime_conversion=True)
                _transport_missing(body, len(frame), meta, reasons)
                yield frame  # a version 5 file's padding spaces are no row: readstat drops them, as in the file


def batches(path: Path, file_format: str, meta: FileMetadata, encoding: str | None,
            reasons: Counter) -> Iterator[pa.RecordBatch]:
    """The file's rows as Arrow batches of CHUNK_ROWS rows (row numbers from 1); special and user-defined missing
    values are nulls, counted in `reasons` by (column, reason)."""
    family, row = _FAMILY[file_format], 1
    options = {"disable_datetime_conversion": True, **_user_missing(file_format)}
    frames = (_transport_frames(path, meta, encoding, reasons) if file_format == "xpt" else
              (frame for frame, _ in pyreadstat.read_file_in_chunks(READERS[file_format], str(path),
                                                                   chunksize=CHUNK_ROWS, encoding=encoding, **options)))
    try:
        for frame in frames:
            if len(frame) == 0:
                break
            yield _batch(frame, meta, family, path, row, reasons)
            row += len(frame)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeError) as error:
        raise StatisticalFileError(f"{path}: reading row {row} onwards failed: {error}{_hint(error)}") from None
