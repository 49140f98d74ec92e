"""Generate a synthetic SNDS-shaped source, chunk by chunk, with its exact ground truth.

Memory holds one chunk of beneficiaries and their claims, stays and deaths at a time;
rows stream to CSV (pyarrow's writer) or Parquet (one row group per chunk). SAS transport files (`xpt`) are
written as producers deliver them, variables labelled and coded ones carrying a SAS format, the formats in a
PROC FORMAT CNTLOUT data set (`formats.xpt`); pyreadstat writes a whole table at once, so each table is staged
as Parquet, then held in memory once while it is written.
"""
from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from hdh_pipeline.generator import population, schema
from hdh_pipeline.generator.defects import Chunk, Counter, Slot, inject, rates_for

TABLE_ORDER = ["IR_BEN_R", "ER_PRS_F", "T_MCOaaB", "KI_CCI_R"]
DEMO_BENEFICIARIES = 2000  # the Quickstart's demo: `make demo-data` regenerates assets/demo
LATIN1_LABEL = "Hôpital ou clinique"


@dataclass(frozen=True)
class Settings:
    out: Path
    beneficiaries: int = DEMO_BENEFICIARIES
    seed: int = 2024
    file_format: str = "csv"
    reference_year: int = 2024
    chunk_size: int = 20_000
    defect_rate: float | None = None  # None: the default rate of each kind
    rates: dict = field(default_factory=dict)  # {table: {column: {kind: rate}}}


def _arrow(chunk: Chunk, table: str) -> pa.Table:
    arrays = {}
    for name in schema.columns(table):
        values = chunk.columns[name]
        if values.dtype.kind == "M":
            values = values.astype("datetime64[D]")
        arrays[name] = pa.array(values, mask=chunk.null_mask(name))
    return pa.table(arrays)


def _break_lines(data: bytes, chunk: Chunk, table: str) -> bytes:
    """Turn the lines of rows with a line defect into lines that do not parse."""
    lines = data.split(b"\n")
    names = schema.columns(table)
    for at, slot in chunk.line_defects.items():
        if slot.kind == "wrong_field_count":  # one field short, or one too many
            lines[at] = lines[at].rsplit(b",", 1)[0] if at % 2 else lines[at] + b",EXTRA"
        else:
            fields = lines[at].split(b",")
            i = names.index(slot.column)
            fields[i] = fields[i] + b"x" if slot.kind == "unparseable_number" else LATIN1_LABEL.encode("latin-1")
            lines[at] = b",".join(fields)
    return b"\n".join(lines)


class TableWriter:
    def __init__(self, path: Path, file_format: str, table: str):
        self.path, self.file_format, self.table = path, file_format, table
        self.parquet: pq.ParquetWriter | None = None
        self.handle = open(path, "wb") if file_format == "csv" else None
        self.header_written = False
        self.staged = path.with_suffix(".parquet.part") if file_format == "xpt" else path

    def write(self, chunk: Chunk) -> None:
        arrow = _arrow(chunk, self.table)
        if self.file_format in ("parquet", "xpt"):
            self.parquet = self.parquet or pq.ParquetWriter(self.staged, arrow.schema)
            self.parquet.write_table(arrow)
            return
        self._write_header()
        buffer = io.BytesIO()
        pacsv.write_csv(arrow, buffer, pacsv.WriteOptions(include_header=False, quoting_style="none"))
        data = buffer.getvalue()
        self.handle.write(_break_lines(data, chunk, self.table) if chunk.line_defects else data)

    def _write_header(self) -> None:
        if not self.header_written:
            self.handle.write((",".join(schema.columns(self.table)) + "\n").encode())
            self.header_written = True

    def close(self) -> None:
        if self.parquet:
            self.parquet.close()
            if self.file_format == "xpt":
                schema.write_xport(self.table, pq.read_table(self.staged), self.path)
                self.staged.unlink()
        if self.handle:
            self._write_header()  # a table with no rows still has its header
            self.handle.close()


