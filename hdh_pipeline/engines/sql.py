"""SQL as each engine writes it, for the SQL the quality suites hold (their checks run on the source's engine)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Dialect:
    name: str
    quote_char: str
    text: str  # the type a value is cast to, to compare it as text
    anti_join: str

    def quote(self, identifier: str) -> str:
        q = self.quote_char
        return q + identifier.replace(q, q + q) + q

    def literal(self, value: str) -> str:
        if self.name == "spark":  # Spark's string literals escape with a backslash
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    def table(self, schema: str, name: str) -> str:
        """Another table of the source (or a code list): Spark reads them as temporary views `<schema>__<name>`."""
        if self.name == "spark":
            return self.quote(f"{schema}__{name}")
        return f"{self.quote(schema)}.{self.quote(name)}"


DUCKDB = Dialect("duckdb", '"', "VARCHAR", "ANTI JOIN")
SPARK = Dialect("spark", "`", "STRING", "LEFT ANTI JOIN")
DIALECTS = {"duckdb": DUCKDB, "spark": SPARK}
