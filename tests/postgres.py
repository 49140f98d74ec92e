"""A PostgreSQL server of its own for a test (Debian's `postgresql`, which `.ci/run` installs): on a free local
port, in a temporary folder, stopped and removed afterwards."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def _postgres_bin() -> Path | None:
    """Debian installs PostgreSQL's server programs under /usr/lib/postgresql/<version>/bin."""
    found = shutil.which("pg_ctl") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))[-1:]), None)
    return Path(found).resolve().parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its programs as the `postgres` user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass(frozen=True)
class Server:
    port: int
    programs: Path

    def sql(self, database: str, script: str) -> str:
        """Run SQL as the superuser (over the local socket-less TCP, trusted); what psql printed."""
        done = subprocess.run(_as_postgres([str(self.programs / "psql"), "-h", "127.0.0.1", "-p", str(self.port),
                                            "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt",
                                            "-c", script]), check=True, capture_output=True, text=True)
        return done.stdout


@contextmanager
def server(password_auth: bool = False) -> Iterator[Server]:
    """A running server with a database `dagster`. With `password_auth`, TCP logins other than the superuser's
    need their password (scram-sha-256)."""
    programs = _postgres_bin()
    if programs is None:
        pytest.skip("PostgreSQL's server is not installed (Debian: apt-get install postgresql; .ci/run does it)")
    folder = Path(tempfile.mkdtemp(prefix="hdh-pg-"))
    folder.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data, port = folder / "data", free_port()
    subprocess.run(_as_postgres([str(programs / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E",
                                 "UTF8"]), check=True, capture_output=True)
    if password_auth:
        rules = "host all postgres 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 scram-sha-256\n"
        (data / "pg_hba.conf").write_text("local all all trust\n" + rules)
    subprocess.run(_as_postgres([str(programs / "pg_ctl"), "-D", str(data), "-w", "-l", str(folder / "log"), "-o",
                                 f"-p {port} -c listen_addresses=127.0.0.1 -k {folder}", "start"]),
                   check=True, capture_output=True)
    try:
        subprocess.run(_as_postgres([str(programs / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                                     "dagster"]), check=True, capture_output=True)
        yield Server(port, programs)
    finally:
        subprocess.run(_as_postgres([str(programs / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
                       capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
