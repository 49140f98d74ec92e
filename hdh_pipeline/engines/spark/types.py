"""Spark's types in the catalogue's vocabulary (vocabulary.py: DuckDB's names), and back; a declared date format
(strptime) as Spark's pattern."""
from __future__ import annotations

import re

# a stored type -> the Spark SQL type a text value is cast to
SPARK_TYPES = {"VARCHAR": "STRING", "BIGINT": "BIGINT", "INTEGER": "INT", "SMALLINT": "SMALLINT",
               "TINYINT": "TINYINT", "DOUBLE": "DOUBLE", "FLOAT": "FLOAT", "BOOLEAN": "BOOLEAN", "DATE": "DATE",
               "TIMESTAMP": "TIMESTAMP_NTZ", "TIME": "STRING"}
# Spark's type names (DataType.simpleString) -> the catalogue's
CATALOGUE_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT",
                   "tinyint": "TINYINT", "double": "DOUBLE", "float": "FLOAT", "boolean": "BOOLEAN", "date": "DATE",
                   "timestamp_ntz": "TIMESTAMP", "timestamp": "TIMESTAMP WITH TIME ZONE", "binary": "BLOB"}
STRPTIME = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%d": "dd", "%H": "HH", "%M": "mm", "%S": "ss", "%b": "MMM",
            "%B": "MMMM", "%f": "SSSSSS", "%j": "DDD", "%%": "%"}


def catalogue_type(spark_type: str) -> str:
    """`decimal(11,2)` -> `DECIMAL(11,2)`, `bigint` -> `BIGINT`; anything else as Spark names it, upper case."""
    if spark_type.startswith("decimal"):
        return spark_type.upper()
    return CATALOGUE_TYPES.get(spark_type, spark_type.upper())


def java_pattern(strptime: str) -> str:
    """`%d%b%Y:%H:%M:%S` -> `ddMMMyyyy':'HH:mm:ss`: directives translated, everything else quoted."""
    out = []
    for part in re.split(r"(%.)", strptime):
        if part in STRPTIME:
            out.append(STRPTIME[part])
        elif part.startswith("%"):
            raise ValueError(f"the date format {strptime!r} uses {part}, which Spark does not read")
        elif part:
            out.append("'" + part.replace("'", "''") + "'")
    return "".join(out)
