"""Child processes that never outlive their run: the quality helpers, the chart renderer, the export writer, the
search indexer. One way to start them, one to wait, one to stop.

Each child runs `python -m hdh_pipeline.processes MODULE ARGS...`, which, before running MODULE as `__main__`:
asks Linux to kill it when its parent dies (PR_SET_PDEATHSIG; a SIGKILLed run leaves no child behind, whatever
the child was doing), leaves if its parent is already gone, and lowers its priority when asked (background work).
A child has a process group of its own, so that stopping it stops whatever it started. Every wait has a timeout;
at exit, this process stops the children it has not waited for.
"""
from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import runpy
import select
import shutil
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

PARENT = "HDH_PARENT_PID"  # the pid a child must die with
NICENESS = "HDH_NICENESS"
PR_SET_PDEATHSIG = 1
EXIT_SECONDS = 30  # for a child asked to finish what it has (end of its input) to exit
WORK_SECONDS = 6 * 3600  # the longest a child may work for a step (dagster.yaml's max_runtime_seconds)
_LIVE: set[subprocess.Popen] = set()


def start(module: str, *args: str, background: bool = False, **popen: object) -> subprocess.Popen:
    """`python -m module args` as a child of this process (`background`: at a lower priority); `popen`: Popen's
    keywords (stdin, stdout, stderr, text...)."""
    from hdh_pipeline.settings import BACKGROUND_NICENESS

    env = {**os.environ, PARENT: str(os.getpid()), NICENESS: str(BACKGROUND_NICENESS if background else 0)}
    process = subprocess.Popen([sys.executable, "-m", __name__, module, *args], env=env, process_group=0, **popen)
    _LIVE.add(process)
    return process


def answer(process: subprocess.Popen, timeout: float = WORK_SECONDS) -> str:
    """The next line the child writes on its standard output ("" if it ended); stopped, and TimeoutExpired
    raised, if none comes within `timeout` seconds."""
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        stop(process)
        raise subprocess.TimeoutExpired(process.args, timeout)
    return process.stdout.readline()


def wait(process: subprocess.Popen, timeout: float = EXIT_SECONDS) -> int:
    """Its exit code; stopped, and TimeoutExpired raised, if it takes longer than `timeout` seconds."""
    try:
        code = process.wait(timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise
    _LIVE.discard(process)
    return code


def stop(process: subprocess.Popen) -> None:
    """Kill it and every process it started (its group), and reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(EXIT_SECONDS)
    _LIVE.discard(process)


def run(module: str, *args: str, timeout: float, background: bool = False) -> subprocess.CompletedProcess:
    """Run `python -m module args` to its end (output captured); TimeoutExpired after `timeout` seconds."""
    process = start(module, *args, background=background, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise
    _LIVE.discard(process)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, [module, *args], out, err)
    return subprocess.CompletedProcess([module, *args], 0, out, err)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A folder for this process and its children, under the data folder (`tmp/`), removed at the end; the folders
    of processes that died without removing theirs (SIGKILL) are removed first."""
    from hdh_pipeline.settings import data_dir

    root = data_dir() / "tmp"
    for old in root.glob("*-*-*") if root.is_dir() else []:
        if not _alive(int(old.name.split("-")[1])):
            shutil.rmtree(old, ignore_errors=True)
    folder = root / f"{prefix}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@atexit.register
def _stop_all() -> None:
    for process in list(_LIVE):
        stop(process)


def _die_with_parent() -> None:
    """Be killed when the parent dies; leave now if it already has (it died before this line)."""
    parent = int(os.environ.pop(PARENT, "0"))
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if parent and os.getppid() != parent:
        os._exit(1)


def main(argv: Sequence[str]) -> None:
    _die_with_parent()
    if niceness := int(os.environ.pop(NICENESS, "0")):
        os.nice(niceness)
    module, *args = argv
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
