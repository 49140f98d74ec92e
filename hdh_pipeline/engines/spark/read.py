"""A source's table as Spark reads it where it lives, with the DuckDB engine's rules (engines/plan.py): the same
columns and stored types, and the same lines rejected, each with its reason (a wrong number of fields, a value
that does not fit its type). A byte outside the file's encoding is read as U+FFFD, which is also a character some
files hold (SNDS code lists do): Spark cannot tell them apart, so such a line is kept, where DuckDB rejects it.
Nothing is copied: the parsed lines are kept by Spark (a local checkpoint) for the aggregations that follow.

Text is read as text first, then cast column by column (`try_cast`, `try_to_timestamp` for declared date formats):
a value that does not cast rejects its line, as DuckDB's reader does. Without a dictionary, each column takes the
first of BOOLEAN, BIGINT, DOUBLE, DATE, TIMESTAMP that all its values are (as DuckDB's sniffer does), else VARCHAR.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from hdh_pipeline.engines.plan import ColumnType, IngestionError, local_files, plan_csv, read_header
from hdh_pipeline.engines.spark.types import SPARK_TYPES, catalogue_type, java_pattern
from hdh_pipeline.sources.declaration import CsvOptions, SourceDeclaration
from hdh_pipeline.sources.discovery import SourceTable

CORRUPT = "_hdh_corrupt"  # the whole line, when its fields do not match the header
REASON = "_hdh_reason"  # why a line is rejected (NULL: it is not)
RAW = "_hdh_raw"
NOT_NULL = "\u0000hdh-not-a-null"  # Spark's own null marker, which no value is: the declared ones apply instead
TIMESTAMP_TEXT = r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{1,2}(:\d{1,2}(\.\d+)?)?)?$"
SLASHED_DATE = r"^(\d{4})/(\d{1,2})/(\d{1,2})"
DIGIT_SEPARATOR = r"(?<=\d)_(?=\d)"
ZONE = r"(\d:\d{1,2}(:\d{1,2}(\.\d+)?)?)(Z|[+-]\d{2}(:?\d{2})?)$"  # a zone after a time: ignored
TRUE, FALSE = ("true", "t", "1", "yes", "y"), ("false", "f", "0", "no", "n")
ENCODINGS = {"utf-8": "UTF-8", "latin-1": "ISO-8859-1", "utf-16": "UTF-16"}
COMPRESSED = (".gz", ".bz2", ".zst", ".xz", ".lz4", ".snappy", ".deflate", ".zip")
PARTITION = re.compile(r"^[^=/]+=[^/]*$")


@dataclass(frozen=True)
class SparkTable:
    name: str
    frame: DataFrame  # the lines that parsed, typed
    columns: dict[str, str]  # name -> type, in the catalogue's vocabulary
    lines: DataFrame | None  # every line with REASON (and RAW), for the rejected ones; None: nothing is rejected
    warnings: tuple[str, ...] = ()
    most_rows: int | None = None  # at most this many rows, known without reading the table (None: unknown)


def read_table(spark: SparkSession, declaration: SourceDeclaration, table: SourceTable, staging: Path,
               remote: bool) -> SparkTable:
    """The table's files as one frame; raises IngestionError naming the table and the files it could not read."""
    paths = list(table.files) if remote else [str(p) for p in local_files(table, staging)]
    try:
        if table.format == "parquet":
            frame = _partitions_as_duckdb_reads_them(spark.read.options(**_base_path(paths)).parquet(*paths), paths)
            return SparkTable(table.name, frame, {f.name: catalogue_type(f.dataType.simpleString())
                                                  for f in frame.schema.fields}, None,
                              most_rows=None if remote else sum(pq.ParquetFile(p).metadata.num_rows for p in paths))
        return _read_csv(spark, declaration, table, paths, remote)
    except IngestionError:
        raise
    except Exception as error:  # Spark's errors (a path, a permission), said in one line
        first = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise IngestionError(f"table {table.name}: reading {', '.join(paths)} failed: {first}") from None


def _base_path(paths: list[str]) -> dict[str, str]:
    """Hive-style partition folders (`year=2020/`) above the files: their parent is the base, whose folders'
    `name=value` become columns."""
    parts = paths[0].split("/")
    partitioned = [i for i, part in enumerate(parts[:-1]) if PARTITION.match(part)]
    return {"basePath": "/".join(parts[:partitioned[0]])} if partitioned and len(paths) > 1 else {}