@dataclass
class Truth:
    """Exact counts, per table: rows written, lines that will not parse, defects, nulls among parseable rows."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLE_ORDER, 0))
    rejected_lines: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLE_ORDER, 0))
    defects: dict[Slot, int] = field(default_factory=dict)
    nulls: dict[str, dict[str, int]] = field(default_factory=lambda: {t: {} for t in TABLE_ORDER})

    def add(self, table: str, chunk: Chunk, injected: dict[Slot, int]) -> None:
        self.rows[table] += len(chunk)
        self.rejected_lines[table] += len(chunk.line_defects)
        parseable = np.ones(len(chunk), dtype=bool)
        parseable[list(chunk.line_defects)] = False
        for name in schema.columns(table):
            count = int((chunk.null_mask(name) & parseable).sum())
            self.nulls[table][name] = self.nulls[table].get(name, 0) + count
        for slot, count in injected.items():
            self.defects[slot] = self.defects.get(slot, 0) + count

    def as_json(self, settings: Settings) -> dict:
        tables = {}
        for table in TABLE_ORDER:
            defects: dict[str, dict[str, int]] = {}
            for slot, count in self.defects.items():
                if slot.table == table:
                    defects.setdefault(slot.column, {})[slot.kind] = count
            tables[table] = {
                "rows": self.rows[table],
                "rejected_lines": self.rejected_lines[table],
                "loaded_rows": self.rows[table] - self.rejected_lines[table],
                "defects": defects,
                "nulls": self.nulls[table],
            }
        return {
            "generator": "hdh-generate",
            "seed": settings.seed,
            "beneficiaries": settings.beneficiaries,
            "format": settings.file_format,
            "reference_date": f"{settings.reference_year}-12-31",
            "period": [f"{settings.reference_year - 2}-01-01", f"{settings.reference_year}-12-31"],
            "chunk_size": settings.chunk_size,
            "tables": tables,
        }


def generate(settings: Settings, declaration: Path | None = None, source_id: str = "synthetic",
             progress: Callable[[int], None] = lambda n: None) -> dict:
    """Write data/, schemas/, nomenclatures/, ground_truth.json (and a declaration) under `settings.out`."""
    out = settings.out
    (out / "data").mkdir(parents=True, exist_ok=True)
    period = population.Period(settings.reference_year)
    slot_rates = rates_for(settings.rates, settings.defect_rate, settings.file_format == "csv")
    counters = {slot: Counter(rate) for slot, rate in slot_rates.items()}
    extension = settings.file_format
    writers = {t: TableWriter(out / "data" / f"{t}.{extension}", settings.file_format, t) for t in TABLE_ORDER}
    truth = Truth()
    stays_so_far = 0
    try:
        for index, first in enumerate(range(0, settings.beneficiaries, settings.chunk_size)):
            count = min(settings.chunk_size, settings.beneficiaries - first)

            def rng(purpose: int, index: int = index) -> np.random.Generator:
                return np.random.default_rng([settings.seed, index, purpose])

            people = population.beneficiaries(rng(0), first, count, period)
            # IR_BEN_R first: its duplicated ids are then shared by the rows that refer to them.
            chunks = {"IR_BEN_R": Chunk(population.beneficiary_rows(people))}
            injected = {"IR_BEN_R": inject("IR_BEN_R", chunks["IR_BEN_R"], counters, rng(10), period)}
            chunks["ER_PRS_F"] = Chunk(population.claims(rng(1), people, period))
            chunks["T_MCOaaB"] = Chunk(population.stays(rng(2), people, period, stays_so_far))
            chunks["KI_CCI_R"] = Chunk(population.death_causes(rng(3), people))
            stays_so_far += len(chunks["T_MCOaaB"])
            for number, table in enumerate(TABLE_ORDER[1:], start=11):
                injected[table] = inject(table, chunks[table], counters, rng(number), period)
            for table in TABLE_ORDER:
                writers[table].write(chunks[table])
                truth.add(table, chunks[table], injected[table])
            progress(count)
    finally:
        for writer in writers.values():
            writer.close()
    schema.write_dictionary(out)
    if settings.file_format == "xpt":
        schema.write_formats(out / "formats.xpt")
    else:
        schema.write_nomenclatures(out)
    ground_truth = truth.as_json(settings)
    (out / "ground_truth.json").write_text(json.dumps(ground_truth, indent=2) + "\n")
    if declaration is not None:
        schema.write_declaration(declaration, out, source_id, settings.file_format, settings.beneficiaries,
                                 settings.seed, settings.reference_year)
    return ground_truth
