"""A source's code lists as the profile reads them: each fetched once from the engine (reference data, a few
thousand rows at most), its code and label columns found, its codes published in full (`schema.CODES`)."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from hdh_pipeline.engines.base import Engine
from hdh_pipeline.schema import CODES, arrow_table
from hdh_pipeline.sources.loader import Source

LABEL_SUFFIXES = ("_LIB", "LIB", "_LABEL", "NAME")


class CodeLists:
    def __init__(self, engine: Engine, source: Source):
        self.engine, self.source = engine, source
        self.columns = engine.code_lists()  # code list -> its columns
        self._content: dict[str, pa.Table] = {}
        self._sets: dict[tuple[str, str], set[str]] = {}
        self._labels: dict[tuple[str, str | None], dict[str, str]] = {}

    def __contains__(self, name: str) -> bool:
        return name in self.columns

    def content(self, name: str) -> pa.Table:
        if name not in self._content:
            self._content[name] = self.engine.code_list(name)
        return self._content[name]

    def code_column(self, name: str, column: str | None) -> tuple[str, str | None]:
        """The code column of a code list (`column` if it has one, else its first) and its label column (the first
        other column named like a label, else the next one)."""
        columns = list(self.columns[name])
        code = column if column in columns else columns[0]
        label = next((c for c in columns if c != code and c.upper().endswith(LABEL_SUFFIXES)), None)
        return code, label or next((c for c in columns if c != code), None)

    def code_set(self, name: str, column: str) -> set[str]:
        """The codes of a code list column, as text (computed once)."""
        if (name, column) not in self._sets:
            self._sets[(name, column)] = {code for code in self.content(name)[column].to_pylist() if code is not None}
        return self._sets[(name, column)]

    def labels(self, name: str, column: str | None) -> dict[str, str]:
        """Code -> label (computed once)."""
        if (name, column) not in self._labels:
            code, label = self.code_column(name, column)
            table = self.content(name)
            self._labels[(name, column)] = {} if label is None else {
                c: lbl for c, lbl in zip(table[code].to_pylist(), table[label].to_pylist()) if c is not None}
        return self._labels[(name, column)]

    def table_labels(self, table: str, column: str | None, values: list[str]) -> dict[str, str]:
        """Labels of some values from a table of the source that serves as their code list (OMOP's CONCEPT): its
        first column named like a label, other than the key."""
        columns = self.engine.tables().get(table, {})
        key = column if column in columns else next(iter(columns), None)
        label = next((c for c in columns if c != key and c.upper().endswith(LABEL_SUFFIXES)), None)
        return self.engine.labels(table, key, label, values) if key and label else {}

    def published(self) -> pa.Table:
        """Every code of every code list with its label, ordered: the catalogue's `nomenclatures` rows."""
        titles = {t.name: t.title or (t.spec.title if t.spec else "") for t in self.source.nomenclatures}
        parts = []
        for name in sorted(self.columns):
            code, label = self.code_column(name, None)
            table = self.content(name)
            n = table.num_rows
            parts.append(pa.table({
                "source_id": pa.array([self.source.id] * n, pa.string()),
                "nomenclature": pa.array([name] * n, pa.string()),
                "title": pa.array([titles.get(name) or None] * n, pa.string()),
                "code": table[code].cast(pa.string()),
                "label": table[label].cast(pa.string()) if label else pa.nulls(n, pa.string()),
                "code_field": pa.array([code] * n, pa.string()), "label_field": pa.array([label] * n, pa.string())}))
        if not parts:
            return arrow_table(CODES, [])
        codes = pa.concat_tables(parts)
        order = pc.sort_indices(codes, [("nomenclature", "ascending"), ("code", "ascending"), ("label", "ascending")])
        return arrow_table(CODES, codes.take(order))