def _partitions_as_duckdb_reads_them(frame: DataFrame, paths: list[str]) -> DataFrame:
    """Whole-number partition values are BIGINT, as DuckDB types them (Spark infers INT)."""
    names = {part.split("=", 1)[0] for path in paths for part in path.split("/")[:-1] if PARTITION.match(part)}
    return frame.select(*[F.col(f.name).cast("BIGINT").alias(f.name)
                          if f.name in names and f.dataType.simpleString() in ("int", "smallint", "tinyint")
                          else F.col(f.name) for f in frame.schema.fields])


def _options(options: CsvOptions) -> dict[str, str]:
    return {"sep": options.delimiter, "quote": options.quote, "escape": options.escape,
            "header": str(options.header).lower(), "encoding": ENCODINGS[options.encoding], "mode": "PERMISSIVE",
            "multiLine": "true",  # a quoted value may hold line breaks, as DuckDB reads it (a file is then one task)
            "columnNameOfCorruptRecord": CORRUPT, "nullValue": NOT_NULL, "emptyValue": "",
            "ignoreLeadingWhiteSpace": "false", "ignoreTrailingWhiteSpace": "false"}


def _header(spark: SparkSession, paths: list[str], options: CsvOptions, remote: bool) -> list[str] | None:
    if not remote:
        return next((h for h in (read_header(Path(p), options) for p in paths) if h is not None), None)
    first = spark.read.option("encoding", ENCODINGS[options.encoding]).text(paths).limit(1).collect()
    row = next(csv.reader(io.StringIO(first[0][0]), delimiter=options.delimiter, quotechar=options.quote), None) \
        if first else None
    return [name.strip() for name in row] if row else None


def _read_csv(spark: SparkSession, declaration: SourceDeclaration, table: SourceTable, paths: list[str],
              remote: bool) -> SparkTable:
    options = declaration.csv_for(table.name)
    plan = plan_csv(table, declaration, _header(spark, paths, options, remote), Path(paths[0]))
    null_values = sorted(set(options.null_values) | set((table.spec.missing_values or ()) if table.spec else ()))
    schema = T.StructType([T.StructField(n, T.StringType()) for n in plan.names] +
                          [T.StructField(CORRUPT, T.StringType())])
    readable = paths if remote else [p for p in paths if Path(p).stat().st_size > 0]
    if not readable:
        empty = spark.createDataFrame([], T.StructType([T.StructField(n, T.StringType()) for n in plan.names]))
        types = plan.types or {}
        frame = empty.select(*[F.col(n).cast(SPARK_TYPES[types[n].stored] if n in types else "STRING").alias(n)
                               for n in plan.names])
        return SparkTable(table.name, frame, {n: types[n].stored if n in types else "VARCHAR" for n in plan.names},
                          None, (*plan.warnings, f"table {table.name}: every file is empty; the table has no rows"))
    raw = spark.read.schema(schema).options(**_options(options)).csv(readable)
    raw = raw.selectExpr(*[f"CASE WHEN {_name(n)} IN ({', '.join(map(_text, null_values))}) THEN NULL "
                           f"ELSE {_name(n)} END AS {_name(n)}" if null_values else _name(n) for n in plan.names],
                         CORRUPT)
    types = plan.types or _inferred(raw, plan.names, plan.forced)
    casts = {n: _cast(_name(n), types[n], options) for n in plan.names}
    reason = [f"WHEN {CORRUPT} IS NOT NULL THEN 'wrong number of fields'"]
    for name in plan.names:
        reason.append(f"WHEN {_name(name)} IS NOT NULL AND ({casts[name]}) IS NULL "
                      f"THEN {_text(f'{name}: not a {types[name].stored} value')}")
    fields = ", ".join(f"coalesce({_name(n)}, '')" for n in plan.names)
    raw_line = f"coalesce({CORRUPT}, concat_ws({_text(options.delimiter)}, {fields}))"
    # parsed once, the plan cut there (a local checkpoint): what follows reads the parsed lines, and Spark analyses a
    # short plan; built as SQL text (one call to Spark for a table, however wide, not one per function and column)
    lines = raw.selectExpr(*[f"{casts[n]} AS {_name(n)}" for n in plan.names], f"CASE {' '.join(reason)} END AS "
                           f"{REASON}", f"{raw_line} AS {RAW}").localCheckpoint(eager=False)
    frame = lines.where(F.col(REASON).isNull()).select(*plan.names)
    return SparkTable(table.name, frame, {n: types[n].stored for n in plan.names}, lines, plan.warnings,
                      None if remote else _most_lines(readable, len(plan.names)))


