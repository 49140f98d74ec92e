"""A wide source's suites shared among processes: Great Expectations' work per table is Python.

On a source of hundreds of small tables, validating is Python-bound (GX builds a metric graph,
a validation definition and a result per table) and one process uses one core. The tables
are then split by weight into groups: the calling process validates one while helper
processes (`python -m hdh_pipeline.quality.parallel`, task and answer in files) validate the
others and write their Data Docs pages; the caller writes the index of them all. A long
source (few tables, many rows) gets one process: DuckDB already uses every core there. So
does a declared memory budget, which several processes would multiply.

`HDH_QUALITY_WORKERS` sets the number of processes (1: none started).
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from hdh_pipeline import settings

WIDE = 40  # tables from which a source's suites are shared among processes
LONG = 10_000_000  # rows (all tables) from which DuckDB, not Python, is what a validation waits for
PER_TABLE = 20  # a table's fixed cost, in expectations, when the tables are split
START = 2500  # a helper's start when this process has Great Expectations imported (a helper takes seconds to
START_COLD = 500  # import it), and when both import it at once: in expectations, its group is that much lighter


def worker_count(tables: int, rows: int, memory_limit: str | None) -> int:
    """How many processes validate a source of `tables` tables and `rows` rows in all."""
    if chosen := settings.quality_workers():
        return chosen
    if tables < WIDE or rows >= LONG or memory_limit:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), tables // WIDE))


def split(jobs: list[tuple], weights: list[int], groups: int, warm: bool = True) -> list[list[tuple]]:
    """`jobs` in `groups` groups of about equal time, the last one for the calling process and the others for
    helpers, which start later (`warm`: this process has Great Expectations imported already; heaviest job first,
    each to the least loaded group)."""
    out: list[list[tuple]] = [[] for _ in range(groups)]
    load = [START if warm else START_COLD] * (groups - 1) + [0]
    for weight, job in sorted(zip(weights, jobs), key=lambda pair: -pair[0]):
        lightest = load.index(min(load))
        out[lightest].append(job)
        load[lightest] += weight + PER_TABLE
    return out


class Helper:
    """A process validating a group of tables, `(table, expectations, columns, rows)` each. Its task, answer and
    log are files in `folder` (pipes would stall it while this process is busy validating its own group)."""

    def __init__(self, folder: Path, warehouse: Path, schema: str, docs: Path | None, together: bool,
                 memory_limit: str | None, jobs: list[tuple]):
        self.jobs, self.folder = jobs, folder
        (folder / "task.json").write_text(json.dumps({
            "warehouse": str(warehouse), "schema": schema, "docs": docs and str(docs), "together": together,
            "memory_limit": memory_limit,
            "jobs": [[table, expectations, sorted(columns), rows] for table, expectations, columns, rows in jobs]}))
        with open(folder / "log.txt", "wb") as log:
            self.process = subprocess.Popen([sys.executable, "-m", __name__, str(folder)], stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT)

    def result(self) -> tuple[dict[str, list[dict]], list[str]]:
        """(the result rows of each table, the tables validated again one by one); raises if the process failed."""
        if self.process.wait():
            tables = ", ".join(job[0] for job in self.jobs[:5]) + (" ..." if len(self.jobs) > 5 else "")
            log = (self.folder / "log.txt").read_text(errors="replace").strip()
            raise RuntimeError(f"the process validating tables {tables} failed: {log[-1500:]}")
        answer = json.loads((self.folder / "answer.json").read_text())
        for rows in answer["rows"].values():
            for row in rows:
                row["run_at"] = dt.datetime.fromisoformat(row["run_at"])
        return answer["rows"], answer["apart"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def main(folder: Path) -> None:
    from hdh_pipeline.quality.validate import Validator

    task = json.loads((folder / "task.json").read_text())
    docs = Path(task["docs"]) if task["docs"] else None
    validator = Validator(Path(task["warehouse"]), task["schema"], docs, task["together"], task["memory_limit"],
                          index=False)
    try:
        rows = {table: validator.add(table, expectations, set(columns), count)
                for table, expectations, columns, count in task["jobs"]}
        validator.run()
    finally:
        validator.close()
    (folder / "answer.json").write_text(json.dumps({"rows": rows, "apart": validator.apart}, default=str))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
