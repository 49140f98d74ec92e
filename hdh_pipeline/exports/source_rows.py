"""One source's published rows as the SNDS community's tools lay them out (the interactive dictionary, the
documentation pages): tables by product, variables in the dictionary's order, join keys, code lists, and the words
of the source's language for whatever the source does not say."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cached_property

from hdh_pipeline import words
from hdh_pipeline.catalogue.codes import CodeList, code_lists
from hdh_pipeline.schema import CODES
from hdh_pipeline.vocabulary import base_type, table_schema_type


def _mine(public: dict[str, list[dict]], name: str, source: str) -> list[dict]:
    return [r for r in public.get(name, []) if r["source_id"] == source]


@dataclass
class SourceRows:
    public: dict[str, list[dict]]
    source: str

    @cached_property
    def database(self) -> dict:
        [database] = _mine(self.public, "databases", self.source)
        return database

    @cached_property
    def words(self) -> dict[str, str]:
        return words.words(words.language_of(self.database))

    @cached_property
    def tables(self) -> list[dict]:
        """The source's tables by product, then name."""
        return sorted(_mine(self.public, "tables", self.source), key=lambda t: (self.product(t), t["table_name"]))

    @cached_property
    def variables(self) -> dict[str, list[dict]]:
        """Table -> its variables in the dictionary's (the file's) order."""
        by_table = defaultdict(list)
        for v in sorted(_mine(self.public, "variables", self.source), key=lambda v: v["position"]):
            by_table[v["table_name"]].append(v)
        return by_table

    @cached_property
    def joins(self) -> list[dict]:
        """Join keys between two of the source's tables, as declared."""
        names = {t["table_name"] for t in self.tables}
        return [r for r in _mine(self.public, "relations", self.source) if r["kind"] == "table"
                and r["table_name"] in names and r["referenced_table"] in names]

    @cached_property
    def code_lists(self) -> list[CodeList]:
        return code_lists(self.public.get(CODES), self.source)

    def product(self, table: dict) -> str:
        """The table's product; a source without products is one product, named by its title."""
        return table["product"] or self.database["title"] or self.source

    def title(self, table: dict) -> str:
        return table["title"] or table["description"] or self.words["no_title"]

    def description(self, variable: dict) -> str:
        return variable["description"] or self.words["no_description"]

    @staticmethod
    def storage_format(variable: dict) -> str:
        """The format as the SNDS dictionary writes it (`number (11,2)`, `date (8)`); without a dictionary, the Table
        Schema type of the loaded column, with a decimal's precision."""
        if variable["dictionary_format"]:
            return variable["dictionary_format"]
        observed = variable["observed_type"] or ""
        kind = table_schema_type(observed)
        precision = observed[observed.find("("):] if base_type(observed) == "DECIMAL" and "(" in observed else ""
        return f"{kind} {precision.replace(' ', '')}" if precision else kind

    def type_name(self, variable: dict) -> str:
        """The Table Schema type in words (`chaîne de caractères`), as the SNDS documentation writes it."""
        declared = (variable["declared_type"] or "").split(" ")[0]
        kind = declared or table_schema_type(variable["observed_type"])
        return self.words.get(f"type_{kind}", kind)