def _most_lines(paths: list[str], columns: int) -> int | None:
    """At most this many lines of `columns` fields in these plain text files: a line holds a delimiter between
    fields and ends with a newline (the last may not). None for compressed files."""
    if any(Path(p).suffix.lower() in COMPRESSED for p in paths):
        return None
    return sum(Path(p).stat().st_size // max(columns - 1, 1) + 1 for p in paths)


def _name(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _text(text: str) -> str:
    """A Spark SQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _cast(value: str, ctype: ColumnType, options: CsvOptions) -> str:
    """The stored value of a text value (SQL), NULL where it does not parse, as DuckDB's reader casts it: around
    the value, spaces ignored; in numbers, `_` between digits; integers from `40.5` (rounded, half away from zero)
    or `1e3`; dates `2020-1-5` or `2020/01/05` (a time after them ignored); timestamps with `T` or a space,
    a zone ignored; booleans `true/t/1/yes/y`, `false/f/0/no/n` in any case."""
    target = SPARK_TYPES.get(ctype.stored.split("(")[0], "STRING")
    if ctype.strptime_format:
        return f"CAST(try_to_timestamp({value}, {_text(java_pattern(ctype.strptime_format))}) AS {target})"
    if ctype.stored == "VARCHAR":
        return value
    text = f"trim({value})"
    if ctype.stored == "BOOLEAN":
        return (f"CASE WHEN lower({text}) IN ({', '.join(map(_text, TRUE))}) THEN true "
                f"WHEN lower({text}) IN ({', '.join(map(_text, FALSE))}) THEN false END")
    if ctype.stored in ("DATE", "TIMESTAMP"):
        iso = f"regexp_replace({text}, {_text(SLASHED_DATE)}, '$1-$2-$3')"
        bare = f"regexp_replace({iso}, {_text(ZONE)}, '$1')"
        return f"CAST(CASE WHEN {bare} RLIKE {_text(TIMESTAMP_TEXT)} THEN try_cast({bare} AS TIMESTAMP_NTZ) END " \
               f"AS {target})"
    number = f"regexp_replace({text}, {_text(DIGIT_SEPARATOR)}, '')"
    if options.decimal == ",":
        number = f"regexp_replace({number}, ',', '.')"
    if ctype.stored not in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"):
        return f"try_cast({number} AS {target})"
    return f"try_cast(coalesce(try_cast({number} AS BIGINT), round(try_cast({number} AS DOUBLE))) AS {target})"


def _inferred(raw: DataFrame, names: tuple[str, ...], forced: dict[str, str]) -> dict[str, ColumnType]:
    """Each column's type as DuckDB's sniffer would choose it from all its values: the first candidate every
    non-null value casts to (one pass), a declared `types` entry over it."""
    candidates = ("BOOLEAN", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP")
    plain = CsvOptions()
    casts = {(n, c): _cast(_name(n), ColumnType(c, "VARCHAR"), plain) for n in names for c in candidates}
    failing = raw.selectExpr(*[f"count({_name(n)}) AS `{i}`" for i, n in enumerate(names)],
                             *[f"count_if({_name(n)} IS NOT NULL AND ({casts[n, c]}) IS NULL) AS `{i}:{c}`"
                               for i, n in enumerate(names) for c in candidates]).first()
    chosen = {}
    for i, name in enumerate(names):
        fitting = [c for c in candidates if failing[f"{i}:{c}"] == 0] if failing[f"{i}"] else []  # all null: text
        stored = forced.get(name) or next(iter(fitting), "VARCHAR")
        chosen[name] = ColumnType(stored, "VARCHAR")
    return chosen


def rejected(table: SparkTable) -> DataFrame | None:
    """The rejected lines of a table, with their reason."""
    return None if table.lines is None else table.lines.where(F.col(REASON).isNotNull()).select(REASON, RAW)
