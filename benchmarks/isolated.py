"""How the benchmarks measure a run: alone in a fresh interpreter, its peak memory its own.

A forked child starts with its parent's pages counted in its RSS, and Linux carries a process's peak RSS
(`ru_maxrss`) across exec: a run forked from a parent holding a large frame reports the parent's memory as its
own. So each run is spawned (a new interpreter) and reads its own high-water mark (VmHWM) from /proc.
"""
from __future__ import annotations

import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def alone(function, *args):
    """`function(*args)` in a freshly spawned process; its result."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(function, *args).result()


def peak_mb(pid: int | str = "self") -> float:
    """A process's peak resident memory (MB) since it started (this one's by default); 0 if it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if pid == "self" else 0.0
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmHWM:")), 0.0)
