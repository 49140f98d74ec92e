"""Suites validated by helper processes: Great Expectations' work per table is Python, and its import takes seconds.

On a source of hundreds of small tables, validating is Python-bound (GX builds a metric graph,
a validation definition and a result per table) and one process uses one core. The tables
are then split by weight into groups, one per helper process (`python -m hdh_pipeline.quality.parallel`),
which validates its group and writes its Data Docs pages; the first then writes the index of them all.
A long source (few tables, many rows) needs one process: DuckDB already uses every core there. So
does a declared memory budget, which several processes would multiply.

`warm_up`, called when a run starts loading a source whose quality it will check (or by `hdh-pipeline run`
as it starts), starts the helpers then: they import Great Expectations, at a lower priority, on the core the
run leaves idle, and wait for their group. Without a warm helper, a source validated by one process is
validated in the calling process (tests, scripts).

A helper reads commands on its standard input, one a line, and writes `done` on its standard output once
one is carried out; tasks and answers are JSON files in a folder:
- `validate FOLDER`: validate the group in FOLDER/task.json, write its Data Docs pages; result rows in
  FOLDER/answer.json
- `index FOLDER`: write the Data Docs index, with the suites in FOLDER/index.json (the other helpers' tables)
- end of input: exit.

`HDH_QUALITY_WORKERS` sets the number of processes.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from hdh_pipeline import processes, settings

WIDE = 40  # tables from which a source's suites are shared among processes
LONG = 10_000_000  # rows (all tables) from which DuckDB, not Python, is what a validation waits for
PER_TABLE = 20  # a table's fixed cost, in expectations, when the tables are split
START = 2500  # a cold helper's lateness (importing Great Expectations) behind a warm one, in expectations


def worker_count(tables: int, rows: int, memory_limit: str | None) -> int:
    """How many processes validate a source of `tables` tables and `rows` rows in all."""
    if chosen := settings.quality_workers():
        return chosen
    if tables < WIDE or rows >= LONG or memory_limit:
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), tables // WIDE))


def split(jobs: list[tuple], weights: list[int], late: list[int]) -> list[list[tuple]]:
    """`jobs` in groups of about equal time, one for each helper, `late[i]` (in expectations) being how much
    later helper i can start (heaviest job first, each to the least loaded group)."""
    out: list[list[tuple]] = [[] for _ in late]
    load = list(late)
    for weight, job in sorted(zip(weights, jobs), key=lambda pair: -pair[0]):
        lightest = load.index(min(load))
        out[lightest].append(job)
        load[lightest] += weight + PER_TABLE
    return out


class Helper:
    """A helper process; `jobs` the group of tables it validates, `(table, expectations, columns, rows)` each.
    Its log is a temporary file (a pipe would stall it)."""

    def __init__(self, warm: bool = False):
        self.warm, self.jobs, self.folder = warm, [], Path()
        self.log = tempfile.TemporaryFile()
        # started ahead: while it imports, the run's steps come first
        self.process = processes.start(__name__, background=warm, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       stderr=self.log, text=True)

    def validate(self, folder: Path, task: dict, jobs: list[tuple]) -> None:
        self.jobs, self.folder = jobs, folder
        folder.mkdir()
        (folder / "task.json").write_text(json.dumps(task | {"jobs": [
            [table, expectations, sorted(columns), rows] for table, expectations, columns, rows in jobs]}))
        self._send("validate")

    def result(self) -> tuple[dict[str, list[dict]], list[str]]:
        """(the result rows of each table, the tables validated again one by one); raises if the process failed."""
        if processes.answer(self.process).strip() != "done":
            raise RuntimeError(self._failure())
        answer = json.loads((self.folder / "answer.json").read_text())
        for rows in answer["rows"].values():
            for row in rows:
                row["run_at"] = dt.datetime.fromisoformat(row["run_at"])
        return answer["rows"], answer["apart"]

    def index(self, suites: list[tuple]) -> None:
        """Write the Data Docs index, with these suites too: `(table, expectations, columns, rows, apart)` each."""
        (self.folder / "index.json").write_text(json.dumps(
            [[table, expectations, sorted(columns), rows, apart]
             for table, expectations, columns, rows, apart in suites]))
        self._send("index")
        if processes.answer(self.process).strip() != "done":
            raise RuntimeError(self._failure())

    def finish(self) -> None:
        """Let it exit; raises if it failed."""
        self.process.stdin.close()
        if processes.wait(self.process):
            raise RuntimeError(self._failure())

    def stop(self) -> None:
        processes.stop(self.process)
        for pipe in (self.process.stdin, self.process.stdout):
            pipe.close()
        self.log.close()

    def _send(self, command: str) -> None:
        try:
            self.process.stdin.write(f"{command} {self.folder}\n")
            self.process.stdin.flush()
        except OSError:  # it has died
            raise RuntimeError(self._failure()) from None

    def _failure(self) -> str:
        processes.wait(self.process)
        self.log.seek(0)
        log = self.log.read().decode(errors="replace").strip()
        tables = ", ".join(job[0] for job in self.jobs[:5]) + (" ..." if len(self.jobs) > 5 else "")
        return f"the process validating tables {tables} failed (exit code {self.process.returncode}): {log[-1500:]}"


_WARM: list[Helper] = []  # started by warm_up, not taken yet


def warm_up(count: int) -> None:
    """Have `count` helpers started, importing Great Expectations while this process does something else."""
    for helper in [helper for helper in _WARM if helper.process.poll() is not None]:  # died meanwhile
        helper.stop()
        _WARM.remove(helper)
    _WARM.extend(Helper(warm=True) for _ in range(count - len(_WARM)))


def warm() -> int:
    """How many warm helpers wait."""
    return sum(helper.process.poll() is None for helper in _WARM)


def release() -> None:
    """Let the warm helpers no quality step took exit (a run that did not reach its quality step, in a process
    that goes on: a test, a notebook)."""
    _take(0)


def _take(count: int) -> list[Helper]:
    """`count` helpers, the warm ones first; warm ones beyond `count` are let go."""
    ready = [helper for helper in _WARM if helper.process.poll() is None]
    for helper in _WARM:
        if helper not in ready[:count]:
            helper.stop()  # killed: waiting for an idle one to exit could wait for its import to end
    _WARM.clear()
    return ready[:count] + [Helper() for _ in range(count - len(ready))]


def validate(task: dict, jobs: list[tuple], count: int) -> dict[str, list[dict]]:
    """The result rows of each table of `jobs`, validated by `count` helpers (`task`: the Validator's arguments);
    Data Docs pages and index written by them if `task["docs"]`."""
    helpers = _take(count)
    rows: dict[str, list[dict]] = {}
    try:
        groups = split(jobs, [len(job[1]) for job in jobs], [0 if helper.warm else START for helper in helpers])
        with processes.scratch("quality") as tmp:
            busy = [helper for helper, group in zip(helpers, groups) if group]
            for i, (helper, group) in enumerate(zip(busy, [group for group in groups if group])):
                helper.validate(Path(tmp) / str(i), task, group)
            apart: dict[Helper, list[str]] = {}
            for helper in busy:
                done, apart[helper] = helper.result()
                rows.update(done)
            if task["docs"] and busy:
                busy[0].index([(*job, False) for helper in busy[1:] for job in helper.jobs] +
                              [(*job, True) for helper in busy[1:] for job in helper.jobs if job[0] in apart[helper]])
            for helper in helpers:
                helper.finish()
    finally:
        for helper in helpers:
            helper.stop()
    return rows


def main() -> None:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)  # the protocol's; prints go to the log
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    from hdh_pipeline.quality.validate import Validator

    validator = None
    try:
        for line in sys.stdin:
            command, folder = line.rstrip("\n").split(" ", 1)
            if command == "validate":
                task = json.loads((Path(folder) / "task.json").read_text())
                validator = Validator(Path(task["warehouse"]), task["schema"], task["docs"] and Path(task["docs"]),
                                      task["together"], task["memory_limit"])
                rows = {table: validator.add(table, expectations, set(columns), count)
                        for table, expectations, columns, count in task["jobs"]}
                validator.run()
                validator.write_pages()
                (Path(folder) / "answer.json").write_text(json.dumps({"rows": rows, "apart": validator.apart},
                                                                     default=str))
            elif command == "index" and validator is not None:
                for table, expectations, columns, count, apart in json.loads((Path(folder) / "index.json").read_text()):
                    validator.add(table, expectations, set(columns), count, validate=False, apart=apart)
                validator.write_index()
            else:
                raise ValueError(f"unknown command: {line!r}")
            print("done", file=answers)
    finally:
        if validator is not None:
            validator.close()


if __name__ == "__main__":
    main()
