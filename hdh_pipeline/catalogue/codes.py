"""Code lists: the catalogue table `nomenclatures` (`schema.CODES`), reference data published in full.

A wide source has hundreds of thousands of codes (the synthetic SNDS: 251,593 in 174 lists). They travel
as one Arrow table (columnar: a few bytes a code, where a Python row costs hundreds) from the profile to
the published version, never as Python rows; pages and exports read one list at a time.
"""
from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class CodeList:
    name: str
    title: str | None
    codes: pa.Table  # code, label: in code order
    fields: tuple[str, str | None] = ("code", "label")  # the list's own names of its code and label columns

    def __len__(self) -> int:
        return self.codes.num_rows

    def rows(self, limit: int | None = None) -> list[dict]:
        """{code, label} of the first `limit` codes (all by default)."""
        return (self.codes if limit is None else self.codes.slice(0, limit)).to_pylist()


def of_sources(codes: pa.Table, source_ids: list[str]) -> pa.Table:
    return codes.filter(pc.is_in(codes["source_id"], pa.array(source_ids, pa.string())))


def code_lists(codes: pa.Table | None, source_id: str) -> list[CodeList]:
    """The source's code lists, by name."""
    if codes is None:
        return []
    mine = of_sources(codes, [source_id])
    mine = mine.take(pc.sort_indices(mine, [("nomenclature", "ascending")]))  # a stable sort: codes keep their order
    runs = pc.run_end_encode(mine["nomenclature"].combine_chunks())  # one run a list: slices, not a filter each
    lists, start = [], 0
    for name, end in zip(runs.values.to_pylist(), runs.run_ends.to_pylist()):
        one = mine.slice(start, end - start)
        fields = (one["code_field"][0].as_py() or "code", one["label_field"][0].as_py())
        lists.append(CodeList(name, one["title"][0].as_py(), one.select(["code", "label"]), fields))
        start = end
    return lists
